/**
 * Reads a service's Dockerfile: the ports its final stage EXPOSEs (port priority 1), its build
 * ARGs (build-time variables) and whether it defines how to start (CMD / ENTRYPOINT).
 * Dockerfile syntax is line-oriented with `\` continuations; this follows that grammar.
 */
import type { DetectContext } from './types.js';
import { inDir } from './types.js';

export interface DockerfileInfo {
  path: string;
  /** EXPOSEd ports of the final stage, in order. */
  exposes: Array<{ port: number; line: number }>;
  args: Array<{ name: string; default: string; line: number }>;
  /** Line of the final stage's CMD or ENTRYPOINT, or 0 when there is none. */
  startLine: number;
  /** Number of FROM instructions (0: not a usable Dockerfile). */
  stages: number;
  /** The final stage's CMD (or ENTRYPOINT) as written. */
  command: string;
  /** The final stage's ENTRYPOINT and CMD as written (`''` when absent). */
  entrypoint: string;
  cmd: string;
}

export const DOCKERFILE_NAMES = ['Dockerfile', 'Containerfile'];

function substitute(token: string, vars: Map<string, string>): string {
  return token.replace(/\$\{(\w+)(?::?[-=]([^}]*))?\}|\$(\w+)/g, (_all, braced: string | undefined, dflt: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    return vars.get(name) ?? dflt ?? '';
  });
}

export function parseDockerfile(path: string, text: string): DockerfileInfo {
  const info: DockerfileInfo = { path, exposes: [], args: [], startLine: 0, stages: 0, command: '', entrypoint: '', cmd: '' };
  const vars = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  let logical = '';
  let startLine = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const raw = lines[i] as string;
    if (logical === '') {
      if (/^\s*#/.test(raw)) continue;
      startLine = i + 1;
    }
    if (/\\\s*$/.test(raw)) {
      logical += `${raw.replace(/\\\s*$/, '')} `;
      continue;
    }
    logical += raw;
    const line = logical.trim();
    logical = '';
    if (line === '') continue;
    const match = /^(\w+)\s+(.*)$/s.exec(line);
    if (!match) continue;
    const instruction = (match[1] as string).toUpperCase();
    const rest = (match[2] as string).trim();
    switch (instruction) {
      case 'FROM':
        info.exposes = [];
        info.startLine = 0;
        info.command = '';
        info.entrypoint = '';
        info.cmd = '';
        info.stages += 1;
        break;
      case 'ARG': {
        const arg = /^(\w+)(?:=(.*))?$/.exec(rest);
        if (arg) {
          const value = (arg[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
          info.args.push({ name: arg[1] as string, default: value, line: startLine });
          if (!vars.has(arg[1] as string)) vars.set(arg[1] as string, value);
        }
        break;
      }
      case 'ENV': {
        const pairs = rest.includes('=') ? [...rest.matchAll(/(\w+)=("[^"]*"|'[^']*'|\S*)/g)] : [];
        // `ENV PORT=${PORT}` takes the ARG's value: values are substituted as they are set.
        for (const pair of pairs) vars.set(pair[1] as string, substitute((pair[2] as string).replace(/^(['"])(.*)\1$/, '$2'), vars));
        if (pairs.length === 0) {
          const single = /^(\w+)\s+(.*)$/.exec(rest);
          if (single) vars.set(single[1] as string, substitute(single[2] as string, vars));
        }
        break;
      }
      case 'EXPOSE':
        for (const token of rest.split(/\s+/)) {
          const value = substitute(token, vars).replace(/\/(?:tcp|udp)$/i, '');
          const port = Number(value);
          if (/^\d+$/.test(value) && port >= 1 && port <= 65535) info.exposes.push({ port, line: startLine });
        }
        break;
      case 'CMD':
      case 'ENTRYPOINT':
        info.startLine = startLine;
        if (instruction === 'CMD' || info.command === '') info.command = rest;
        if (instruction === 'CMD') info.cmd = rest;
        else info.entrypoint = rest;
        break;
      default:
        break;
    }
  }
  return info;
}

/** Exec form (`["gunicorn", "-b", ":8000", "app:app"]`) as shell words; shell form as written. */
function shellWords(instruction: string): string {
  const text = instruction.trim();
  if (!text.startsWith('[')) return text;
  let words: unknown;
  try {
    words = JSON.parse(text);
  } catch {
    return text;
  }
  if (!Array.isArray(words) || !words.every((w): w is string => typeof w === 'string')) return text;
  // `["sh", "-c", "..."]` runs the script string itself.
  if (words.length === 3 && /^(?:\/bin\/)?(?:ba)?sh$/.test(words[0] as string) && words[1] === '-c') return words[2] as string;
  return words.map((w) => (/^[\w@%+=:,./$-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * The command the container runs: ENTRYPOINT followed by CMD's arguments (Docker's own rule), or
 * `''` when the final stage has neither. An entrypoint script that ends in `exec "$@"` runs CMD.
 */
export function dockerStartCommand(info: DockerfileInfo): string {
  const entrypoint = shellWords(info.entrypoint);
  const cmd = shellWords(info.cmd);
  if (entrypoint && cmd && info.entrypoint.trim().startsWith('[')) return `${entrypoint} ${cmd}`;
  return entrypoint || cmd;
}

export async function readDockerfile(ctx: DetectContext): Promise<DockerfileInfo | null> {
  for (const name of DOCKERFILE_NAMES) {
    const rel = inDir(ctx.dir, name);
    if (!ctx.fs.has(rel)) continue;
    const text = await ctx.manifests.text(rel);
    if (text === null) return null;
    return parseDockerfile(rel, text);
  }
  return null;
}

/** A start command that runs a development server (file watching, hot reload), not the app. */
const DEV_SERVER = /\b(?:npm|pnpm|yarn|bun)["',\s]+(?:run["',\s]+)?dev\b|\b(?:next|nuxt|nuxi|astro|vite|remix|react-router)["',\s]+dev\b|\bnodemon\b|\bng["',\s]+serve\b|\breact-scripts["',\s]+start\b|\bwebpack-dev-server\b/;

/**
 * Why a Dockerfile should not be used, or null when it is sane: it must have a FROM, and its final
 * stage must not start a development server (a dev Dockerfile does not build the production app).
 */
export function dockerfileProblem(info: DockerfileInfo): string | null {
  if (info.stages === 0) return 'has no FROM instruction';
  if (DEV_SERVER.test(info.command)) return `starts a development server (${info.command.slice(0, 80)})`;
  return null;
}
