/**
 * The one walk of a project folder, shared by the archive's file selection (select.ts) and by
 * analysis (src/analyze/fs-snapshot.ts): `walkProject(root)` lists the tree once, with the archive's
 * ignore rules, and both read the same listing. A deploy walks once and hands the listing to both.
 *
 * Ignore rules, in the order they are applied to each entry (the first that matches decides):
 * 1. built-in exclusions by name (rules.ts: `node_modules`, `.git`, `dist`, `.pyc` files, ...);
 * 2. secrets by name (`.env`, `*.pem`, `.aws/`, ...): kept in the listing, marked secret, since
 *    the archive reports them and analysis may read env files; secret folders are not entered;
 * 3. a top-level `build/` the root `package.json` shows to be generated output;
 * 4. `.gitignore` files (those above the root up to the enclosing repository, the root's and every
 *    nested one, with git's relative semantics), then `.opendeployignore` and extra patterns;
 * 5. a folder holding `pyvenv.cfg` (a virtualenv under any name) is not entered.
 * An ignored folder is never listed, which keeps a project with a 20,000-file node_modules as fast
 * as one without.
 *
 * Symbolic links are listed as links and never followed (so a loop cannot hang the walk); what to
 * do with them is each reader's business. Folders are listed concurrently, a bounded number at a
 * time; each folder's entries are sorted by name, so the listing is the same on every run.
 */
import { constants, type Dirent } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import { IGNORE_FILE_MAX_BYTES, IgnoreRules, MAX_IGNORE_PATTERNS, type RulesSource } from './gitignore.js';
import {
  buildDirIsGeneratedOutput,
  isExcludedDirName,
  isExcludedFileName,
  isSecretBaseName,
  isSecretDirName,
  isSecretPath,
  VENV_MARKER,
} from './rules.js';
import { errorCode } from '../core/records.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/**
 * How the ignore rules judged an entry:
 * - `keep`: not ignored (a folder was entered);
 * - `secret`: secret by its name (never archived, reported); a folder was not entered;
 * - `ignored`: left out by a built-in exclusion, the `build/` rule, an ignore file or the
 *   virtualenv marker (a folder was not entered, or entered only to find its marker).
 */
export type Verdict = 'keep' | 'secret' | 'ignored';

export interface WalkEntry {
  /**
   * Path relative to the walk root, forward slashes. The path on disk is `entryPath(root, rel)`:
   * not kept per entry, since a listing of 20,000 files held 20,000 more strings for it.
   */
  rel: string;
  /** Base name (the end of `rel`). */
  readonly name: string;
  kind: EntryKind;
  verdict: Verdict;
  /** For a `secret` entry: whether the ignore files would have left it out too. */
  ruleIgnored: boolean;
  /** Set when the name is not valid UTF-8: its bytes, rendered with `\xHH` escapes. */
  rawName?: string;
}

/**
 * A listed entry. The base name is cut from `rel` when asked for rather than kept: a listing of
 * 20,000 files held 20,000 more strings for it, and its readers ask once or twice per entry.
 */
class ListedEntry implements WalkEntry {
  // Declared only: set on the rare entry that has one, so the others carry no slot for it.
  declare rawName?: string;

  constructor(
    readonly rel: string,
    public kind: EntryKind,
    public verdict: Verdict,
    public ruleIgnored: boolean,
  ) {}

  get name(): string {
    return this.rel.slice(this.rel.lastIndexOf('/') + 1);
  }
}

export interface WalkOptions {
  /** Extra patterns in `.gitignore` syntax, relative to the root, applied after `.opendeployignore`. */
  extraIgnore?: readonly string[];
  /**
   * Folders not to enter beyond what the ignore rules leave out (analysis alone skips vendored
   * code the archive keeps). A listing walked with `skipDir` is incomplete for the archive.
   */
  skipDir?: (rel: string, name: string, depth: number) => boolean;
}

/** Most bytes a listing keeps of files already read (see ContentCache). */
export const CONTENT_CACHE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Whole contents of small files one reader of a listing has already read, for the next reader:
 * the archive's content checks read every small file entirely, and analysis then reads them from
 * here instead of opening them again. Bounded: past CONTENT_CACHE_MAX_BYTES nothing more is kept.
 */
export class ContentCache {
  private readonly files = new Map<string, Buffer>();
  private bytes = 0;

  /** Keeps a copy of `bytes` (the caller may reuse its buffer) as the whole content of `rel`. */
  keep(rel: string, bytes: Buffer): void {
    if (this.bytes + bytes.length > CONTENT_CACHE_MAX_BYTES) return;
    this.files.set(rel, Buffer.from(bytes));
    this.bytes += bytes.length;
  }

