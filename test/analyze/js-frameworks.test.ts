/**
 * JS/TS framework variants the fixtures do not cover: static vs server builds, adapters, dev start
 * scripts, Bun/Deno/Workers runtimes. Each case is a small hand-built project; the fixtures
 * (fixtures/apps/*) cover one ordinary app per framework.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isDevCommand } from '../../src/analyze/detectors/node.js';
import { parseJsonc, stripJsonc } from '../../src/analyze/jsonc.js';
import type { Analysis, AnalyzedService } from '../../src/analyze/schema.js';
import { analyzeFiles, removeTrees } from './helpers.js';

afterEach(removeTrees);

type Files = Record<string, string>;

async function one(files: Files): Promise<{ s: AnalyzedService; analysis: Analysis }> {
  const analysis = await analyzeFiles(files);
  expect(analysis.services).toHaveLength(1);
  return { s: analysis.services[0] as AnalyzedService, analysis };
}

const pkg = (value: Record<string, unknown>): string => JSON.stringify(value, null, 2);
const LOCK = pkg({ lockfileVersion: 3, requires: true, packages: {} });
/** The fields the corpus is measured on. */
const shape = (s: AnalyzedService) => ({
  framework: s.framework,
  project_type: s.project_type,
  port: s.port,
  output_directory: s.output_directory,
  scripts_build: s.scripts_build,
  scripts_start: s.scripts_start,
  entry_point: s.entry_point,
});

describe('Next.js', () => {
  it('standalone output: node .next/standalone/server.js after copying the static assets', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'shop', scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.1.3', react: '19.0.0' } }),
      'package-lock.json': LOCK,
      'next.config.mjs': "export default { output: 'standalone' };\n",
      'public/logo.svg': '<svg/>',
    });
    expect(shape(s)).toEqual({
      framework: 'nextjs',
      project_type: 'web',
      port: 3000,
      output_directory: '.next/standalone',
      scripts_build: 'npm ci && npm run build && cp -r public .next/standalone/ && cp -r .next/static .next/standalone/.next/',
      scripts_start: 'node .next/standalone/server.js',
      entry_point: '.next/standalone/server.js',
    });
  });

  it('a dev-server start script is not the start command: next start is, with a warning', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'blog', scripts: { build: 'next build', start: 'next dev' }, dependencies: { next: '15.1.3' } }),
      'package-lock.json': LOCK,
    });
    expect(s.scripts_start).toBe('npx next start');
    expect(analysis.warnings).toContain('package.json: scripts.start "next dev" runs a development server; it was not used as the start command');
  });

  it('next start -p 4000 in the start script is the port', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'blog', scripts: { build: 'next build', start: 'next start -p 4000' }, dependencies: { next: '15.1.3' } }),
      'package-lock.json': LOCK,
    });
    expect([s.port, s.scripts_start]).toEqual([4000, 'npm start']);
  });
});

describe('Vite', () => {
  it('a start script running vite preview is a web process on 4173', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'spa', scripts: { build: 'vite build', start: 'vite preview --host' }, devDependencies: { vite: '^6.0.5' } }),
      'package-lock.json': LOCK,
      'index.html': '<div id="app"></div>',
    });
    expect([s.framework, s.project_type, s.port, s.scripts_start, s.output_directory]).toEqual(['vite', 'web', 4173, 'npm start', 'dist']);
  });

  it('vite as the start script is a dev server: still a static build', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'spa', scripts: { build: 'vite build', start: 'vite' }, devDependencies: { vite: '^6.0.5' } }),
      'package-lock.json': LOCK,
      'index.html': '<div id="app"></div>',
    });
    expect([s.project_type, s.port, s.scripts_start]).toEqual(['static', null, '']);
    expect(isDevCommand('vite --port 5173')).toBe(true);
    expect(isDevCommand('vite preview')).toBe(false);
  });
});

describe('Astro', () => {
  it('no adapter: a static site in dist (or outDir)', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'docs', scripts: { build: 'astro build' }, dependencies: { astro: '^5.1.1' } }),
      'package-lock.json': LOCK,
      'astro.config.mjs': "import { defineConfig } from 'astro/config';\nexport default defineConfig({ outDir: './public-site' });\n",
    });
    expect(shape(s)).toEqual({
      framework: 'astro',
      project_type: 'static',
      port: null,
      output_directory: 'public-site',
      scripts_build: 'npm ci && npm run build',
      scripts_start: '',
      entry_point: '',
    });
  });

  it('the Vercel adapter builds for Vercel only: no start command, a warning with the fix', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'site', scripts: { build: 'astro build' }, dependencies: { astro: '^5.1.1', '@astrojs/vercel': '^8.0.0' } }),
      'package-lock.json': LOCK,
      'astro.config.mjs': "import vercel from '@astrojs/vercel';\nexport default { output: 'server', adapter: vercel() };\n",
    });
    expect([s.framework, s.scripts_start]).toEqual(['astro', '']);
    expect(analysis.warnings.some((w) => w.includes('@astrojs/vercel adapter, which builds for that platform only'))).toBe(true);
    expect(analysis.refusal.refused).toBe(true);
  });
});

