/**
 * The parallel writer: stored entries for precompressed data, identical bytes whatever the number
 * of worker threads, big files streamed and read back exactly, progress, zip64 end records, and a
 * peak-memory bound measured in a child process.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildArchive, removeArchive, selectFiles, type ArchiveResult, type BuildOptions } from '../../src/archive/index.js';
import { isPrecompressedName } from '../../src/archive/stored-types.js';
import { endRecords } from '../../src/archive/zip-format.js';
import { readZip, removeTree, tempDir, writeTree } from './helpers.js';

const MiB = 1024 * 1024;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function folder(label: string): string {
  const root = tempDir(label);
  cleanups.push(() => removeTree(root));
  return root;
}

async function build(root: string, options: BuildOptions = {}): Promise<ArchiveResult> {
  const result = await buildArchive(root, options);
  cleanups.push(() => removeArchive(result));
  return result;
}

/** Compressible bytes that differ along the file (so deflate has real work to do). */
function text(bytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i += 1) {
    const line = `export const v${i} = ${(seed * 7919 + i * 104729) % 1000003};`;
    lines.push(line);
    length += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`).subarray(0, bytes);
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('stored entries', () => {
  it('stores precompressed types by name, and data deflate cannot shrink, with exact bytes', async () => {
    const root = folder('stored');
    const files: Record<string, Buffer> = {
      // Highly compressible, yet stored: the name says it is already compressed.
      'public/flat.png': Buffer.alloc(100_000, 0x41),
      'public/photo.jpg': randomBytes(40_000),
      'fonts/inter.woff2': randomBytes(20_000),
      'pkg/module.wasm': randomBytes(10_000),
      // A big one on the streaming path, stored by name.
      'media/clip.mp4': randomBytes(3 * MiB + 5),
      // No telling name, random bytes: deflate would grow it, so it is stored.
      'data/blob.bin': randomBytes(200_000),
      // A big random file without a telling name: the sample says deflate is not worth it.
      'data/big-random.dat': randomBytes(2 * MiB),
      // Text is deflated, small and big.
      'src/app.js': text(5_000, 1),
      'data/big.csv': text(3 * MiB, 2),
      'empty.txt': Buffer.alloc(0),
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), content);
    }
    const result = await build(root);
    const entries = await readZip(result.path);
    const methods = Object.fromEntries(entries.map((entry) => [entry.name, entry.method]));
    expect(methods).toEqual({
      'data/big-random.dat': 0,
      'data/big.csv': 8,
      'data/blob.bin': 0,
      'empty.txt': 0,
      'fonts/inter.woff2': 0,
      'media/clip.mp4': 0,
      'pkg/module.wasm': 0,
      'public/flat.png': 0,
      'public/photo.jpg': 0,
      'src/app.js': 8,
    });
    for (const entry of entries) {
      expect(entry.content.equals(files[entry.name] as Buffer)).toBe(true);
      if (entry.method === 0) expect(entry.compressedSize).toBe(entry.content.length);
      else expect(entry.compressedSize).toBeLessThan(entry.content.length / 2);
    }
  });

  it('judges names by their last extension, case-insensitively', () => {
    expect(isPrecompressedName('a/b/Photo.JPG')).toBe(true);
    expect(isPrecompressedName('dist/app.js.gz')).toBe(true);
    expect(isPrecompressedName('src/png/index.ts')).toBe(false);
    expect(isPrecompressedName('.gz')).toBe(false);
    expect(isPrecompressedName('png')).toBe(false);
  });
});

describe('parallel output', () => {
  it('gives byte-identical zips and digests with 0, 1, 3 and the default number of workers', async () => {
    const root = folder('pool');
    const spec: Record<string, string> = {};
    // 700 small files: several batches for the worker threads, one file at a time without them (the default).
    for (let i = 0; i < 700; i += 1) spec[`src/m${Math.floor(i / 50)}/f${i}.js`] = text(200 + ((i * 37) % 3000), i).toString();
    writeTree(root, spec);
    writeFileSync(path.join(root, 'src/big.json'), text(2 * MiB + 3, 9));
    writeFileSync(path.join(root, 'logo.png'), randomBytes(300_000));

    const results = [await build(root), await build(root, { workers: 0 }), await build(root, { workers: 1 }), await build(root, { workers: 3 })];
    const bytes = await Promise.all(results.map((result) => readFile(result.path)));
    for (const [index, result] of results.entries()) {
      expect(result.digest).toBe(results[0]?.digest);
      expect(bytes[index]?.equals(bytes[0] as Buffer)).toBe(true);
      expect(result.files).toBe(702);
    }
    const entries = await readZip(results[0]?.path as string);
    expect(entries.map((entry) => entry.name)).toEqual((await selectFiles(root)).files.map((file) => file.rel));
    expect(entries.find((entry) => entry.name === 'src/m0/f0.js')?.content.toString()).toBe(spec['src/m0/f0.js']);
  });

  it('reports progress in bytes, never going back, ending at the total', async () => {
    const root = folder('progress');
    const spec: Record<string, string> = {};
    for (let i = 0; i < 600; i += 1) spec[`src/f${i}.js`] = text(1000, i).toString();
    writeTree(root, spec);
    writeFileSync(path.join(root, 'video.mp4'), randomBytes(3 * MiB));
    const calls: Array<[number, number]> = [];
    const result = await build(root, { onProgress: (done, total) => calls.push([done, total]) });
    const total = 600 * 1000 + 3 * MiB;
    expect(result.sourceBytes).toBe(total);
    expect(calls.at(-1)).toEqual([total, total]);
    expect(calls.every(([, reported]) => reported === total)).toBe(true);
    expect(calls.every(([done], index) => index === 0 || done >= (calls[index - 1]?.[0] ?? 0))).toBe(true);
    // The 3 MiB file alone reports once per 1 MiB chunk.
    expect(calls.length).toBeGreaterThanOrEqual(4);
  });
});

describe('big files', () => {
  it('round-trips a 40 MiB random file and a 12 MiB text file', async () => {
    const root = folder('big');
    const random = randomBytes(40 * MiB);
    const csv = text(12 * MiB, 3);
    writeFileSync(path.join(root, 'model.bin'), random);
    writeFileSync(path.join(root, 'rows.csv'), csv);
    const result = await build(root);
    const entries = await readZip(result.path);
    expect(entries.map((entry) => [entry.name, entry.method, entry.content.length])).toEqual([
      ['model.bin', 0, 40 * MiB],
      ['rows.csv', 8, 12 * MiB],
    ]);
    expect(sha(entries[0]?.content as Buffer)).toBe(sha(random));
    expect(sha(entries[1]?.content as Buffer)).toBe(sha(csv));
    expect(result.sourceBytes).toBe(52 * MiB);
    // `unzip -t` (Info-ZIP) agrees the archive and every CRC are sound, when it is installed.
    if (existsSync('/usr/bin/unzip')) expect(execFileSync('unzip', ['-tq', result.path]).toString()).toMatch(/^No errors detected/);
  }, 60_000);

  it.runIf(process.platform === 'linux')('keeps peak memory bounded: below the size of the files it archives', async () => {
    const dist = path.join(repoRoot, 'dist', 'archive', 'index.js');
    expect(existsSync(dist), 'build dist/ first: npx tsc -p tsconfig.json').toBe(true);
    const root = folder('memory');
    // 5 x 30 MiB: three random (one named .mp4), two compressible; plus 2,000 small sources.
    for (const [name, content] of [
      ['a.bin', randomBytes(30 * MiB)],
      ['b.bin', randomBytes(30 * MiB)],
      ['c.mp4', randomBytes(30 * MiB)],
      ['d.csv', text(30 * MiB, 4)],
      ['e.csv', text(30 * MiB, 5)],
    ] as const) {
      writeFileSync(path.join(root, name), content);
    }
    const spec: Record<string, string> = {};
    for (let i = 0; i < 2000; i += 1) spec[`src/d${i % 20}/f${i}.js`] = text(2000, i).toString();
    writeTree(root, spec);
    const script = `
      const { buildArchive, removeArchive } = await import(${JSON.stringify(dist)});
      const result = await buildArchive(${JSON.stringify(root)});
      await removeArchive(result);
      // VmHWM, not getrusage's maxRSS: Linux carries maxRSS over from the forked parent (here the
      // test runner) across exec, while VmHWM belongs to this process's own memory map.
      const status = (await import('node:fs')).readFileSync('/proc/self/status', 'utf8');
      const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(status)[1]) * 1024;
      console.log(JSON.stringify({ rss: hwm, sourceBytes: result.sourceBytes }));
    `;
    const output = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script]).toString()) as { rss: number; sourceBytes: number };
    expect(output.sourceBytes).toBe(150 * MiB + 2000 * 2000);
    // Node itself starts at ~40 MiB, so holding the big files (or one per thread with its deflated
    // copy) would pass 190 MiB. Measured 95-125 MiB on Node 20 / Linux, walk included (most of it
    // V8's young generation and the worker threads' own heaps); the margin absorbs GC timing.
    expect(output.rss).toBeLessThan(160 * MiB);
  }, 120_000);
});

describe('zip64 end records', () => {
  it('adds the zip64 end record and locator only when a count or offset overflows', () => {
    expect(endRecords(3, 1000, 200).length).toBe(22);
    const wide = endRecords(70_000, 5_000_000_000, 7_000_000);
    expect(wide.length).toBe(56 + 20 + 22);
    expect(wide.readUInt32LE(0)).toBe(0x06064b50);
    expect(wide.readBigUInt64LE(32)).toBe(70_000n);
    expect(wide.readBigUInt64LE(40)).toBe(7_000_000n);
    expect(wide.readBigUInt64LE(48)).toBe(5_000_000_000n);
    expect(wide.readUInt32LE(56)).toBe(0x07064b50);
    expect(wide.readBigUInt64LE(64)).toBe(5_007_000_000n);
    expect(wide.readUInt32LE(76)).toBe(0x06054b50);
    expect(wide.readUInt16LE(76 + 10)).toBe(0xffff);
    expect(wide.readUInt32LE(76 + 16)).toBe(0xffffffff);
  });
});
