/**
 * JS/TS framework variants the fixtures do not cover: static vs server builds, adapters, dev start
 * scripts, Bun/Deno/Workers runtimes. Each case is a small hand-built project; the fixtures
 * (fixtures/apps/*) cover one ordinary app per framework.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isDevCommand } from '../../src/analyze/detectors/node.js';
import { analyzeProject } from '../../src/analyze/index.js';
import { stripJsonc } from '../../src/analyze/jsonc.js';
import type { Analysis, AnalyzedService } from '../../src/analyze/schema.js';
import { tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

type Files = Record<string, string>;

async function analyzeFiles(files: Files, name = 'project'): Promise<Analysis> {
  const { dir, cleanup } = await tempDir(name);
  cleanups.push(cleanup);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return analyzeProject(dir, { cwd: dir });
}

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

  it('adapter-auto builds nothing runnable here: no start command and a warning naming the fix', async () => {
    const { s, analysis } = await one({
      'package.json': pkg({ name: 'kit', scripts: { build: 'vite build' }, devDependencies: { '@sveltejs/kit': '^2.15.1', '@sveltejs/adapter-auto': '^3.3.1', vite: '^6.0.6' } }),
      'package-lock.json': LOCK,
      'svelte.config.js': "import adapter from '@sveltejs/adapter-auto';\nexport default { kit: { adapter: adapter() } };\n",
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['sveltekit', '', null]);
    expect(analysis.warnings.some((w) => w.includes('install @sveltejs/adapter-node'))).toBe(true);
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
});

describe('static builders', () => {
  it('Create React App: react-scripts start is a dev server; the build folder is served', async () => {
    const { s } = await one({
      'package.json': pkg({ name: 'cra', scripts: { start: 'react-scripts start', build: 'react-scripts build' }, dependencies: { react: '^18.3.1', 'react-scripts': '5.0.1' } }),
      'package-lock.json': LOCK,
      'public/index.html': '<div id="root"></div>',
    });
    expect(shape(s)).toEqual({
      framework: 'create-react-app',
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
    expect([s.framework, s.project_type, s.output_directory, s.scripts_start]).toEqual(['angular', 'static', 'dist/shop/browser', '']);
  });
});

describe('static sites', () => {
  it('plain HTML in public/ is served from public', async () => {
    const { s } = await one({ 'public/index.html': '<h1>hi</h1>', 'public/style.css': 'h1{}', 'README.md': '# site' });
    expect([s.language, s.framework, s.project_type, s.output_directory, s.port]).toEqual(['static', 'static', 'static', 'public', null]);
  });
});
