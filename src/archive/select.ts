/**
 * Decides which files of a source folder go into the archive: built-in exclusions (rules.ts),
 * secret detection (rules.ts, npmrc.ts), `.gitignore` / `.opendeployignore` (gitignore.ts) and the
 * symlink policy below. The ignore rules are applied by the walk (walk.ts), whose listing analysis
 * reads too; this module reads metadata, and for the content checks of content.ts at most the first
 * KiB of a file (a whole small `.npmrc`, `.yarnrc.yml` or JSON file); file contents are read once,
 * later, by zip.ts.
 *
 * Symlink policy:
 * - A link whose real target is outside the source root is never followed, and is listed in
 *   `skippedSymlinks`: following it could ship `/etc/passwd` or a sibling project.
 * - A link to a *file* inside the root is archived under the link's name with the target's content,
 *   but only when the target is itself selected at its real path. A link cannot smuggle in what the
 *   rules exclude (`config -> .env` is reported as a secret; `lib.js -> node_modules/x.js` is ignored).
 * - A link to a *folder* inside the root is not followed (a warning says so): the folder's files are
 *   already archived at their real path, following it would duplicate them, and links back to an
 *   ancestor would loop. A zip symlink entry is not an option either: extractors commonly refuse or
 *   mishandle them.
 * - Broken links and link loops (`ELOOP` from realpath) are skipped with a warning, never followed.
 */