describe('Nuxt', () => {
  it('nuxt generate is a static site in .output/public', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'landing', scripts: { build: 'nuxt generate', dev: 'nuxt dev' }, dependencies: { nuxt: '^3.15.0' } }),
      'package-lock.json': LOCK,
    });
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start, s.port]).toEqual(['nuxt', 'static', '.output/public', '', null]);
  });

  it('Nuxt 2 serves with nuxt start from .nuxt', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'legacy', scripts: { build: 'nuxt build', start: 'nuxt start' }, dependencies: { nuxt: '^2.18.1' } }),
      'package-lock.json': LOCK,
    });
    expect([s.output_directory, s.scripts_start, s.port]).toEqual(['.nuxt', 'npm start', 3000]);
  });
});

describe('SvelteKit', () => {
  it('adapter-static is a static site in build (pages)', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'kit', scripts: { build: 'vite build' }, devDependencies: { '@sveltejs/kit': '^2.15.1', '@sveltejs/adapter-static': '^3.0.8', vite: '^6.0.6' } }),
      'package-lock.json': LOCK,
      'svelte.config.js': "import adapter from '@sveltejs/adapter-static';\nexport default { kit: { adapter: adapter({ pages: 'public', fallback: 'index.html' }) } };\n",
    });
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start]).toEqual(['sveltekit', 'static', 'public', '']);
  });

  it('adapter-auto builds for Node as railpack does (GCP_BUILDPACKS=true) and starts node build on 3000', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'kit', scripts: { build: 'vite build' }, devDependencies: { '@sveltejs/kit': '^2.15.1', '@sveltejs/adapter-auto': '^3.3.1', vite: '^6.0.6' } }),
      'package-lock.json': LOCK,
      'svelte.config.js': "import adapter from '@sveltejs/adapter-auto';\nexport default { kit: { adapter: adapter() } };\n",
    });
    expect(shape(s)).toEqual({
      framework: 'sveltekit',
      project_type: 'web',
      port: 3000,
      output_directory: 'build',
      scripts_build: 'npm ci && GCP_BUILDPACKS=true npm run build',
      scripts_start: 'node build',
      entry_point: 'build/index.js',
    });
    expect(analysis.warnings).toEqual([]);
  });

  it('the Vercel adapter still builds nothing that runs here', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'kit', scripts: { build: 'vite build' }, devDependencies: { '@sveltejs/kit': '^2.15.1', '@sveltejs/adapter-vercel': '^5.5.2', vite: '^6.0.6' } }),
      'package-lock.json': LOCK,
      'svelte.config.js': "import adapter from '@sveltejs/adapter-vercel';\nexport default { kit: { adapter: adapter() } };\n",
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['sveltekit', '', null]);
    expect(analysis.warnings).toContain(
      'SvelteKit with @sveltejs/adapter-vercel builds nothing that runs here; use @sveltejs/adapter-node (server) or @sveltejs/adapter-static (static site) in svelte.config',
    );
  });
});

