/**
 * A bounded, read-only view of a project folder. Detectors never touch the file system directly:
 * they ask this snapshot whether a file exists and read it through a capped, cached reader.
 *
 * The walk is breadth-first and level by level, so it is deterministic even though directories of
 * one level are read concurrently. It never enters ignored folders (dependency caches, VCS data,
 * build outputs, anything in the root `.gitignore`), never follows symbolic links (so loops cannot
 * hang it), stops at a depth, an entry count and a time budget, and turns every problem (unreadable
 * directory, binary file, name that is not UTF-8) into a warning instead of an exception.
 */
import { open, readdir } from 'node:fs/promises';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, type Dirent } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

export interface SnapshotLimits {
  /** Deepest directory entered; the root is depth 0, `a/b` is depth 2. */
  maxDepth: number;
  /** Files recorded before the walk stops. */
  maxFiles: number;
  /** Bytes read from any one file. */
  maxFileBytes: number;
  /** Wall-clock budget for the whole analysis, checked between steps. */
  timeBudgetMs: number;
}

export const DEFAULT_LIMITS: SnapshotLimits = {
  maxDepth: 8,
  maxFiles: 50_000,
  maxFileBytes: 256 * 1024,
  timeBudgetMs: 20_000,
};

/**
 * Folders the walk never enters, at any depth. `build/` is deliberately absent: many stacks keep
 * sources or generators there (client-rules §9.2); exclude it through `.gitignore` when generated.
 */
export const IGNORED_DIR_NAMES: ReadonlySet<string> = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  'bower_components',
  'jspm_packages',
  '.pnpm-store',
  '.yarn',
  'dist',
  'target',
  'vendor',
  '.venv',
  'venv',
  '__pycache__',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  'site-packages',
  '.next',
  '.nuxt',
  '.output',
  '.svelte-kit',
  '.astro',
  '.vercel',
  '.netlify',
  '.turbo',
  '.parcel-cache',
  '.cache',
  '.angular',
  '.expo',
  'coverage',
  '.nyc_output',
  '.gradle',
  '.terraform',
  '_build',
  '.elixir_ls',
  '.bundle',
  '.opendeploy',
  '.agents',
  '.claude',
  '.codex',
  '.gstack',
  '.idea',
  '.vscode',
]);

/**
 * Most `.gitignore` patterns applied by the walk (the archive uses the same cap, see
 * src/archive/gitignore.ts): matching costs patterns × files.
 */
export const MAX_GITIGNORE_PATTERNS = 2000;

export interface ReadResult {
  text: string;
  /** The file was larger than the read cap; `text` holds only its beginning. */
  truncated: boolean;
  /** Size on disk in bytes. */
  size: number;
}

export type Clock = () => number;

/** Renders a raw file name with bytes that are not valid UTF-8 shown as `\xHH`. */
export function describeRawName(raw: Buffer): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const byte = raw[i] as number;
    if (byte >= 0x20 && byte < 0x7f) {
      out += String.fromCharCode(byte);
      i += 1;
      continue;
    }
    // Try to decode one multi-byte UTF-8 sequence; fall back to escaping the byte.
    const width = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
    if (width > 0 && i + width <= raw.length) {
      const slice = raw.subarray(i, i + width);
      const decoded = slice.toString('utf8');
      if (!decoded.includes('\uFFFD') && Buffer.from(decoded, 'utf8').equals(slice)) {
        out += decoded;
        i += width;
        continue;
      }
    }
    out += `\\x${byte.toString(16).padStart(2, '0')}`;
    i += 1;
  }
  return out;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

export { formatBytes };

function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const DECODER = new TextDecoder('utf-8', { fatal: false });

export class FsSnapshot {
  readonly root: string;
  readonly limits: SnapshotLimits;
  /** Every recorded file, relative to the root with `/` separators, sorted. */
  readonly files: readonly string[];
  private readonly fileSet: ReadonlySet<string>;
  private readonly dirSet: ReadonlySet<string>;
  private readonly childrenOf: ReadonlyMap<string, readonly string[]>;
  private readonly walkWarnings: readonly string[];
  private readonly readProblems = new Map<string, string>();
  private readonly cache = new Map<string, Promise<ReadResult | null>>();
  private readonly clock: Clock;
  private readonly startedAt: number;