  get(rel: string): Buffer | undefined {
    return this.files.get(rel);
  }
}

export interface ProjectListing {
  /** Real absolute path of the walked folder. */
  root: string;
  /** Patterns the walk applied after `.opendeployignore` (a selection with others walks again). */
  extraIgnore: readonly string[];
  /** False when `skipDir` left folders out that the archive would have entered. */
  complete: boolean;
  /** Every listed folder's entries sorted by name (code-unit order); the root is `''`. */
  dirs: ReadonlyMap<string, readonly WalkEntry[]>;
  /** Folders that could not be listed, with the error code. */
  unreadable: ReadonlyMap<string, string>;
  /** Problems with the ignore files and the root package.json, worded for the archive's report. */
  warnings: readonly string[];
  /** The part of `warnings` about ignore files (unreadable, cut at the read cap, over the pattern cap). */
  ignoreWarnings: readonly string[];
  /** The error listing the root itself failed with; readers decide how to report it. */
  rootError?: NodeJS.ErrnoException;
  /** Contents of small files already read by one reader, for the others. */
  contents: ContentCache;
}

function toPosix(rel: string): string {
  return path.sep === '/' ? rel : rel.split(path.sep).join('/');
}

/** `root` with a separator at its end (`/` alone stays as it is). */
function withTrailingSep(root: string): string {
  return root.endsWith(path.sep) ? root : root + path.sep;
}

/**
 * The absolute path of a listing entry: `root` is the listing's (real) root, `rel` the entry's.
 * Plain concatenation gives what path.join would: the root is a real path and the names come
 * from readdir, so there is nothing to normalise.
 */
export function entryPath(root: string, rel: string): string {
  return withTrailingSep(root) + (path.sep === '/' ? rel : rel.split('/').join(path.sep));
}

