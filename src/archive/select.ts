/**
 * Decides which files of a source folder go into the archive: built-in exclusions (rules.ts),
 * secret detection (rules.ts, npmrc.ts), `.gitignore` / `.opendeployignore` (gitignore.ts) and the
 * symlink policy below. Reads metadata, the ignore files and the root `package.json` (each up to a
 * cap), and for the content checks of content.ts at most the first KiB of a file (a whole small
 * `.npmrc`, `.yarnrc.yml` or JSON file); file contents are read once, later, by zip.ts.
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
import { closeSync, constants, fstatSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import { isSecretByContent, isSecretByContentSync, openForCheck } from './content.js';
import { IGNORE_FILE_MAX_BYTES, IgnoreRules, MAX_IGNORE_PATTERNS, type RulesSource } from './gitignore.js';
import {
  buildDirIsGeneratedOutput,
  isExcludedDirName,
  isExcludedFileName,
  isSecretBaseName,
  isSecretDirName,
  isSecretFileName,
  isSecretPath,
  VENV_MARKER,
} from './rules.js';
import { walk, type WalkEntry } from './walk.js';

export interface SelectedFile {
  /** Entry name: relative to the source root, forward slashes. */
  rel: string;
  /** Absolute path the content is read from (the real target for an included symlink). */
  abs: string;
  size: number;
  /** Unix permission bits written to the zip: 0o755 when any execute bit is set, else 0o644. */
  mode: number;
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
}

/** Largest root `package.json` read (only its scripts and dependencies matter here). */
export const PACKAGE_JSON_MAX_BYTES = 1024 * 1024;

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
export function compareRel(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}

function toPosix(rel: string): string {
  return path.sep === '/' ? rel : rel.split(path.sep).join('/');
}

function zipMode(st: Stats): number {
  // Only the execute bit matters to a builder; normalising the rest keeps zips identical across umasks.
  return st.mode & 0o111 ? 0o755 : 0o644;
}

async function resolveRoot(root: string): Promise<string> {
  const abs = path.resolve(root);
  let real: string;
  let st: Stats;
  try {
    real = await realpath(abs);
    st = await stat(real);
  } catch (error) {
    throw new OdError('invalid_input', `Source folder not found: ${abs} (${errorCode(error)})`, {
      nextAction: 'Pass the path of the project folder to deploy.',
      cause: error,
    });
  }
  if (!st.isDirectory()) {
    throw new OdError('invalid_input', `Source path is not a folder: ${abs}`, {
      nextAction: 'Pass the path of the project folder to deploy, not a file.',
    });
  }
  return real;
}

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
 * When the source root is a subfolder of a git repository (a monorepo app), the `.gitignore` files
 * between the repository root and the source root apply too, as they do for git. Returns the root's
 * path relative to the repository root and those files, shallowest first. A root that holds its own
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

interface PendingLink {
  rel: string;
  name: string;
  /** Target relative to the root, forward slashes. */
  targetRel: string;
}

interface State {
  rules: IgnoreRules;
}

