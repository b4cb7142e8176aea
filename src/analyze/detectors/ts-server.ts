/**
 * A TypeScript server without a production start script (convention: read the task runner, else
 * derive from tsconfig). Three sources, in order (Nx's is at the end of this file):
 * 1. moon (`moon.yml` in the service folder): a `start` or `serve` task whose command is not a
 *    development server is the start command, and the build task it depends on is the build.
 * 2. tsconfig.json: `tsc` compiles the entry (`main` mapped back into the sources, else
 *    src/index.ts, src/server.ts, src/main.ts, ...) to `<outDir>/<path under rootDir>.js`, started
 *    with `node`. rootDir is the one declared, else the common folder of the compiled files, as tsc
 *    computes it. Nothing is derived when the build script is not tsc, or when tsc emits nothing
 *    (`noEmit`) or is not a dependency (`npx tsc` would fetch an unrelated package), unless `tsx`
 *    is a runtime dependency: then `tsx <entry>` runs the source.
 */
import path from 'node:path';
import { parseYaml } from '../yaml.js';
import { parseJsonc } from '../jsonc.js';
import type { PackageJson } from '../manifests.js';
import { inDir, type DetectContext } from '../types.js';

export interface DerivedStart {
  /** The start command as written in the service folder (`node dist/server.js`). */
  start: string;
  /** The file it runs, relative to the service folder. */
  entry: string;
  /** The build step that produces it (`tsc`, `npm run build`); '' when the package's build script is it. */
  build: string;
  /** Whether `build` is a package binary to run with the manager's exec (`npx tsc`). */
  buildIsBinary: boolean;
  evidence: string;
  buildEvidence: string;
}

/** Development servers a start task must not be (watchers, hot reload, dev subcommands). */
const DEV_TASK = /\b(?:dev|develop)\b|\bwatch\b|--watch\b|--hot\b|\bnodemon\b|\bts-node-dev\b/;

/** The command line of a moon task: `command` (string or list) followed by `args`. */
function moonCommand(task: unknown): string {
  if (!task || typeof task !== 'object') return typeof task === 'string' ? task : '';
  const { command, args } = task as { command?: unknown; args?: unknown };
  const words = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);
  return [...words(command), ...words(args)].join(' ').trim();
}

function moonDeps(task: unknown): string[] {
  const deps = task && typeof task === 'object' ? (task as { deps?: unknown }).deps : undefined;
  return Array.isArray(deps) ? deps.map((dep) => String(typeof dep === 'object' && dep ? (dep as { target?: unknown }).target : dep).replace(/^(?:~|\^)?:/, '')) : [];
}

