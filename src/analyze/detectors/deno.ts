/**
 * Deno: `deno.json` or `deno.jsonc` (JSON with comments and trailing commas). Start: the `start`
 * task (`deno task start`) unless it runs in watch mode, else (when there is no package.json, whose
 * runtime is Node's) `deno run --allow-all <main>` for main.ts / main.js / server.ts / src/main.ts /
 * index.ts. Dependencies are cached at build time (`deno cache <main>`), then the `build` task
 * runs. `Deno.serve()` listens on 8000 unless told otherwise.
 */
import { parseJsonc } from '../jsonc.js';
import { TIER, inDir, type Conclusion, type Conclusions, type Detection, type DetectContext, type RuntimeDetector } from '../types.js';

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

/** The script a Deno command runs: `deno run -A --watch main.ts` → `main.ts`. */
export function entryOfDenoCommand(command: string): string {
  const match = /\bdeno\s+(?:run|serve)\s+(?:--?[\w-]+(?:=\S+)?\s+)*([\w./-]+\.[cm]?[jt]sx?)\b/.exec(command);
  return match ? (match[1] as string).replace(/^\.\//, '') : '';
}

export const deno: RuntimeDetector = {
  id: 'deno',
  kind: 'runtime',
  async detect(ctx) {
    const config = await readDenoConfig(ctx);
    if (!config) return null;
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
    if (startTask !== undefined && !watching) {
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
    if (serves) {
      fields.project_type = { value: 'web', evidence: `${serves.file}:${serves.line} starts an HTTP server` };
      detection.portDefault = { value: 8000, evidence: 'Deno.serve default port 8000' };
    } else {
      fields.project_type = { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
    }
    return detection;
  },
};
