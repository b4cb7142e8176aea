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
  /**
   * Every recorded file, relative to the root with `/` separators, sorted (code-unit order). It is
   * also the index `has` searches and `list` reads: a set of the same paths and a name list per
   * folder besides it made the snapshot of a 20,000-file tree 1.4 MiB bigger, all of it moved to the
   * old generation, and `list` is asked about a handful of folders.
   */
  readonly files: readonly string[];
  private readonly dirSet: ReadonlySet<string>;
  /** `list` answers, made when a folder is first asked for (a handful per analysis). */
  private readonly listed = new Map<string, readonly string[]>();
  /** Recorded folders by parent, made on the first `list`. */
  private subdirs: Map<string, string[]> | undefined;
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
    warnings: string[];
    clock: Clock;
    startedAt: number;
    contents: ContentCache;
  }) {
    this.root = init.root;
    this.limits = init.limits;
    this.files = init.files;
    this.dirSet = init.dirs;
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
        for (const entry of entries) {
          if (!FsSnapshot.analyzes(entry)) continue;
          const rel = entry.rel;
          if (entry.kind === 'symlink') {
            symlinks.push(rel);
            continue;
          }
          if (entry.kind === 'dir') {
            // Secret folders (`.ssh/`) are not entered by the walk; they hold nothing to analyze.
            if (entry.verdict !== 'keep' || IGNORED_DIR_NAMES.has(entry.name)) continue;
            if (depth + 1 > limits.maxDepth) {
              tooDeep.push(rel);
              continue;
            }
            dirs.add(rel);
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
        }
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

    return new FsSnapshot({ root, limits, files, dirs, warnings, clock, startedAt, contents: listing.contents });
  }

  /**
   * The entries of one listed folder, with the names that are not valid UTF-8 among them reported
   * (all of them, even when the entry cap stops the folder part way): no path built from such a
   * name could be read back, so `analyzes` drops them.
   */
  private static entriesOf(listing: ProjectListing, dir: string, badNames: string[], unreadable: string[]): readonly WalkEntry[] {
    const entries = listing.dirs.get(dir);
    if (entries === undefined) {
      const code = listing.unreadable.get(dir);
      if (code !== undefined) unreadable.push(`could not read folder ${dir}/ (${code}); its files were not analyzed`);
      return [];
    }
    for (const entry of entries) {
      if (entry.rawName !== undefined) badNames.push(dir === '' ? entry.rawName : `${dir}/${entry.rawName}`);
    }
    return entries;
  }

  /**
   * Whether analysis looks at a listed entry: what the ignore rules kept, and secret files no
   * ignore file leaves out (an env file may name variables); never a name that is not UTF-8.
   */
  private static analyzes(entry: WalkEntry): boolean {
    if (entry.rawName !== undefined || entry.verdict === 'ignored') return false;
    return !(entry.verdict === 'secret' && (entry.ruleIgnored || entry.kind === 'dir'));
  }

  /** Milliseconds left of the time budget (negative when exhausted). */
  remainingMs(): number {
    return this.limits.timeBudgetMs - (this.clock() - this.startedAt);
  }

  has(rel: string): boolean {
    return this.recorded(normalise(rel));
  }

  /** Whether `rel` (normalised) is a recorded file: a binary search of the sorted `files`. */
  private recorded(rel: string): boolean {
    const at = this.firstAtOrAfter(rel);
    return at < this.files.length && this.files[at] === rel;
  }

  /** Index of the first file not sorting before `rel` (code-unit order, as `files` is sorted). */
  private firstAtOrAfter(rel: string): number {
    let lo = 0;
    let hi = this.files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.files[mid] as string) < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  hasDir(rel: string): boolean {
    return this.dirSet.has(normalise(rel));
  }

  /**
   * Names directly inside a folder (folders end with `/`), in the listing's order: by name, in
   * code-unit order, a folder sorting by its bare name. Only recorded files and folders are named.
   */
  list(dir: string): readonly string[] {
    const key = normalise(dir);
    let names = this.listed.get(key);
    if (names === undefined) {
      names = this.dirSet.has(key) ? this.childrenOf(key) : [];
      this.listed.set(key, names);
    }
    return names;
  }

  private childrenOf(dir: string): string[] {
    if (this.subdirs === undefined) {
      this.subdirs = new Map();
      for (const rel of this.dirSet) {
        if (rel === '') continue;
        const cut = rel.lastIndexOf('/');
        const parent = cut === -1 ? '' : rel.slice(0, cut);
        const siblings = this.subdirs.get(parent);
        if (siblings === undefined) this.subdirs.set(parent, [rel.slice(cut + 1)]);
        else siblings.push(rel.slice(cut + 1));
      }
    }
    const prefix = dir === '' ? '' : `${dir}/`;
    const fileNames: string[] = [];
    // The files under `dir` are contiguous in sorted order; those with no further `/` are its own.
    for (let i = this.firstAtOrAfter(prefix); i < this.files.length; i += 1) {
      const file = this.files[i] as string;
      if (!file.startsWith(prefix)) break;
      if (file.indexOf('/', prefix.length) === -1) fileNames.push(file.slice(prefix.length));
    }
    const folderNames = [...(this.subdirs.get(dir) ?? [])].sort(compareCodeUnits);
    // Merge the two sorted runs; a file and a folder never share a name.
    const out: string[] = [];
    let f = 0;
    let d = 0;
    while (f < fileNames.length || d < folderNames.length) {
      const file = fileNames[f];
      const folder = folderNames[d];
      if (folder === undefined || (file !== undefined && file < folder)) {
        out.push(file as string);
        f += 1;
      } else {
        out.push(`${folder}/`);
        d += 1;
      }
    }
    return out;
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
    if (!this.recorded(key)) return Promise.resolve(null);
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
    if (!this.recorded(key)) return null;
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

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