describe('SSR frameworks on Vite', () => {
  const tanstack = (version: string, extra: Files = {}) =>
    one({
      'package.json': pkg({ name: 'start', type: 'module', scripts: { dev: 'vite dev', build: 'vite build' }, dependencies: { '@tanstack/react-start': version, react: '^19.0.0' }, devDependencies: { vite: '^7.1.0' } }),
      'package-lock.json': LOCK,
      'vite.config.ts': "import { tanstackStart } from '@tanstack/react-start/plugin/vite';\nexport default { plugins: [tanstackStart()] };\n",
      ...extra,
    });

  it('TanStack Start with the Nitro Vite plugin starts .output/server/index.mjs', async () => {
    const { s } = await tanstack('^1.132.0', {
      'vite.config.ts': "import { tanstackStart } from '@tanstack/react-start/plugin/vite';\nimport { nitro } from 'nitro/vite';\nexport default { plugins: [tanstackStart(), nitro()] };\n",
    });
    expect(shape(s)).toEqual({
      framework: 'vite',
      project_type: 'web',
      port: 3000,
      output_directory: '.output',
      scripts_build: 'npm ci && npm run build',
      scripts_start: 'node .output/server/index.mjs',
      entry_point: '.output/server/index.mjs',
    });
  });

  it('TanStack Start before 1.132 ran Nitro itself: .output too', async () => {
    const { s } = await tanstack('^1.131.7');
    expect([s.scripts_start, s.output_directory]).toEqual(['node .output/server/index.mjs', '.output']);
  });

  it('TanStack Start without Nitro is served by srvx; a start script wins over both', async () => {
    const { s } = await tanstack('^1.132.0');
    expect([s.scripts_start, s.entry_point, s.port]).toEqual(['npx srvx --prod -s ../client dist/server/server.js', 'dist/server/server.js', 3000]);
    const { s: own } = await one({
      'package.json': pkg({ name: 'start', scripts: { build: 'vite build', start: 'node .output/server/index.mjs' }, dependencies: { '@tanstack/react-start': '^1.132.0' } }),
      'package-lock.json': LOCK,
    });
    expect([own.scripts_start, own.entry_point, own.output_directory]).toEqual(['npm start', '.output/server/index.mjs', '.output']);
  });

  it('Analog serves its Nitro build from dist/analog', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'analog', scripts: { dev: 'vite', build: 'vite build' }, dependencies: { '@analogjs/router': '^1.10.0', '@angular/core': '^19.0.0' }, devDependencies: { '@analogjs/platform': '^1.10.0', vite: '^5.4.0' } }),
      'package-lock.json': LOCK,
    });
    expect([s.framework, s.project_type, s.port, s.scripts_start, s.output_directory]).toEqual(['vite', 'web', 3000, 'node dist/analog/server/index.mjs', 'dist/analog']);
  });

  it('Vike that prerenders is static files in dist/client; Vike on Express is the Express app', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'vike-site', scripts: { dev: 'vike dev', build: 'vike build' }, dependencies: { vike: '^0.4.228', react: '^19.0.0' }, devDependencies: { vite: '^6.3.0' } }),
      'package-lock.json': LOCK,
      'pages/+config.ts': "export default { prerender: true };\n",
    });
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start]).toEqual(['vite', 'static', 'dist/client', '']);
    const { s: withServer } = await one({
      'package.json': pkg({ name: 'vike-app', scripts: { build: 'vike build', start: 'NODE_ENV=production node server/index.js' }, dependencies: { vike: '^0.4.228', express: '^4.21.2' } }),
      'package-lock.json': LOCK,
      'server/index.js': "import express from 'express';\nconst app = express();\napp.listen(process.env.PORT || 3000);\n",
    });
    expect([withServer.framework, withServer.build_tool, withServer.scripts_start, withServer.port]).toEqual(['express', '', 'npm start', 3000]);
  });

  it('a plain Vite app whose start runs a server file is that web process, on the port its code says', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'ssr', scripts: { build: 'vite build', start: 'cross-env NODE_ENV=production node dist/server/index.js' }, devDependencies: { vite: '^6.0.5', 'cross-env': '^7.0.3' } }),
      'package-lock.json': LOCK,
      'src/server.ts': "import http from 'node:http';\nhttp.createServer(() => {}).listen(process.env.PORT || 8787);\n",
    });
    expect([s.framework, s.project_type, s.scripts_start, s.entry_point, s.port]).toEqual(['vite', 'web', 'npm start', 'dist/server/index.js', 8787]);
  });
});

