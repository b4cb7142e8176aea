/**
 * A bounded, read-only view of a project folder. Detectors never touch the file system directly:
 * they ask this snapshot whether a file exists and read it through a capped, cached reader.
 *
 * The snapshot is made from the archive's listing of the folder (src/archive/walk.ts), so analysis
 * sees the tree through the same ignore rules as the archive (built-in exclusions, every
 * `.gitignore`, `.opendeployignore`) and a deploy walks the folder once for both. On top of those
 * rules analysis skips vendored code and tool caches the archive keeps (IGNORED_DIR_NAMES), lists
 * secret files by name (`.env`) unless an ignore file leaves them out, never follows symbolic links,
 * stops at a depth, an entry count and a time budget, and turns every problem (unreadable folder,
 * binary file, name that is not UTF-8) into a warning instead of an exception. Folders are taken
 * breadth-first and level by level, so the entry cap always keeps the same files.
 */
import { open } from 'node:fs/promises';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { walkProject, type ContentCache, type ProjectListing, type WalkEntry } from '../archive/walk.js';

/** Names that are not UTF-8 are rendered by the walk, which reads them as bytes. */
export { describeRawName } from '../archive/walk.js';

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
 * sources or generators there; exclude it through `.gitignore` when generated.
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

export interface ReadResult {
  text: string;
  /** The file was larger than the read cap; `text` holds only its beginning. */
  truncated: boolean;
  /** Size on disk in bytes. */
  size: number;
}

export type Clock = () => number;

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
  /** Files another reader of the listing has read whole already (the archive's content checks). */
  private readonly contents: ContentCache;

  private constructor(init: {
    root: string;
    limits: SnapshotLimits;
    files: string[];
    dirs: Set<string>;
    children: Map<string, string[]>;
    warnings: string[];
    clock: Clock;
    startedAt: number;
    contents: ContentCache;
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
    this.contents = init.contents;
  }

  /**
   * Walks `root` within `limits` (never entering the folders analysis skips) and takes the snapshot.
   * Never throws for problems inside the tree; only a root that cannot be listed throws.
   */
  static async take(root: string, limits: SnapshotLimits = DEFAULT_LIMITS, clock: Clock = Date.now): Promise<FsSnapshot> {
    const startedAt = clock();
    const listing = await walkProject(root, { skipDir: (_rel, name, depth) => IGNORED_DIR_NAMES.has(name) || depth > limits.maxDepth });
    return FsSnapshot.fromListing(path.resolve(root), listing, limits, clock, startedAt);
  }

  /**
   * The snapshot of a folder already listed by `walkProject` (a deploy lists it once for the
   * archive and for analysis). `root` is the folder as the caller named it; files are read below it.
   * The time budget counts from `startedAt`; the walk itself is not repeated.
   */
  static fromListing(
    root: string,
    listing: ProjectListing,
    limits: SnapshotLimits = DEFAULT_LIMITS,
    clock: Clock = Date.now,
    startedAt: number = clock(),
  ): FsSnapshot {
    if (listing.rootError !== undefined) throw listing.rootError;
    const warnings: string[] = [...listing.ignoreWarnings];
    const files: string[] = [];
    const dirs = new Set<string>(['']);
    const children = new Map<string, string[]>();
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
      const nextLevel: string[] = [];
      for (let i = 0; i < level.length && !capped; i += 1) {
        const dir = level[i] as string;
        const entries = FsSnapshot.entriesOf(listing, dir, badNames, unreadable);
        const names: string[] = [];
        for (const entry of entries) {
          const { name, rel } = entry;
          if (entry.kind === 'symlink') {
            symlinks.push(rel);
            continue;
          }
          if (entry.kind === 'dir') {
            // Secret folders (`.ssh/`) are not entered by the walk; they hold nothing to analyze.
            if (entry.verdict !== 'keep' || IGNORED_DIR_NAMES.has(name)) continue;
            if (depth + 1 > limits.maxDepth) {
              tooDeep.push(rel);
              continue;
            }
            dirs.add(rel);
            names.push(`${name}/`);
            nextLevel.push(rel);
            continue;
          }
          if (entry.kind !== 'file') {
            special.push(rel);
            continue;
          }
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

    return new FsSnapshot({ root, limits, files, dirs, children, warnings, clock, startedAt, contents: listing.contents });
  }

  /**
   * The entries of one listed folder analysis looks at: what the ignore rules kept, and secret
   * files no ignore file leaves out (an env file may name variables). Names that are not valid
   * UTF-8 are dropped and reported: no path built from them could be read back.
   */
  private static entriesOf(listing: ProjectListing, dir: string, badNames: string[], unreadable: string[]): WalkEntry[] {
    const entries = listing.dirs.get(dir);
    if (entries === undefined) {
      const code = listing.unreadable.get(dir);
      if (code !== undefined) unreadable.push(`could not read folder ${dir}/ (${code}); its files were not analyzed`);
      return [];
    }
    const out: WalkEntry[] = [];
    for (const entry of entries) {
      if (entry.rawName !== undefined) {
        badNames.push(dir === '' ? entry.rawName : `${dir}/${entry.rawName}`);
        continue;
      }
      if (entry.verdict === 'ignored') continue;
      if (entry.verdict === 'secret' && (entry.ruleIgnored || entry.kind === 'dir')) continue;
      out.push(entry);
    }
    return out;
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
    return this.settle(key, this.fromContents(key) ?? readCappedSync(path.join(this.root, key), this.limits.maxFileBytes));
  }

  private async readUncached(rel: string): Promise<ReadResult | null> {
    return this.settle(rel, this.fromContents(rel) ?? (await readCapped(path.join(this.root, rel), this.limits.maxFileBytes)));
  }

  /** A file the listing holds whole, decoded as a read of it would be; undefined when not held. */
  private fromContents(rel: string): CappedRead | undefined {
    const bytes = this.contents.get(rel);
    if (bytes === undefined) return undefined;
    const cap = this.limits.maxFileBytes;
    return decode(bytes.length > cap ? bytes.subarray(0, cap) : bytes, bytes.length, cap);
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
