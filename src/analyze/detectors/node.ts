/**
 * Node.js runtime: package.json is the manifest. Decides language (TypeScript when a tsconfig.json
 * or a .ts entry exists), Node version, package manager, and the build/start commands for a plain
 * Node server. Framework detectors (express, fastify, next, vite) refine what this returns.
 */
import { chain, detectNodePackageManager, nodeRunScript, nodeStartCommand, type NodeManager } from '../package-manager.js';
import type { PackageJson } from '../manifests.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

const ENTRY_CANDIDATES = [
  'server.js',
  'server.mjs',
  'server.cjs',
  'index.js',
  'index.mjs',
  'index.cjs',
  'app.js',
  'app.mjs',
  'main.js',
  'main.mjs',
  'src/server.js',
  'src/server.mjs',
  'src/index.js',
  'src/index.mjs',
  'src/app.js',
  'src/main.js',
];

const RUNNERS = new Set(['node', 'nodemon', 'ts-node', 'ts-node-esm', 'tsx', 'bun', 'pm2-runtime', 'esno', 'babel-node']);

/**
 * The file a start script runs: `node --enable-source-maps dist/server.js` → `dist/server.js`.
 * Returns '' when the script does not run a file directly (`next start`, `vite preview`).
 */
export function entryOfStartScript(script: string): string {
  for (const segment of script.split(/&&|\|\||;/)) {
    const words = segment.trim().split(/\s+/).filter((word) => !/^\w+=/.test(word));
    let i = 0;
    if (words[i] === 'npx' || words[i] === 'exec') i += 1;
    const runner = (words[i] ?? '').replace(/^.*\//, '');
    if (!RUNNERS.has(runner)) continue;
    i += 1;
    if (runner === 'bun' && words[i] === 'run') i += 1;
    if (runner === 'pm2-runtime' && words[i] === 'start') i += 1;
    for (; i < words.length; i += 1) {
      const word = words[i] as string;
      if (word.startsWith('-')) {
        if (/^--?(?:r|require|import|loader|env-file|inspect-port|max-old-space-size)$/.test(word)) i += 1;
        continue;
      }
      if (/\.[cm]?[jt]sx?$/.test(word)) return word.replace(/^\.\//, '');
      return '';
    }
  }
  return '';
}

/** Runs a package binary with the detected manager: `npx next build`, `pnpm exec next build`, ... */
export function nodeExec(manager: NodeManager, command: string): string {
  switch (manager) {
    case 'npm':
      return `npx ${command}`;
    case 'pnpm':
      return `pnpm exec ${command}`;
    case 'yarn':
      return `yarn ${command}`;
    case 'bun':
      return `bunx ${command}`;
  }
}

export function hasDependency(pkg: PackageJson, name: string): string | undefined {
  if (name in pkg.dependencies) return `${pkg.path}: dependencies.${name}`;
  if (name in pkg.optionalDependencies) return `${pkg.path}: optionalDependencies.${name}`;
  return undefined;
}

export function hasAnyDependency(pkg: PackageJson, name: string): string | undefined {
  return hasDependency(pkg, name) ?? (name in pkg.devDependencies ? `${pkg.path}: devDependencies.${name}` : undefined);
}

/** The package manager recorded by the node detection (frameworks write commands with it). */
export function managerOf(runtime: Detection): NodeManager {
  return (runtime.fields.package_manager?.value ?? 'npm') as NodeManager;
}

async function nodeVersion(ctx: DetectContext, pkg: PackageJson): Promise<Conclusions['language_version']> {
  for (const file of ['.nvmrc', '.node-version']) {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.manifests.text(rel))?.split(/\r?\n/)[0]?.trim();
    if (text) return { value: text.replace(/^v(?=\d)/, ''), evidence: rel };
  }
  if (pkg.enginesNode) return { value: pkg.enginesNode.trim(), evidence: `${pkg.path}: engines.node` };
  return undefined;
}

export const node: RuntimeDetector = {
  id: 'node',
  kind: 'runtime',
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    if (!pkg) return null;
    const pm = await detectNodePackageManager(ctx, pkg);
    const fields: Conclusions = { ...pm.fields };

    if (pkg.name) fields.name = { value: pkg.name, evidence: `${pkg.path}: name` };
    const version = await nodeVersion(ctx, pkg);
    if (version) fields.language_version = version;

    const build = pkg.scripts.build !== undefined ? nodeRunScript(pm.manager, 'build') : '';
    const scriptsBuild = chain(pm.install, build);
    if (scriptsBuild) {
      fields.scripts_build = {
        value: scriptsBuild,
        evidence: build ? `${pkg.path}: scripts.build "${pkg.scripts.build}"` : `${pkg.path}: dependencies to install, no build script`,
      };
    }

    let entry = '';
    let tier: number = TIER.bare;
    if (pkg.scripts.start !== undefined) {
      fields.scripts_start = { value: nodeStartCommand(pm.manager), evidence: `${pkg.path}: scripts.start "${pkg.scripts.start}"` };
      entry = entryOfStartScript(pkg.scripts.start);
      if (entry) fields.entry_point = { value: entry, evidence: `${pkg.path}: scripts.start "${pkg.scripts.start}"` };
      tier = TIER.runnable;
    } else {
      const main = pkg.main?.replace(/^\.\//, '');
      const fromMain = main !== undefined && /\.[cm]?js$/.test(main) && ctx.fs.has(inDir(ctx.dir, main)) ? main : undefined;
      const candidate = fromMain ?? ENTRY_CANDIDATES.find((file) => ctx.fs.has(inDir(ctx.dir, file)));
      if (candidate) {
        entry = candidate;
        const why = fromMain ? `${pkg.path}: main "${pkg.main}" and no scripts.start` : `${inDir(ctx.dir, candidate)} exists and ${pkg.path} has no scripts.start`;
        fields.entry_point = { value: candidate, evidence: why };
        fields.scripts_start = { value: `node ${candidate}`, evidence: why };
        tier = TIER.runnable;
      }
    }

    const tsconfig = inDir(ctx.dir, 'tsconfig.json');
    if (ctx.fs.has(tsconfig)) fields.language = { value: 'typescript', evidence: `${tsconfig} exists` };
    else if (/\.[cm]?tsx?$/.test(entry)) fields.language = { value: 'typescript', evidence: `entry point ${entry}` };
    else fields.language = { value: 'javascript', evidence: `${pkg.path} and no tsconfig.json` };

    if (tier === TIER.runnable) {
      const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
      const http = ctx.scan.httpHits.find((hit) => hit.file.startsWith(prefix) && /\.[cm]?[jt]sx?$/.test(hit.file));
      fields.project_type = http
        ? { value: 'web', evidence: `${http.file}:${http.line} starts an HTTP server` }
        : { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
    }
    return { id: 'node', tier, fields, toolchain: { install: pm.install, runPrefix: '' } };
  },
};
