/**
 * Which TCP ports a process group listens on, read from /proc (Linux only; null elsewhere). Used to
 * tell "the app listens on 3000 instead of PORT" within seconds instead of waiting out the
 * readiness timeout.
 */

import { readdirSync, readFileSync, readlinkSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';

function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may contain spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // not ours to read, or gone
  }
  return inodes;
}

/** Listening TCP ports of every process in the group, or null when /proc cannot tell. */
export function listeningPorts(pgid: number | undefined): number[] | null {
  if (pgid === undefined || process.platform !== 'linux') return null;
  try {
    const inodes = new Set<string>();
    for (const pid of groupPids(pgid)) for (const inode of socketInodes(pid)) inodes.add(inode);
    const ports = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is cols[1] (hex ip:port), st is cols[3] (0A = LISTEN), inode is cols[9].
        if (cols[3] !== '0A' || !cols[9] || !inodes.has(cols[9])) continue;
        const port = Number.parseInt((cols[1] ?? '').split(':').pop() ?? '', 16);
        if (Number.isInteger(port) && port > 0) ports.add(port);
      }
    }
    return [...ports].sort((a, b) => a - b);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ the hard-coded port's line

const SOURCE_EXTENSIONS = /\.(?:[cm]?[jt]sx?|py|go|rb|php|java|kt|rs|exs?|cs|cr|dart|swift|scala|clj)$/;
const SKIPPED_DIRS = new Set(['node_modules', '.venv', 'venv', 'vendor', '.git', 'target', 'dist', 'build', '.next', '.nuxt', '.output', '__pycache__', 'coverage']);
const MAX_FILES = 400;
const MAX_FILE_BYTES = 256 * 1024;

/** How a language reads the PORT variable, for the warning's advice. */
function portExpression(file: string): string {
  if (/\.[cm]?[jt]sx?$/.test(file)) return 'process.env.PORT';
  if (file.endsWith('.py')) return 'os.environ["PORT"]';
  if (file.endsWith('.go')) return 'os.Getenv("PORT")';
  if (file.endsWith('.rb')) return 'ENV["PORT"]';
  if (file.endsWith('.php')) return "getenv('PORT')";
  if (file.endsWith('.rs')) return 'std::env::var("PORT")';
  if (file.endsWith('.java') || file.endsWith('.kt')) return 'System.getenv("PORT")';
  if (/\.exs?$/.test(file)) return 'System.get_env("PORT")';
  return 'the PORT variable';
}

export interface PortLine {
  /** Relative to the folder searched. */
  file: string;
  line: number;
  text: string;
  /** How the file's language reads PORT (`process.env.PORT`). */
  expression: string;
}

/**
 * The source line that hard-codes `port` (a listen/bind/run call or a port setting naming it),
 * searched in the app's own files (dependencies and build output skipped, bounded); null when none
 * names it. Used to tell the user which line to change.
 */
export function findHardcodedPort(dir: string, port: number): PortLine | null {
  const number = new RegExp(`(?<![\\w.])${port}(?![\\w.])`);
  // Best: a listen/bind/run call that takes the number; next: a port setting assigned it.
  const call = new RegExp(`(?:listen|bind|serve|run|Listen\\w*)\\s*\\([^)]*(?<![\\w.])${port}(?![\\w.])`, 'i');
  const setting = new RegExp(`port\\w*["']?\\s*[:=]\\s*["']?${port}(?![\\w.])`, 'i');
  let setLine: PortLine | null = null;
  let fallback: PortLine | null = null;
  let seen = 0;
  const queue: Array<[string, number]> = [[dir, 0]];
  while (queue.length > 0 && seen < MAX_FILES) {
    const [current, depth] = queue.shift() as [string, number];
    let entries: Dirent[];
    try {
      entries = readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (depth < 4 && !SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) queue.push([full, depth + 1]);
        continue;
      }
      if (!entry.isFile() || !SOURCE_EXTENSIONS.test(entry.name)) continue;
      seen += 1;
      let text: string;
      try {
        if (statSync(full).size > MAX_FILE_BYTES) continue;
        text = readFileSync(full, 'utf8');
      } catch {
        continue;
      }
      const lines = text.split(/\r?\n/);
      for (let i = 0; i < lines.length; i += 1) {
        const line = lines[i] as string;
        if (!number.test(line) || /^\s*(?:\/\/|#|\*)/.test(line)) continue;
        const found = { file: path.relative(dir, full), line: i + 1, text: line.trim().slice(0, 120), expression: portExpression(entry.name) };
        if (call.test(line)) return found;
        if (setting.test(line)) setLine ??= found;
        fallback ??= found;
      }
    }
  }
  return setLine ?? fallback;
}
