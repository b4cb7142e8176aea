/**
 * Procfile (`web: <command>`): the author's own start command beats a derived one, in every
 * language (a folder no detector claims is still a service when its Procfile has a `web:` line),
 * and the port is recomputed from it (port.ts `serverPortOf`). Worker process types (worker, queue, sidekiq, celery, scheduler, clock, beat,
 * *worker*) become worker services (the second service-split rule); `release` is a
 * release-phase task, not a process: the plan has no release phase, so it runs before the web
 * process starts (`release && web`, as Django's migrate does); other types are reported as not deployed.
 *
 * `Procfile.dev` (foreman / `bin/dev`) describes the developer's machine: only its lines that run a
 * production job runner (sidekiq, celery worker, rq worker, good_job, `bin/jobs`, ...) are workers;
 * watchers and dev servers (`tailwindcss:watch`, `vite`, `rails server`) are not processes to deploy.
 */
import type { Conclusion, DetectContext, Detection } from './types.js';
import { inDir } from './types.js';

export interface ProcfileProcess {
  type: string;
  command: string;
  /** `Procfile:3 worker` */
  evidence: string;
  /** Entry file the command runs, when it names one that exists. */
  entry: string;
}

export interface ProcfileInfo {
  path: string;
  web: Conclusion<string> | null;
  /** Entry file the web command runs, when it names one that exists. */
  entry: string;
  port: Conclusion<number> | null;
  /** The `release:` command (migrations), run before the web process. */
  release: Conclusion<string> | null;
  /** Worker processes, in file order. */
  workers: ProcfileProcess[];
}

const WORKER_TYPES = /^(?:worker|queue|sidekiq|celery|scheduler|clock|beat|celerybeat|jobs?|[\w-]*worker[\w-]*)$/i;
/** Commands that run a production job runner (Procfile.dev lines worth deploying). */
const JOB_RUNNER =
  /\bsidekiq\b|\bcelery\b.*\b(?:worker|beat)\b|\brq\s+worker\b|\brqworker\b|\bgood_job\b|(?:^|[\s/])bin\/jobs\b|\bsolid_queue\b|\bresque\b|\bjobs:work\b|\bdelayed_job\b|\bqueue:work\b|\bhorizon\b|\bdramatiq\b|\barq\s|\bqcluster\b|\bhuey_consumer\b/;
/** File watchers and auto-reloaders: development conveniences, even around a job runner. */
const WATCHER = /\b(?:watchmedo|nodemon|watchexec|entr|reflex)\b|--watch\b|:watch\b|\bwatch\b|--reload\b|\bauto[-_]?reload\b/;
export const DEV_PROCFILES = ['Procfile.dev', 'Procfile.development'];

/** The file a start command runs (`node worker.js`, `gunicorn app.wsgi:app`), when it exists in the service folder. */
export function entryOfCommand(ctx: DetectContext, command: string): string {
  const file = /\b(?:python3?|node|bun|deno run)\s+(?:-\S+\s+)*([\w./-]+\.(?:py|[cm]?js|ts))\b/.exec(command)?.[1];
  const module = /\b(?:gunicorn|uvicorn|hypercorn|waitress-serve)\b.*?\s([\w.]+):\w+/.exec(command)?.[1];
  const candidate = file ?? (module ? `${module.split('.').join('/')}.py` : '');
  return candidate && ctx.fs.has(inDir(ctx.dir, candidate.replace(/^\.\//, ''))) ? candidate.replace(/^\.\//, '') : '';
}

/** `type: command` lines of a Procfile-format file, with their 1-based line numbers. */
function processLines(text: string): Array<{ type: string; command: string; line: number }> {
  const out: Array<{ type: string; command: string; line: number }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const match = /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(raw.trim());
    if (match) out.push({ type: match[1] as string, command: (match[2] as string).trim(), line: index + 1 });
  });
  return out;
}

/**
 * The port a start command states (`--port 8080`, `-b 0.0.0.0:8080`, `php -S 0.0.0.0:8080`). A
 * server's own default (gunicorn 8000, rackup 9292, ...) is decided from the final start command
 * by port.ts (`serverPortOf`), for Procfile lines as for every other start command.
 */
export function portOfCommand(command: string, evidence: string): Conclusion<number> | null {
  const flag =
    /(?:--port|-p)[=\s]+(\d{2,5})\b/.exec(command) ?? /(?:--bind|-b)[=\s]+\S*:(\d{2,5})\b/.exec(command) ?? /\bphp\s+(?:-\S+\s+)*-S\s+\S*:(\d{2,5})\b/.exec(command);
  return flag ? { value: Number(flag[1]), evidence } : null;
}

const COMMAND_LANGUAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(?:python3?|gunicorn|uvicorn|hypercorn|daphne|waitress-serve|flask|celery|poetry|uv|pipenv)$/, 'python'],
  [/^(?:node|npm|npx|yarn|pnpm|tsx|ts-node|bun)$/, 'javascript'],
  [/^(?:ruby|bundle|rackup|puma|rails|unicorn|thin|sidekiq)$/, 'ruby'],
  [/^php$/, 'php'],
  [/^java$/, 'java'],
  [/^dotnet$/, 'csharp'],
  [/^(?:mix|elixir|iex)$/, 'elixir'],
  [/^deno$/, 'typescript'],
  [/^perl$/, 'perl'],
];

