/**
 * The per-file work of the archive, run on a worker thread (or inline for tiny projects): open the
 * file without following a swapped-in symlink, read it whole, hash it (sha256 for the digest, CRC-32
 * for the zip) and deflate it. Files are handled in batches so one message carries hundreds of
 * small files: most source trees are many small files, and per-message overhead would dominate.
 *
 * `processBatch` must stay self-contained (no imports, no module-level bindings): its source text is
 * what the worker runs (see WORKER_SOURCE), which keeps the worker loadable from `src/` under the
 * test runner and from `dist/` alike, with no separate file to resolve.
 */
import type * as Crypto from 'node:crypto';
import type * as Fs from 'node:fs';
import type * as Zlib from 'node:zlib';

export interface BatchFile {
  rel: string;
  abs: string;
  /** Store without trying to deflate (a precompressed type). */
  store: boolean;
}

export interface BatchRequest {
  files: BatchFile[];
  /**
   * Where the entries' stored bytes go, back to back (a slot the writer reuses, so a batch's data
   * leaves no garbage behind). A file whose bytes no longer fit is left to the streaming path.
   */
  out: SharedArrayBuffer;
  /** Files bigger than this (when opened) are left to the streaming path. */
  maxBytes: number;
  level: number;
}

/** `start`: offset of the entry's stored bytes in the request's `out`. */
export type BatchResult =
  | { kind: 'entry'; method: 0 | 8; crc: number; size: number; compressedSize: number; sha256: string; start: number }
  | { kind: 'skip'; warning: string }
  | { kind: 'large' };

export interface BatchResponse {
  results: BatchResult[];
}

export interface WorkerDeps {
  fs: typeof Fs;
  zlib: typeof Zlib;
  crypto: typeof Crypto;
  /** Read buffer reused for every file, at least `maxBytes + 1` long. */
  scratch: Buffer;
}

export function processBatch(request: BatchRequest, deps: WorkerDeps): BatchResponse {
  const { fs, zlib, crypto, scratch } = deps;
  const out = Buffer.from(request.out);
  const sha256Of = (data: Buffer): string =>
    // crypto.hash (Node >= 20.12) skips the Hash object: a third of the cost for a 1 KiB file.
    typeof crypto.hash === 'function' ? crypto.hash('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
  const flags = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
  const codeOf = (error: unknown): string => {
    const code = (error as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? code : 'error';
  };
  // The smallest window that still reaches back over the whole file: zlib allocates state in
  // proportion to it, which dominates the cost of deflating a 1 KiB file. The window changes the
  // bytes of some files, so this must choose as smallWindowBits in deflater.ts does.
  const windowBitsFor = (size: number): number => {
    for (let bits = 9; bits < 15; bits += 1) if ((1 << bits) - 262 >= size) return bits;
    return 15;
  };
  const results: BatchResult[] = [];
  let total = 0;
  for (const file of request.files) {
    let fd: number;
    try {
      fd = fs.openSync(file.abs, flags);
    } catch (error) {
      results.push({ kind: 'skip', warning: `${file.rel}: unreadable while archiving (${codeOf(error)}), skipped` });
      continue;
    }
    let data: Buffer | undefined;
    let outcome: BatchResult | undefined;
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) {
        outcome = { kind: 'skip', warning: `${file.rel}: no longer a regular file, skipped` };
      } else if (st.size > request.maxBytes) {
        outcome = { kind: 'large' };
      } else {
        // One byte more than the size, to notice a file that grew since fstat.
        const buffer = scratch.subarray(0, st.size + 1);
        let filled = 0;
        while (filled < buffer.length) {
          const read = fs.readSync(fd, buffer, filled, buffer.length - filled, filled);
          if (read === 0) break;
          filled += read;
        }
        if (filled > st.size) outcome = { kind: 'large' };
        else data = buffer.subarray(0, filled);
      }
    } catch (error) {
      outcome = { kind: 'skip', warning: `${file.rel}: unreadable while archiving (${codeOf(error)}), skipped` };
    } finally {
      fs.closeSync(fd);
    }
    if (data === undefined) {
      results.push(outcome ?? { kind: 'large' });
      continue;
    }
    const sha256 = sha256Of(data);
    const crc = zlib.crc32(data);
    let stored: Uint8Array = data;
    let method: 0 | 8 = 0;
    if (!file.store && data.length > 0) {
      // chunkSize near the input size: zlib's default 16 KiB output chunk per call is garbage for a 1 KiB file.
      const chunkSize = Math.min(16 * 1024, Math.max(64, data.length + 64));
      const deflated = zlib.deflateRawSync(data, { level: request.level, windowBits: windowBitsFor(data.length), chunkSize });
      // Deflate that does not shrink the file (random bytes, say) is stored instead, as zip does.
      if (deflated.length < data.length) {
        stored = deflated;
        method = 8;
      }
    }
    if (total + stored.length > out.length) {
      results.push({ kind: 'large' });
      continue;
    }
    out.set(stored, total);
    results.push({ kind: 'entry', method, crc, size: data.length, compressedSize: stored.length, sha256, start: total });
    total += stored.length;
  }
  return { results };
}

/**
 * What each worker thread runs: the function above plus the message loop. Builtins come through
 * `import()`, which works whether Node evaluates this as CommonJS or (under --input-type=module,
 * inherited from the parent) as an ES module; messages posted meanwhile wait in the port's queue.
 */
export const WORKER_SOURCE = `
(async () => {
  const { parentPort } = await import('node:worker_threads');
  const deps = { fs: await import('node:fs'), zlib: await import('node:zlib'), crypto: await import('node:crypto'), scratch: Buffer.alloc(0) };
  const processBatch = ${processBatch.toString()};
  parentPort.on('message', (request) => {
    try {
      if (deps.scratch.length < request.maxBytes + 1) deps.scratch = Buffer.allocUnsafeSlow(request.maxBytes + 1);
      const response = processBatch(request, deps);
      parentPort.postMessage({ ok: true, response });
    } catch (error) {
      parentPort.postMessage({ ok: false, message: error && error.message ? error.message : String(error) });
    }
  });
})();
`;