function kindOf(dirent: Dirent): EntryKind {
  if (dirent.isSymbolicLink()) return 'symlink';
  if (dirent.isDirectory()) return 'dir';
  if (dirent.isFile()) return 'file';
  return 'other';
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

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

/** Limits how many folders are listed at once, so a wide tree cannot exhaust file descriptors. */
function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so `active` never overshoots.
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

/** Largest root `package.json` read (only its scripts and dependencies matter here). */
export const PACKAGE_JSON_MAX_BYTES = 1024 * 1024;

interface CappedText {
  text: string;
  /** Size on disk; larger than the text's bytes when the cap cut it. */
  size: number;
  truncated: boolean;
}

/** Reads at most `max` bytes of a regular file; never opens a FIFO for blocking reads. */
async function readCapped(abs: string, max: number): Promise<CappedText> {
  const handle = await open(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    const want = Math.min(st.size, max);
    const buffer = Buffer.alloc(want);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await handle.read(buffer, filled, want - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    let text = buffer.subarray(0, filled).toString('utf8');
    const truncated = st.size > max;
    // A cut in the middle of a line would leave half a pattern: drop the partial last line.
    if (truncated) text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
    return { text, size: st.size, truncated };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Reads a small text file up to `max` bytes; `undefined` when it does not exist, a warning when it
 * cannot be read or was cut at the cap.
 */
async function readOptionalText(
  abs: string,
  rel: string,
  warnings: string[],
  max: number = IGNORE_FILE_MAX_BYTES,
): Promise<string | undefined> {
  try {
    const read = await readCapped(abs, max);
    if (read.truncated) {
      warnings.push(`${rel}: ${read.size} bytes, larger than the ${max}-byte read cap; only its beginning was used`);
    }
    return read.text;
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') warnings.push(`${rel}: unreadable (${code}), its rules were not applied`);
    return undefined;
  }
}

async function exists(abs: string): Promise<boolean> {
  try {
    await lstat(abs);
    return true;
  } catch {
    return false;
  }
}

/**
 * When the walked folder is a subfolder of a git repository (a monorepo app), the `.gitignore` files
 * between the repository root and it apply too, as they do for git. Returns the root's path
 * relative to the repository root and those files, shallowest first. A root that holds its own
 * `.git` is its own repository; with no repository above, nothing outside the root is read.
 */
async function outerGitignores(root: string, warnings: string[]): Promise<{ prefix: string; sources: RulesSource[] }> {
  const none = { prefix: '', sources: [] };
  if (await exists(path.join(root, '.git'))) return none;
  const chain: string[] = [];
  let dir = root;
  for (;;) {
    const parent = path.dirname(dir);
    if (parent === dir) return none;
    dir = parent;
    chain.unshift(dir);
    if (await exists(path.join(dir, '.git'))) break;
  }
  const repoRoot = dir;
  const sources: RulesSource[] = [];
  for (const folder of chain) {
    const text = await readOptionalText(path.join(folder, '.gitignore'), path.join(folder, '.gitignore'), warnings);
    if (text !== undefined) sources.push({ base: toPosix(path.relative(repoRoot, folder)), text });
  }
  return { prefix: `${toPosix(path.relative(repoRoot, root))}/`, sources };
}

async function readPackageJson(root: string, warnings: string[]): Promise<unknown> {
  const file = path.join(root, 'package.json');
  let text: string;
  try {
    const read = await readCapped(file, PACKAGE_JSON_MAX_BYTES);
    if (read.truncated) {
      warnings.push(`package.json: ${read.size} bytes, larger than the ${PACKAGE_JSON_MAX_BYTES}-byte read cap; a top-level build/ folder is kept`);
      return undefined;
    }
    text = read.text;
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') warnings.push(`package.json: unreadable (${code}), a top-level build/ folder is kept`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    warnings.push('package.json: not valid JSON, a top-level build/ folder is kept');
    return undefined;
  }
}

/** The real path of an existing folder, or the archive's `invalid_input` error. */
export async function resolveRoot(root: string): Promise<string> {
  const abs = path.resolve(root);
  let real: string;
  try {
    real = await realpath(abs);
    const st = await stat(real);
    if (!st.isDirectory()) {
      throw new OdError('invalid_input', `Source path is not a folder: ${abs}`, {
        nextAction: 'Pass the path of the project folder to deploy, not a file.',
      });
    }
  } catch (error) {
    if (error instanceof OdError) throw error;
    throw new OdError('invalid_input', `Source folder not found: ${abs} (${errorCode(error)})`, {
      nextAction: 'Pass the path of the project folder to deploy.',
      cause: error,
    });
  }
  return real;
}

/**
 * Names that are not valid UTF-8 come back from `readdir` with U+FFFD in them. Only then is the
 * folder read again as bytes, to tell them from names that really contain U+FFFD.
 */
async function rawNamesOf(abs: string, dirents: readonly Dirent[]): Promise<Map<string, string>> {
  const raw = new Map<string, string>();
  if (!dirents.some((dirent) => dirent.name.includes('\uFFFD'))) return raw;
  try {
    for (const entry of await readdir(abs, { withFileTypes: true, encoding: 'buffer' })) {
      const bytes = entry.name as unknown as Buffer;
      const decoded = bytes.toString('utf8');
      if (!Buffer.from(decoded, 'utf8').equals(bytes)) raw.set(decoded, describeRawName(bytes));
    }
  } catch {
    for (const dirent of dirents) if (dirent.name.includes('\uFFFD')) raw.set(dirent.name, dirent.name);
  }
  return raw;
}

/**
 * Walks `root` once with the archive's ignore rules. Throws `invalid_input` when the root is not an
 * existing folder; problems inside the tree (an unreadable folder, an unreadable ignore file) are
 * recorded in the listing for its readers to report.
 */
export async function walkProject(root: string, options: WalkOptions = {}, concurrency = 16): Promise<ProjectListing> {
  const realRoot = await resolveRoot(root);
  const warnings: string[] = [];
  const extraIgnore = [...(options.extraIgnore ?? [])];
  const dirs = new Map<string, WalkEntry[]>();
  const unreadable = new Map<string, string>();
  let rootError: NodeJS.ErrnoException | undefined;

  const outer = await outerGitignores(realRoot, warnings);
  const deployIgnore = await readOptionalText(path.join(realRoot, '.opendeployignore'), '.opendeployignore', warnings);
  const last = [deployIgnore ?? '', extraIgnore.join('\n')];
  let rules = IgnoreRules.create(outer.prefix, outer.sources, last);
  if (rules.ignoresRoot()) {
    // The user asked to deploy this folder: an enclosing repository that ignores it wholesale (a
    // dotfiles repo with `*`, say) would otherwise leave nothing to upload.
    warnings.push('the source folder is ignored by .gitignore files above it; those files were not applied');
    rules = IgnoreRules.create('', [], last);
  }
  let patternCapReported = false;
  /** One warning for the whole walk, naming the first file whose patterns went over the cap. */
  const notePatternCap = (next: IgnoreRules, where: string): void => {
    if (patternCapReported || next.droppedPatterns === 0) return;
    patternCapReported = true;
    warnings.push(
      `${where}: ignore rules over the ${MAX_IGNORE_PATTERNS}-pattern cap; ${next.droppedPatterns} pattern(s) beyond it were not applied`,
    );
  };
  notePatternCap(rules, outer.sources.length > 0 ? '.gitignore files above the source folder' : '.opendeployignore');
  const packageWarnings: string[] = [];
  const buildIsOutput = buildDirIsGeneratedOutput(await readPackageJson(realRoot, packageWarnings));

  const limit = limiter(concurrency);

  /** The ignore rules' verdict on one entry, in the order of the header. */
  const judge = (rel: string, name: string, kind: EntryKind, folderRules: IgnoreRules): { verdict: Verdict; ruleIgnored: boolean } => {
    // A link is judged by its name before anything else, as whatever it may point to.
    const folderLike = kind === 'dir' || kind === 'symlink';
    if (folderLike && isExcludedDirName(name)) return { verdict: 'ignored', ruleIgnored: true };
    if (kind !== 'dir' && isExcludedFileName(name)) return { verdict: 'ignored', ruleIgnored: true };
    if ((folderLike && isSecretDirName(name)) || (kind !== 'dir' && (isSecretBaseName(name) || isSecretPath(rel)))) {
      return { verdict: 'secret', ruleIgnored: folderRules.ignores(rel, kind === 'dir') };
    }
    if (kind === 'dir' && rel === 'build' && buildIsOutput) return { verdict: 'ignored', ruleIgnored: true };
    if (folderRules.ignores(rel, kind === 'dir')) return { verdict: 'ignored', ruleIgnored: true };
    return { verdict: 'keep', ruleIgnored: false };
  };

  const walkDir = async (rel: string, abs: string, depth: number, parentRules: IgnoreRules, self?: WalkEntry): Promise<void> => {
    let dirents: Dirent[];
    try {
      dirents = await limit(() => readdir(abs, { withFileTypes: true }));
    } catch (error) {
      if (rel === '') rootError = error as NodeJS.ErrnoException;
      else unreadable.set(rel, errorCode(error));
      return;
    }
    if (rel !== '' && dirents.some((dirent) => dirent.name === VENV_MARKER && dirent.isFile())) {
      // A virtualenv under any name: its packages are reinstalled by the builder.
      if (self) self.verdict = 'ignored';
      return;
    }
    dirents.sort(byName);
    let folderRules = parentRules;
    const gitignore = dirents.find((dirent) => dirent.name === '.gitignore' && dirent.isFile());
    const prefix = withTrailingSep(abs);
    if (gitignore !== undefined) {
      const gitignoreRel = rel === '' ? '.gitignore' : `${rel}/.gitignore`;
      const text = await readOptionalText(prefix + '.gitignore', gitignoreRel, warnings);
      if (text !== undefined) {
        folderRules = parentRules.withGitignore(rel, text);
        notePatternCap(folderRules, gitignoreRel);
      }
    }
    const rawNames = await rawNamesOf(abs, dirents);
    const entries: WalkEntry[] = new Array<WalkEntry>(dirents.length);
    const subfolders: Array<Promise<void>> = [];
    for (let i = 0; i < dirents.length; i += 1) {
      const dirent = dirents[i] as Dirent;
      const name = dirent.name;
      const entryRel = rel === '' ? name : `${rel}/${name}`;
      const kind = kindOf(dirent);
      const { verdict, ruleIgnored } = judge(entryRel, name, kind, folderRules);
      const entry: WalkEntry = new ListedEntry(entryRel, kind, verdict, ruleIgnored);
      const raw = rawNames.get(name);
      if (raw !== undefined) entry.rawName = raw;
      entries[i] = entry;
      if (kind === 'dir' && verdict === 'keep' && !options.skipDir?.(entryRel, name, depth + 1)) {
        // `abs` is already normalised (a real path, then names from readdir): plain concatenation
        // gives what path.join would.
        subfolders.push(walkDir(entryRel, prefix + name, depth + 1, folderRules, entry));
      }
    }
    dirs.set(rel, entries);
    // The array readdir settled with stays reachable after this (not through this function:
    // dropping the variable changed nothing, emptying the array did), long enough for the young
    // generation to promote it: 20,000 Dirent objects, 1.1 MiB, went to the old generation and
    // stayed there for the rest of the run. Emptied, they die young.
    dirents.length = 0;
    await Promise.all(subfolders);
  };

  await walkDir('', realRoot, 0, rules);
  const listing: ProjectListing = {
    root: realRoot,
    extraIgnore,
    complete: options.skipDir === undefined,
    dirs,
    unreadable,
    warnings: [...warnings, ...packageWarnings],
    ignoreWarnings: warnings,
    contents: new ContentCache(),
  };
  if (rootError !== undefined) listing.rootError = rootError;
  return listing;
}

/** Whether a listing was walked with the given extra patterns and nothing skipped beyond the rules. */
export function listingServes(listing: ProjectListing, extraIgnore: readonly string[] = []): boolean {
  return listing.complete && listing.extraIgnore.length === extraIgnore.length && listing.extraIgnore.every((pattern, i) => pattern === extraIgnore[i]);
}