/** A moon `start`/`serve` task with a production command, and the build task it depends on. */
export async function moonStart(ctx: DetectContext): Promise<DerivedStart | null> {
  const rel = inDir(ctx.dir, 'moon.yml');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  let doc: { tasks?: Record<string, unknown> };
  try {
    doc = (parseYaml(text) ?? {}) as typeof doc;
  } catch {
    ctx.warnings.add(`${rel} is not valid YAML; its tasks were not read`);
    return null;
  }
  const tasks = doc.tasks && typeof doc.tasks === 'object' ? doc.tasks : {};
  for (const name of ['start', 'serve']) {
    const command = moonCommand(tasks[name]);
    if (!command) continue;
    if (DEV_TASK.test(command)) {
      ctx.warnings.add(`${rel}: task ${name} "${command}" runs a development server; it was not used as the start command`);
      continue;
    }
    const buildName = moonDeps(tasks[name]).find((dep) => moonCommand(tasks[dep]) !== '');
    const build = buildName ? moonCommand(tasks[buildName]) : '';
    const entry = /^(?:node|bun)\s+(?:--?[\w-]+(?:=\S+)?\s+)*([\w./-]+\.[cm]?[jt]s)\b/.exec(command)?.[1]?.replace(/^\.\//, '') ?? '';
    return {
      start: command,
      entry,
      build,
      buildIsBinary: build !== '' && !/^(?:node|bun|npm|pnpm|yarn|npx)\s/.test(build),
      evidence: `${rel}: tasks.${name} "${command}"`,
      buildEvidence: buildName ? `${rel}: tasks.${buildName} "${build}" (a dependency of tasks.${name})` : '',
    };
  }
  return null;
}

const ENTRY_SOURCES = ['src/index.ts', 'src/server.ts', 'src/main.ts', 'src/app.ts', 'index.ts', 'server.ts', 'main.ts', 'app.ts', 'src/index.mts', 'src/server.mts', 'src/main.mts'];
const TS_SOURCE = /\.(?:[cm]?ts|tsx)$/;

/** The folder a tsconfig `include` pattern or `files` entry starts in (`src/**\/*` -> `src`). */
function staticRoot(pattern: string): string {
  const clean = pattern.replace(/^\.\//, '');
  const parts = clean.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (/[*?{[]/.test(part)) break;
    fixed.push(part);
  }
  // A pattern naming a file (`src/index.ts`) starts in its folder.
  if (fixed.length === parts.length && /\.[\w]+$/.test(parts[parts.length - 1] ?? '')) fixed.pop();
  return fixed.join('/');
}

function commonDir(dirs: readonly string[]): string {
  if (dirs.length === 0) return '';
  let common = (dirs[0] as string).split('/').filter(Boolean);
  for (const dir of dirs.slice(1)) {
    const parts = dir.split('/').filter(Boolean);
    let i = 0;
    while (i < common.length && common[i] === parts[i]) i += 1;
    common = common.slice(0, i);
  }
  return common.join('/');
}

/** `tsc` then `node <outDir>/<entry>.js`, derived from tsconfig.json. */
export async function tscStart(ctx: DetectContext, pkg: PackageJson): Promise<DerivedStart | null> {
  const rel = inDir(ctx.dir, 'tsconfig.json');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  const parsed = parseJsonc(text);
  if ('error' in parsed) return null;
  const config = parsed.value as { compilerOptions?: Record<string, unknown>; include?: unknown; files?: unknown };
  const options = config.compilerOptions ?? {};
  const compiles = options.noEmit !== true && ('typescript' in pkg.dependencies || 'typescript' in pkg.devDependencies);
  if (!compiles) {
    // tsx among the runtime dependencies (not devDependencies) is how the project runs its TypeScript.
    if (!('tsx' in pkg.dependencies)) return null;
    const found = ENTRY_SOURCES.find((file) => ctx.fs.has(inDir(ctx.dir, file)));
    if (!found) return null;
    const why = `${pkg.path}: dependencies.tsx runs ${inDir(ctx.dir, found)} directly (${options.noEmit === true ? `${rel}: noEmit` : 'no TypeScript compiler declared'})`;
    return { start: `tsx ${found}`, entry: found, build: '', buildIsBinary: false, evidence: why, buildEvidence: '' };
  }
  const buildScript = pkg.scripts.build;
  if (buildScript !== undefined && !/\btsc\b/.test(buildScript)) return null;

  const clean = (value: unknown): string => (typeof value === 'string' ? value.replace(/^\.\//, '').replace(/\/$/, '').replace(/^\.$/, '') : '');
  const outDir = clean(options.outDir);
  const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
  const sources = ctx.fs
    .filesUnder(ctx.dir)
    .map((file) => file.slice(prefix.length))
    .filter((file) => TS_SOURCE.test(file) && !file.endsWith('.d.ts') && !(outDir && file.startsWith(`${outDir}/`)));

  // The entry: package.json main mapped back from outDir into the sources, else the usual names.
  let entry = '';
  let entryWhy = '';
  const main = clean(pkg.main);
  if (main && outDir && main.startsWith(`${outDir}/`)) {
    // dist/server.js comes from server.ts or <rootDir>/server.ts (one folder deep, usually src/).
    const stem = main.slice(outDir.length + 1).replace(/\.[cm]?js$/, '');
    const depth = stem.split('/').length;
    const source = sources.find((file) => {
      const bare = file.replace(TS_SOURCE, '');
      return bare === stem || (bare.endsWith(`/${stem}`) && bare.split('/').length === depth + 1);
    });
    if (source) [entry, entryWhy] = [source, `${pkg.path}: main "${pkg.main}" is built from ${inDir(ctx.dir, source)}`];
  }
  if (!entry) {
    const found = ENTRY_SOURCES.find((file) => sources.includes(file));
    if (!found) return null;
    [entry, entryWhy] = [found, `${inDir(ctx.dir, found)} exists`];
  }

  let rootDir = clean(options.rootDir);
  let rootWhy = `${rel}: compilerOptions.rootDir`;
  if (typeof options.rootDir !== 'string') {
    const include = Array.isArray(config.files) ? config.files : Array.isArray(config.include) ? config.include : null;
    const roots = include ? include.map((item) => staticRoot(String(item))) : sources.map((file) => path.posix.dirname(file).replace(/^\.$/, ''));
    rootDir = commonDir(roots);
    rootWhy = include ? `the common folder of ${rel} ${Array.isArray(config.files) ? 'files' : 'include'}` : 'the common folder of the TypeScript sources';
  }
  if (rootDir && !entry.startsWith(`${rootDir}/`)) return null;
  const under = rootDir ? entry.slice(rootDir.length + 1) : entry;
  const built = under.replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs').replace(/\.tsx?$/, '.js');
  // Without outDir tsc writes each file next to its source.
  const out = outDir ? `${outDir}/${built}` : entry.replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs').replace(/\.tsx?$/, '.js');
  const where = outDir ? `compilerOptions.outDir "${outDir}"` : 'no outDir (tsc writes next to the sources)';
  return {
    start: `node ${out}`,
    entry: out,
    build: buildScript !== undefined ? '' : 'tsc',
    buildIsBinary: buildScript === undefined,
    evidence: `${entryWhy}; ${rel}: ${where}, rootDir "${rootDir || '.'}" (${rootWhy}): tsc compiles it to ${out}`,
    buildEvidence: buildScript !== undefined ? `${pkg.path}: scripts.build "${buildScript}"` : `${rel}: tsc compiles the TypeScript sources; ${pkg.path} has no scripts.build`,
  };
}

/** Nx executors whose build bundles `main` into `<outputPath>/<main's name>.js`. */
const NX_BUNDLERS = /^@nx\/(?:esbuild:esbuild|webpack:webpack|rspack:rspack|rollup:rollup)$|^@nrwl\/(?:esbuild:esbuild|webpack:webpack)$/;

/**
 * Nx (`project.json` in the service folder): `nx serve` is a development server, but the build
 * target says what production runs: a bundler executor writes `<outputPath>/main.js` (or
 * `outputFileName`), `@nx/js:tsc` keeps the source layout (`<outputPath>/src/main.js`).
 */
export async function nxStart(ctx: DetectContext, pkg: PackageJson): Promise<DerivedStart | null> {
  const rel = inDir(ctx.dir, 'project.json');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  const parsed = parseJsonc(text);
  if ('error' in parsed) return null;
  const project = parsed.value as { name?: unknown; targets?: Record<string, { executor?: unknown; options?: Record<string, unknown> }> };
  const build = project.targets?.build;
  const executor = typeof build?.executor === 'string' ? build.executor : '';
  const outputPath = typeof build?.options?.outputPath === 'string' ? build.options.outputPath.replace(/^\.\//, '').replace(/\/$/, '') : '';
  const main = typeof build?.options?.main === 'string' ? build.options.main.replace(/^\.\//, '') : '';
  if (!outputPath || !main) return null;
  let out: string;
  if (NX_BUNDLERS.test(executor)) {
    const named = build?.options?.outputFileName;
    out = `${outputPath}/${typeof named === 'string' ? named : path.posix.basename(main).replace(/\.[cm]?tsx?$/, '.js')}`;
  } else if (/^@(?:nx|nrwl)\/(?:js|node):tsc$/.test(executor)) {
    out = `${outputPath}/${main.replace(/\.mts$/, '.mjs').replace(/\.tsx?$/, '.js')}`;
  } else return null;
  const name = typeof project.name === 'string' ? project.name : '';
  const buildScript = pkg.scripts.build;
  const usesScript = buildScript !== undefined && /\bnx\s+(?:run\s+[\w@/.-]+:)?build\b/.test(buildScript);
  if (!usesScript && !name) return null;
  return {
    start: `node ${out}`,
    entry: out,
    build: usesScript ? '' : `nx run ${name}:build`,
    buildIsBinary: !usesScript,
    evidence: `${rel}: targets.build (${executor}) bundles ${main} into ${outputPath}`,
    buildEvidence: usesScript ? `${pkg.path}: scripts.build "${buildScript}"` : `${rel}: targets.build (${executor})`,
  };
}
