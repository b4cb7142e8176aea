/**
 * Writes the selected files into a ZIP in a private temp folder, in sorted order. Small files are
 * read whole into one reused buffer, hashed and deflated synchronously on the main thread (or, when
 * asked, in batches on worker threads); big files are streamed chunk by chunk through zlib on
 * libuv's thread pool. Everything is written to the file in order through one reused output buffer,
 * and the central directory is kept as columns of numbers, so memory stays flat however big the
 * project is and the digest costs no second read. Already-compressed types (images, video,
 * archives, fonts, wasm...) and data that deflate cannot shrink are stored as they are.
 *
 * Output is deterministic: entries in sorted order, a fixed 1980-01-01 timestamp (the DOS epoch),
 * modes normalised to 0644/0755, fixed compression level, the same bytes whatever the number of
 * threads. The `digest` is computed from paths, modes and contents rather than from the zip bytes,
 * so it stays stable across zlib upgrades and the pipeline can rely on it to skip re-uploading
 * unchanged source.
 */
import crypto from 'node:crypto';
import fs, { constants } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import zlib from 'node:zlib';
import { OdError } from '../core/errors.js';
import { throwIfAborted } from '../core/sleep.js';
import { DeflatePool } from './deflate-pool.js';
import { Compressors, smallWindowBits, type DeflateSink } from './deflater.js';
import type { BatchRequest, BatchResponse } from './deflate-worker.js';
import { selectFiles, type SelectedFile, type Selection } from './select.js';
import { sweepStaleArchives } from './stale-temp.js';
import { isPrecompressedName } from './stored-types.js';
import {
  centralEntryBytes,
  endRecords,
  localHeaderBytes,
  METHOD_DEFLATED,
  METHOD_STORED,
  writeCentralEntry,
  writeLocalHeader,
  writeLocalSizes,
} from './zip-format.js';
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
   * the selected files' sizes); `done` reaches `total` at the end. Calls come per 1 MiB (or 256
   * files) of small files and per 1 MiB of a big file, so a progress display should still throttle
   * its redraws.
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads compressing small files in parallel. Defaults to 0: everything on the main
   * thread, which measured as fast on two cores (big files already deflate on libuv's thread pool)
   * while each worker thread adds ~10 MiB to the process's peak memory. The zip is byte-identical
   * whatever the count.
   */
  workers?: number;
  /**
   * Whether files are compressed by a few reused compressors writing into the writer's own buffers
   * (deflater.ts; the default where this Node allows it) rather than by zlib's public API, which
   * creates a compressor and fresh output Buffers for every file. The zip bytes are the same either
   * way; `false` exists to show that, and to compare memory and time.
   */
  reuseCompressors?: boolean;
  /**
   * Aborted (Ctrl-C), the archive stops at its next turn of the event loop (after at most 1 MiB),
   * removes its temp folder and throws `interrupted`.
   */
  signal?: AbortSignal;
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

/** Files up to this size are read whole (on the main thread, or by a worker); bigger ones are streamed in chunks. */
const SMALL_FILE_BYTES = 1024 * 1024;

/** A worker batch closes at this many files or bytes: big enough to amortise a message, small enough to spread. */
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

/** Read size for streamed files. */
const CHUNK_BYTES = 1024 * 1024;

/** The output coalesces small writes to this size; bigger pieces are written as they are. */
const OUTPUT_BYTES = 256 * 1024;

/**
 * The writer works synchronously (each step is a local read, hash, compression or write), so it lets
 * the event loop turn after at most this much source: a Ctrl-C, a progress redraw or a request
 * waiting on a socket is never held up for longer than compressing 1 MiB takes.
 */
const YIELD_BYTES = 1024 * 1024;

/** Without worker threads, progress is reported after at least this many bytes or files. */
const PROGRESS_BYTES = 1024 * 1024;
const PROGRESS_FILES = 256;

/** How much of a big file is test-compressed to decide whether deflate is worth it. */
const SAMPLE_BYTES = 128 * 1024;
/** Deflate that saves less than 3 % of the sample is not worth running over the whole file. */
const SAMPLE_MIN_SAVING = 0.03;

/** A streamed file gets zip64 sizes in its local header when it is this close to 4 GiB. */
const ZIP64_STREAM_THRESHOLD = 0xffff0000;
const MAX32 = 0xffffffff;

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** `pwrite` until all of `data` is at `position`. */
function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
}