describe('Remix and React Router', () => {
  it('classic Remix (remix.config.js) serves build/index.js', async () => {
    const { s } = await one({
      'package.json': pkg({
        name: 'remix-classic',
        scripts: { build: 'remix build' },
        dependencies: { '@remix-run/node': '^2.15.2', '@remix-run/react': '^2.15.2', '@remix-run/serve': '^2.15.2' },
        devDependencies: { '@remix-run/dev': '^2.15.2' },
      }),
      'package-lock.json': LOCK,
      'remix.config.js': 'module.exports = {};\n',
      'app/routes/healthz.ts': 'export const loader = () => new Response("ok");\n',
    });
    expect(shape(s)).toEqual({
      framework: 'remix',
      project_type: 'web',
      port: 3000,
      output_directory: 'build',
      scripts_build: 'npm ci && npm run build',
      scripts_start: 'npx remix-serve ./build/index.js',
      entry_point: 'build/index.js',
    });
    expect(s.health_check_path).toBe('/healthz');
  });

  it('Remix on Vite with its start script: the served build is the entry', async () => {
    const { s } = await one({
      'package.json': pkg({
        name: 'remix-vite',
        scripts: { build: 'remix vite:build', start: 'remix-serve ./build/server/index.js' },
        dependencies: { '@remix-run/node': '^2.15.2', '@remix-run/serve': '^2.15.2' },
        devDependencies: { '@remix-run/dev': '^2.15.2', vite: '^5.4.11' },
      }),
      'package-lock.json': LOCK,
      'vite.config.ts': 'import { vitePlugin as remix } from "@remix-run/dev";\nexport default { plugins: [remix()] };\n',
    });
    expect([s.scripts_start, s.entry_point, s.port]).toEqual(['npm start', 'build/server/index.js', 3000]);
  });

  it('React Router with ssr: false is a static SPA in build/client', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'rr-spa', scripts: { build: 'react-router build' }, dependencies: { 'react-router': '7.1.1' }, devDependencies: { '@react-router/dev': '7.1.1' } }),
      'package-lock.json': LOCK,
      'react-router.config.ts': 'export default { ssr: false };\n',
    });
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start]).toEqual(['react-router', 'static', 'build/client', '']);
  });
});

describe('NestJS', () => {
  it('without start:prod the start is node dist/main, not nest start', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'api', scripts: { build: 'nest build', start: 'nest start' }, dependencies: { '@nestjs/core': '^10.4.15', '@nestjs/common': '^10.4.15' } }),
      'package-lock.json': LOCK,
      'tsconfig.json': '{}',
      'src/main.ts': "const app = await NestFactory.create(AppModule);\napp.setGlobalPrefix('api');\nawait app.listen(8080);\n",
      'src/health.controller.ts': "@Controller('status')\nexport class HealthController {\n  @Get('healthz')\n  check() { return 'ok'; }\n}\n",
    });
    expect([s.scripts_start, s.entry_point, s.port, s.health_check_path]).toEqual(['node dist/main', 'dist/main.js', 8080, '/api/status/healthz']);
  });
});

describe('Hono', () => {
  it('on Bun without a start script: bun <entry>, port 3000', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'hono-bun', scripts: { dev: 'bun run --hot src/index.ts' }, dependencies: { hono: '^4.6.14' }, devDependencies: { '@types/bun': 'latest' } }),
      'bun.lock': '{ "lockfileVersion": 1 }\n',
      'src/index.ts': "import { Hono } from 'hono';\nconst app = new Hono();\napp.get('/', (c) => c.text('hi'));\nexport default app;\n",
    });
    expect([s.framework, s.package_manager, s.scripts_start, s.entry_point, s.port, s.language, s.scripts_build]).toEqual([
      'hono',
      'bun',
      'bun src/index.ts',
      'src/index.ts',
      3000,
      'typescript',
      'bun install --frozen-lockfile',
    ]);
  });

  it('on Cloudflare Workers: no process to run, said plainly', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'hono-worker', scripts: { deploy: 'wrangler deploy' }, dependencies: { hono: '^4.6.14' }, devDependencies: { wrangler: '^3.99.0' } }),
      'package-lock.json': LOCK,
      'wrangler.toml': 'name = "hono-worker"\nmain = "src/index.ts"\n',
      'src/index.ts': "import { Hono } from 'hono';\nexport default new Hono();\n",
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['hono', '', null]);
    expect(analysis.warnings.some((w) => w.startsWith('wrangler.toml: this Hono app is built for Cloudflare Workers'))).toBe(true);
    expect(analysis.refusal.refused).toBe(true);
  });

  it('on Deno: Deno commands, framework hono, Deno.serve default port 8000', async () => {
    const { s } = await one({
      'deno.json': pkg({ tasks: { start: 'deno run --allow-net main.ts' }, imports: { hono: 'jsr:@hono/hono@^4.6.14' } }),
      'main.ts': "import { Hono } from 'hono';\nconst app = new Hono();\nDeno.serve(app.fetch);\n",
    });
    expect([s.language, s.framework, s.package_manager, s.scripts_start, s.port, s.dependency_resolution]).toEqual([
      'typescript',
      'hono',
      'deno',
      'deno task start',
      8000,
      'unlocked',
    ]);
  });
});

