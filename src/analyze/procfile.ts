/**
 * Procfile (`web: <command>`): the author's own start command beats a derived one. Worker process
 * types (worker, queue, sidekiq, celery, scheduler, clock, beat, *worker*) become worker services
 * (spec/analysis.md "Service split", rule 2); `release` is a release-phase task, not a process;
 * other types are reported as not deployed.
 */
import type { Conclusion, DetectContext } from './types.js';
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
  /** Worker processes, in file order. */
  workers: ProcfileProcess[];
}

const WORKER_TYPES = /^(?:worker|queue|sidekiq|celery|scheduler|clock|beat|celerybeat|jobs?|[\w-]*worker[\w-]*)$/i;

/** The file a start command runs (`node worker.js`, `gunicorn app.wsgi:app`), when it exists in the service folder. */
export function entryOfCommand(ctx: DetectContext, command: string): string {
  const file = /\b(?:python3?|node|bun|deno run)\s+(?:-\S+\s+)*([\w./-]+\.(?:py|[cm]?js|ts))\b/.exec(command)?.[1];
  const module = /\b(?:gunicorn|uvicorn|hypercorn|waitress-serve)\b.*?\s([\w.]+):\w+/.exec(command)?.[1];
  const candidate = file ?? (module ? `${module.split('.').join('/')}.py` : '');
  return candidate && ctx.fs.has(inDir(ctx.dir, candidate.replace(/^\.\//, ''))) ? candidate.replace(/^\.\//, '') : '';
}

export async function readProcfile(ctx: DetectContext): Promise<ProcfileInfo | null> {
  const rel = inDir(ctx.dir, 'Procfile');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  const info: ProcfileInfo = { path: rel, web: null, entry: '', port: null, workers: [] };
  const others: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const match = /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(raw.trim());
    if (!match) return;
    const type = match[1] as string;
    const command = (match[2] as string).trim();
    const evidence = `${rel}:${index + 1} ${type}`;
    if (type !== 'web') {
      if (WORKER_TYPES.test(type)) info.workers.push({ type, command, evidence, entry: entryOfCommand(ctx, command) });
      else if (type !== 'release') others.push(type);
      return;
    }
    info.web = { value: command, evidence };
    const port = /(?:--port|-p)[=\s]+(\d{2,5})\b/.exec(command) ?? /(?:--bind|-b)[=\s]+\S*:(\d{2,5})\b/.exec(command);
    if (port) info.port = { value: Number(port[1]), evidence };
    info.entry = entryOfCommand(ctx, command);
  });
  if (others.length > 0) {
    ctx.warnings.add(`${rel} declares ${others.join(', ')} process(es) that are neither web nor worker processes; they are not deployed`);
  }
  return info;
}