  private constructor(init: {
    root: string;
    limits: SnapshotLimits;
    files: string[];
    dirs: Set<string>;
    children: Map<string, string[]>;
    warnings: string[];
    clock: Clock;
    startedAt: number;
  }) {
    this.root = init.root;
    this.limits = init.limits;
    this.files = init.files;
    this.fileSet = new Set(init.files);
    this.dirSet = init.dirs;
    this.childrenOf = init.children;
    this.walkWarnings = init.warnings;
    this.clock = init.clock;
    this.startedAt = init.startedAt;
  }

  /** Walks `root` within `limits`. Never throws for problems inside the tree; only a missing root throws. */
  static async take(root: string, limits: SnapshotLimits = DEFAULT_LIMITS, clock: Clock = Date.now): Promise<FsSnapshot> {
    const startedAt = clock();
    const absRoot = path.resolve(root);
    const warnings: string[] = [];
    const files: string[] = [];
    const dirs = new Set<string>(['']);
    const children = new Map<string, string[]>();

    const gitignore = await FsSnapshot.loadGitignore(absRoot, limits, warnings);
    const symlinks: string[] = [];
    const special: string[] = [];
    const tooDeep: string[] = [];
    const badNames: string[] = [];
    const unreadable: string[] = [];
    let capped = false;
    let outOfTime = false;

    let level: string[] = [''];
    let depth = 0;
    while (level.length > 0 && !capped) {
      if (clock() - startedAt > limits.timeBudgetMs) {
        outOfTime = true;
        break;
      }
      const listings = await mapLimit(level, 16, async (dir) => FsSnapshot.list(absRoot, dir, badNames, unreadable));
      const nextLevel: string[] = [];
      for (let i = 0; i < level.length && !capped; i += 1) {
        const dir = level[i] as string;
        const entries = listings[i] ?? [];
        const names: string[] = [];
        for (const entry of entries) {
          const name = entry.name;
          const rel = joinRel(dir, name);
          if (entry.isSymbolicLink()) {
            symlinks.push(rel);
            continue;
          }
          if (entry.isDirectory()) {
            if (IGNORED_DIR_NAMES.has(name) || isIgnored(gitignore, `${rel}/`)) continue;
            if (depth + 1 > limits.maxDepth) {
              tooDeep.push(rel);
              continue;
            }
            dirs.add(rel);
            names.push(`${name}/`);
            nextLevel.push(rel);
            continue;
          }
          if (!entry.isFile()) {
            special.push(rel);
            continue;
          }
          if (isIgnored(gitignore, rel)) continue;
          if (files.length >= limits.maxFiles) {
            capped = true;
            break;
          }
          files.push(rel);
          names.push(name);
        }
        children.set(dir, names);
      }
      level = nextLevel;
      depth += 1;
    }

    files.sort();
    const sample = (list: string[]): string => {
      const sorted = [...list].sort();
      const shown = sorted.slice(0, 5).join(', ');
      return sorted.length > 5 ? `${shown} and ${sorted.length - 5} more` : shown;
    };
    for (const rel of [...unreadable].sort()) warnings.push(rel);
    if (badNames.length > 0) {
      warnings.push(`skipped ${badNames.length} file name(s) that are not valid UTF-8: ${sample(badNames)}`);
    }
    if (symlinks.length > 0) {
      warnings.push(`did not follow ${symlinks.length} symbolic link(s): ${sample(symlinks)}`);
    }
    if (special.length > 0) {
      warnings.push(`skipped ${special.length} special file(s) (sockets, pipes, devices): ${sample(special)}`);
    }
    if (tooDeep.length > 0) {
      warnings.push(
        `did not enter ${tooDeep.length} folder(s) deeper than ${limits.maxDepth} levels: ${sample(tooDeep)}; files there were not analyzed`,
      );
    }
    if (capped) {
      warnings.push(`stopped listing files after ${limits.maxFiles}; the rest of the project was not analyzed`);
    }
    if (outOfTime) {
      warnings.push(`stopped listing files after the ${limits.timeBudgetMs} ms time budget; the rest of the project was not analyzed`);
    }

    return new FsSnapshot({ root: absRoot, limits, files, dirs, children, warnings, clock, startedAt });
  }

