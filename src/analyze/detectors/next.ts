/**
 * Next.js: a `next` dependency. SSR by default (`next start`, port 3000, output `.next`); a static
 * export (`output: 'export'` in next.config) is a static site served from `out`; a standalone build
 * (`output: 'standalone'`) runs `node .next/standalone/server.js` after the static assets are copied
 * next to it (Next.js docs: the standalone folder does not include `public` or `.next/static`).
 * next.config.* is code, so the settings read from it are matched, not evaluated.
 */
import { chain } from '../package-manager.js';
import { TIER, inDir, type Conclusion, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasDependency, nodeTools, productionStart } from './node.js';

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
  publicEnvPrefixes: ['NEXT_PUBLIC_'],
  buildConfigFiles: ['next'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'next') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);

    let distDir = '.next';
    let output = '';
    let configEvidence = '';
    for (const file of CONFIG_FILES) {
      const rel = inDir(ctx.dir, file);
      const text = (await ctx.fs.read(rel))?.text;
      if (text === undefined) continue;
      configEvidence = rel;
      const dist = /\bdistDir\s*:\s*['"]([^'"]+)['"]/.exec(text);
      if (dist) distDir = dist[1] as string;
      output = /\boutput\s*:\s*['"](export|standalone)['"]/.exec(text)?.[1] ?? '';
      break;
    }

    const build = frameworkBuild(ctx, pkg, 'next build', evidence);

    if (output === 'export') {
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

    const startScript = productionStart(ctx, pkg);
    const usableStart = startScript !== undefined;
    let start: Conclusion<string>;
    let entry: Conclusion<string> = { value: '', evidence: 'next start has no entry file' };
    let outputDirectory: Conclusion<string> = { value: distDir, evidence: configEvidence && distDir !== '.next' ? `${configEvidence}: distDir` : 'Next.js build output' };
    let scriptsBuild = build;
    const nextStart = startScript !== undefined && /\bnext\s+start\b/.test(startScript);
    if (output === 'standalone' && (!usableStart || nextStart)) {
      // In a workspace Next.js traces files from the workspace root, so the server sits under the member's path.
      const nested = tools.workspace ? `${tools.workspace.root === '' ? ctx.dir : ctx.dir.slice(tools.workspace.root.length + 1)}/` : '';
      const standalone = `${distDir}/standalone`;
      const server = `${standalone}/${nested}server.js`;
      const copies = [
        ...(ctx.fs.hasDir(inDir(ctx.dir, 'public')) ? [`cp -r public ${standalone}/${nested}`] : []),
        `cp -r ${distDir}/static ${standalone}/${nested}${distDir}/`,
      ];
      const why = `${configEvidence}: output 'standalone'`;
      scriptsBuild = { value: chain(build.value, tools.here(copies.join(' && '))), evidence: `${build.evidence}; ${why} (static assets are copied next to the server)` };
      start = { value: tools.here(`node ${server}`), evidence: `${why}${nextStart ? ` (next start does not serve a standalone build)` : ''}` };
      entry = { value: server, evidence: why };
      outputDirectory = { value: standalone, evidence: why };
    } else if (usableStart) {
      start = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${startScript}"` };
      const file = entryOfStartScript(startScript as string);
      if (file) entry = { value: file, evidence: `${pkg.path}: scripts.start "${startScript}" (custom server)` };
    } else {
      start = { value: tools.exec('next start'), evidence: `${evidence}; ${pkg.path} has no production scripts.start` };
    }
    const portHints: Conclusion<number>[] = [];
    const scriptPort = usableStart ? portOfNextScript(startScript as string) : null;
    if (scriptPort !== null) portHints.push({ value: scriptPort, evidence: `${pkg.path}: scripts.start "${startScript}"` });

    const healthCheck = fileRouteHealth(ctx, HEALTH_ROUTES);

    return {
      id: 'next',
      tier: TIER.runnable,
      ...(healthCheck ? { healthCheck } : {}),
      fields: {
        framework: { value: 'nextjs', evidence },
        project_type: { value: 'web', evidence: `${evidence} (next start serves SSR pages)` },
        output_directory: outputDirectory,
        scripts_build: scriptsBuild,
        scripts_start: start,
        entry_point: entry,
      },
      portHints,
      portDefault: { value: 3000, evidence: `Next.js default port 3000 (${output === 'standalone' ? 'standalone server' : 'next start'})` },
    };
  },
};