describe('Bun and Deno', () => {
  it('a bun start script makes it Bun: bun run start', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'svc', scripts: { start: 'bun run src/server.ts' } }),
      'src/server.ts': 'Bun.serve({ port: 4000, fetch: () => new Response("ok") });\n',
    });
    expect([s.framework, s.scripts_start, s.entry_point, s.port, s.project_type]).toEqual(['bun', 'bun run start', 'src/server.ts', 4000, 'web']);
  });

  it('deno.json with comments and trailing commas; a watch-mode start task is not used', async () => {
    const { s, analysis } = await one({
      'deno.json': '{\n  // tasks\n  "tasks": { "start": "deno run -A --watch main.ts", },\n}\n',
      'main.ts': 'Deno.serve((_req) => new Response("hi"));\n',
    });
    expect([s.framework, s.scripts_start, s.scripts_build, s.port]).toEqual(['deno', 'deno run --allow-all main.ts', 'deno cache main.ts', 8000]);
    expect(analysis.warnings.some((w) => w.includes('runs in watch (development) mode'))).toBe(true);
  });

  it('stripJsonc keeps strings intact', () => {
    expect(JSON.parse(stripJsonc('{ "a": "http://x//y", /* c */ "b": [1, 2,], }'))).toEqual({ a: 'http://x//y', b: [1, 2] });
  });

  it('parseJsonc: comments, trailing commas and a BOM are JSONC; errors name the offset as written, or the early end', () => {
    expect(parseJsonc('\uFEFF{\n  // c\n  "tasks": { "start": "deno run main.ts", },\n}')).toEqual({ value: { tasks: { start: 'deno run main.ts' } } });
    expect(parseJsonc('{ /* a comment */ "a": 1,, }')).toEqual({ error: 'syntax error at position 25' });
    expect(parseJsonc('{ "tasks": { "start": ')).toEqual({ error: 'syntax error' });
    expect(parseJsonc('')).toEqual({ error: 'syntax error' });
    expect(parseJsonc('[1, 2]')).toEqual({ error: 'not a JSON object' });
    expect(stripJsonc('{ "a": [1, /* x */ ] , // y\n }')).toBe('{ "a": [1  ]  \n }');
  });
});

describe('static builders', () => {
  it('Create React App: react-scripts start is a dev server; the build folder is served', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'cra', scripts: { start: 'react-scripts start', build: 'react-scripts build' }, dependencies: { react: '^18.3.1', 'react-scripts': '5.0.1' } }),
      'package-lock.json': LOCK,
      'public/index.html': '<div id="root"></div>',
    });
    expect(shape(s)).toEqual({
      framework: 'static',
      project_type: 'static',
      port: null,
      output_directory: 'build',
      scripts_build: 'npm ci && npm run build',
      scripts_start: '',
      entry_point: '',
    });
  });

  it('Angular: outputPath from angular.json, /browser under the application builder', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'ng', scripts: { build: 'ng build' }, dependencies: { '@angular/core': '^19.0.0' }, devDependencies: { '@angular/cli': '^19.0.0' } }),
      'package-lock.json': LOCK,
      'angular.json': pkg({ projects: { shop: { projectType: 'application', architect: { build: { builder: '@angular-devkit/build-angular:application', options: { outputPath: 'dist/shop' } } } } } }),
    });
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start]).toEqual(['static', 'static', 'dist/shop/browser', '']);
    expect(s.evidence.find((e) => e.decision === 'framework')?.evidence).toBe('angular (ng build): package.json: dependencies.@angular/core');
  });

  it('Angular with a browser entry but an older builder name still writes /browser; Docusaurus --out-dir moves the site', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'ng', scripts: { build: 'ng build' }, dependencies: { '@angular/core': '^18.0.0' } }),
      'package-lock.json': LOCK,
      'angular.json': pkg({ projects: { shop: { projectType: 'application', architect: { build: { builder: '@angular-devkit/build-angular:browser-esbuild', options: { outputPath: 'dist/shop', browser: 'src/main.ts' } } } } } }),
    });
    expect(s.output_directory).toBe('dist/shop/browser');
    const { s: flat } = await one({
      'package.json': pkg({ name: 'ng', scripts: { build: 'ng build' }, dependencies: { '@angular/core': '^19.0.0' } }),
      'package-lock.json': LOCK,
      'angular.json': pkg({ projects: { shop: { projectType: 'application', architect: { build: { builder: '@angular/build:application', options: { outputPath: { base: 'public', browser: '' } } } } } } }),
    });
    expect(flat.output_directory).toBe('public');
    const { s: docs } = await one({
      'package.json': pkg({ name: 'docs', scripts: { build: 'docusaurus build --out-dir site' }, dependencies: { '@docusaurus/core': '3.7.0' } }),
      'package-lock.json': LOCK,
    });
    expect([docs.framework, docs.output_directory]).toEqual(['static', 'site']);
  });

  it('Angular with @angular/ssr runs its server on 4000', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'ng', scripts: { build: 'ng build' }, dependencies: { '@angular/core': '^19.0.0', '@angular/ssr': '^19.0.0' } }),
      'package-lock.json': LOCK,
      'angular.json': pkg({ projects: { shop: { projectType: 'application', architect: { build: { builder: '@angular/build:application', options: { outputPath: 'dist/shop' } } } } } }),
    });
    expect([s.framework, s.project_type, s.scripts_start, s.port]).toEqual(['angular', 'web', 'node dist/shop/server/server.mjs', 4000]);
  });
});

