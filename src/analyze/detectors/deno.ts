/**
 * Deno: `deno.json` or `deno.jsonc` (JSON with comments and trailing commas), or a script whose
 * imports are URLs (urlImportScript). Fresh is a web service (freshServer). Start: the `start`
 * task (`deno task start`) unless it runs in watch mode, else (when there is no package.json, whose
 * runtime is Node's) `deno run --allow-all <main>` for main.ts / main.js / server.ts / src/main.ts /
 * index.ts. Dependencies are cached at build time (`deno cache <main>`), then the `build` task
 * runs. `Deno.serve()` listens on 8000 unless told otherwise.
 */
import { parseJsonc } from '../jsonc.js';
import { TIER, inDir, type Conclusion, type Conclusions, type Detection, type DetectContext, type RuntimeDetector } from '../types.js';
import { NAME, jsFallback, type EnvReadSyntax } from '../scan-model.js';

const CONFIG_FILES = ['deno.json', 'deno.jsonc'];
const ENTRY_CANDIDATES = ['main.ts', 'main.tsx', 'main.js', 'main.mjs', 'main.mts', 'server.ts', 'server.js', 'src/main.ts', 'src/server.ts', 'index.ts', 'index.js', 'src/index.ts', 'app.ts'];
const SERVES = /\bDeno\.serve\s*\(|\bDeno\.listen\s*\(|\bserve\s*\(|\.listen\s*\(|\bexport\s+default\s+\{[^}]{0,400}\bfetch\b/;

export interface DenoConfig {
  path: string;
  name: string | undefined;
  tasks: Record<string, string>;
  imports: Record<string, string>;
}

/**
 * deno.json(c) of the folder, parsed tolerantly; null when absent. A broken one is a warning and
 * gives an empty config, so the folder is still known to be a Deno project.
 */
export async function readDenoConfig(ctx: DetectContext): Promise<DenoConfig | null> {
  for (const file of CONFIG_FILES) {
    const rel = inDir(ctx.dir, file);
    if (!ctx.fs.has(rel)) continue;
    const text = await ctx.manifests.text(rel);
    if (text === null) return null;
    const parsed = parseJsonc(text);
    if ('error' in parsed) {
      ctx.warnings.add(`${rel} is not valid JSON(C) (${parsed.error}); its tasks and imports were ignored`);
      return { path: rel, name: undefined, tasks: {}, imports: {} };
    }
    const obj = parsed.value;
    const tasks: Record<string, string> = {};
    if (obj.tasks && typeof obj.tasks === 'object') {
      for (const [name, task] of Object.entries(obj.tasks as Record<string, unknown>)) {
        // A task is a command string or `{ "command": "...", "description": "..." }`.
        const command = typeof task === 'string' ? task : task && typeof task === 'object' ? (task as { command?: unknown }).command : undefined;
        if (typeof command === 'string') tasks[name] = command;
      }
    }
    const imports: Record<string, string> = {};
    if (obj.imports && typeof obj.imports === 'object') {
      for (const [name, spec] of Object.entries(obj.imports as Record<string, unknown>)) if (typeof spec === 'string') imports[name] = spec;
    }
    return { path: rel, name: typeof obj.name === 'string' ? obj.name : undefined, tasks, imports };
  }
  return null;
}

/** The script a Deno command runs: `deno run -A --watch main.ts` -> `main.ts`. */
export function entryOfDenoCommand(command: string): string {
  const match = /\bdeno\s+(?:run|serve)\s+(?:--?[\w-]+(?:=\S+)?\s+)*([\w./-]+\.[cm]?[jt]sx?)\b/.exec(command);
  return match ? (match[1] as string).replace(/^\.\//, '') : '';
}

/**
 * Fresh starts its own server from main.ts (`start(manifest)` in Fresh 1, `app.listen()` in Fresh 2),
 * so the folder is a web service even though no `Deno.serve` appears; its `start` task is the dev
 * server (`dev.ts` in watch mode), and `deno run -A main.ts` is its production run.
 */
async function freshServer(ctx: DetectContext, config: DenoConfig): Promise<{ entry: string; file: string; line: number; evidence: string } | null> {
  const usesFresh = Object.keys(config.imports).some((name) => name === '$fresh/' || name === 'fresh' || name === '@fresh/core') || ctx.fs.has(inDir(ctx.dir, 'fresh.gen.ts'));
  if (!usesFresh) return null;
  const entry = inDir(ctx.dir, 'main.ts');
  const text = (await ctx.fs.read(entry))?.text ?? '';
  const call = /\bawait\s+start\s*\(\s*manifest\b|\bstart\s*\(\s*manifest\b|\bapp\.listen\s*\(/.exec(text);
  if (!call) return null;
  const line = text.slice(0, call.index).split('\n').length;
  return { entry: 'main.ts', file: entry, line, evidence: `${entry}:${line} starts Fresh's server${ctx.fs.has(inDir(ctx.dir, 'fresh.gen.ts')) ? ` (${inDir(ctx.dir, 'fresh.gen.ts')} is its manifest)` : ''}` };
}

const URL_IMPORT = /^\s*(?:import|export)\b[^'"\n]*?from\s*['"]((?:https:\/\/(?:deno\.land|esm\.sh|cdn\.skypack\.dev|jsr\.io)\/|jsr:|npm:)[^'"]+)['"]/gm;
const SCRIPT_ENTRIES = ['main.ts', 'server.ts', 'mod.ts', 'app.ts', 'index.ts', 'main.js', 'server.js'];

/**
 * A Deno script with no deno.json and no package.json: its imports are URLs (deno.land, esm.sh,
 * jsr:, npm:), which only Deno resolves. Start with the permissions a server needs
 * (`deno run --allow-net --allow-env --allow-read <entry>`), dependencies cached at build time.
 */
async function urlImportScript(ctx: DetectContext): Promise<Detection | null> {
  if (ctx.fs.has(inDir(ctx.dir, 'package.json'))) return null;
  for (const file of SCRIPT_ENTRIES) {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.fs.read(rel))?.text;
    if (!text) continue;
    const imports = [...text.matchAll(URL_IMPORT)].map((m) => m[1] as string);
    if (imports.length === 0) continue;
    const why = `${rel} imports ${imports[0] as string} (a URL import: Deno) and there is no deno.json or package.json`;
    const unpinned = imports.filter((spec) => /^https:/.test(spec) && !/@[\w.^~-]+\//.test(spec) && !/@\d/.test(spec));
    const fields: Conclusions = {
      framework: { value: 'deno', evidence: why },
      package_manager: { value: 'deno', evidence: why },
      language: /\.[cm]?jsx?$/.test(file) ? { value: 'javascript', evidence: `entry point ${file}` } : { value: 'typescript', evidence: `entry point ${file}` },
      entry_point: { value: file, evidence: why },
      scripts_build: { value: `deno cache ${file}`, evidence: `dependencies of ${file} are cached at build time` },
      scripts_start: { value: `deno run --allow-net --allow-env --allow-read ${file}`, evidence: why },
    };
    const lock = inDir(ctx.dir, 'deno.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'deno.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (unpinned.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${rel}: every URL import names its version` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${rel} imports ${unpinned[0] as string} without a version` };
      ctx.warnings.add(`${rel} imports ${unpinned[0] as string} without a version: clean cloud builds may get a different one (pin it, e.g. std@0.224.0)`);
    }
    const detection: Detection = { id: 'deno', tier: TIER.runnable, fields, toolchain: { install: '', runPrefix: '' } };
    const hit = ctx.scan.httpHits.find((h) => h.file === rel);
    const match = hit ? null : SERVES.exec(text);
    if (hit || match) {
      fields.project_type = { value: 'web', evidence: `${rel}:${hit?.line ?? text.slice(0, match?.index ?? 0).split('\n').length} starts an HTTP server` };
      detection.portDefault = { value: 8000, evidence: 'Deno.serve default port 8000' };
    } else {
      fields.project_type = { value: 'worker', evidence: `${rel}: no HTTP listener` };
    }
    return detection;
  }
  return null;
}

const DENO_ENV: EnvReadSyntax = {
  language: 'js',
  prefilter: /Deno\.env/,
  patterns: [{ regex: new RegExp(`\\bDeno\\.env\\.get\\(\\s*(['"])(${NAME})\\1\\s*\\)`, 'g'), nameGroup: 2, fallback: (_m, b, a) => jsFallback(b, a) }],
};

export const deno: RuntimeDetector = {
  id: 'deno',
  kind: 'runtime',
  serverStarts: [{ language: 'js', pattern: /\bDeno\.serve\(/ }],
  envReadSyntaxes: [DENO_ENV],
  async detect(ctx) {
    const config = await readDenoConfig(ctx);
    if (!config) return urlImportScript(ctx);
    const fields: Conclusions = {
      framework: { value: 'deno', evidence: `${config.path} exists` },
      package_manager: { value: 'deno', evidence: `${config.path} exists` },
    };
    if (config.name) fields.name = { value: config.name, evidence: `${config.path}: name` };
    const lock = inDir(ctx.dir, 'deno.lock');
    const remote = Object.keys(config.imports).length > 0;
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'deno.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (remote) {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${config.path} imports packages but no deno.lock exists` };
      ctx.warnings.add(`no deno.lock for ${config.path}: clean cloud builds may resolve different dependency versions (run \`deno install\` and commit deno.lock)`);
    } else {
      fields.dependency_resolution = { value: 'locked', evidence: `${config.path} declares no imports: nothing to resolve` };
    }

    const startTask = config.tasks.start;
    const watching = startTask !== undefined && /--watch\b|\bdev\.ts\b/.test(startTask);
    if (watching) ctx.warnings.add(`${config.path}: the start task "${startTask}" runs in watch (development) mode; it was not used as the start command`);
    let entry: Conclusion<string> | undefined;
    let start: Conclusion<string> | undefined;
    const fresh = await freshServer(ctx, config);
    if (fresh && (startTask === undefined || watching)) {
      // Fresh's own production run (its `preview` task): main.ts starts the server.
      entry = { value: fresh.entry, evidence: fresh.evidence };
      start = { value: `deno run -A ${fresh.entry}`, evidence: fresh.evidence };
    } else if (startTask !== undefined && !watching) {
      const evidence = `${config.path}: tasks.start "${startTask}"`;
      start = { value: 'deno task start', evidence };
      const file = entryOfDenoCommand(startTask);
      if (file) entry = { value: file, evidence };
    } else if (!ctx.fs.has(inDir(ctx.dir, 'package.json'))) {
      // Next to a package.json only a start task makes it a Deno app (deno.json may just hold fmt/lint settings).
      const found = ENTRY_CANDIDATES.find((file) => ctx.fs.has(inDir(ctx.dir, file)));
      if (found) {
        entry = { value: found, evidence: `${inDir(ctx.dir, found)} exists and ${config.path} has no production start task` };
        start = { value: `deno run --allow-all ${found}`, evidence: entry.evidence };
      }
    }
    const buildSteps = [entry ? `deno cache ${entry.value}` : '', config.tasks.build !== undefined ? 'deno task build' : ''].filter((step) => step !== '');
    if (buildSteps.length > 0) {
      fields.scripts_build = {
        value: buildSteps.join(' && '),
        evidence: config.tasks.build !== undefined ? `${config.path}: tasks.build "${config.tasks.build}"` : `dependencies of ${entry?.value} are cached at build time`,
      };
    }
    fields.language = entry && /\.[cm]?jsx?$/.test(entry.value) ? { value: 'javascript', evidence: `entry point ${entry.value}` } : { value: 'typescript', evidence: `${config.path}: Deno runs TypeScript natively${entry ? ` (entry point ${entry.value})` : ''}` };

    const detection: Detection = { id: 'deno', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };
    if (!start) {
      ctx.warnings.add(`${config.path} has no start task and no main.ts/server.ts: nothing to run`);
      return detection;
    }
    fields.scripts_start = start;
    if (entry) fields.entry_point = entry;
    detection.tier = TIER.runnable;
    const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
    let serves = ctx.scan.httpHits.find((hit) => hit.file.startsWith(prefix) && /\.[cm]?[jt]sx?$/.test(hit.file));
    if (!serves && entry) {
      const rel = inDir(ctx.dir, entry.value);
      const text = (await ctx.fs.read(rel))?.text ?? '';
      const match = SERVES.exec(text);
      if (match) serves = { file: rel, line: text.slice(0, match.index).split('\n').length };
    }
    if (fresh) serves = { file: fresh.file, line: fresh.line };
    if (serves) {
      fields.project_type = { value: 'web', evidence: `${serves.file}:${serves.line} starts an HTTP server` };
      detection.portDefault = { value: 8000, evidence: fresh ? 'Fresh serves on 8000 by default' : 'Deno.serve default port 8000' };
    } else {
      fields.project_type = { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
    }
    return detection;
  },
};
