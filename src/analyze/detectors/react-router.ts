/**
 * React Router v7 framework mode: `@react-router/dev` or a react-router.config file (plain
 * `react-router` in a Vite SPA is a library, left to the Vite detector). The build writes
 * `build/server/index.js` and `build/client`; `react-router-serve ./build/server/index.js` serves it on
 * port 3000. `ssr: false` in react-router.config is a static SPA (`build/client`).
 */
import { healthRank } from '../scan-model.js';
import { TIER, inDir, type Conclusion, type DetectContext, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasAnyDependency, nodeTools, productionStart, readJsConfig } from './node.js';
import { FLAT_HEALTH_ROUTES, servedBuild } from './remix.js';

/** A health route declared in app/routes.ts (`route("healthz", "routes/healthz.ts")`), else a flat file route. */
async function healthRoute(ctx: DetectContext): Promise<Conclusion<string> | undefined> {
  for (const file of ['app/routes.ts', 'app/routes.js']) {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.fs.read(rel))?.text;
    if (text === undefined) continue;
    const hits = [...text.matchAll(/\broute\(\s*["'`]\/?((?:api\/)?(?:health|healthz|ready|readyz|livez))["'`]/g)]
      .map((m) => ({ path: `/${m[1] as string}`, line: text.slice(0, m.index).split('\n').length }))
      .sort((a, b) => healthRank(a.path) - healthRank(b.path));
    const best = hits[0];
    if (best) return { value: best.path, evidence: `${rel}:${best.line} route config` };
  }
  return fileRouteHealth(ctx, FLAT_HEALTH_ROUTES);
}

export const reactRouter: FrameworkDetector = {
  id: 'react-router',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    if (!pkg) return null;
    const config = await readJsConfig(ctx, 'react-router.config');
    const dev = hasAnyDependency(pkg, '@react-router/dev');
    if (!dev && !config) return null;
    const evidence = dev ?? `${config?.path} exists`;
    const tools = nodeTools(ctx);
    const text = config?.text ?? '';
    const buildDir = /\bbuildDirectory\s*:\s*['"]\.?\/?([^'"]+?)\/?['"]/.exec(text)?.[1] ?? 'build';
    const build = frameworkBuild(ctx, pkg, 'react-router build', evidence);

    if (/\bssr\s*:\s*false\b/.test(text)) {
      return {
        id: 'react-router',
        tier: TIER.frontend,
        servesStatically: true,
        fields: {
          framework: { value: 'react-router', evidence },
          project_type: { value: 'static', evidence: `${config?.path}: ssr: false` },
          output_directory: { value: `${buildDir}/client`, evidence: `${config?.path}: ssr: false (SPA output)` },
          scripts_build: build,
          scripts_start: { value: '', evidence: 'a React Router SPA is served as files; no process to start' },
          entry_point: { value: '', evidence: 'a React Router SPA has no server entry' },
        },
      };
    }

    const serverBuild = `${buildDir}/server/index.js`;
    const start = productionStart(ctx, pkg);
    let scriptsStart: Conclusion<string>;
    let entry: string;
    if (start !== undefined) {
      scriptsStart = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` };
      entry = servedBuild(start, 'react-router-serve') || entryOfStartScript(start);
    } else {
      if (!hasAnyDependency(pkg, '@react-router/serve')) ctx.warnings.add(`${pkg.path} has no production scripts.start and no @react-router/serve dependency: add @react-router/serve so \`react-router-serve ./${serverBuild}\` can run`);
      scriptsStart = { value: tools.exec(`react-router-serve ./${serverBuild}`), evidence: `${evidence}: the server build` };
      entry = serverBuild;
    }
    const healthCheck = await healthRoute(ctx);
    return {
      id: 'react-router',
      tier: TIER.runnable,
      ...(healthCheck ? { healthCheck } : {}),
      fields: {
        framework: { value: 'react-router', evidence },
        project_type: { value: 'web', evidence: `${evidence} (server-rendered)` },
        output_directory: { value: buildDir, evidence: config && buildDir !== 'build' ? `${config.path}: buildDirectory` : 'React Router build output' },
        scripts_build: build,
        scripts_start: scriptsStart,
        entry_point: { value: entry, evidence: scriptsStart.evidence },
      },
      portDefault: { value: 3000, evidence: 'react-router-serve default port 3000' },
    };
  },
};
