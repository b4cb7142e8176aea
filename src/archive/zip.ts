/**
 * Streams the selected files into a ZIP in a private temp folder. Each file is opened, piped through
 * a hashing pass-through into the archiver and closed before the next one is opened, so memory and
 * file descriptors stay flat however big the project is, and the digest costs no second read.
 *
 * Output is deterministic: entries in sorted order, a fixed 1980-01-01 timestamp (the DOS epoch,
 * stored as UTC), modes normalised to 0644/0755, fixed compression level. The same tree therefore
 * gives a byte-identical zip with the same zlib; the `digest` is computed from paths, modes and
 * contents rather than from the zip bytes, so it stays stable across zlib or archiver upgrades and
 * the pipeline can rely on it to skip re-uploading unchanged source.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { ZipArchive } from 'archiver';
import { OdError } from '../errors.js';
import { selectFiles, type SelectedFile, type Selection } from './select.js';

export interface ArchiveResult {
  /** Absolute path of the zip (ends in `.zip`, mode 0600). */
  path: string;
  /** Private temp folder holding it; `removeArchive` deletes it. */
  dir: string;
  /** Size of the zip. */
  bytes: number;
  /** Entries written. */
  files: number;
  /** Sum of the entries' uncompressed sizes. */
  sourceBytes: number;
  /** sha256 hex over sorted paths, modes and contents (see `digestLine`). */
  digest: string;
  excludedSecrets: string[];
  skippedSymlinks: string[];
  warnings: string[];
}

export interface BuildOptions {
  /** A selection already made (by analysis, say), to avoid walking the tree twice. */
  selection?: Selection;
  /** Parent of the temp folder; defaults to the OS temp folder. */
  tmpRoot?: string;
}

/** The DOS epoch: the earliest time a zip can store, and the same on every machine. */
export const FIXED_MTIME = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));

/** Prefix of temp folder names; `removeArchive` refuses to delete anything else. */
const TEMP_PREFIX = 'opendeploy-archive-';

/** Versions the digest format: changing how it is computed must change every digest. */
const DIGEST_HEADER = 'opendeploy-archive-digest-v1\n';

/** Fixed so the output does not depend on zlib's default. */
const COMPRESSION_LEVEL = 6;

/**
 * One digest line per file. A path cannot contain NUL, so `path NUL mode NUL size NUL sha256 LF` can
 * be split back unambiguously whatever bytes the contents hold; the mode is in it because a changed
 * executable bit changes what the builder gets.
 */
function digestLine(rel: string, mode: number, size: number, contentHash: string): string {
  return `${rel}\0${mode.toString(8)}\0${size}\0${contentHash}\n`;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}

/** Counts and hashes the bytes on their way into the archiver. */
class HashingPassThrough extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/** Files up to this size are read whole, ahead of the writer; bigger ones are streamed. */
const SMALL_FILE_BYTES = 256 * 1024;

/**
 * How many files are opened and read ahead of the one being compressed, and how many read files may
 * wait in the archiver's queue. Reading ahead hides the per-file open/stat/read/close round trips to
 * the thread pool, which otherwise dominate a tree of many small files. With SMALL_FILE_BYTES this
 * bounds the file data held in memory to 2 x 32 x 256 KiB = 16 MiB, whatever the project size.
 */
const READ_AHEAD = 32;

/** Output is written in chunks of this size instead of one syscall per zip header. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

type Loaded =
  | { kind: 'buffer'; file: SelectedFile; data: Buffer }
  | { kind: 'stream'; file: SelectedFile; handle: FileHandle }
  | { kind: 'skip'; file: SelectedFile };

/**
 * Reads a small file whole. Reads one byte more than `size` to notice a file that grew since
 * `fstat`: `null` then, and the caller streams it instead of trusting the size.
 */
