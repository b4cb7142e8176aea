/**
 * Writes the selected files into a ZIP in a private temp folder, in sorted order. Small files are
 * read, hashed and deflated in batches on a few worker threads in parallel; big files are streamed
 * chunk by chunk; everything is written to the file in order, with a bounded number of batches in
 * flight, so memory stays flat however big the project is and the digest costs no second read.
 * Already-compressed types (images, video, archives, fonts, wasm...) and data that deflate cannot
 * shrink are stored as they are.
 *
 * Output is deterministic: entries in sorted order, a fixed 1980-01-01 timestamp (the DOS epoch),
 * modes normalised to 0644/0755, fixed compression level, the same bytes whatever the number of
 * threads. The `digest` is computed from paths, modes and contents rather than from the zip bytes,
 * so it stays stable across zlib upgrades and the pipeline can rely on it to skip re-uploading
 * unchanged source.
 */
import crypto from 'node:crypto';
import fs, { constants } from 'node:fs';
import { mkdtemp, open, rm, stat, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { OdError } from '../core/errors.js';
import { DeflatePool } from './deflate-pool.js';
import { processBatch, type BatchRequest, type BatchResponse, type WorkerDeps } from './deflate-worker.js';
import { selectFiles, type SelectedFile, type Selection } from './select.js';
import { isPrecompressedName } from './stored-types.js';
import { centralEntry, endRecords, localHeader, METHOD_DEFLATED, METHOD_STORED, writeLocalSizes } from './zip-format.js';
import { errorCode } from '../core/records.js';

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
  /**
   * Called as entries are written with bytes of source processed so far and the total (the sum of
   * the selected files' sizes); `done` reaches `total` at the end. Calls come per batch of small
   * files and per 1 MiB of a big file, so a progress display should still throttle its redraws.
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads compressing in parallel; defaults to os.availableParallelism(), or none for a
   * small project where starting threads costs more than it saves. 0 compresses on the main thread.
   * The zip is byte-identical whatever the count.
   */
  workers?: number;
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

/** Files up to this size are read whole by a worker; bigger ones are streamed in chunks. */
const SMALL_FILE_BYTES = 1024 * 1024;

/** A batch closes at this many files or bytes: big enough to amortise a message, small enough to spread. */
const BATCH_FILES = 256;
const BATCH_BYTES = 1024 * 1024;

/**
 * Batches handed out ahead of the one being written, per worker. With BATCH_BYTES this bounds the
 * file data in flight to about (workers x 2 + 1) x 1 MiB of input plus its compressed copy.
 */
const BATCHES_AHEAD_PER_WORKER = 2;

/**
 * Room for one batch's stored bytes: deflate output is never kept when bigger than its input, so a
 * batch fits unless its files grew since selection (those are then streamed instead).
 */
const SLOT_BYTES = BATCH_BYTES + 64 * 1024;

/** Below these, starting threads costs more than it saves: the batches run on the main thread. */
const INLINE_MAX_FILES = 512;
const INLINE_MAX_BYTES = 2 * 1024 * 1024;

/** Read and write size for streamed files, and the size writes are coalesced to. */
const CHUNK_BYTES = 1024 * 1024;

/** How much of a big file is test-compressed to decide whether deflate is worth it. */
const SAMPLE_BYTES = 128 * 1024;
/** Deflate that saves less than 3 % of the sample is not worth running over the whole file. */
const SAMPLE_MIN_SAVING = 0.03;

/** A streamed file gets zip64 sizes in its local header when it is this close to 4 GiB. */
const ZIP64_STREAM_THRESHOLD = 0xffff0000;
const MAX32 = 0xffffffff;

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

const DEPS: Omit<WorkerDeps, 'scratch'> = { fs, zlib, crypto };

/**
 * Coalesces small writes into CHUNK_BYTES writes through one reused buffer (no garbage per write)
 * and tracks the offset of the next byte. Every write is awaited, so a caller may reuse its buffer
 * as soon as `write` resolves.
 */
class Output {
  /** Offset of the next byte written (buffered bytes included). */
  position = 0;
  private flushed = 0;
  private readonly buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private buffered = 0;

  constructor(private readonly handle: FileHandle) {}

  async write(data: Uint8Array): Promise<void> {
    this.position += data.length;
    if (data.length >= CHUNK_BYTES) {
      await this.flush();
      await this.writeAll(data, this.flushed);
      this.flushed += data.length;
      return;
    }
    if (this.buffered + data.length > CHUNK_BYTES) await this.flush();
    this.buffer.set(data, this.buffered);
    this.buffered += data.length;
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const length = this.buffered;
    this.buffered = 0;
    await this.writeAll(this.buffer.subarray(0, length), this.flushed);
    this.flushed += length;
  }

  /** Overwrites bytes already written (a streamed entry's header, once its sizes are known). */
  async writeAt(data: Uint8Array, position: number): Promise<void> {
    await this.flush();
    await this.writeAll(data, position);
  }

  private async writeAll(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }
}

type Job = { kind: 'batch'; files: SelectedFile[] } | { kind: 'large'; file: SelectedFile };

/** Consecutive small files are grouped into batches; big files stand alone, in place. */
function planJobs(files: readonly SelectedFile[]): Job[] {
  const jobs: Job[] = [];
  let batch: SelectedFile[] = [];
  let batchBytes = 0;
  const close = (): void => {
    if (batch.length > 0) jobs.push({ kind: 'batch', files: batch });
    batch = [];
    batchBytes = 0;
  };
  for (const file of files) {
    if (file.size > SMALL_FILE_BYTES) {
      close();
      jobs.push({ kind: 'large', file });
      continue;
    }
    if (batch.length >= BATCH_FILES || (batch.length > 0 && batchBytes + file.size > BATCH_BYTES)) close();
    batch.push(file);
    batchBytes += file.size;
  }
  close();
  return jobs;
}

/** Whether a big file is worth deflating: by its name, then by test-compressing its first bytes. */
function worthDeflating(rel: string, head: Buffer): boolean {
  if (isPrecompressedName(rel)) return false;
  const sample = head.subarray(0, SAMPLE_BYTES);
  if (sample.length === 0) return false;
  const deflated = zlib.deflateRawSync(sample, { level: COMPRESSION_LEVEL });
  return deflated.length <= sample.length * (1 - SAMPLE_MIN_SAVING);
}

interface Streamed {
  size: number;
  sha256: string;
}

/**
 * Streams one big file into the zip: header with placeholder sizes, data chunk by chunk (hashed,
 * CRC'd and, when worth it, deflated by zlib off the main thread), then the header patched with the
 * real CRC and sizes. Only a chunk or two of the file is ever in memory.
 */
async function streamEntry(
  file: SelectedFile,
  out: Output,
  central: Buffer[],
  warnings: string[],
  onBytes: (bytes: number) => void,
): Promise<Streamed | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file.abs, OPEN_FLAGS);
  } catch (error) {
    warnings.push(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
    return undefined;
  }
  try {
    let st;
    let head: Buffer;
    try {
      st = await handle.stat();
      if (!st.isFile()) {
        warnings.push(`${file.rel}: no longer a regular file, skipped`);
        return undefined;
      }
      head = await readChunk(handle, 0);
    } catch (error) {
      warnings.push(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
      return undefined;
    }
    const name = Buffer.from(file.rel, 'utf8');
    const method = worthDeflating(file.rel, head) ? METHOD_DEFLATED : METHOD_STORED;
    const zip64 = st.size >= ZIP64_STREAM_THRESHOLD;
    const offset = out.position;
    const header = localHeader({ name, method, crc: 0, compressedSize: 0, size: 0 }, zip64);
    await out.write(header);

    const hash = crypto.createHash('sha256');
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const emit = async (piece: Uint8Array): Promise<void> => {
      compressedSize += piece.length;
      await out.write(piece);
    };
    // zlib runs on libuv's thread pool; a chunk's write callback fires once zlib has consumed it
    // all, so the one read buffer can be refilled then, and the output is drained as it comes.
    const deflate = method === METHOD_DEFLATED ? zlib.createDeflateRaw({ level: COMPRESSION_LEVEL, chunkSize: 64 * 1024 }) : undefined;
    const produced: Buffer[] = [];
    deflate?.on('data', (piece: Buffer) => produced.push(piece));
    const ended = deflate === undefined ? undefined : once(deflate, 'end');
    ended?.catch(() => undefined);
    try {
      let chunk = head;
      while (chunk.length > 0) {
        hash.update(chunk);
        crc = zlib.crc32(chunk, crc);
        size += chunk.length;
        onBytes(chunk.length);
        if (deflate === undefined) {
          await emit(chunk);
        } else {
          const current = chunk;
          await new Promise<void>((resolve, reject) => deflate.write(current, (error) => (error ? reject(error) : resolve())));
          for (const piece of produced.splice(0)) await emit(piece);
        }
        chunk = await readChunk(handle, size, head);
      }
      if (deflate !== undefined) {
        deflate.end();
        await ended;
        for (const piece of produced.splice(0)) await emit(piece);
      }
    } finally {
      deflate?.destroy();
    }
    if (!zip64 && (size >= MAX32 || compressedSize >= MAX32)) {
      throw new Error(`${file.rel} grew past 4 GiB while archiving`);
    }
    writeLocalSizes(header, 0, { crc, compressedSize, size }, zip64, name.length);
    await out.writeAt(header, offset);
    central.push(centralEntry({ name, method, crc, compressedSize, size, offset, mode: file.mode }));
    return { size, sha256: hash.digest('hex') };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Reads up to CHUNK_BYTES at `position`, into `reuse` when given (its whole backing buffer). */
async function readChunk(handle: FileHandle, position: number, reuse?: Buffer): Promise<Buffer> {
  const buffer = reuse === undefined ? Buffer.allocUnsafeSlow(CHUNK_BYTES) : Buffer.from(reuse.buffer, reuse.byteOffset, CHUNK_BYTES);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

interface WriteOutcome {
  files: number;
  sourceBytes: number;
  digest: string;
  warnings: string[];
}

interface WriteOptions {
  workers?: number | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

async function writeZip(zipPath: string, files: readonly SelectedFile[], options: WriteOptions): Promise<WriteOutcome> {
  const jobs = planJobs(files);
  const small = files.filter((file) => file.size <= SMALL_FILE_BYTES);
  const smallBytes = small.reduce((sum, file) => sum + file.size, 0);
  const inline = small.length <= INLINE_MAX_FILES && smallBytes <= INLINE_MAX_BYTES;
  const workers = Math.max(0, Math.floor(options.workers ?? (inline ? 0 : os.availableParallelism())));
  const pool = workers > 0 ? new DeflatePool(workers) : undefined;
  const batchesAhead = Math.max(1, workers) * BATCHES_AHEAD_PER_WORKER + 1;

  // 'wx': the name is fresh inside a fresh mkdtemp folder; never reuse or follow anything there.
  const handle = await open(zipPath, 'wx', 0o600);
  try {
    // The mode argument is filtered by the umask, which can only remove bits; chmod makes it exact.
    await handle.chmod(0o600);
    const out = new Output(handle);
    const warnings: string[] = [];
    const central: Buffer[] = [];
    const digest = crypto.createHash('sha256').update(DIGEST_HEADER);
    const total = files.reduce((sum, file) => sum + file.size, 0);
    let done = 0;
    const report = options.onProgress ?? (() => undefined);
    let written = 0;
    let sourceBytes = 0;

    const record = (file: SelectedFile, size: number, sha256: string): void => {
      digest.update(digestLine(file.rel, file.mode, size, sha256));
      if (size !== file.size) {
        warnings.push(`${file.rel}: changed while archiving (${file.size} bytes when selected, ${size} archived)`);
      }
      written += 1;
      sourceBytes += size;
    };
    const stream = async (file: SelectedFile): Promise<void> => {
      const before = done;
      const streamed = await streamEntry(file, out, central, warnings, (bytes) => {
        done = Math.min(before + file.size, done + bytes);
        report(done, total);
      });
      done = before + file.size;
      if (streamed !== undefined) record(file, streamed.size, streamed.sha256);
    };

    // Batches are dispatched ahead of the writer (bounded), awaited in order.
    const pending = new Map<number, { slot: SharedArrayBuffer; response: Promise<BatchResponse> }>();
    // One more slot than batches ahead: the batch being written keeps its slot while the next is out.
    const slots = Array.from({ length: batchesAhead + 1 }, () => new SharedArrayBuffer(SLOT_BYTES));
    const scratch = Buffer.allocUnsafeSlow(SMALL_FILE_BYTES + 1);
    let nextJob = 0;
    const dispatch = (): void => {
      while (nextJob < jobs.length && pending.size < batchesAhead) {
        const job = jobs[nextJob] as Job;
        if (job.kind === 'batch') {
          const slot = slots.pop() as SharedArrayBuffer;
          const request: BatchRequest = {
            out: slot,
            files: job.files.map((file) => ({ rel: file.rel, abs: file.abs, store: isPrecompressedName(file.rel) })),
            maxBytes: SMALL_FILE_BYTES,
            level: COMPRESSION_LEVEL,
          };
          const response = pool !== undefined ? pool.run(request) : Promise.resolve().then(() => processBatch(request, { ...DEPS, scratch }));
          // Awaited later, in order; this only keeps an early failure from being reported as unhandled.
          response.catch(() => undefined);
          pending.set(nextJob, { slot, response });
        }
        nextJob += 1;
      }
    };

    try {
      for (let index = 0; index < jobs.length; index += 1) {
        dispatch();
        const job = jobs[index] as Job;
        if (job.kind === 'large') {
          await stream(job.file);
          continue;
        }
        const { slot, response: responded } = pending.get(index) as { slot: SharedArrayBuffer; response: Promise<BatchResponse> };
        pending.delete(index);
        dispatch();
        const response = await responded;
        const data = Buffer.from(slot);
        for (const [position, result] of response.results.entries()) {
          const file = job.files[position] as SelectedFile;
          if (result.kind === 'skip') {
            warnings.push(result.warning);
            done += file.size;
          } else if (result.kind === 'large') {
            // Grew past the small-file size since selection: streamed like any big file.
            await stream(file);
          } else {
            const name = Buffer.from(file.rel, 'utf8');
            const offset = out.position;
            const entry = { name, method: result.method, crc: result.crc, compressedSize: result.compressedSize, size: result.size };
            await out.write(localHeader(entry, false));
            await out.write(data.subarray(result.start, result.start + result.compressedSize));
            central.push(centralEntry({ ...entry, offset, mode: file.mode }));
            record(file, result.size, result.sha256);
            done += file.size;
          }
        }
        // Every write above has completed: the slot's bytes are in the file and it can be refilled.
        slots.push(slot);
        report(done, total);
      }
      const centralOffset = out.position;
      let centralSize = 0;
      for (const entry of central) {
        centralSize += entry.length;
        await out.write(entry);
      }
      await out.write(endRecords(central.length, centralOffset, centralSize));
      await out.flush();
    } finally {
      await pool?.close();
    }
    return { files: written, sourceBytes, digest: digest.digest('hex'), warnings: warnings.sort() };
  } finally {
    await handle.close();
  }
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
    const outcome = await writeZip(zipPath, selection.files, { workers: options.workers, onProgress: options.onProgress });
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
