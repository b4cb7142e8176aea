/**
 * Bun as the runtime: a start script (or any script) that runs a file with `bun`, `@types/bun` /
 * `bun-types` in the manifest, or an entry file that uses Bun's APIs (`Bun.serve`, `bun:sqlite`).
 * A bun.lock / bun.lockb or `packageManager: bun@...` alone makes Bun the package manager only: the
 * app is a Node app installed with `bun install` and started with `bun run start` (which runs the
 * script's own `node ...`), and it is not reported as framework `bun`.
 * Refines the node runtime when no web framework claimed the folder: `bun run start`, else
 * `bun <entry>` (package.json `module`, as `bun init` writes it, or index.ts / src/index.ts).
 * `Bun.serve()` and a default-exported `{ fetch }` listen on 3000 unless a port is given.
 */
import type { PackageJson } from '../manifests.js';
import { TIER, inDir, type Conclusion, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, frameworkBuild, nodeTools, productionStart } from './node.js';
import { NAME, jsFallback, type EnvReadSyntax } from '../scan-model.js';

const ENTRY_CANDIDATES = ['index.ts', 'src/index.ts', 'server.ts', 'src/server.ts', 'main.ts', 'src/main.ts', 'app.ts', 'src/app.ts', 'index.tsx', 'src/index.tsx', 'index.js', 'src/index.js'];
/** Code that makes Bun listen: Bun.serve, a default-exported fetch handler, or a Node-style listen. */
const SERVES = /\bBun\.serve\s*\(|\bexport\s+default\s+\{[^}]{0,400}\bfetch\b|\bexport\s+default\s+app\b|\.listen\s*\(/;

/** A script that runs a file or a watcher with Bun: `bun src/index.ts`, `bun run --hot src/index.ts`, `bun --watch x`. */
const RUNS_BUN = /(?:^|&&\s*|;\s*)(?:\w+=\S*\s+)*bun\s+(?:run\s+)?(?:--?[\w-]+\s+)*[\w./-]+\.[cm]?[jt]sx?\b|(?:^|&&\s*|;\s*)(?:\w+=\S*\s+)*bun\s+(?:run\s+)?--(?:hot|watch)\b/;
/** Code that only Bun runs: its global, its module, its built-in modules. */
const BUN_API = /\bBun\.\w|from\s+['"]bun(?::\w+)?['"]|require\(\s*['"]bun(?::\w+)?['"]\s*\)/;

/** Why the service runs on Bun (from the manifest alone), or undefined. A Bun lockfile is not enough. */
export function bunEvidence(_runtime: Detection, pkg: PackageJson): string | undefined {
  const start = pkg.scripts.start;
  if (start !== undefined && /^\s*(?:\w+=\S+\s+)*bun\s/.test(start)) return `${pkg.path}: scripts.start "${start}"`;
  for (const types of ['@types/bun', 'bun-types']) {
    if (types in pkg.dependencies || types in pkg.devDependencies) return `${pkg.path}: ${types in pkg.dependencies ? 'dependencies' : 'devDependencies'}.${types} (the code is written for Bun)`;
  }
  const script = Object.entries(pkg.scripts).find(([, command]) => RUNS_BUN.test(command));
  if (script) return `${pkg.path}: scripts.${script[0]} "${script[1]}" runs the code with Bun`;
  return undefined;
}

/** Why the service runs on Bun: the manifest, else an entry file that uses Bun's APIs. */
export async function bunRuntimeEvidence(ctx: DetectContext, runtime: Detection, pkg: PackageJson): Promise<string | undefined> {
  const declared = bunEvidence(runtime, pkg);
  if (declared) return declared;
  const entry = await bunEntry(ctx, pkg);
  if (!entry) return undefined;
  const rel = inDir(ctx.dir, entry.value);
  const text = (await ctx.fs.read(rel))?.text ?? '';
  const match = BUN_API.exec(text);
  return match ? `${rel}:${text.slice(0, match.index).split('\n').length} uses Bun's API (${match[0].trim()})` : undefined;
}

/** The file Bun runs when there is no start script: package.json `module`/`main`, then the usual names. */
export async function bunEntry(ctx: DetectContext, pkg: PackageJson): Promise<Conclusion<string> | null> {
  let declared: string | undefined;
  try {
    const raw = JSON.parse((await ctx.fs.read(pkg.path))?.text ?? '{}') as { module?: unknown };
    if (typeof raw.module === 'string') declared = raw.module;
  } catch {
    // package.json was already parsed (or reported) by the manifests; nothing more to say.
  }
  for (const [file, why] of [
    [declared, `${pkg.path}: module`],
    [pkg.main, `${pkg.path}: main`],
  ] as const) {
    const clean = file?.replace(/^\.\//, '');
    if (clean && /\.[cm]?[jt]sx?$/.test(clean) && ctx.fs.has(inDir(ctx.dir, clean))) return { value: clean, evidence: why };
  }
  const found = ENTRY_CANDIDATES.find((file) => ctx.fs.has(inDir(ctx.dir, file)));
  return found ? { value: found, evidence: `${inDir(ctx.dir, found)} exists` } : null;
}

/** Start command and entry of a Bun service: the start script, else `bun <entry>`. */
export async function bunStart(ctx: DetectContext & { runtime: Detection }, pkg: PackageJson): Promise<{ start: Conclusion<string>; entry: Conclusion<string> } | null> {
  const tools = nodeTools(ctx);
  const script = productionStart(ctx, pkg);
  if (script !== undefined) {
    const evidence = `${pkg.path}: scripts.start "${script}"`;
    // Bun runs the script even when another manager installs the dependencies.
    const start = tools.workspace || tools.manager === 'bun' ? tools.start() : 'bun run start';
    return { start: { value: start, evidence }, entry: { value: entryOfStartScript(script), evidence } };
  }
  const entry = await bunEntry(ctx, pkg);
  if (!entry) return null;
  return { start: { value: tools.here(`bun ${entry.value}`), evidence: `${entry.evidence}; no production scripts.start` }, entry };
}

/** A file of the service that makes Bun listen, as `file:line`, or ''. */
export async function bunServes(ctx: DetectContext, entry: string): Promise<string> {
  const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
  const hit = ctx.scan.httpHits.find((h) => h.file.startsWith(prefix) && /\.[cm]?[jt]sx?$/.test(h.file));
  if (hit) return `${hit.file}:${hit.line}`;
  if (!entry) return '';
  const rel = inDir(ctx.dir, entry);
  const text = (await ctx.fs.read(rel))?.text ?? '';
  const match = SERVES.exec(text);
  return match ? `${rel}:${text.slice(0, match.index).split('\n').length}` : '';
}

const BUN_ENV: EnvReadSyntax = {
  language: 'js',
  prefilter: /Bun\.env/,
  patterns: [{ regex: new RegExp(`\\bBun\\.env\\.(${NAME})`, 'g'), nameGroup: 1, fallback: (_m, b, a) => jsFallback(b, a) }],
};

export const bun: FrameworkDetector = {
  id: 'bun',
  kind: 'framework',
  runtimes: ['node'],
  serverStarts: [{ language: 'js', pattern: /\bBun\.serve\(/ }],
  envReadSyntaxes: [BUN_ENV],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? await bunRuntimeEvidence(ctx, ctx.runtime, pkg) : undefined;
    if (!pkg || !evidence) return null;
    const started = await bunStart(ctx, pkg);
    const fields: Detection['fields'] = {
      framework: { value: 'bun', evidence },
      scripts_build: frameworkBuild(ctx, pkg, '', evidence),
    };
    if (!started) return { id: 'bun', tier: TIER.bare, fields };
    fields.scripts_start = started.start;
    fields.entry_point = started.entry;
    if (/\.[cm]?tsx?$/.test(started.entry.value)) fields.language = { value: 'typescript', evidence: `entry point ${started.entry.value}` };
    const serves = await bunServes(ctx, started.entry.value);
    const detection: Detection = { id: 'bun', tier: TIER.runnable, fields };
    if (serves) {
      fields.project_type = { value: 'web', evidence: `${serves} starts an HTTP server` };
      detection.portDefault = { value: 3000, evidence: 'Bun.serve default port 3000' };
    } else {
      fields.project_type = { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
    }
    return detection;
  },
};