/**
 * The zip file being written: small writes are coalesced into OUTPUT_BYTES writes through one reused
 * buffer, and headers are written straight into that buffer, so an entry costs no allocation.
 * Synchronous: a write to a local file takes microseconds, and through fs/promises every one of
 * them would cost a thread-pool round trip and a promise.
 */
class Output implements DeflateSink {
  /** Offset of the next byte written (buffered bytes included). */
  position = 0;
  readonly buffer = Buffer.allocUnsafeSlow(OUTPUT_BYTES);
  private flushed = 0;
  private used = 0;

  constructor(private readonly fd: number) {}

  /** Claims `bytes` (at most OUTPUT_BYTES) of the buffer for the caller to fill; returns where they start. */
  reserve(bytes: number): number {
    if (this.used + bytes > this.buffer.length) this.flush();
    const at = this.used;
    this.used += bytes;
    this.position += bytes;
    return at;
  }

  /** Makes at least `min` bytes free at the end of the buffer (writing out what it holds if needed); returns where they start. */
  room(min: number): number {
    if (this.buffer.length - this.used < min) this.flush();
    return this.used;
  }

  /** Counts `bytes` written by someone else into the buffer at `room()`'s offset. */
  commit(bytes: number): void {
    this.used += bytes;
    this.position += bytes;
  }

  write(data: Uint8Array): void {
    if (data.length > this.buffer.length - this.used) {
      this.flush();
      if (data.length >= this.buffer.length) {
        writeAllSync(this.fd, data, this.flushed);
        this.flushed += data.length;
        this.position += data.length;
        return;
      }
    }
    this.buffer.set(data, this.used);
    this.used += data.length;
    this.position += data.length;
  }

  flush(): void {
    if (this.used === 0) return;
    writeAllSync(this.fd, this.buffer.subarray(0, this.used), this.flushed);
    this.flushed += this.used;
    this.used = 0;
  }

  /** Overwrites bytes already written (a streamed entry's header, once its sizes are known). */
  writeAt(data: Uint8Array, position: number): void {
    this.flush();
    writeAllSync(this.fd, data, position);
  }
}

/**
 * What the central directory needs of each written entry, in columns of numbers rather than an
 * object (or a Buffer) per entry: 100,000 entries cost a few MiB outside the JS heap and nothing
 * for the garbage collector to trace. Names come from the selection when the directory is written.
 */
class EntryTable {
  count = 0;
  private readonly fileIndex: Uint32Array;
  private readonly method: Uint8Array;
  private readonly crc: Uint32Array;
  private readonly size: Float64Array;
  private readonly compressedSize: Float64Array;
  private readonly offset: Float64Array;

  constructor(capacity: number) {
    this.fileIndex = new Uint32Array(capacity);
    this.method = new Uint8Array(capacity);
    this.crc = new Uint32Array(capacity);
    this.size = new Float64Array(capacity);
    this.compressedSize = new Float64Array(capacity);
    this.offset = new Float64Array(capacity);
  }

  add(fileIndex: number, method: number, crc: number, compressedSize: number, size: number, offset: number): void {
    const at = this.count;
    this.fileIndex[at] = fileIndex;
    this.method[at] = method;
    this.crc[at] = crc;
    this.compressedSize[at] = compressedSize;
    this.size[at] = size;
    this.offset[at] = offset;
    this.count += 1;
  }