  private static async loadGitignore(absRoot: string, limits: SnapshotLimits, warnings: string[]): Promise<Ignore | null> {
    const result = await readCapped(path.join(absRoot, '.gitignore'), limits.maxFileBytes);
    if (result.kind === 'missing') return null;
    if (result.kind === 'error') {
      warnings.push(`.gitignore could not be read (${result.code}); its rules were not applied`);
      return null;
    }
    if (result.kind === 'binary') {
      warnings.push('.gitignore looks like a binary file; its rules were not applied');
      return null;
    }
    const { text, truncated, size } = result.value;
    if (truncated) {
      warnings.push(`.gitignore is ${size} bytes, larger than the ${limits.maxFileBytes}-byte read cap; only its beginning was applied`);
    }
    // Every path is matched against every pattern, so a huge list would make the walk crawl:
    // past MAX_GITIGNORE_PATTERNS the rest is dropped (a cut line at the read cap goes too).
    const lines = text.split(/\r?\n/);
    if (truncated) lines.pop();
    const patterns = lines.filter((line) => line.trim() !== '' && !line.startsWith('#'));
    if (patterns.length > MAX_GITIGNORE_PATTERNS) {
      warnings.push(
        `.gitignore has ${patterns.length} patterns, more than the ${MAX_GITIGNORE_PATTERNS}-pattern cap; the ${patterns.length - MAX_GITIGNORE_PATTERNS} beyond it were not applied`,
      );
    }
    try {
      return ignore().add(patterns.slice(0, MAX_GITIGNORE_PATTERNS));
    } catch {
      warnings.push('.gitignore could not be parsed; its rules were not applied');
      return null;
    }
  }

  private static async list(absRoot: string, dir: string, badNames: string[], unreadable: string[]): Promise<Dirent[]> {
    const absDir = dir === '' ? absRoot : path.join(absRoot, dir);
    let entries: Dirent[];
    try {
      entries = await readdir(absDir, { withFileTypes: true });
    } catch (error) {
      if (dir === '') throw error;
      unreadable.push(`could not read folder ${dir}/ (${errorCode(error)}); its files were not analyzed`);
      return [];
    }
    if (entries.some((entry) => entry.name.includes('\uFFFD'))) {
      // Some names may not be valid UTF-8: look at the raw bytes and drop the ones that are not.
      try {
        const raw = await readdir(absDir, { withFileTypes: true, encoding: 'buffer' });
        const invalid = new Set<string>();
        for (const entry of raw) {
          const bytes = entry.name as unknown as Buffer;
          const decoded = bytes.toString('utf8');
          if (!Buffer.from(decoded, 'utf8').equals(bytes)) {
            invalid.add(decoded);
            badNames.push(joinRel(dir, describeRawName(bytes)));
          }
        }
        entries = entries.filter((entry) => !invalid.has(entry.name));
      } catch {
        entries = entries.filter((entry) => !entry.name.includes('\uFFFD'));
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return entries;
  }

  /** Milliseconds left of the time budget (negative when exhausted). */
  remainingMs(): number {
    return this.limits.timeBudgetMs - (this.clock() - this.startedAt);
  }

  has(rel: string): boolean {
    return this.fileSet.has(normalise(rel));
  }

  hasDir(rel: string): boolean {
    return this.dirSet.has(normalise(rel));
  }

  /** Names directly inside a folder (folders end with `/`), sorted. */
  list(dir: string): readonly string[] {
    return this.childrenOf.get(normalise(dir)) ?? [];
  }

  /** Files under a folder (recursively), sorted. */
  filesUnder(dir: string): readonly string[] {
    const prefix = normalise(dir);
    if (prefix === '') return this.files;
    return this.files.filter((file) => file.startsWith(`${prefix}/`));
  }

  /**
   * Reads a recorded file as UTF-8 text, at most `maxFileBytes`. Returns null when the file is not in
   * the snapshot, cannot be read or is binary; the last two are recorded as warnings.
   * `cache: false` is for one-pass scans of many files, so their text is not kept in memory.
   */
  read(rel: string, options: { cache?: boolean } = {}): Promise<ReadResult | null> {
    const key = normalise(rel);
    if (!this.fileSet.has(key)) return Promise.resolve(null);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const pending = this.readUncached(key);
    if (options.cache !== false) this.cache.set(key, pending);
    return pending;
  }

  /**
   * Reads files synchronously, uncached. For one-pass scans of many small files this is several
   * times faster than async reads (no thread-pool round trip per call); callers read in batches
   * and yield to the event loop between them. Opened non-blocking, so a special file that replaced
   * a regular one since the walk cannot block.
   */
  readSyncUncached(rel: string): ReadResult | null {
    const key = normalise(rel);
    if (!this.fileSet.has(key)) return null;
    return this.settle(key, readCappedSync(path.join(this.root, key), this.limits.maxFileBytes));
  }

  private async readUncached(rel: string): Promise<ReadResult | null> {
    return this.settle(rel, await readCapped(path.join(this.root, rel), this.limits.maxFileBytes));
  }

  private settle(rel: string, result: CappedRead): ReadResult | null {
    switch (result.kind) {
      case 'ok':
        return result.value;
      case 'binary':
        this.readProblems.set(rel, `${rel} looks like a binary file (it contains NUL bytes); it was not analyzed`);
        return null;
      case 'missing':
        this.readProblems.set(rel, `${rel} disappeared during analysis`);
        return null;
      case 'error':
        this.readProblems.set(rel, `${rel} could not be read (${result.code}); it was not analyzed`);
        return null;
    }
  }

  /** Walk warnings, then read problems sorted by path: the same tree always gives the same list. */
  warnings(): string[] {
    const reads = [...this.readProblems.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, message]) => message);
    return [...this.walkWarnings, ...reads];
  }
}

