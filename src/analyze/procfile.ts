/**
 * Procfile (`web: <command>`): the author's own start command beats a derived one. Other process
 * types (worker, clock, ...) are reported as a warning: this version deploys the web process only.
 */
import type { Conclusion, DetectContext } from './types.js';
import { inDir } from './types.js';

export interface ProcfileInfo {
  path: string;
  web: Conclusion<string> | null;
  /** Entry file the web command runs, when it names one that exists. */
  entry: string;
  port: Conclusion<number> | null;
}

export async function readProcfile(ctx: DetectContext): Promise<ProcfileInfo | null> {
  const rel = inDir(ctx.dir, 'Procfile');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  const info: ProcfileInfo = { path: rel, web: null, entry: '', port: null };
  const others: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const match = /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(raw.trim());
    if (!match) return;
    const type = match[1] as string;
    const command = (match[2] as string).trim();
    if (type !== 'web') {
      if (type !== 'release') others.push(type);
      return;
    }
    const evidence = `${rel}:${index + 1} web`;
    info.web = { value: command, evidence };
    const port = /(?:--port|-p)[=\s]+(\d{2,5})\b/.exec(command) ?? /(?:--bind|-b)[=\s]+\S*:(\d{2,5})\b/.exec(command);
    if (port) info.port = { value: Number(port[1]), evidence };
    const file = /\b(?:python3?|node|bun|deno run)\s+(?:-\S+\s+)*([\w./-]+\.(?:py|[cm]?js|ts))\b/.exec(command)?.[1];
    const module = /\b(?:gunicorn|uvicorn|hypercorn|waitress-serve)\b.*?\s([\w.]+):\w+/.exec(command)?.[1];
    const candidate = file ?? (module ? `${module.split('.').join('/')}.py` : '');
    if (candidate && ctx.fs.has(inDir(ctx.dir, candidate.replace(/^\.\//, '')))) info.entry = candidate.replace(/^\.\//, '');
  });
  if (others.length > 0) {
    ctx.warnings.add(`${rel} declares ${others.join(', ')} process(es); this version deploys the web process only`);
  }
  return info;
}