import { closeSync, fstatSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import { isSecretByContent, isSecretByContentSync, openForCheck } from './content.js';
import { isSecretFileName } from './rules.js';
import { entryPath, listingServes, walkProject, type ProjectListing, type WalkEntry } from './walk.js';
import { errorCode } from '../core/records.js';

export { PACKAGE_JSON_MAX_BYTES } from './walk.js';

export interface SelectedFile {
  /** Entry name: relative to the source root, forward slashes. */
  readonly rel: string;
  /** Absolute path the content is read from (the real target for an included symlink). */
  readonly abs: string;
  readonly size: number;
  /** Unix permission bits written to the zip: 0o755 when any execute bit is set, else 0o644. */
  readonly mode: number;
}

/**
 * A file the selection found, whose absolute path is derived from the root each time it is read
 * instead of kept: the archive reads it once or twice per file, while a kept path was a
 * 70-to-100-byte string per file (two, once Node had flattened it to open the file) held for as
 * long as the selection lives — 2 MiB for 20,000 files.
 */
class FoundFile implements SelectedFile {
  constructor(
    readonly rel: string,
    readonly size: number,
    readonly mode: number,
    /** The real root the selection was made from. */
    protected readonly root: string,
  ) {}

  get abs(): string {
    return entryPath(this.root, this.rel);
  }
}

/** An included link to a file: archived under its own name, with its target's content. */
class FoundLink extends FoundFile {
  constructor(
    rel: string,
    size: number,
    mode: number,
    root: string,
    /** The target, relative to the root. */
    private readonly target: string,
  ) {
    super(rel, size, mode, root);
  }

  override get abs(): string {
    return entryPath(this.root, this.target);
  }
}

export interface Selection {
  /** Real absolute path of the source root. */
  root: string;
  /** Sorted by rel. */
  files: SelectedFile[];
  /** Sum of sizes. */
  totalBytes: number;
  /** Relative paths of secret-like files left out, sorted; folders end in `/`. Never contents. */
  excludedSecrets: string[];
  /** Relative paths of symlinks pointing outside the root, sorted. */
  skippedSymlinks: string[];
  /** Paths skipped by ignore rules or built-in exclusions (a skipped folder counts once). */
  ignoredCount: number;
  /** Unreadable paths, special files, broken links etc., sorted. */
  warnings: string[];
}

export interface SelectOptions {
  /** Extra patterns in `.gitignore` syntax, relative to the root, applied after `.opendeployignore`. */
  extraIgnore?: string[];
  /**
   * Absolute paths of files known to hold secrets whatever their name (the `--env-file` of this
   * run): left out and reported in `excludedSecrets` when they lie inside the root. See
   * `excludeSecretFiles`.
   */
  secretFiles?: string[];
  /**
   * The tree as `walkProject(root)` listed it, shared with analysis so the folder is walked once.
   * A listing made with other `extraIgnore` patterns, or one that skipped folders, is not used:
   * the folder is walked again.
   */
  listing?: ProjectListing;
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
export function compareRel(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toPosix(rel: string): string {
  return path.sep === '/' ? rel : rel.split(path.sep).join('/');
}

function zipMode(st: Stats): number {
  // Only the execute bit matters to a builder; normalising the rest keeps zips identical across umasks.
  return st.mode & 0o111 ? 0o755 : 0o644;
}

const EMPTY = Buffer.alloc(0);

interface PendingLink {
  rel: string;
  name: string;
  /** Target relative to the root, forward slashes. */
  targetRel: string;
}

export async function selectFiles(root: string, options: SelectOptions = {}): Promise<Selection> {
  const shared = options.listing !== undefined && listingServes(options.listing, options.extraIgnore);
  const listing =
    shared && options.listing !== undefined
      ? options.listing
      : await walkProject(root, options.extraIgnore === undefined ? {} : { extraIgnore: options.extraIgnore });
  const realRoot = listing.root;
  if (listing.rootError !== undefined) {
    throw new OdError('invalid_input', `Cannot read the source folder ${realRoot} (${errorCode(listing.rootError)})`, {
      nextAction: 'Check the folder permissions, or run from a folder you can read.',
      cause: listing.rootError,
    });
  }
  const warnings: string[] = [...listing.warnings];
  const files: SelectedFile[] = [];
  const excludedSecrets: string[] = [];
  const skippedSymlinks: string[] = [];
  const links: PendingLink[] = [];
  const unreadable = new Set<string>();
  let ignoredCount = 0;
  for (const [rel, code] of listing.unreadable) warnings.push(`${rel}/: unreadable folder (${code}), skipped`);

  const unreadableFile = (rel: string, error: unknown): void => {
    unreadable.add(rel);
    warnings.push(`${rel}: unreadable (${errorCode(error)}), skipped`);
  };

  /** Content checks of content.ts under `name`; true when the file must be left out as a secret. */
  const contentIsSecret = (abs: string, name: string, rel: string, size: number): boolean | 'unreadable' => {
    try {
      return isSecretByContent(abs, name, size);
    } catch (error) {
      unreadableFile(rel, error);
      return 'unreadable';
    }
  };

  /**
   * One open per file gives all the selection needs: the open itself proves the file readable
   * (stat succeeds on a chmod 000 file, the read in zip.ts would not), fstat gives size and mode,
   * and the content checks read through the same descriptor. Synchronous: see isSecretByContentSync.
   */
  const takeFile = (entry: WalkEntry): void => {
    const abs = entryPath(realRoot, entry.rel);
    let fd: number;
    try {
      fd = openForCheck(abs);
    } catch (error) {
      unreadableFile(entry.rel, error);
      return;
    }
    try {
      let st: Stats;
      let secret: boolean;
      // Small files are read whole by the content checks: analysis reads them from the listing.
      let whole: Buffer | undefined;
      try {
        st = fstatSync(fd);
        if (!st.isFile()) {
          warnings.push(`${entry.rel}: not a regular file, skipped`);
          return;
        }
        if (st.size === 0) whole = EMPTY;
        secret = isSecretByContentSync(fd, entry.name, st.size, (bytes) => {
          whole = bytes;
        });
      } catch (error) {
        unreadableFile(entry.rel, error);
        return;
      }
      if (secret) {
        excludedSecrets.push(entry.rel);
        return;
      }
      // Kept only in a listing the caller shares with another reader: nobody else reads ours.
      if (shared && whole !== undefined) listing.contents.keep(entry.rel, whole);
      // Math.trunc of a whole number changes nothing but its representation: fstat's sizes are
      // heap-allocated doubles, and storing one made every file's size a 16-byte box of its own.
      files.push(new FoundFile(entry.rel, Math.trunc(st.size), zipMode(st), realRoot));
    } finally {
      closeSync(fd);
    }
  };

  const noteLink = async (entry: WalkEntry): Promise<void> => {
    let real: string;
    try {
      real = await realpath(entryPath(realRoot, entry.rel));
    } catch (error) {
      const code = errorCode(error);
      const what = code === 'ELOOP' ? 'symbolic link loop' : 'broken symbolic link';
      warnings.push(`${entry.rel}: ${what} (${code}), skipped`);
      return;
    }
    const targetRel = path.relative(realRoot, real);
    if (targetRel === '..' || targetRel.startsWith(`..${path.sep}`) || path.isAbsolute(targetRel)) {
      skippedSymlinks.push(entry.rel);
      return;
    }
    let st: Stats;
    try {
      st = await stat(real);
    } catch (error) {
      warnings.push(`${entry.rel}: symbolic link target unreadable (${errorCode(error)}), skipped`);
      return;
    }
    const target = toPosix(targetRel);
    if (st.isDirectory()) {
      warnings.push(`${entry.rel}: symbolic link to folder ${target === '' ? '.' : target}/ not followed (its files are archived at their real path)`);
      return;
    }
    if (!st.isFile()) {
      warnings.push(`${entry.rel}: symbolic link to a special file, skipped`);
      return;
    }
    links.push({ rel: entry.rel, name: entry.name, targetRel: target });
  };

  // The walk applied the ignore rules; what is left here is the policy on secrets, links and
  // special files. Links are resolved concurrently: each is a realpath and a stat.
  const linkChecks: Array<Promise<void>> = [];
  for (const entries of listing.dirs.values()) {
    for (const entry of entries) {
      if (entry.verdict === 'ignored') {
        ignoredCount += 1;
        continue;
      }
      if (entry.verdict === 'secret') {
        excludedSecrets.push(entry.kind === 'dir' ? `${entry.rel}/` : entry.rel);
        continue;
      }
      switch (entry.kind) {
        case 'dir':
          break;
        case 'file':
          takeFile(entry);
          break;
        case 'symlink':
          linkChecks.push(noteLink(entry));
          break;
        default:
          // Sockets, FIFOs and devices: opening a FIFO would block the archive forever.
          warnings.push(`${entry.rel}: not a regular file (socket, FIFO or device), skipped`);
      }
    }
  }
  await Promise.all(linkChecks);

  // Links are resolved once every real file is known: a link is included only when its target was.
  // The lookup tables are built only for a tree that has links: for 20,000 files and no link they
  // were 20,000 map entries built for nothing.
  const selected = links.length > 0 ? new Map(files.map((file) => [file.rel, file])) : new Map<string, SelectedFile>();
  const secretSet = new Set(links.length > 0 ? excludedSecrets : []);
  for (const link of links) {
    const target = selected.get(link.targetRel);
    if (target === undefined) {
      if (secretSet.has(link.targetRel) || isSecretFileName(link.targetRel)) excludedSecrets.push(link.rel);
      else if (unreadable.has(link.targetRel)) warnings.push(`${link.rel}: symbolic link target unreadable, skipped`);
      else ignoredCount += 1;
      continue;
    }
    // The target passed the content checks under its own name; under the link's name another
    // check may apply (`.npmrc -> registry.txt` must pass the `.npmrc` check).
    if (link.name !== path.posix.basename(link.targetRel)) {
      const secret = contentIsSecret(target.abs, link.name, link.rel, target.size);
      if (secret === 'unreadable') continue;
      if (secret) {
        excludedSecrets.push(link.rel);
        continue;
      }
    }
    files.push(new FoundLink(link.rel, target.size, target.mode, realRoot, link.targetRel));
  }

  files.sort((a, b) => compareRel(a.rel, b.rel));
  const selection: Selection = {
    root: realRoot,
    files,
    totalBytes: files.reduce((sum, file) => sum + file.size, 0),
    excludedSecrets: excludedSecrets.sort(compareRel),
    skippedSymlinks: skippedSymlinks.sort(compareRel),
    ignoredCount,
    warnings: warnings.sort(compareRel),
  };
  return options.secretFiles && options.secretFiles.length > 0 ? excludeSecretFiles(selection, options.secretFiles) : selection;
}

/**
 * Leaves out files known to hold secrets whatever their name — the file passed to `--env-file`,
 * say — from a selection already made, and reports them in `excludedSecrets`. A path is compared
 * by its real location, so a symlink to the file inside the root goes too. Paths outside the root,
 * or that do not exist, change nothing. Pure apart from resolving the paths.
 */
export async function excludeSecretFiles(selection: Selection, secretFiles: readonly string[]): Promise<Selection> {
  const reals = new Set<string>();
  for (const file of secretFiles) {
    try {
      reals.add(await realpath(path.resolve(file)));
    } catch {
      // A file that does not exist cannot be in the archive.
    }
  }
  if (reals.size === 0) return selection;
  const kept: SelectedFile[] = [];
  const dropped: string[] = [];
  for (const file of selection.files) {
    // `abs` is already a real path: the walk starts from the real root and never enters a linked
    // folder, and an included link records its target's real path.
    if (reals.has(file.abs)) dropped.push(file.rel);
    else kept.push(file);
  }
  if (dropped.length === 0) return selection;
  return {
    ...selection,
    files: kept,
    totalBytes: kept.reduce((sum, file) => sum + file.size, 0),
    excludedSecrets: [...selection.excludedSecrets, ...dropped].sort(compareRel),
  };
}