export async function selectFiles(root: string, options: SelectOptions = {}): Promise<Selection> {
  const realRoot = await resolveRoot(root);
  const warnings: string[] = [];
  const files: SelectedFile[] = [];
  const excludedSecrets: string[] = [];
  const skippedSymlinks: string[] = [];
  const links: PendingLink[] = [];
  const unreadable = new Set<string>();
  let ignoredCount = 0;
  let rootError: NodeJS.ErrnoException | undefined;

  const outer = await outerGitignores(realRoot, warnings);
  const deployIgnore = await readOptionalText(path.join(realRoot, '.opendeployignore'), '.opendeployignore', warnings);
  const last = [deployIgnore ?? '', (options.extraIgnore ?? []).join('\n')];
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
  const buildIsOutput = buildDirIsGeneratedOutput(await readPackageJson(realRoot, warnings));

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
   * One open per file gives all the walk needs: the open itself proves the file readable (stat
   * succeeds on a chmod 000 file, the read in zip.ts would not), fstat gives size and mode, and the
   * content checks read through the same descriptor. Synchronous: see isSecretByContentSync.
   */
  const takeFile = (entry: WalkEntry): void => {
    let fd: number;
    try {
      fd = openForCheck(entry.abs);
    } catch (error) {
      unreadableFile(entry.rel, error);
      return;
    }
    try {
      let st: Stats;
      let secret: boolean;
      try {
        st = fstatSync(fd);
        if (!st.isFile()) {
          warnings.push(`${entry.rel}: not a regular file, skipped`);
          return;
        }
        secret = isSecretByContentSync(fd, entry.name, st.size);
      } catch (error) {
        unreadableFile(entry.rel, error);
        return;
      }
      if (secret) {
        excludedSecrets.push(entry.rel);
        return;
      }
      files.push({ rel: entry.rel, abs: entry.abs, size: st.size, mode: zipMode(st) });
    } finally {
      closeSync(fd);
    }
  };

  const noteLink = async (entry: WalkEntry): Promise<void> => {
    let real: string;
    try {
      real = await realpath(entry.abs);
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

  await walk<State>(realRoot, { rules }, {
    async enterDir(rel, _abs, entries, parent) {
      if (rel !== '' && entries.some((entry) => entry.name === VENV_MARKER && entry.kind === 'file')) {
        ignoredCount += 1;
        return null;
      }
      const gitignore = entries.find((entry) => entry.name === '.gitignore' && entry.kind === 'file');
      if (gitignore === undefined) return parent;
      const text = await readOptionalText(gitignore.abs, gitignore.rel, warnings);
      if (text === undefined) return parent;
      const next = parent.rules.withGitignore(rel, text);
      notePatternCap(next, gitignore.rel);
      return { rules: next };
    },

    visit(entry, state) {
      const { rel, name, kind } = entry;
      // A link is judged by its name before anything else, as whatever it may point to.
      const folderLike = kind === 'dir' || kind === 'symlink';
      if (folderLike && isExcludedDirName(name)) {
        ignoredCount += 1;
        return false;
      }
      if (kind !== 'dir' && isExcludedFileName(name)) {
        ignoredCount += 1;
        return false;
      }
      if (folderLike && isSecretDirName(name)) {
        excludedSecrets.push(kind === 'dir' ? `${rel}/` : rel);
        return false;
      }
      if (kind !== 'dir' && (isSecretBaseName(name) || isSecretPath(rel))) {
        excludedSecrets.push(rel);
        return false;
      }
      if (kind === 'dir' && rel === 'build' && buildIsOutput) {
        ignoredCount += 1;
        return false;
      }
      if (state.rules.ignores(rel, kind === 'dir')) {
        ignoredCount += 1;
        return false;
      }
      switch (kind) {
        case 'dir':
          return true;
        case 'file':
          takeFile(entry);
          return false;
        case 'symlink':
          return noteLink(entry).then(() => false);
        default:
          // Sockets, FIFOs and devices: opening a FIFO would block the archive forever.
          warnings.push(`${rel}: not a regular file (socket, FIFO or device), skipped`);
          return false;
      }
    },

    onError(rel, error) {
      if (rel === '') rootError = error;
      else warnings.push(`${rel}/: unreadable folder (${errorCode(error)}), skipped`);
    },
  });

  if (rootError !== undefined) {
    throw new OdError('invalid_input', `Cannot read the source folder ${realRoot} (${errorCode(rootError)})`, {
      nextAction: 'Check the folder permissions, or run from a folder you can read.',
      cause: rootError,
    });
  }

  // Links are resolved once every real file is known: a link is included only when its target was.
  const selected = new Map(files.map((file) => [file.rel, file]));
  const secretSet = new Set(excludedSecrets);
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
    files.push({ rel: link.rel, abs: target.abs, size: target.size, mode: target.mode });
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
