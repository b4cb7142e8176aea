/**
 * Raw-deflate compressors reused for a whole archive, writing straight into buffers the writer owns.
 *
 * Why not `zlib.deflateRawSync` per file and a zlib stream per big file: every call of zlib's public
 * API creates a compressor (a native state of ~100-300 KiB, a stream object with its event
 * machinery) and hands its output out in freshly allocated Buffers. Those Buffers are garbage the
 * moment the writer has copied them, but only a garbage collection frees them, and while a big file
 * streams the writer allocates almost nothing else on the JS heap, so none comes: measured on a
 * 300 MiB tree with two compressible 30 MiB files, ~10 MiB of spent output piled up that way, and
 * 20,000 small files left ~20,000 compressor objects behind.
 *
 * Here a few compressors are created per archive and reset between files (`reset()`, public API),
 * and input is fed through the native handle's synchronous `writeSync`, with the output going into
 * the caller's buffer: the very call Node's own synchronous zlib functions make, minus their output
 * allocation. The handle is not public API, so `RawDeflater.open` checks it has the shape this
 * relies on (it has been the same since Node 10, up to the current releases) and returns
 * `undefined` otherwise; the writer then falls back to the public API (same bytes, more garbage).
 *
 * The bytes are exactly zlib's: a big file fed in pieces with `Z_NO_FLUSH` then `Z_FINISH` equals
 * `deflateRawSync(file, { level })`, and a small file compressed by `Compressors` equals
 * `deflateRawSync(file, { level, windowBits })` (see there for what that takes), so archives keep
 * the bytes of earlier releases and of the deflate workers.
 */
import zlib from 'node:zlib';

const { Z_NO_FLUSH, Z_FINISH } = zlib.constants;

/** The native handle's synchronous write, as Node's `processChunkSync` calls it. */
interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void;
}

/**
 * Somewhere for compressed bytes to go: `room(min)` makes at least `min` bytes free at the end of
 * `buffer` (writing out what it holds when needed) and returns where they start; `commit(n)` says n
 * of them were filled.
 */
export interface DeflateSink {
  readonly buffer: Buffer;
  room(min: number): number;
  commit(bytes: number): void;
}

/** Less free space than this in the sink's buffer is written out first, so each call makes real progress. */
const MIN_ROOM = 16 * 1024;

export class RawDeflater {
  private constructor(
    private readonly stream: zlib.DeflateRaw,
    private readonly handle: NativeHandle,
    /** zlib's answer to each write: [output bytes left unused, input bytes left unread]. */
    private readonly state: Uint32Array,
  ) {}

  /** A compressor, or `undefined` when this Node's zlib handle is not the shape relied on. */
  static open(level: number, windowBits = 15): RawDeflater | undefined {
    const stream = zlib.createDeflateRaw({ level, windowBits });
    // An error is reported through the stream (it is destroyed synchronously); `check` turns it into a throw.
    stream.on('error', () => undefined);
    const internals = stream as unknown as { _handle?: Partial<NativeHandle>; _writeState?: unknown };
    const handle = internals._handle;
    const state = internals._writeState;
    if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2 || typeof stream.reset !== 'function') {
      stream.close();
      return undefined;
    }
    return new RawDeflater(stream, handle as NativeHandle, state);
  }

  /**
   * Compresses the whole of `input` into the start of `into` (at least `input.length` bytes long)
   * to see how well it compresses. Returns the compressed length when it is smaller than the
   * input, or -1 when deflate does not shrink it. The compressor is ready for the next file after.
   */
  compressWhole(input: Uint8Array, into: Buffer): number {
    const room = input.length;
    this.handle.writeSync(Z_FINISH, input, 0, input.length, into, 0, room);
    this.check();
    const unusedOutput = this.state[0] as number;
    this.stream.reset();
    // No output room left: the compressed form is at least as long as the input (or still going).
    return unusedOutput === 0 ? -1 : room - unusedOutput;
  }

  /**
   * Feeds the next piece of a file being streamed (`finish` on the last call, which may be empty)
   * and writes what zlib produces into `sink`. Returns the compressed bytes written. After the
   * finishing call the compressor is ready for the next file.
   */
  push(input: Uint8Array, sink: DeflateSink, finish: boolean): number {
    const flush = finish ? Z_FINISH : Z_NO_FLUSH;
    let inOffset = 0;
    let inLength = input.length;
    let produced = 0;
    for (;;) {
      const at = sink.room(MIN_ROOM);
      const room = sink.buffer.length - at;
      this.handle.writeSync(flush, input, inOffset, inLength, sink.buffer, at, room);
      this.check();
      const unusedOutput = this.state[0] as number;
      const unreadInput = this.state[1] as number;
      sink.commit(room - unusedOutput);
      produced += room - unusedOutput;
      inOffset += inLength - unreadInput;
      inLength = unreadInput;
      // Output room left over means zlib took all the input (and, finishing, ended the stream).
      if (unusedOutput !== 0) break;
    }
    if (finish) this.stream.reset();
    return produced;
  }

  /** Forgets a file fed in part (one that failed mid-way), ready for the next. */
  reset(): void {
    this.stream.reset();
  }

  close(): void {
    this.stream.close();
  }

  /** A zlib error destroys the stream synchronously, with the error on it. */
  private check(): void {
    if (this.stream.destroyed) throw this.stream.errored ?? new Error('zlib failed while compressing');
  }
}


