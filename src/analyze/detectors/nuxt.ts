/**
 * Nuxt: a `nuxt` dependency. Nuxt 3+ builds a Nitro server into `.output` and starts with
 * `node .output/server/index.mjs` (port 3000, PORT/NITRO_PORT honoured); `nuxt generate` (or the
 * Nitro `static` preset) prerenders a static site into `.output/public`. Nuxt 2 serves with
 * `nuxt start` from `.nuxt`, and `nuxt generate` writes `dist`.
 */
import { TIER, type Conclusion, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasAnyDependency, nodeTools, productionStart, readJsConfig } from './node.js';

/** Nitro file routes: `server/routes/health.ts` -> /health, `server/api/health.get.ts` -> /api/health. */
const HEALTH_ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^server\/routes\/health(?:\/index)?(?:\.get)?\.[jt]s$/, '/health'],
  [/^server\/routes\/healthz(?:\/index)?(?:\.get)?\.[jt]s$/, '/healthz'],
  [/^server\/api\/health(?:\/index)?(?:\.get)?\.[jt]s$/, '/api/health'],
  [/^server\/api\/healthz(?:\/index)?(?:\.get)?\.[jt]s$/, '/api/healthz'],
];

export const nuxt: FrameworkDetector = {
  id: 'nuxt',
  kind: 'framework',
  runtimes: ['node'],
  publicEnvPrefixes: ['NUXT_PUBLIC_'],
  buildConfigFiles: ['nuxt'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasAnyDependency(pkg, 'nuxt') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);
    const spec = pkg.dependencies.nuxt ?? pkg.devDependencies.nuxt ?? '';
    const nuxt2 = /^[\^~>=<\s]*2(?:\.|$)/.test(spec);
    const config = await readJsConfig(ctx, 'nuxt.config');

    const buildScript = pkg.scripts.build ?? '';
    const generates = /\bnux[ti]\s+generate\b/.test(buildScript);
    const staticPreset = config !== null && /\bpreset\s*:\s*['"]static['"]/.test(config.text);
    if (generates || staticPreset) {
      const why = generates ? `${pkg.path}: scripts.build "${buildScript}"` : `${config?.path}: nitro preset 'static'`;
      return {
        id: 'nuxt',
        tier: TIER.frontend,
        servesStatically: true,
        fields: {
          framework: { value: 'nuxt', evidence },
          project_type: { value: 'static', evidence: `${why} prerenders every page` },
          output_directory: { value: nuxt2 ? 'dist' : '.output/public', evidence: `${why} (Nuxt ${nuxt2 ? '2' : '3+'} output)` },
          scripts_build: frameworkBuild(ctx, pkg, 'nuxt generate', evidence),
          scripts_start: { value: '', evidence: 'a generated Nuxt site is served as files; no process to start' },
          entry_point: { value: '', evidence: 'a generated Nuxt site has no server entry' },
        },
      };
    }

    const start = productionStart(ctx, pkg);
    let scriptsStart: Conclusion<string>;
    let entry: Conclusion<string>;
    if (start !== undefined) {
      scriptsStart = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` };
      const file = entryOfStartScript(start);
      entry = { value: file, evidence: `${pkg.path}: scripts.start "${start}"` };
    } else if (nuxt2) {
      scriptsStart = { value: tools.exec('nuxt start'), evidence: `${evidence} (Nuxt 2); ${pkg.path} has no production scripts.start` };
      entry = { value: '', evidence: 'nuxt start has no entry file' };
    } else {
      scriptsStart = { value: tools.here('node .output/server/index.mjs'), evidence: `${evidence}: the Nitro server built by nuxt build` };
      entry = { value: '.output/server/index.mjs', evidence: `${evidence}: Nitro server entry` };
    }
    const healthCheck = fileRouteHealth(ctx, HEALTH_ROUTES);
    return {
      id: 'nuxt',
      tier: TIER.runnable,
      ...(healthCheck ? { healthCheck } : {}),
      fields: {
        framework: { value: 'nuxt', evidence },
        project_type: { value: 'web', evidence: `${evidence} (server-rendered)` },
        output_directory: { value: nuxt2 ? '.nuxt' : '.output', evidence: `Nuxt ${nuxt2 ? '2' : '3+'} build output` },
        scripts_build: frameworkBuild(ctx, pkg, 'nuxt build', evidence),
        scripts_start: scriptsStart,
        entry_point: entry,
      },
      portDefault: { value: 3000, evidence: 'Nuxt default port 3000' },
    };
  },
};