  /** Writes the central directory and the end records. */
  writeDirectory(out: Output, files: readonly SelectedFile[]): void {
    const centralOffset = out.position;
    for (let at = 0; at < this.count; at += 1) {
      const file = files[this.fileIndex[at] as number] as SelectedFile;
      const entry = {
        method: this.method[at] as number,
        crc: this.crc[at] as number,
        compressedSize: this.compressedSize[at] as number,
        size: this.size[at] as number,
        offset: this.offset[at] as number,
        mode: file.mode,
      };
      const nameLength = Buffer.byteLength(file.rel, 'utf8');
      const start = out.reserve(centralEntryBytes(entry, nameLength));
      writeCentralEntry(out.buffer, start, entry, file.rel, nameLength);
    }
    out.write(endRecords(this.count, centralOffset, out.position - centralOffset));
  }
}

type Job = { kind: 'batch'; files: SelectedFile[]; first: number } | { kind: 'large'; file: SelectedFile; index: number };

/** For the worker threads: consecutive small files are grouped into batches; big files stand alone, in place. */
function planJobs(files: readonly SelectedFile[]): Job[] {
  const jobs: Job[] = [];
  let batch: SelectedFile[] = [];
  let first = 0;
  let batchBytes = 0;
  const close = (next: number): void => {
    if (batch.length > 0) jobs.push({ kind: 'batch', files: batch, first });
    batch = [];
    batchBytes = 0;
    first = next;
  };
  for (const [index, file] of files.entries()) {
    if (file.size > SMALL_FILE_BYTES) {
      close(index + 1);
      jobs.push({ kind: 'large', file, index });
      continue;
    }
    if (batch.length >= BATCH_FILES || (batch.length > 0 && batchBytes + file.size > BATCH_BYTES)) close(index);
    batch.push(file);
    batchBytes += file.size;
  }
  close(files.length);
  return jobs;
}