describe('Expo', () => {
  it('without a web export script: npx expo export --platform web into dist; expo start is never the start', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'app', scripts: { start: 'expo start' }, dependencies: { expo: '~52.0.0', 'react-native-web': '~0.19.13', 'react-dom': '18.3.1' } }),
      'package-lock.json': LOCK,
    });
    expect(shape(s)).toEqual({
      framework: 'static',
      project_type: 'static',
      port: null,
      output_directory: 'dist',
      scripts_build: 'npm ci && npx expo export --platform web',
      scripts_start: '',
      entry_point: '',
    });
    expect(analysis.warnings).toContain('package.json: scripts.start "expo start" runs a development server; it was not used as the start command');
  });

  it('a mobile-only Expo app has nothing to serve: refused, saying why', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'app', scripts: { start: 'expo start' }, dependencies: { expo: '~52.0.0', 'react-native': '0.76.5' } }),
      'package-lock.json': LOCK,
    });
    expect([s.framework, s.scripts_start]).toEqual(['', '']);
    expect(analysis.refusal.refused).toBe(true);
    expect(analysis.warnings.some((w) => w.startsWith('package.json: this Expo app has no web target'))).toBe(true);
  });

  it('the legacy webpack export writes web-build; --output-dir moves the bundle', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'app', scripts: { build: 'expo export:web' }, dependencies: { expo: '~49.0.0', 'react-native-web': '~0.19.0' } }),
      'package-lock.json': LOCK,
    });
    expect([s.output_directory, s.scripts_build]).toEqual(['web-build', 'npm ci && npm run build']);
    const { s: moved } = await one({
      'package.json': pkg({ name: 'app', scripts: { 'build:web': 'expo export --platform web --output-dir public' }, dependencies: { expo: '~52.0.0', 'react-native-web': '~0.19.13' } }),
      'package-lock.json': LOCK,
    });
    expect([moved.output_directory, moved.scripts_build]).toEqual(['public', 'npm ci && npm run build:web']);
  });
});

describe('static sites', () => {
  it('plain HTML in public/ is served from public', async () => {
    const { s } = await one({ 'public/index.html': '<h1>hi</h1>', 'public/style.css': 'h1{}', 'README.md': '# site' });
    expect([s.language, s.framework, s.project_type, s.output_directory, s.port]).toEqual(['static', 'static', 'static', 'public', null]);
  });
});

