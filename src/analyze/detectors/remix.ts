/**
 * Remix (v1/v2): `@remix-run/*` dependencies. With the Vite plugin the build writes
 * `build/server/index.js` and `build/client`; the classic compiler writes `build/index.js`.
 * `remix-serve <server build>` serves it on port 3000 (PORT honoured); a custom server
 * (`@remix-run/express`) is started by the start script. SPA mode (`ssr: false`) is static
 * (`build/client`).
 */
import { TIER, inDir, type Conclusion, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasAnyDependency, nodeTools, productionStart, readJsConfig } from './node.js';

/** Flat file routes (Remix v2, React Router `flatRoutes()`): `app/routes/healthz.ts` -> /healthz, `api.health.ts` -> /api/health. */
export const FLAT_HEALTH_ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^app\/routes\/health(?:\/route)?\.[jt]sx?$/, '/health'],
  [/^app\/routes\/healthz(?:\/route)?\.[jt]sx?$/, '/healthz'],
  [/^app\/routes\/api\.health(?:\/route)?\.[jt]sx?$/, '/api/health'],
  [/^app\/routes\/api\.healthz(?:\/route)?\.[jt]sx?$/, '/api/healthz'],
];

const MARKERS = ['@remix-run/node', '@remix-run/serve', '@remix-run/react', '@remix-run/dev', '@remix-run/express'];

/** The server build a `remix-serve` / `react-router-serve` script serves: `remix-serve ./build/index.js` -> `build/index.js`. */
export function servedBuild(script: string, binary: string): string {
  const match = new RegExp(`\\b${binary}\\s+(?:--?[\\w-]+(?:[=\\s]\\S+)?\\s+)*([\\w./-]+\\.[cm]?js)\\b`).exec(script);
  return match ? (match[1] as string).replace(/^\.\//, '') : '';
}

export const remix: FrameworkDetector = {
  id: 'remix',
  kind: 'framework',
  runtimes: ['node'],
  buildConfigFiles: ['remix'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const marker = pkg ? MARKERS.find((name) => hasAnyDependency(pkg, name)) : undefined;
    if (!pkg || !marker) return null;
    const evidence = hasAnyDependency(pkg, marker) as string;
    const tools = nodeTools(ctx);
    const vite = await readJsConfig(ctx, 'vite.config');
    const viteBased = vite !== null && /@remix-run\/dev/.test(vite.text);
    const classic = ctx.fs.has(inDir(ctx.dir, 'remix.config.js')) || ctx.fs.has(inDir(ctx.dir, 'remix.config.mjs')) || !viteBased;
    const build = frameworkBuild(ctx, pkg, viteBased ? 'remix vite:build' : 'remix build', evidence);

    if (viteBased && /\bssr\s*:\s*false\b/.test(vite.text)) {
      return {
        id: 'remix',
        tier: TIER.frontend,
        servesStatically: true,
        fields: {
          framework: { value: 'remix', evidence },
          project_type: { value: 'static', evidence: `${vite.path}: ssr: false (SPA mode)` },
          output_directory: { value: 'build/client', evidence: `${vite.path}: SPA mode output` },
          scripts_build: build,
          scripts_start: { value: '', evidence: 'a Remix SPA is served as files; no process to start' },
          entry_point: { value: '', evidence: 'a Remix SPA has no server entry' },
        },
      };
    }

    const serverBuild = classic && !viteBased ? 'build/index.js' : 'build/server/index.js';
    const start = productionStart(ctx, pkg);
    let scriptsStart: Conclusion<string>;
    let entry: string;
    if (start !== undefined) {
      scriptsStart = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` };
      entry = servedBuild(start, 'remix-serve') || entryOfStartScript(start);
    } else {
      if (!hasAnyDependency(pkg, '@remix-run/serve')) ctx.warnings.add(`${pkg.path} has no production scripts.start and no @remix-run/serve dependency: add @remix-run/serve so \`remix-serve ${serverBuild}\` can run`);
      scriptsStart = { value: tools.exec(`remix-serve ./${serverBuild}`), evidence: `${evidence}: the ${viteBased ? 'Vite' : 'classic'} server build` };
      entry = serverBuild;
    }
    const healthCheck = fileRouteHealth(ctx, FLAT_HEALTH_ROUTES);
    return {
      id: 'remix',
      tier: TIER.runnable,
      ...(healthCheck ? { healthCheck } : {}),
      fields: {
        framework: { value: 'remix', evidence },
        project_type: { value: 'web', evidence: `${evidence} (server-rendered)` },
        output_directory: { value: 'build', evidence: `Remix ${viteBased ? 'Vite' : 'classic'} build output` },
        scripts_build: build,
        scripts_start: scriptsStart,
        entry_point: { value: entry, evidence: scriptsStart.evidence },
      },
      portDefault: { value: 3000, evidence: 'remix-serve default port 3000' },
    };
  },
};