/**
 * The smallest deflate window (in bits) that still reaches back over a whole file of `size` bytes:
 * zlib's state grows with the window. It also changes the bytes of some files, so the deflate
 * workers choose it the same way.
 */
export function smallWindowBits(size: number): number {
  for (let bits = 9; bits < 15; bits += 1) if ((1 << bits) - 262 >= size) return bits;
  return 15;
}

/**
 * Zeros fed to a compressor to wipe what earlier files left in its window: as many as the biggest
 * window holds (2 x 32 KiB), and a margin: a longer input has overwritten all of it anyway.
 */
const WIPE_BYTES = 2 * 32 * 1024 + 1024;
let zeros: Buffer | undefined;

/**
 * The compressors of one archive: `big` (the full window) for files streamed in pieces and for the
 * samples that decide whether a big file is worth deflating, and one per window size for whole
 * small files, each reused from file to file with the same bytes as a fresh compressor gives.
 *
 * `reset()` alone does not give them: it leaves the earlier input in the window, and the match
 * search can read a few bytes past the end of the current input, so a file shorter than one before
 * it could come out differently (measured: 31 of 700 files, by a byte). Compressing as many zeros
 * as the longest earlier input first rewrites that part of the window with what a fresh compressor
 * holds there (zlib zero-fills past the data it has seen), so the next file meets exactly a fresh
 * compressor's window. A run of zeros costs microseconds; a compressor per file costs a stream
 * object, its native state and its output buffers.
 */
export class Compressors {
  private readonly small = new Map<number, { deflater: RawDeflater; dirty: number }>();

  private constructor(
    private readonly level: number,
    readonly big: RawDeflater,
  ) {}

  /** The set, or `undefined` when this Node's zlib cannot be driven this way (see RawDeflater.open). */
  static open(level: number): Compressors | undefined {
    const big = RawDeflater.open(level);
    return big === undefined ? undefined : new Compressors(level, big);
  }

  /**
   * Compresses the whole of `input` into `into` (at least `input.length` bytes) exactly as
   * `deflateRawSync(input, { level, windowBits: smallWindowBits(input.length) })` would. Returns
   * the compressed length, or -1 when deflate does not shrink the input.
   */
  compressSmall(input: Uint8Array, into: Buffer): number {
    const bits = smallWindowBits(input.length);
    let slot = this.small.get(bits);
    if (slot === undefined) {
      // The handle's shape was checked when the set was opened: the same Node gives the same shape.
      slot = { deflater: RawDeflater.open(this.level, bits) as RawDeflater, dirty: 0 };
      this.small.set(bits, slot);
    }
    if (input.length < slot.dirty) {
      zeros ??= Buffer.alloc(WIPE_BYTES);
      slot.deflater.compressWhole(zeros.subarray(0, Math.min(slot.dirty, WIPE_BYTES)), into);
    }
    slot.dirty = input.length;
    return slot.deflater.compressWhole(input, into);
  }

  close(): void {
    this.big.close();
    for (const slot of this.small.values()) slot.deflater.close();
    this.small.clear();
  }
}