describe('TypeScript servers without a start script', () => {
  const server = "import http from 'node:http';\nhttp.createServer(() => {}).listen(Number(process.env.PORT ?? 3000));\n";

  it('derives tsc and node <outDir>/<entry>.js, with rootDir computed from the sources', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'api', devDependencies: { typescript: '^5.7.2' } }),
      'package-lock.json': LOCK,
      'tsconfig.json': '{ "compilerOptions": { "outDir": "build", "module": "commonjs" } }\n',
      'src/main.ts': server,
      'src/lib/db.ts': 'export const db = {};\n',
    });
    expect([s.language, s.scripts_build, s.scripts_start, s.entry_point, s.project_type, s.port]).toEqual([
      'typescript',
      'npm ci && npx tsc',
      'node build/main.js',
      'build/main.js',
      'web',
      3000,
    ]);
  });

  it('rootDir "." keeps the src/ folder in the output; no outDir writes next to the source', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'api', scripts: { build: 'tsc -p .' }, devDependencies: { typescript: '^5.7.2' } }),
      'package-lock.json': LOCK,
      'tsconfig.json': '{ "compilerOptions": { "outDir": "dist", "rootDir": "." } }\n',
      'src/index.ts': server,
    });
    expect([s.scripts_build, s.scripts_start]).toEqual(['npm ci && npm run build', 'node dist/src/index.js']);
    const { s: beside } = await one({
      'package.json': pkg({ name: 'api', devDependencies: { typescript: '^5.7.2' } }),
      'package-lock.json': LOCK,
      'tsconfig.json': '{ "compilerOptions": { "module": "commonjs" } }\n',
      'src/server.ts': server,
    });
    expect(beside.scripts_start).toBe('node src/server.js');
  });

  it('nothing is derived when tsc emits nothing, TypeScript is not a dependency, or the build is not tsc', async () => {
    for (const [tsconfig, manifest] of [
      ['{ "compilerOptions": { "noEmit": true, "outDir": "dist" } }', { name: 'api', devDependencies: { typescript: '^5.7.2', tsx: '^4.19.2' } }],
      ['{ "compilerOptions": { "outDir": "dist" } }', { name: 'api', devDependencies: { tsx: '^4.19.2' } }],
      ['{ "compilerOptions": { "outDir": "dist" } }', { name: 'api', scripts: { build: 'esbuild src/index.ts --bundle --outfile=out.js' }, devDependencies: { typescript: '^5.7.2' } }],
    ] as const) {
      const { s } = await one({ 'package.json': pkg(manifest), 'package-lock.json': LOCK, 'tsconfig.json': tsconfig, 'src/index.ts': server });
      expect(s.scripts_start).toBe('');
    }
  });

  it('noEmit with tsx as a runtime dependency runs the source with tsx', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'api', dependencies: { tsx: '^4.19.2' }, devDependencies: { typescript: '^5.7.2' } }),
      'package-lock.json': LOCK,
      'tsconfig.json': '{ "compilerOptions": { "noEmit": true, "module": "NodeNext" } }\n',
      'src/server.ts': server,
    });
    expect([s.scripts_build, s.scripts_start, s.entry_point]).toEqual(['npm ci', 'npx tsx src/server.ts', 'src/server.ts']);
  });

  it('a moon start task that only watches is not used: the tsconfig plan is', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'api', devDependencies: { typescript: '^5.7.2' } }),
      'package-lock.json': LOCK,
      'moon.yml': "tasks:\n  start:\n    command: 'tsx watch src/index.ts'\n",
      'tsconfig.json': '{ "compilerOptions": { "outDir": "dist" }, "include": ["src"] }\n',
      'src/index.ts': server,
    });
    expect(s.scripts_start).toBe('node dist/index.js');
    expect(analysis.warnings).toContain('moon.yml: task start "tsx watch src/index.ts" runs a development server; it was not used as the start command');
  });

  it('a nodemon start script is a dev server: node runs the entry instead', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'api', scripts: { start: 'nodemon server.js' }, devDependencies: { nodemon: '^3.1.9' } }),
      'package-lock.json': LOCK,
      'server.js': "require('node:http').createServer(() => {}).listen(process.env.PORT || 3000);\n",
    });
    expect([s.scripts_start, s.entry_point]).toEqual(['node server.js', 'server.js']);
    expect(analysis.warnings).toContain('package.json: scripts.start "nodemon server.js" runs a development server; it was not used as the start command');
  });

  it('task runners that only run a dev server are not production starts', () => {
    for (const command of ['nx serve', 'nx serve api', 'nx run api:serve', 'nx run-many -t serve', 'turbo dev', 'turbo run dev', 'expo start', 'gatsby develop', 'docusaurus start', 'vinxi dev']) {
      expect(isDevCommand(command), command).toBe(true);
    }
    for (const command of ['nx build', 'turbo run build', 'vinxi start', 'node dist/main.js']) expect(isDevCommand(command), command).toBe(false);
  });
});

describe('Bun as package manager or runtime', () => {
  it('bun.lock alone: a Node app installed and started with bun, not framework bun', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'svc', scripts: { start: 'node server.js' }, dependencies: { ms: '^2.1.3' } }),
      'bun.lock': '{ "lockfileVersion": 1 }\n',
      'server.js': "require('node:http').createServer(() => {}).listen(process.env.PORT || 3000);\n",
    });
    expect([s.framework, s.language, s.package_manager, s.scripts_build, s.scripts_start]).toEqual(['', 'javascript', 'bun', 'bun install --frozen-lockfile', 'bun run start']);
  });

  it('an entry that uses Bun APIs runs on Bun even without @types/bun', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'svc', module: 'index.ts' }),
      'bun.lock': '{ "lockfileVersion": 1 }\n',
      'index.ts': 'Bun.serve({ fetch: () => new Response("hi") });\n',
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['bun', 'bun index.ts', 3000]);
    expect(s.evidence.find((e) => e.decision === 'framework')?.evidence).toBe("index.ts:1 uses Bun's API (Bun.s)");
  });
});

