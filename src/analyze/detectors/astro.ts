/**
 * Astro: an `astro` dependency. Without an adapter Astro builds a static site into `dist` (or
 * `outDir`). With the `@astrojs/node` adapter in standalone mode it builds a server started with
 * `node ./dist/server/entry.mjs` on port 4321; that server binds to localhost unless HOST is set
 * (or `server.host` is configured), so the start command sets HOST=0.0.0.0. In middleware mode the
 * app's own server (its start script) runs it. Other adapters build for their platform only.
 */
import { TIER, type Conclusion, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasAnyDependency, nodeTools, productionStart, readJsConfig } from './node.js';

/** Astro endpoints: `src/pages/health.ts` -> /health, `src/pages/api/health.ts` -> /api/health. */
const HEALTH_ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^src\/pages\/health(?:\/index)?\.[jt]s$/, '/health'],
  [/^src\/pages\/healthz(?:\/index)?\.[jt]s$/, '/healthz'],
  [/^src\/pages\/api\/health(?:\/index)?\.[jt]s$/, '/api/health'],
  [/^src\/pages\/api\/healthz(?:\/index)?\.[jt]s$/, '/api/healthz'],
];

const OTHER_ADAPTERS = ['@astrojs/vercel', '@astrojs/netlify', '@astrojs/cloudflare', '@deno/astro-adapter'];

export const astro: FrameworkDetector = {
  id: 'astro',
  kind: 'framework',
  runtimes: ['node'],
  publicEnvPrefixes: ['PUBLIC_'],
  buildConfigFiles: ['astro'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasAnyDependency(pkg, 'astro') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);
    const config = await readJsConfig(ctx, 'astro.config');
    const text = config?.text ?? '';
    const outDirMatch = /\boutDir\s*:\s*['"]\.?\/?([^'"]+?)\/?['"]/.exec(text);
    const outDir = outDirMatch ? (outDirMatch[1] as string) : 'dist';
    const outEvidence = outDirMatch ? `${config?.path}: outDir` : 'Astro default outDir';
    const build = frameworkBuild(ctx, pkg, 'astro build', evidence);

    const nodeAdapter = hasAnyDependency(pkg, '@astrojs/node');
    const configured = config === null || /@astrojs\/node/.test(text);
    const other = OTHER_ADAPTERS.find((name) => hasAnyDependency(pkg, name) && (config === null || text.includes(name)));

    if (nodeAdapter && configured) {
      const middleware = /\bmode\s*:\s*['"]middleware['"]/.test(text);
      const start = productionStart(ctx, pkg);
      const fields = {
        framework: { value: 'astro', evidence },
        project_type: { value: 'web' as const, evidence: `${nodeAdapter} (server output)` },
        output_directory: { value: outDir, evidence: outEvidence },
        scripts_build: build,
      };
      let scriptsStart: Conclusion<string>;
      let entry: Conclusion<string>;
      if (start !== undefined && !/\bastro\s+preview\b/.test(start)) {
        scriptsStart = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` };
        entry = { value: entryOfStartScript(start), evidence: `${pkg.path}: scripts.start "${start}"` };
      } else if (middleware) {
        ctx.warnings.add(`${config?.path}: the Node adapter runs in middleware mode, and no production scripts.start runs the server that mounts it; add one`);
        return { id: 'astro', tier: TIER.runnable, fields: { ...fields, scripts_start: { value: '', evidence: 'middleware mode: the app provides its own server' } } };
      } else {
        const server = `./${outDir}/server/entry.mjs`;
        const binds = /\bhost\s*:\s*(?:true|['"]0\.0\.0\.0['"])/.test(text);
        const why = `${nodeAdapter}: standalone server entry`;
        scriptsStart = { value: tools.here(`${binds ? '' : 'HOST=0.0.0.0 '}node ${server}`), evidence: binds ? why : `${why}; it binds to localhost unless HOST is set` };
        entry = { value: server.slice(2), evidence: why };
      }
      const healthCheck = fileRouteHealth(ctx, HEALTH_ROUTES);
      return {
        id: 'astro',
        tier: TIER.runnable,
        ...(healthCheck ? { healthCheck } : {}),
        fields: { ...fields, scripts_start: scriptsStart, entry_point: entry },
        portDefault: { value: 4321, evidence: 'Astro default port 4321' },
      };
    }

    if (other) {
      ctx.warnings.add(`${config?.path ?? pkg.path} uses the ${other} adapter, which builds for that platform only; use @astrojs/node (standalone) to run the server here, or remove the adapter for a static site`);
      return {
        id: 'astro',
        tier: TIER.runnable,
        fields: {
          framework: { value: 'astro', evidence },
          project_type: { value: 'web', evidence: `${other} adapter (server output for another platform)` },
          scripts_build: build,
          scripts_start: { value: '', evidence: `the ${other} adapter produces no server that runs here` },
          entry_point: { value: '', evidence: `the ${other} adapter produces no server entry` },
        },
      };
    }

    return {
      id: 'astro',
      tier: TIER.frontend,
      servesStatically: true,
      fields: {
        framework: { value: 'astro', evidence },
        project_type: { value: 'static', evidence: `${evidence} with no server adapter: astro build writes a static site` },
        output_directory: { value: outDir, evidence: outEvidence },
        scripts_build: build,
        scripts_start: { value: '', evidence: 'a static Astro build is served as files; no process to start' },
        entry_point: { value: '', evidence: 'a static Astro build has no server entry' },
      },
    };
  },
};
