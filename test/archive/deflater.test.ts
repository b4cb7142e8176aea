/**
 * The reused compressors (src/archive/deflater.ts) give exactly zlib's bytes: a small file equals
 * a fresh `deflateRawSync` with the same window whatever was compressed before it, a big file fed
 * in pieces into a small output buffer equals the one-shot result, and an archive built with them
 * is byte for byte the archive built through zlib's public API. The writer works synchronously, so
 * it must let the event loop turn as it goes (Ctrl-C, progress redraws).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { buildArchive, removeArchive, selectFiles, type ArchiveResult } from '../../src/archive/index.js';
import { Compressors, RawDeflater, smallWindowBits, type DeflateSink } from '../../src/archive/deflater.js';
import { readZip, removeTree, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Source-like text that differs per seed. */
function text(bytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i += 1) {
    const line = `const v${seed}_${i} = ${(seed * 31 + i * 17) % 9973}; // line ${i}`;
    lines.push(line);
    length += line.length + 1;
  }
  return Buffer.from(lines.join('\n')).subarray(0, bytes);
}

/** What zlib's public API gives for a small file, or -1 when that does not shrink it. */
function reference(data: Buffer): Buffer | -1 {
  const deflated = zlib.deflateRawSync(data, { level: 6, windowBits: smallWindowBits(data.length) });
  return deflated.length < data.length ? deflated : -1;
}

/** An output buffer of `size` bytes collecting everything written through it. */
function collectingSink(size: number): DeflateSink & { bytes(): Buffer } {
  const buffer = Buffer.alloc(size);
  const written: Buffer[] = [];
  let used = 0;
  return {
    buffer,
    room(min: number): number {
      if (buffer.length - used < min) {
        written.push(Buffer.from(buffer.subarray(0, used)));
        used = 0;
      }
      return used;
    },
    commit(bytes: number): void {
      used += bytes;
    },
    bytes: () => Buffer.concat([...written, buffer.subarray(0, used)]),
  };
}

describe('reused compressors', () => {
  it('can drive this Node zlib handle (the archive would fall back to the public API otherwise)', () => {
    const compressors = Compressors.open(6);
    expect(compressors).toBeInstanceOf(Compressors);
    compressors?.close();
  });

  it('give each small file the bytes of a fresh compressor, shorter files after longer ones included', () => {
    const compressors = Compressors.open(6) as Compressors;
    cleanups.push(() => compressors.close());
    const into = Buffer.alloc(MiB);
    // Sizes up and down within each window size: without wiping the window, a file after a longer
    // one with similar text came out a byte different (31 of these 700).
    const mismatches: string[] = [];
    for (let i = 0; i < 700; i += 1) {
      const data = text(200 + ((i * 37) % 3000), i);
      const expected = reference(data);
      const length = compressors.compressSmall(data, into);
      const actual = length === -1 ? -1 : into.subarray(0, length);
      if (expected === -1 ? actual !== -1 : actual === -1 || !actual.equals(expected)) mismatches.push(`file ${i} (${data.length} bytes)`);
    }
    expect(mismatches).toEqual([]);
  });

  it('say -1 for data deflate cannot shrink, and keep working after it', () => {
    const compressors = Compressors.open(6) as Compressors;
    cleanups.push(() => compressors.close());
    const into = Buffer.alloc(MiB);
    expect(compressors.compressSmall(randomBytes(5000), into)).toBe(-1);
    expect(compressors.compressSmall(Buffer.from('x'), into)).toBe(-1);
    const data = text(4000, 7);
    const length = compressors.compressSmall(data, into);
    expect(into.subarray(0, length).equals(zlib.deflateRawSync(data, { level: 6, windowBits: smallWindowBits(4000) }))).toBe(true);
  });

  it('stream a big file in pieces with the one-shot bytes, after other files and a sample on the same compressor', () => {
    const deflater = RawDeflater.open(6) as RawDeflater;
    cleanups.push(() => deflater.close());
    const first = Buffer.concat([text(700_000, 1), randomBytes(300_000)]);
    const second = Buffer.concat([text(1_500_000, 2), randomBytes(70_000), text(600_003, 3)]);
    const scratch = Buffer.alloc(256 * 1024);
    const streamed = (data: Buffer, sinkSize: number): Buffer => {
      // The sample test that decides whether a big file is worth deflating runs on the same compressor first.
      expect(deflater.compressWhole(data.subarray(0, 128 * 1024), scratch)).toBeGreaterThan(0);
      const sink = collectingSink(sinkSize);
      let produced = 0;
      for (let at = 0; at < data.length; at += MiB) produced += deflater.push(data.subarray(at, at + MiB), sink, false);
      produced += deflater.push(Buffer.alloc(0), sink, true);
      const bytes = sink.bytes();
      expect(produced).toBe(bytes.length);
      return bytes;
    };
    expect(streamed(first, 256 * 1024).equals(zlib.deflateRawSync(first, { level: 6 }))).toBe(true);
    // An output buffer smaller than what one piece compresses to: zlib is called again for the rest.
    const secondBytes = streamed(second, 20 * 1024);
    expect(secondBytes.equals(zlib.deflateRawSync(second, { level: 6 }))).toBe(true);
    expect(zlib.inflateRawSync(secondBytes).equals(second)).toBe(true);
  });
});