function normalise(rel: string): string {
  let out = rel.replace(/\\/g, '/');
  while (out.startsWith('./')) out = out.slice(2);
  if (out === '.') return '';
  return out.replace(/\/+$/, '');
}

function isIgnored(rules: Ignore | null, rel: string): boolean {
  if (!rules) return false;
  try {
    return rules.ignores(rel);
  } catch {
    return false;
  }
}

type CappedRead =
  | { kind: 'ok'; value: ReadResult }
  | { kind: 'missing' }
  | { kind: 'binary' }
  | { kind: 'error'; code: string };

/** Read-only and non-blocking: opening a FIFO must never wait for a writer. */
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

function decode(bytes: Buffer, size: number, cap: number): CappedRead {
  if (bytes.subarray(0, 8192).includes(0)) return { kind: 'binary' };
  let text = DECODER.decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { kind: 'ok', value: { text, truncated: size > cap, size } };
}

function readCappedSync(absPath: string, cap: number): CappedRead {
  let fd: number;
  try {
    fd = openSync(absPath, OPEN_FLAGS);
  } catch (error) {
    const code = errorCode(error);
    return code === 'ENOENT' ? { kind: 'missing' } : { kind: 'error', code };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { kind: 'error', code: 'not a regular file' };
    const want = Math.min(stats.size, cap);
    const buffer = Buffer.allocUnsafe(want);
    let filled = 0;
    while (filled < want) {
      const bytesRead = readSync(fd, buffer, filled, want - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return decode(buffer.subarray(0, filled), stats.size, cap);
  } catch (error) {
    return { kind: 'error', code: errorCode(error) };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // already closed or gone: nothing to do
    }
  }
}

async function readCapped(absPath: string, cap: number): Promise<CappedRead> {
  let handle;
  try {
    handle = await open(absPath, OPEN_FLAGS);
  } catch (error) {
    const code = errorCode(error);
    return code === 'ENOENT' ? { kind: 'missing' } : { kind: 'error', code };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { kind: 'error', code: 'not a regular file' };
    const want = Math.min(stats.size, cap);
    const buffer = Buffer.alloc(want);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await handle.read(buffer, filled, want - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return decode(buffer.subarray(0, filled), stats.size, cap);
  } catch (error) {
    return { kind: 'error', code: errorCode(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
