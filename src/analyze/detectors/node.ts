/**
 * Node.js runtime: package.json is the manifest. Decides language (TypeScript when a tsconfig.json
 * or a .ts entry exists), Node version, package manager, and the build/start commands for a plain
 * Node server. Framework detectors (next, nuxt, astro, express, ...) refine what this returns and
 * write their commands with `nodeTools`, which also knows a workspace member's filtered commands.
 */
import { chain, detectNodePackageManager, nodeInstallCommand, nodeRunScript, nodeStartCommand, type NodeManager } from '../package-manager.js';
import { isBrowserScript } from '../browser-script.js';
import type { PackageJson } from '../manifests.js';
import { reachableFrom } from './js-usage.js';
import { moonStart, nxStart, tscStart } from './ts-server.js';
import { TIER, inDir, type Conclusion, type Conclusions, type DetectContext, type Detection, type RuntimeDetector, type WorkspaceMember } from '../types.js';

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
 * The file a start script runs: `node --enable-source-maps dist/server.js` -> `dist/server.js`.
 * Returns '' when the script does not run a file directly (`next start`, `vite preview`).
 */
export function entryOfStartScript(script: string): string {
  for (const segment of script.split(/&&|\|\||;/)) {
    const words = segment.trim().split(/\s+/).filter((word) => !/^\w+=/.test(word));
    let i = 0;
    if (words[i] === 'cross-env') i += 1;
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

/**
 * Commands written for the detected manager. For a workspace member built from the workspace root
 * they are filtered to the member (`pnpm --filter web run build`, `npm run build -w web`,
 * `yarn workspace web run build`), and a root task runner (turbo, nx) builds it with its local
 * dependencies; a plain command that must run in the member's folder gets `cd <dir> && `.
 */
export interface NodeTools {
  manager: NodeManager;
  install: string;
  workspace: WorkspaceMember | undefined;
  /** Runs a package.json script of the service. */
  run(script: string): string;
  /** The start script. */
  start(): string;
  /** Runs a package binary (`npx next build`) for the service. */
  exec(command: string): string;
  /** A plain command (`node build`) run from the service folder. */
  here(command: string): string;
  /** The build script, with the member's local dependencies built first in a workspace. */
  build(): string;
  /** A build step preceded by the builds of the member's local dependencies (workspace only). */
  afterDependencies(step: string): string;
}

export function makeNodeTools(manager: NodeManager, install: string, dir: string, workspace: WorkspaceMember | undefined): NodeTools {
  if (!workspace) {
    return {
      manager,
      install,
      workspace,
      run: (script) => nodeRunScript(manager, script),
      start: () => nodeStartCommand(manager),
      exec: (command) => nodeExec(manager, command),
      here: (command) => command,
      build: () => nodeRunScript(manager, 'build'),
      afterDependencies: (step) => step,
    };
  }
  const runIn = (name: string, script: string): string => {
    switch (manager) {
      case 'pnpm':
        return `pnpm --filter ${name} run ${script}`;
      case 'npm':
        return `npm run ${script} -w ${name}`;
      case 'yarn':
        return `yarn workspace ${name} run ${script}`;
      case 'bun':
        return `bun run --filter ${name} ${script}`;
    }
  };
  const name = workspace.name;
  const rel = workspace.root === '' ? dir : dir.slice(workspace.root.length + 1);
  const here = (command: string): string => `cd ${rel} && ${command}`;
  const dependenciesFirst = (step: string): string => chain(...workspace.buildDeps.map((dep) => runIn(dep, 'build')), step);
  return {
    manager,
    install,
    workspace,
    run: (script) => runIn(name, script),
    start: () => runIn(name, 'start'),
    exec: (command) => {
      switch (manager) {
        case 'pnpm':
          return `pnpm --filter ${name} exec ${command}`;
        case 'npm':
          return `npm exec -w ${name} -- ${command}`;
        case 'yarn':
          return `yarn workspace ${name} ${command}`;
        case 'bun':
          return here(`bunx ${command}`);
      }
    },
    here,
    build: () => {
      if (workspace.runner === 'turbo') return nodeExec(manager, `turbo run build --filter=${name}`);
      if (workspace.runner === 'nx') return nodeExec(manager, `nx run ${name}:build`);
      if (manager === 'pnpm' && workspace.buildDeps.length > 0) return `pnpm --filter ${name}... run build`;
      return dependenciesFirst(runIn(name, 'build'));
    },
    afterDependencies: dependenciesFirst,
  };
}

/** The tools of the node detection a framework detector refines. */
export function nodeTools(ctx: DetectContext & { runtime: Detection }): NodeTools {
  return makeNodeTools(managerOf(ctx.runtime), ctx.runtime.toolchain?.install ?? '', ctx.dir, ctx.workspace);
}

/**
 * scripts_build for a framework: install, then the build script, else the framework's own build
 * command (`next build`), else install only.
 */
export function frameworkBuild(ctx: DetectContext & { runtime: Detection }, pkg: PackageJson, fallback: string, why: string): Conclusion<string> {
  const tools = nodeTools(ctx);
  if (pkg.scripts.build !== undefined) return { value: chain(tools.install, tools.build()), evidence: `${pkg.path}: scripts.build "${pkg.scripts.build}"` };
  if (fallback) return { value: chain(tools.install, tools.afterDependencies(tools.exec(fallback))), evidence: `${why}; ${pkg.path} has no scripts.build` };
  return { value: tools.install, evidence: `${pkg.path}: dependencies to install, no build script` };
}

/**
 * Development servers are not production start commands (`astro dev`, `vite`, `next dev`,
 * `nodemon`), and neither are task runners that only run one (`nx serve`, `turbo dev`), nor the
 * dev servers of Expo, Gatsby, Docusaurus and Vue CLI.
 */
export function isDevCommand(script: string): boolean {
  return /\b(?:astro|next|nuxt|nuxi|remix|react-router|vite|svelte-kit|ng|vinxi|turbo|nx)\s+dev\b|\bturbo\s+run\s+dev\b|\bnx\s+(?:run\s+[\w@/.-]+:)?serve\b|\bnx\s+run-many\s+(?:-t|--targets?)[=\s]+serve\b|\bexpo\s+start\b|\bgatsby\s+develop\b|\bdocusaurus\s+start\b|\bvue-cli-service\s+serve\b|(?:^|&&\s*|\s)vite(?:\s+--?[\w-]+(?:[=\s]\S+)?)*\s*$|\bnodemon\b|\bng\s+serve\b|\breact-scripts\s+start\b|\bwebpack(?:-dev-server|\s+serve)\b|\bts-node-dev\b|\btsx\s+watch\b|\s--watch\b|\s--hot\b/.test(script);
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
  refusalHint: {
    languages: ['javascript', 'typescript'],
    missingStart: 'package.json has no scripts.start or usable main, and no server.js, index.js, app.js or main.js exists',
  },
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    if (!pkg) return null;
    // A workspace member installs with the root's manager and lockfile.
    const workspace = ctx.workspace;
    const rootPkg = workspace ? await ctx.manifests.packageJson(workspace.root) : null;
    const pm = rootPkg && workspace ? await detectNodePackageManager({ ...ctx, dir: workspace.root }, rootPkg) : await detectNodePackageManager(ctx, pkg);
    const ownDependencies = Object.keys(pkg.dependencies).length + Object.keys(pkg.devDependencies).length > 0;
    const install = pm.install || (workspace && ownDependencies ? nodeInstallCommand(pm.manager, pm.locked, false) : '');
    const tools = makeNodeTools(pm.manager, install, ctx.dir, workspace);
    const fields: Conclusions = { ...pm.fields };

    if (pkg.name) fields.name = { value: pkg.name, evidence: `${pkg.path}: name` };
    const version = (await nodeVersion(ctx, pkg)) ?? (workspace && rootPkg ? await nodeVersion({ ...ctx, dir: workspace.root }, rootPkg) : undefined);
    if (version) fields.language_version = version;

    const build = pkg.scripts.build !== undefined ? tools.build() : '';
    const scriptsBuild = chain(install, build);
    if (scriptsBuild) {
      fields.scripts_build = {
        value: scriptsBuild,
        evidence: build ? `${pkg.path}: scripts.build "${pkg.scripts.build}"` : `${pkg.path}: dependencies to install, no build script`,
      };
    }

    let entry = '';
    let tier: number = TIER.bare;
    const start = pkg.scripts.start;
    if (start !== undefined && !isDevCommand(start)) {
      fields.scripts_start = { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` };
      entry = entryOfStartScript(start);
      if (entry) fields.entry_point = { value: entry, evidence: `${pkg.path}: scripts.start "${start}"` };
      tier = TIER.runnable;
    } else {
      // A development server (`nx serve`, `turbo dev`, `nodemon`) is not a production start: look further.
      if (start !== undefined) ctx.warnings.add(`${pkg.path}: scripts.start "${start}" runs a development server; it was not used as the start command`);
      const main = pkg.main?.replace(/^\.\//, '');
      // A browser script (loaded by the folder's index.html, or DOM code) is not a Node entry.
      const nodeEntry = (file: string): boolean => ctx.fs.has(inDir(ctx.dir, file)) && !isBrowserScript(ctx.fs, ctx.dir, file);
      const fromMain = main !== undefined && /\.[cm]?js$/.test(main) && nodeEntry(main) ? main : undefined;
      const candidate = fromMain ?? ENTRY_CANDIDATES.find(nodeEntry);
      const derived = (await moonStart(ctx)) ?? (await nxStart(ctx, pkg)) ?? (candidate ? null : await tscStart(ctx, pkg));
      if (derived) {
        entry = derived.entry;
        if (entry) fields.entry_point = { value: entry, evidence: derived.evidence };
        const binary = /^(?:node|bun)\s/.test(derived.start) ? null : derived.start;
        fields.scripts_start = { value: binary ? tools.exec(binary) : tools.here(derived.start), evidence: derived.evidence };
        if (derived.build) {
          const step = derived.buildIsBinary ? tools.afterDependencies(tools.exec(derived.build)) : tools.here(derived.build);
          fields.scripts_build = { value: chain(install, step), evidence: derived.buildEvidence };
        }
        tier = TIER.runnable;
      } else if (candidate) {
        entry = candidate;
        const why = fromMain ? `${pkg.path}: main "${pkg.main}" and no scripts.start` : `${inDir(ctx.dir, candidate)} exists and ${pkg.path} has no scripts.start`;
        fields.entry_point = { value: candidate, evidence: why };
        fields.scripts_start = { value: tools.here(`node ${candidate}`), evidence: why };
        tier = TIER.runnable;
      }
    }

    const tsconfig = inDir(ctx.dir, 'tsconfig.json');
    if (ctx.fs.has(tsconfig)) fields.language = { value: 'typescript', evidence: `${tsconfig} exists` };
    else if (/\.[cm]?tsx?$/.test(entry)) fields.language = { value: 'typescript', evidence: `entry point ${entry}` };
    else fields.language = { value: 'javascript', evidence: `${pkg.path} and no tsconfig.json` };

    if (tier === TIER.runnable) {
      const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
      // A listener counts when the entry reaches it (a preview script beside a one-shot job does not make it web).
      const reached = await reachableFrom(ctx, entry);
      const http = ctx.scan.httpHits.find((hit) => hit.file.startsWith(prefix) && /\.[cm]?[jt]sx?$/.test(hit.file) && (!reached || reached.has(hit.file)));
      fields.project_type = http
        ? { value: 'web', evidence: `${http.file}:${http.line} starts an HTTP server` }
        : { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
    }
    return { id: 'node', tier, fields, toolchain: { install, runPrefix: '' } };
  },
};

const CONFIG_EXTENSIONS = ['ts', 'mts', 'js', 'mjs', 'cjs', 'cts'];

/** The first `<base>.{ts,mts,js,mjs,cjs,cts}` config file of the service, read as text (it is code: matched, never run). */
export async function readJsConfig(ctx: DetectContext, base: string): Promise<{ path: string; text: string } | null> {
  for (const ext of CONFIG_EXTENSIONS) {
    const rel = inDir(ctx.dir, `${base}.${ext}`);
    const text = (await ctx.fs.read(rel))?.text;
    if (text !== undefined) return { path: rel, text };
  }
  return null;
}

/** A production start script of the service, or undefined (absent, or a development server with a warning). */
export function productionStart(ctx: DetectContext, pkg: PackageJson): string | undefined {
  const start = pkg.scripts.start;
  if (start === undefined) return undefined;
  if (!isDevCommand(start)) return start;
  ctx.warnings.add(`${pkg.path}: scripts.start "${start}" runs a development server; it was not used as the start command`);
  return undefined;
}

/**
 * A health endpoint known from file-based routing (`app/api/health/route.ts`, `server/api/health.get.ts`):
 * the first rule, in order, that matches a file of the service.
 */
export function fileRouteHealth(ctx: DetectContext, rules: ReadonlyArray<readonly [RegExp, string]>): Conclusion<string> | undefined {
  const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
  const files = ctx.fs.filesUnder(ctx.dir);
  for (const [pattern, route] of rules) {
    const file = files.find((f) => pattern.test(f.slice(prefix.length)));
    if (file) return { value: route, evidence: `${file} (file-based route)` };
  }
  return undefined;
}