describe('an archive built with the reused compressors', () => {
  it('is byte for byte the archive built through zlib public API', async () => {
    const root = tempDir('deflater');
    cleanups.push(() => removeTree(root));
    const files: Record<string, Buffer> = {
      'data/big.csv': text(3 * MiB + 11, 5),
      'data/noise.bin': randomBytes(2 * MiB),
      'public/logo.png': randomBytes(40_000),
      'empty.txt': Buffer.alloc(0),
    };
    for (let i = 0; i < 300; i += 1) files[`src/m${i % 7}/f${i}.js`] = text(50 + ((i * 997) % 40_000), i);
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), content);
    }
    const results: ArchiveResult[] = [await buildArchive(root), await buildArchive(root, { reuseCompressors: false })];
    cleanups.push(async () => {
      for (const result of results) await removeArchive(result);
    });
    const [reused, publicApi] = await Promise.all(results.map((result) => readFile(result.path)));
    expect(reused?.equals(publicApi as Buffer)).toBe(true);
    expect(results[0]?.digest).toBe(results[1]?.digest);
    const entries = await readZip(results[0]?.path as string);
    expect(entries).toHaveLength(304);
    for (const entry of entries) expect(entry.content.equals(files[entry.name] as Buffer)).toBe(true);
    expect(entries.find((entry) => entry.name === 'data/big.csv')?.method).toBe(8);
    expect(entries.find((entry) => entry.name === 'data/noise.bin')?.method).toBe(0);
  });
});

describe('the synchronous writer', () => {
  it('lets the event loop turn at least once per 1 MiB, through big deflated, big stored and small files', async () => {
    const root = tempDir('turns');
    cleanups.push(() => removeTree(root));
    mkdirSync(path.join(root, 'small'), { recursive: true });
    writeFileSync(path.join(root, 'big.csv'), text(12 * MiB, 1));
    writeFileSync(path.join(root, 'photo.png'), randomBytes(12 * MiB));
    for (let i = 0; i < 3000; i += 1) writeFileSync(path.join(root, 'small', `f${i}.js`), text(1024, i));
    const selection = await selectFiles(root);
    // What the event loop sees of the writer's progress: a check-phase callback that re-arms itself
    // runs at every turn, and notes each new progress figure it finds. A writer that never gave way
    // would be seen only before it starts and after it ends.
    let done = -1;
    const seen = new Set<number>();
    let watching = true;
    const watch = (): void => {
      seen.add(done);
      if (watching) setImmediate(watch);
    };
    setImmediate(watch);
    const result = await buildArchive(root, { selection, onProgress: (bytes) => (done = bytes) });
    watching = false;
    cleanups.push(() => removeArchive(result));
    expect(result.files).toBe(3002);
    // 12 chunks of the deflated file, 12 of the stored one, and 3 MiB of small files: the loop turned
    // in between (26 progress figures at least, before and after not counted).
    seen.delete(-1);
    seen.delete(24 * MiB + 3000 * 1024);
    expect(seen.size).toBeGreaterThanOrEqual(26);
  });

  it.each([
    ['a big file being compressed', { 'big.csv': 8 }],
    ['small files', { small: 8 }],
  ])('stops when aborted (Ctrl-C) while writing %s: interrupted, and its temp folder is gone', async (_what, shape) => {
    const root = tempDir('abort');
    const tmpRoot = tempDir('abort-tmp');
    cleanups.push(() => removeTree(root), () => removeTree(tmpRoot));
    if ('big.csv' in shape) writeFileSync(path.join(root, 'big.csv'), text(shape['big.csv'] * MiB, 3));
    if ('small' in shape) {
      mkdirSync(path.join(root, 'small'));
      for (let i = 0; i < shape.small * 1024; i += 1) writeFileSync(path.join(root, 'small', `f${i}.js`), text(1024, i));
    }
    const controller = new AbortController();
    let progressAtAbort = 0;
    const built = buildArchive(root, {
      tmpRoot,
      signal: controller.signal,
      onProgress: (done) => {
        if (done >= 2 * MiB && !controller.signal.aborted) {
          progressAtAbort = done;
          controller.abort();
        }
      },
    });
    await expect(built).rejects.toMatchObject({ code: 'interrupted' });
    expect(progressAtAbort).toBeGreaterThanOrEqual(2 * MiB);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });
});

