/**
 * Next.js: a `next` dependency. SSR by default (`next start`, port 3000, output `.next`); a static
 * export (`output: 'export'` in next.config) is a static site served from `out`.
 * next.config.* is code, so the two settings read from it are matched, not evaluated.
 */
import { chain, nodeRunScript, nodeStartCommand } from '../package-manager.js';
import { TIER, inDir, type Conclusion, type FrameworkDetector } from '../types.js';
import { hasDependency, managerOf, nodeExec } from './node.js';

const HEALTH_ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(?:src\/)?app\/health\/route\.[jt]sx?$/, '/health'],
  [/^(?:src\/)?app\/healthz\/route\.[jt]sx?$/, '/healthz'],
  [/^(?:src\/)?app\/api\/health\/route\.[jt]sx?$/, '/api/health'],
  [/^(?:src\/)?pages\/api\/health\.[jt]sx?$/, '/api/health'],
];

const CONFIG_FILES = ['next.config.js', 'next.config.mjs', 'next.config.cjs', 'next.config.ts', 'next.config.mts'];

/** `next start -p 4000`, `next start --port=4000`, `PORT=4000 next start`. */
export function portOfNextScript(script: string): number | null {
  const match = /(?:-p|--port)[=\s]+(\d{2,5})\b/.exec(script) ?? /\bPORT=(\d{2,5})\b/.exec(script);
  return match ? Number(match[1]) : null;
}

export const next: FrameworkDetector = {
  id: 'next',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'next') : undefined;
    if (!pkg || !evidence) return null;
    const manager = managerOf(ctx.runtime);
    const installStep = ctx.runtime.toolchain?.install ?? '';

    let distDir = '.next';
    let staticExport = false;
    let configEvidence = '';
    for (const file of CONFIG_FILES) {
      const rel = inDir(ctx.dir, file);
      const text = (await ctx.fs.read(rel))?.text;
      if (text === undefined) continue;
      configEvidence = rel;
      const dist = /\bdistDir\s*:\s*['"]([^'"]+)['"]/.exec(text);
      if (dist) distDir = dist[1] as string;
      staticExport = /\boutput\s*:\s*['"]export['"]/.test(text);
      break;
    }

    const build =
      pkg.scripts.build !== undefined
        ? { value: chain(installStep, nodeRunScript(manager, 'build')), evidence: `${pkg.path}: scripts.build "${pkg.scripts.build}"` }
        : { value: chain(installStep, nodeExec(manager, 'next build')), evidence: `${evidence}; ${pkg.path} has no scripts.build` };

    if (staticExport) {
      return {
        id: 'next',
        tier: TIER.frontend,
        servesStatically: true,
        fields: {
          framework: { value: 'nextjs', evidence },
          project_type: { value: 'static', evidence: `${configEvidence}: output 'export'` },
          output_directory: { value: distDir === '.next' ? 'out' : distDir, evidence: `${configEvidence}: output 'export'` },
          scripts_build: build,
          scripts_start: { value: '', evidence: 'a static export is served as files; no process to start' },
          entry_point: { value: '', evidence: 'a static export has no server entry' },
        },
      };
    }

    const start: Conclusion<string> =
      pkg.scripts.start !== undefined
        ? { value: nodeStartCommand(manager), evidence: `${pkg.path}: scripts.start "${pkg.scripts.start}"` }
        : { value: nodeExec(manager, 'next start'), evidence: `${evidence}; ${pkg.path} has no scripts.start` };
    const portHints: Conclusion<number>[] = [];
    const scriptPort = pkg.scripts.start !== undefined ? portOfNextScript(pkg.scripts.start) : null;
    if (scriptPort !== null) portHints.push({ value: scriptPort, evidence: `${pkg.path}: scripts.start "${pkg.scripts.start}"` });

    let healthCheck: Conclusion<string> | undefined;
    const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
    for (const [pattern, route] of HEALTH_ROUTES) {
      const file = ctx.fs.filesUnder(ctx.dir).find((f) => pattern.test(f.slice(prefix.length)));
      if (file) {
        healthCheck = { value: route, evidence: `${file} (file-based route)` };
        break;
      }
    }

    return {
      id: 'next',
      tier: TIER.runnable,
      ...(healthCheck ? { healthCheck } : {}),
      fields: {
        framework: { value: 'nextjs', evidence },
        project_type: { value: 'web', evidence: `${evidence} (next start serves SSR pages)` },
        output_directory: { value: distDir, evidence: configEvidence && distDir !== '.next' ? `${configEvidence}: distDir` : 'Next.js build output' },
        scripts_build: build,
        scripts_start: start,
        entry_point: { value: '', evidence: 'next start has no entry file' },
      },
      portHints,
      portDefault: { value: 3000, evidence: 'Next.js default port 3000 (next start)' },
    };
  },
};