describe('a declared web framework counts only when the code imports it', () => {
  it('express imported by TypeScript sources of a built entry is Express', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'api', scripts: { build: 'tsc', start: 'node dist/index.js' }, dependencies: { express: '^4.21.2' }, devDependencies: { typescript: '^5.7.2' } }),
      'package-lock.json': LOCK,
      'tsconfig.json': '{ "compilerOptions": { "outDir": "dist" } }\n',
      'src/index.ts': "import { app } from './app.js';\napp.listen(3000);\n",
      'src/app.ts': "import express from 'express';\nexport const app = express();\n",
    });
    expect([s.framework, s.project_type, s.port]).toEqual(['express', 'web', 3000]);
  });

  it('the entry reaches express through its relative imports, or through an alias the walk cannot follow', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'api', scripts: { start: 'node index.js' }, dependencies: { koa: '^2.15.3' } }),
      'package-lock.json': LOCK,
      'index.js': "const { start } = require('./lib/server');\nstart();\n",
      'lib/server.js': "const Koa = require('koa');\nexports.start = () => new Koa().listen(process.env.PORT || 3000);\n",
    });
    expect(s.framework).toBe('koa');
    const { s: aliased } = await one({
      'package.json': pkg({ name: 'api', scripts: { start: 'node index.mjs' }, dependencies: { fastify: '^5.2.0' } }),
      'package-lock.json': LOCK,
      'index.mjs': "import { build } from '#app/server.mjs';\nawait build();\n",
      'app/server.mjs': "import Fastify from 'fastify';\nexport const build = () => Fastify().listen({ port: 3000, host: '0.0.0.0' });\n",
    });
    expect(aliased.framework).toBe('fastify');
  });

  it('an entry that never imports express is a worker with its start, and says why', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'job', scripts: { start: 'node job.js' }, dependencies: { express: '^4.21.2' } }),
      'package-lock.json': LOCK,
      'job.js': "console.log('done');\n",
      'tools/preview.js': "const express = require('express');\nexpress().listen(4000);\n",
    });
    expect([s.framework, s.project_type, s.scripts_start]).toEqual(['', 'worker', 'npm start']);
    expect(analysis.warnings).toContain(
      'package.json: dependencies.express is declared but neither job.js nor the code it imports imports it; Express alone does not make it a web server',
    );
  });
});

describe('workspace members built by a static builder or an SSR framework on Vite', () => {
  it('a CRA member and a TanStack Start member are services although their framework is generic', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'shop', private: true, workspaces: ['apps/*'] }),
      'package-lock.json': LOCK,
      'apps/web/package.json': pkg({ name: 'web', scripts: { start: 'react-scripts start', build: 'react-scripts build' }, dependencies: { react: '^18.3.1', 'react-scripts': '5.0.1' } }),
      'apps/web/public/index.html': '<div id="root"></div>',
      'apps/web/src/index.js': "import React from 'react';\n",
      'apps/store/package.json': pkg({ name: 'store', scripts: { dev: 'vite dev', build: 'vite build' }, dependencies: { '@tanstack/react-start': '^1.132.0' }, devDependencies: { vite: '^7.1.0' } }),
      'apps/store/src/router.tsx': 'export function getRouter() {}\n',
    });
    expect(analysis.services.map((s) => [s.source_path, s.framework, s.project_type])).toEqual([
      ['apps/store', 'vite', 'web'],
      ['apps/web', 'static', 'static'],
    ]);
  });
});

describe('Hono installed with Bun', () => {
  it('without @hono/node-server or Workers config, a bun.lock makes Bun the runtime', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'hono-bun', dependencies: { hono: '^4.6.14' } }),
      'bun.lock': '{ "lockfileVersion": 1 }\n',
      'src/index.ts': "import { Hono } from 'hono';\nconst app = new Hono();\nexport default app;\n",
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['hono', 'bun src/index.ts', 3000]);
  });
});

describe('a dev-server start with browser code', () => {
  it('webpack serve with src/index.js: the browser entry is not run with node', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'spa', scripts: { start: 'webpack serve --mode development', build: 'webpack --mode production' }, devDependencies: { webpack: '^5.97.1', 'webpack-cli': '^6.0.1' } }),
      'package-lock.json': LOCK,
      'src/index.js': "document.querySelector('#app').textContent = 'hi';\n",
    });
    expect([s.scripts_start, s.entry_point, s.build_tool]).toEqual(['', '', 'webpack']);
    expect(analysis.warnings).toContain('package.json: scripts.start "webpack serve --mode development" runs a development server; it was not used as the start command');
  });
});