/** Reads up to `buffer.length` bytes at `position`; returns the part filled. */
function readAt(fd: number, buffer: Buffer, position: number): Buffer {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = fs.readSync(fd, buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Calls `write` on a zlib stream and resolves once zlib has taken all of `chunk`. */
function feed(deflate: zlib.DeflateRaw, chunk: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => deflate.write(chunk, (error) => (error ? reject(error) : resolve())));
}

/** What a streamed entry accumulates as its chunks go by. */
interface StreamedData {
  hash: crypto.Hash;
  crc: number;
  size: number;
  compressedSize: number;
}

const EMPTY = Buffer.alloc(0);

interface WriteOutcome {
  files: number;
  sourceBytes: number;
  digest: string;
  warnings: string[];
}

interface WriteOptions {
  signal?: AbortSignal | undefined;
  workers?: number | undefined;
  reuseCompressors?: boolean | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/**
 * The reused buffers: `whole` holds a small file (one byte more than the small-file size, to notice a
 * file that grew) and is also the chunk buffer of a streamed file; `spare` receives a small file's
 * compressed bytes or a big file's test-compressed sample and, on the public-API fallback, is the
 * second chunk buffer (one chunk is deflated while the other is read).
 */
class ReadBuffers {
  readonly whole: Buffer = Buffer.allocUnsafeSlow(SMALL_FILE_BYTES + 1);
  readonly first: Buffer = this.whole.subarray(0, CHUNK_BYTES);
  private second: Buffer | undefined;

  /** Allocated on first use: a project of precompressed files never needs it. */
  get spare(): Buffer {
    this.second ??= Buffer.allocUnsafeSlow(CHUNK_BYTES);
    return this.second;
  }
}

class ZipWriter {
  readonly warnings: string[] = [];
  private readonly digest = crypto.createHash('sha256').update(DIGEST_HEADER);
  private readonly entries: EntryTable;
  private readonly total: number;
  private done = 0;
  private reported = 0;
  private filesSinceReport = 0;
  private written = 0;
  private sourceBytes = 0;
  readonly buffers = new ReadBuffers();

  constructor(
    private readonly out: Output,
    private readonly files: readonly SelectedFile[],
    private readonly report: (done: number, total: number) => void,
    /** The reused compressors; `undefined` on a Node whose zlib handle they cannot drive (zlib's public API then). */
    private readonly compressors: Compressors | undefined,
    readonly signal: AbortSignal | undefined,
  ) {
    this.entries = new EntryTable(files.length);
    this.total = files.reduce((sum, file) => sum + file.size, 0);
  }

  /** Lets the event loop turn (see YIELD_BYTES), then stops here if the archive was aborted. */
  async giveWay(): Promise<void> {
    await nextTurn();
    throwIfAborted(this.signal);
  }

  /** Counts a file's selected size as processed, reporting progress every so often (or now). */
  progress(bytes: number, now = false): void {
    this.done += bytes;
    this.filesSinceReport += 1;
    if (now || this.done - this.reported >= PROGRESS_BYTES || this.filesSinceReport >= PROGRESS_FILES) this.flushProgress();
  }

  flushProgress(): void {
    this.reported = this.done;
    this.filesSinceReport = 0;
    this.report(this.done, this.total);
  }

  /** Adds a written file to the digest and the counts. */
  private record(file: SelectedFile, size: number, sha256: string): void {
    this.digest.update(digestLine(file.rel, file.mode, size, sha256));
    if (size !== file.size) {
      this.warnings.push(`${file.rel}: changed while archiving (${file.size} bytes when selected, ${size} archived)`);
    }
    this.written += 1;
    this.sourceBytes += size;
  }

  /** Writes an entry whose stored bytes are in hand: local header, then the data. */
  writeEntry(index: number, method: 0 | 8, crc: number, size: number, data: Uint8Array, sha256: string): void {
    const file = this.files[index] as SelectedFile;
    const nameLength = Buffer.byteLength(file.rel, 'utf8');
    const offset = this.out.position;
    const entry = { method, crc, compressedSize: data.length, size };
    const at = this.out.reserve(localHeaderBytes(nameLength, false));
    writeLocalHeader(this.out.buffer, at, entry, file.rel, false, nameLength);
    this.out.write(data);
    this.entries.add(index, method, crc, data.length, size, offset);
    this.record(file, size, sha256);
  }

  /**
   * One small file, on this thread: the same steps, checks and bytes as a worker's `processBatch`
   * (open without following a swapped-in link, read whole into a reused buffer, sha256,
   * CRC-32, deflate unless precompressed or not shrinking). Returns false when the file grew past
   * the small-file size since selection: the caller streams it instead.
   */
  small(index: number): boolean {
    const file = this.files[index] as SelectedFile;
    let fd: number;
    try {
      fd = fs.openSync(file.abs, OPEN_FLAGS);
    } catch (error) {
      this.warnings.push(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
      return true;
    }
    let data: Buffer;
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) {
        this.warnings.push(`${file.rel}: no longer a regular file, skipped`);
        return true;
      }
      if (st.size > SMALL_FILE_BYTES) return false;
      // One byte more than the size, to notice a file that grew since fstat.
      data = readAt(fd, this.buffers.whole.subarray(0, st.size + 1), 0);
      if (data.length > st.size) return false;
    } catch (error) {
      this.warnings.push(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
      return true;
    } finally {
      fs.closeSync(fd);
    }
    const sha256 = sha256Hex(data);
    const crc = zlib.crc32(data);
    if (data.length > 0 && !isPrecompressedName(file.rel)) {
      // Deflate that does not shrink the file (random bytes, say) is stored instead, as zip does.
      const deflated = this.deflateSmall(data);
      if (deflated !== undefined) {
        this.writeEntry(index, 8, crc, data.length, deflated, sha256);
        return true;
      }
    }
    this.writeEntry(index, 0, crc, data.length, data, sha256);
    return true;
  }

  /** A small file's deflated bytes when they are fewer than the file's, else `undefined`. */
  private deflateSmall(data: Buffer): Buffer | undefined {
    if (this.compressors === undefined) {
      const deflated = zlib.deflateRawSync(data, smallDeflateOptions(data.length));
      return deflated.length < data.length ? deflated : undefined;
    }
    const scratch = this.buffers.spare;
    const length = this.compressors.compressSmall(data, scratch);
    return length === -1 ? undefined : scratch.subarray(0, length);
  }

  /**
   * Streams one big file into the zip: header with placeholder sizes, data chunk by chunk (hashed,
   * CRC'd and, when worth it, deflated), then the header patched with the real CRC and sizes. One
   * reused 1 MiB buffer holds the file's data, and the compressor writes straight into the output
   * buffer. Without the reused compressor (see deflater.ts) zlib's public stream deflates on libuv's
   * thread pool while the next chunk is read into a second buffer.
   */
  async stream(index: number): Promise<void> {
    const file = this.files[index] as SelectedFile;
    const before = this.done;
    const skip = (warning: string): void => {
      this.warnings.push(warning);
      this.done = before + file.size;
      this.flushProgress();
    };
    let fd: number;
    try {
      fd = fs.openSync(file.abs, OPEN_FLAGS);
    } catch (error) {
      skip(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
      return;
    }
    try {
      let st: fs.Stats;
      let chunk: Buffer;
      try {
        st = fs.fstatSync(fd);
        if (!st.isFile()) {
          skip(`${file.rel}: no longer a regular file, skipped`);
          return;
        }
        chunk = readAt(fd, this.buffers.first, 0);
      } catch (error) {
        skip(`${file.rel}: unreadable while archiving (${errorCode(error)}), skipped`);
        return;
      }
      const out = this.out;
      const nameLength = Buffer.byteLength(file.rel, 'utf8');
      const method = this.worthDeflating(file.rel, chunk) ? METHOD_DEFLATED : METHOD_STORED;
      const zip64 = st.size >= ZIP64_STREAM_THRESHOLD;
      const offset = out.position;
      const header = Buffer.alloc(localHeaderBytes(nameLength, zip64));
      writeLocalHeader(header, 0, { method, crc: 0, compressedSize: 0, size: 0 }, file.rel, zip64, nameLength);
      out.write(header);

      const data: StreamedData = { hash: crypto.createHash('sha256'), crc: 0, size: 0, compressedSize: 0 };
      /** Takes a chunk read: digest, CRC, size and progress. */
      const take = (piece: Buffer): void => {
        data.hash.update(piece);
        data.crc = zlib.crc32(piece, data.crc);
        data.size += piece.length;
        this.done = Math.min(before + file.size, this.done + piece.length);
        this.flushProgress();
      };
      // One chunk (CHUNK_BYTES = YIELD_BYTES) at a time, letting the event loop turn between them.
      if (method === METHOD_STORED) {
        for (; chunk.length > 0; chunk = readAt(fd, this.buffers.first, data.size)) {
          take(chunk);
          data.compressedSize += chunk.length;
          out.write(chunk);
          await this.giveWay();
        }
      } else if (this.compressors !== undefined) {
        const deflater = this.compressors.big;
        try {
          for (; chunk.length > 0; chunk = readAt(fd, this.buffers.first, data.size)) {
            take(chunk);
            data.compressedSize += deflater.push(chunk, out, false);
            await this.giveWay();
          }
          data.compressedSize += deflater.push(EMPTY, out, true);
        } catch (error) {
          // The archive fails; the compressor must not carry this file's state into anything else.
          deflater.reset();
          throw error;
        }
      } else {
        await this.deflateThroughStream(fd, chunk, data, take);
      }
      const { crc, size, compressedSize } = data;
      if (!zip64 && (size >= MAX32 || compressedSize >= MAX32)) {
        throw new Error(`${file.rel} grew past 4 GiB while archiving`);
      }
      writeLocalSizes(header, 0, { crc, compressedSize, size }, zip64, nameLength);
      out.writeAt(header, offset);
      this.entries.add(index, method, crc, compressedSize, size, offset);
      this.record(file, size, data.hash.digest('hex'));
      this.done = before + file.size;
      this.flushProgress();
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * The public-API way to deflate a streamed file (when the reused compressor is not available):
   * zlib's stream works on one chunk on the thread pool while the next is read into the other
   * buffer, and its output (fresh Buffers) is written as it comes.
   */
  private async deflateThroughStream(fd: number, first: Buffer, data: StreamedData, take: (piece: Buffer) => void): Promise<void> {
    let current: Buffer = this.buffers.first;
    let spare: Buffer = this.buffers.spare;
    const produced: Buffer[] = [];
    const drain = (): void => {
      for (const piece of produced.splice(0)) {
        data.compressedSize += piece.length;
        this.out.write(piece);
      }
    };
    const deflate = zlib.createDeflateRaw({ level: COMPRESSION_LEVEL, chunkSize: 64 * 1024 });
    deflate.on('data', (piece: Buffer) => produced.push(piece));
    const ended = once(deflate, 'end');
    ended.catch(() => undefined);
    try {
      for (let chunk = first; chunk.length > 0; ) {
        take(chunk);
        // The write callback fires once zlib no longer needs the chunk.
        const fed = feed(deflate, chunk);
        fed.catch(() => undefined);
        const next = readAt(fd, spare, data.size);
        await fed;
        drain();
        [current, spare] = [spare, current];
        chunk = next;
      }
      deflate.end();
      await ended;
      drain();
    } finally {
      deflate.destroy();
    }
  }

  /** Whether a big file is worth deflating: by its name, then by test-compressing its first bytes. */
  private worthDeflating(rel: string, head: Buffer): boolean {
    if (isPrecompressedName(rel)) return false;
    const sample = head.subarray(0, SAMPLE_BYTES);
    if (sample.length === 0) return false;
    const limit = Math.floor(sample.length * (1 - SAMPLE_MIN_SAVING));
    if (this.compressors === undefined) return zlib.deflateRawSync(sample, { level: COMPRESSION_LEVEL }).length <= limit;
    const length = this.compressors.big.compressWhole(sample, this.buffers.spare);
    return length !== -1 && length <= limit;
  }

  finish(): WriteOutcome {
    this.entries.writeDirectory(this.out, this.files);
    this.out.flush();
    this.flushProgress();
    return { files: this.written, sourceBytes: this.sourceBytes, digest: this.digest.digest('hex'), warnings: this.warnings.sort() };
  }
}

/** sha256 in hex; crypto.hash (Node >= 20.12) skips the Hash object: a third of the cost for a 1 KiB file. */
function sha256Hex(data: Buffer): string {
  return typeof crypto.hash === 'function' ? crypto.hash('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Deflate options for a small file on zlib's public API, the same as a worker's and the reused
 * compressors' (the window decides the bytes: see smallWindowBits), with an output chunk near the
 * input size.
 */
function smallDeflateOptions(size: number): zlib.ZlibOptions {
  return { level: COMPRESSION_LEVEL, windowBits: smallWindowBits(size), chunkSize: Math.min(16 * 1024, Math.max(64, size + 64)) };
}

/** Every file on this thread, in order: small ones read whole, big ones streamed. */
async function writeInline(writer: ZipWriter, files: readonly SelectedFile[]): Promise<void> {
  let sinceTurn = 0;
  for (let index = 0; index < files.length; index += 1) {
    const file = files[index] as SelectedFile;
    if (file.size > SMALL_FILE_BYTES || !writer.small(index)) {
      await writer.stream(index);
      continue;
    }
    writer.progress(file.size);
    sinceTurn += file.size + 1;
    if (sinceTurn >= YIELD_BYTES) {
      sinceTurn = 0;
      await writer.giveWay();
    }
  }
}

/** Small files in batches on `workers` threads, written in order as their results come back. */
async function writeWithWorkers(writer: ZipWriter, files: readonly SelectedFile[], workers: number): Promise<void> {
  const jobs = planJobs(files);
  const pool = new DeflatePool(workers);
  const batchesAhead = workers * BATCHES_AHEAD_PER_WORKER + 1;
  try {
    // Batches are dispatched ahead of the writer (bounded), awaited in order.
    const pending = new Map<number, { slot: SharedArrayBuffer; response: Promise<BatchResponse> }>();
    // One more slot than batches ahead: the batch being written keeps its slot while the next is out.
    const slots = Array.from({ length: batchesAhead + 1 }, () => new SharedArrayBuffer(SLOT_BYTES));
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
          const response = pool.run(request);
          // Awaited later, in order; this only keeps an early failure from being reported as unhandled.
          response.catch(() => undefined);
          pending.set(nextJob, { slot, response });
        }
        nextJob += 1;
      }
    };
    for (let index = 0; index < jobs.length; index += 1) {
      dispatch();
      const job = jobs[index] as Job;
      if (job.kind === 'large') {
        await writer.stream(job.index);
        continue;
      }
      const { slot, response: responded } = pending.get(index) as { slot: SharedArrayBuffer; response: Promise<BatchResponse> };
      pending.delete(index);
      dispatch();
      const response = await responded;
      const data = Buffer.from(slot);
      for (const [position, result] of response.results.entries()) {
        const fileIndex = job.first + position;
        const file = job.files[position] as SelectedFile;
        if (result.kind === 'skip') {
          writer.warnings.push(result.warning);
          writer.progress(file.size);
        } else if (result.kind === 'large') {
          // Grew past the small-file size since selection: streamed like any big file.
          await writer.stream(fileIndex);
        } else {
          const stored = data.subarray(result.start, result.start + result.compressedSize);
          writer.writeEntry(fileIndex, result.method, result.crc, result.size, stored, result.sha256);
          writer.progress(file.size);
        }
      }
      // Every write above has been copied or written out: the slot can be refilled.
      slots.push(slot);
      writer.flushProgress();
      throwIfAborted(writer.signal);
    }
  } finally {
    await pool.close();
  }
}

async function writeZip(zipPath: string, files: readonly SelectedFile[], options: WriteOptions): Promise<WriteOutcome> {
  const workers = Math.max(0, Math.floor(options.workers ?? 0));
  // 'wx': the name is fresh inside a fresh mkdtemp folder; never reuse or follow anything there.
  const fd = fs.openSync(zipPath, 'wx', 0o600);
  const compressors = options.reuseCompressors === false ? undefined : Compressors.open(COMPRESSION_LEVEL);
  try {
    // The mode argument is filtered by the umask, which can only remove bits; chmod makes it exact.
    fs.fchmodSync(fd, 0o600);
    const writer = new ZipWriter(new Output(fd), files, options.onProgress ?? (() => undefined), compressors, options.signal);
    if (workers > 0) await writeWithWorkers(writer, files, workers);
    else await writeInline(writer, files);
    return writer.finish();
  } finally {
    compressors?.close();
    fs.closeSync(fd);
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
  const tmpRoot = options.tmpRoot ?? os.tmpdir();
  // What killed runs left behind (see stale-temp.ts) goes before this run adds its own.
  await sweepStaleArchives(tmpRoot, TEMP_PREFIX);
  // mkdtemp creates the folder 0700 with an unguessable name: nobody else can read or pre-create the zip.
  let dir: string;
  try {
    dir = await mkdtemp(path.join(tmpRoot, TEMP_PREFIX));
  } catch (error) {
    throw archiveError(error);
  }
  const zipPath = path.join(dir, 'source.zip');
  try {
    const outcome = await writeZip(zipPath, selection.files, {
      workers: options.workers,
      onProgress: options.onProgress,
      reuseCompressors: options.reuseCompressors,
      signal: options.signal,
    });
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