/** The language a start command runs, from its program (`python3 web.py` -> python), or `''`. */
export function languageOfCommand(command: string): string {
  let words = command.replace(/^(?:[A-Za-z_]\w*=\S*\s+)+/, '').split(/\s+/);
  if (words[0] === 'exec') words = words.slice(1);
  const name = words[0]?.split('/').pop() ?? '';
  const script = words.slice(1).find((word) => /\.[cm]?[jt]sx?$/.test(word)) ?? '';
  if (/^(?:node|tsx|ts-node|bun)$/.test(name) && /\.[cm]?tsx?$/.test(script)) return 'typescript';
  for (const [regex, language] of COMMAND_LANGUAGES) if (regex.test(name)) return language;
  return '';
}

/**
 * A folder that no detector claims but whose Procfile has a `web:` line is still a service: the
 * line is its start command. The language is the program the line runs.
 */
export function procfileDetection(ctx: DetectContext, procfile: ProcfileInfo | null): Detection | null {
  if (!procfile?.web) return null;
  const detection: Detection = { id: 'procfile', tier: 0, fields: {} };
  const language = languageOfCommand(procfile.web.value);
  if (language) detection.fields.language = { value: language, evidence: `${procfile.web.evidence}: ${procfile.web.value}` };
  // `ruby app.rb` of a Sinatra app without a Gemfile: Sinatra's own server listens on 4567.
  const script = /\bruby\s+([\w./-]+\.rb)\b/.exec(procfile.web.value)?.[1]?.replace(/^\.\//, '');
  const text = script && ctx.fs.has(inDir(ctx.dir, script)) ? (ctx.fs.readSyncUncached(inDir(ctx.dir, script))?.text ?? '') : '';
  if (/^\s*require\s+['"]sinatra(?:\/base)?['"]/m.test(text)) {
    detection.portDefault = { value: 4567, evidence: `${inDir(ctx.dir, script as string)} runs Sinatra, which listens on 4567 by default` };
  }
  return detection;
}

export async function readProcfile(ctx: DetectContext): Promise<ProcfileInfo | null> {
  const rel = inDir(ctx.dir, 'Procfile');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  const info: ProcfileInfo = { path: rel, web: null, entry: '', port: null, release: null, workers: [] };
  const others: string[] = [];
  for (const { type, command, line } of processLines(text)) {
    const evidence = `${rel}:${line} ${type}`;
    if (type !== 'web') {
      if (WORKER_TYPES.test(type)) info.workers.push({ type, command, evidence, entry: entryOfCommand(ctx, command) });
      else if (type === 'release') info.release ??= { value: command, evidence };
      else others.push(type);
      continue;
    }
    info.web = { value: command, evidence };
    info.port = portOfCommand(command, evidence);
    info.entry = entryOfCommand(ctx, command);
  }
  if (others.length > 0) {
    ctx.warnings.add(`${rel} declares ${others.join(', ')} process(es) that are neither web nor worker processes; they are not deployed`);
  }
  return info;
}

export interface DevProcfile {
  path: string;
  /** The development `web:` line (evidence that the folder's app is a web process), or null. */
  web: string | null;
  /** Lines that run a production job runner. */
  workers: ProcfileProcess[];
}

/** Production job runners declared in `Procfile.dev`; watchers and dev servers are left out. */
export async function readDevProcfile(ctx: DetectContext): Promise<DevProcfile | null> {
  for (const name of DEV_PROCFILES) {
    const rel = inDir(ctx.dir, name);
    const text = ctx.fs.has(rel) ? await ctx.manifests.text(rel) : null;
    if (text === null) continue;
    const info: DevProcfile = { path: rel, web: null, workers: [] };
    for (const { type, command, line } of processLines(text)) {
      if (type === 'web') info.web = `${rel}:${line} web`;
      else if (JOB_RUNNER.test(command) && !WATCHER.test(command)) {
        info.workers.push({ type, command, evidence: `${rel}:${line} ${type} (a production job runner)`, entry: entryOfCommand(ctx, command) });
      }
    }
    return info;
  }
  return null;
}