async function readWhole(handle: FileHandle, size: number): Promise<Buffer | null> {
  const buffer = Buffer.allocUnsafe(size + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled > size ? null : buffer.subarray(0, filled);
}

/**
 * Opens a selected file without following a symlink swapped in since selection and without blocking
 * on a FIFO, then reads it whole when small. `skip` (with a warning) when it is gone, unreadable or
 * no longer a regular file.
 */
async function load(file: SelectedFile, warnings: string[]): Promise<Loaded> {
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let handle: FileHandle;
  try {
    handle = await open(file.abs, flags);
  } catch (error) {
    warnings.push(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
    return { kind: 'skip', file };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      warnings.push(`${file.rel}: no longer a regular file, skipped`);
    } else if (st.size > SMALL_FILE_BYTES) {
      return { kind: 'stream', file, handle };
    } else {
      const data = await readWhole(handle, st.size);
      if (data === null) return { kind: 'stream', file, handle };
      await handle.close();
      return { kind: 'buffer', file, data };
    }
  } catch (error) {
    warnings.push(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
  }
  await handle.close().catch(() => undefined);
  return { kind: 'skip', file };
}

/** Coalesces the archiver's many small chunks (headers, descriptors) into large writes. */
class ChunkCoalescer extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_CHUNK_BYTES) this.flushPending();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.flushPending();
    callback();
  }

  private flushPending(): void {
    if (this.pendingBytes === 0) return;
    this.push(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

interface WriteOutcome {
  files: number;
  sourceBytes: number;
  digest: string;
  warnings: string[];
}

async function writeZip(zipPath: string, files: readonly SelectedFile[]): Promise<WriteOutcome> {
  // 'wx': the name is fresh inside a fresh mkdtemp folder; never reuse or follow anything there.
  const out = await open(zipPath, 'wx', 0o600);
  try {
    // The mode argument is filtered by the umask, which can only remove bits; chmod makes it exact.
    await out.chmod(0o600);
  } catch (error) {
    await out.close();
    throw error;
  }
  const sink = out.createWriteStream();
  const coalescer = new ChunkCoalescer();
  const archive = new ZipArchive({ zlib: { level: COMPRESSION_LEVEL } });
  const warnings: string[] = [];

  // Any error from the archiver, the sink or a source fails the whole build (a half-written entry
  // makes the zip unusable); `failed` lets every await below notice it.
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  archive.on('error', fail);
  archive.on('warning', fail);
  coalescer.on('error', fail);
  sink.on('error', fail);
  const closed = new Promise<void>((resolve) => sink.on('close', resolve));
  archive.pipe(coalescer).pipe(sink);

  // The archiver compresses one entry at a time; `processed` counts finished entries so the loop can
  // wait for a streamed entry (to hash it in order) and keep the archiver's queue short.
  let appended = 0;
  let processed = 0;
  let onProgress: () => void = () => undefined;
  archive.on('entry', () => {
    processed += 1;
    onProgress();
  });
  const drainTo = async (limit: number): Promise<void> => {
    while (appended - processed > limit) {
      await Promise.race([new Promise<void>((resolve) => (onProgress = resolve)), failed]);
    }
  };

  const digest = createHash('sha256').update(DIGEST_HEADER);
  let written = 0;
  let sourceBytes = 0;
  const loads: Array<Promise<Loaded> | undefined> = [];
  const startLoad = (index: number): void => {
    const file = files[index];
    if (file !== undefined && loads[index] === undefined) loads[index] = load(file, warnings);
  };
  let streaming: NodeJS.ReadableStream & { destroy(): void } | undefined;
  try {
    for (let index = 0; index < files.length; index += 1) {
      for (let ahead = index; ahead < Math.min(files.length, index + READ_AHEAD); ahead += 1) startLoad(ahead);
      const loaded = await Promise.race([loads[index] as Promise<Loaded>, failed]);
      loads[index] = undefined;
      const { file } = loaded;
      if (loaded.kind === 'skip') continue;
      let size: number;
      let contentHash: string;
      if (loaded.kind === 'buffer') {
        size = loaded.data.length;
        contentHash = createHash('sha256').update(loaded.data).digest('hex');
        archive.append(loaded.data, { name: file.rel, date: FIXED_MTIME, mode: file.mode });
        appended += 1;
        await drainTo(READ_AHEAD);
      } else {
        const source = loaded.handle.createReadStream({ start: 0 });
        streaming = source;
        const hashing = new HashingPassThrough();
        // archiver re-pipes the stream it is given, which does not forward errors: route them here.
        source.on('error', fail);
        hashing.on('error', fail);
        source.pipe(hashing);
        archive.append(hashing, { name: file.rel, date: FIXED_MTIME, mode: file.mode });
        appended += 1;
        // The hash is complete only once the archiver has consumed the whole stream.
        await drainTo(0);
        streaming = undefined;
        size = hashing.bytes;
        contentHash = hashing.hash.digest('hex');
      }
      digest.update(digestLine(file.rel, file.mode, size, contentHash));
      if (size !== file.size) {
        warnings.push(`${file.rel}: changed while archiving (${file.size} bytes when selected, ${size} archived)`);
      }
      written += 1;
      sourceBytes += size;
    }
    await drainTo(0);
    await Promise.race([archive.finalize(), failed]);
    await Promise.race([closed, failed]);
  } catch (error) {
    archive.abort();
    sink.destroy();
    streaming?.destroy();
    // Close whatever the read-ahead still holds open.
    for (const pending of loads) {
      const left = await pending?.catch(() => undefined);
      if (left?.kind === 'stream') await left.handle.close().catch(() => undefined);
    }
    await closed.catch(() => undefined);
    throw error;
  }
  return { files: written, sourceBytes, digest: digest.digest('hex'), warnings: warnings.sort() };
}

/**
 * Builds the source archive of `root` (or of `options.selection`). The caller owns the result and
 * must call `removeArchive` once the upload is done.
 */
export async function buildArchive(root: string, options: BuildOptions = {}): Promise<ArchiveResult> {
  const selection = options.selection ?? (await selectFiles(root));
  if (selection.files.length === 0) {
    throw new OdError('invalid_input', `Nothing to upload: every file in ${selection.root} is excluded`, {
      nextAction: 'Check .gitignore and .opendeployignore, or pass the folder that holds the app.',
      details: { ignored: selection.ignoredCount, excluded_secrets: selection.excludedSecrets },
    });
  }
  // mkdtemp creates the folder 0700 with an unguessable name: nobody else can read or pre-create the zip.
  let dir: string;
  try {
    dir = await mkdtemp(path.join(options.tmpRoot ?? os.tmpdir(), TEMP_PREFIX));
  } catch (error) {
    throw archiveError(error);
  }
  const zipPath = path.join(dir, 'source.zip');
  try {
    const outcome = await writeZip(zipPath, selection.files);
    if (outcome.files === 0) {
      throw new OdError('invalid_input', `Nothing to upload: no selected file in ${selection.root} could be read`, {
        nextAction: 'Check the file permissions of the project folder.',
      });
    }
    return {
      path: zipPath,
      dir,
      bytes: (await stat(zipPath)).size,
      files: outcome.files,
      sourceBytes: outcome.sourceBytes,
      digest: outcome.digest,
      excludedSecrets: selection.excludedSecrets,
      skippedSymlinks: selection.skippedSymlinks,
      warnings: [...selection.warnings, ...outcome.warnings],
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw archiveError(error);
  }
}

function archiveError(error: unknown): OdError {
  if (error instanceof OdError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new OdError('internal', `Could not write the source archive: ${message}`, {
    nextAction:
      code === 'ENOSPC'
        ? 'Free some disk space in the temp folder (or set TMPDIR) and try again.'
        : 'Try again; if it keeps failing, re-run with --verbose and report the output.',
    details: { code },
    cause: error,
  });
}

/** Deletes the archive's temp folder. Safe to call twice. */
export async function removeArchive(result: ArchiveResult): Promise<void> {
  // Recursive delete of a path that came from outside this module: only ever our own temp folders.
  if (!path.basename(result.dir).startsWith(TEMP_PREFIX) || path.dirname(result.path) !== result.dir) {
    throw new OdError('internal', `Refusing to delete ${result.dir}: not an opendeploy archive folder`);
  }
  await rm(result.dir, { recursive: true, force: true });
}
