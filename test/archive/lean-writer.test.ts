/**
 * The lean writer: records written into a reused buffer are byte for byte the allocated ones
 * (zip64 and UTF-8 names included), progress comes per 256 files or 1 MiB of small files, a file
 * that grew past the small-file size after selection is streamed with the same bytes with or
 * without worker threads. (The V8 settings the CLI applies around archiving: test/cli/lean-v8.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildArchive, removeArchive, selectFiles, type ArchiveResult, type BuildOptions } from '../../src/archive/index.js';
import {
  centralEntry,
  centralEntryBytes,
  localHeader,
  localHeaderBytes,
  writeCentralEntry,
  writeLocalHeader,
} from '../../src/archive/zip-format.js';
import { readZip, removeTree, tempDir, writeTree } from './helpers.js';

const MiB = 1024 * 1024;

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

/** A buffer full of 0xAA: whatever a writer leaves unwritten shows up as a difference. */
function dirty(bytes: number): Buffer {
  return Buffer.alloc(bytes, 0xaa);
}

describe('records written in place', () => {
  const cases = [
    { label: 'plain', name: 'src/app.js', method: 8, crc: 0x1234abcd, compressedSize: 120, size: 400, offset: 77, mode: 0o644 },
    { label: 'UTF-8 name', name: 'docs/café/naïve €.md', method: 0, crc: 0xffffffff, compressedSize: 3, size: 3, offset: 0, mode: 0o755 },
    { label: 'offset past 4 GiB', name: 'late.js', method: 8, crc: 7, compressedSize: 10, size: 20, offset: 5_000_000_000, mode: 0o644 },
    { label: 'sizes past 4 GiB', name: 'huge.bin', method: 0, crc: 9, compressedSize: 4_294_967_296, size: 4_294_967_296, offset: 4_294_967_295, mode: 0o644 },
  ];

  it.each(cases)('local header ($label) equals the allocated one, classic and zip64', ({ name, method, crc, compressedSize, size }) => {
    const nameBytes = Buffer.from(name, 'utf8');
    for (const zip64 of [false, true]) {
      const expected = localHeader({ name: nameBytes, method, crc, compressedSize: Math.min(compressedSize, 0xfffffffe), size: Math.min(size, 0xfffffffe) }, zip64);
      const target = dirty(expected.length + 9);
      const length = writeLocalHeader(target, 4, { method, crc, compressedSize: Math.min(compressedSize, 0xfffffffe), size: Math.min(size, 0xfffffffe) }, name, zip64);
      expect(length).toBe(expected.length);
      expect(localHeaderBytes(nameBytes.length, zip64)).toBe(expected.length);
      expect(target.subarray(4, 4 + length).equals(expected)).toBe(true);
      // Nothing written outside the record.
      expect([...target.subarray(0, 4), ...target.subarray(4 + length)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
    }
  });

  it.each(cases)('central entry ($label) equals the allocated one', ({ name, ...entry }) => {
    const nameBytes = Buffer.from(name, 'utf8');
    const expected = centralEntry({ name: nameBytes, ...entry });
    const target = dirty(expected.length + 3);
    const length = writeCentralEntry(target, 3, entry, name, nameBytes.length);
    expect(length).toBe(expected.length);
    expect(centralEntryBytes(entry, nameBytes.length)).toBe(expected.length);
    expect(target.subarray(3, 3 + length).equals(expected)).toBe(true);
  });

  it('sizes the zip64 extra by the values that overflow', () => {
    const base = { method: 0, crc: 0, mode: 0o644 };
    expect(centralEntryBytes({ ...base, compressedSize: 1, size: 1, offset: 1 }, 5)).toBe(46 + 5);
    expect(centralEntryBytes({ ...base, compressedSize: 1, size: 1, offset: 2 ** 32 }, 5)).toBe(46 + 5 + 4 + 8);
    expect(centralEntryBytes({ ...base, compressedSize: 2 ** 32, size: 2 ** 32, offset: 2 ** 32 }, 5)).toBe(46 + 5 + 4 + 24);
    const record = dirty(46 + 5 + 12);
    writeCentralEntry(record, 0, { ...base, compressedSize: 1, size: 1, offset: 5_000_000_000 }, 'a.txt');
    expect(record.readUInt32LE(42)).toBe(0xffffffff);
    expect(record.readUInt16LE(46 + 5)).toBe(0x0001);
    expect(record.readUInt16LE(46 + 5 + 2)).toBe(8);
    expect(record.readBigUInt64LE(46 + 5 + 4)).toBe(5_000_000_000n);
  });

  it('refuses a name longer than a zip can store', () => {
    const long = 'a'.repeat(70_000);
    expect(() => writeLocalHeader(dirty(80_000), 0, { method: 0, crc: 0, compressedSize: 0, size: 0 }, long, false)).toThrow(
      'entry name of 70000 bytes is longer than a zip can store',
    );
  });
});

describe('progress without worker threads', () => {
  it('reports after every 256 small files (or 1 MiB), then the total', async () => {
    const root = folder('progress-inline');
    const spec: Record<string, string> = {};
    // 1,000 files of 2,000 bytes: 256 files come before 1 MiB does.
    for (let i = 0; i < 1000; i += 1) spec[`src/f${String(i).padStart(4, '0')}.js`] = `${String(i).padStart(4, '0')}${'x'.repeat(1996)}`;
    writeTree(root, spec);
    const calls: Array<[number, number]> = [];
    const result = await build(root, { onProgress: (done, total) => calls.push([done, total]) });
    expect(result.files).toBe(1000);
    expect(calls).toEqual([
      [512_000, 2_000_000],
      [1_024_000, 2_000_000],
      [1_536_000, 2_000_000],
      [2_000_000, 2_000_000],
    ]);
  });
});

describe('a file that grew past the small-file size after selection', () => {
  it('is streamed, with the same bytes with and without worker threads, and a warning', async () => {
    const root = folder('grew');
    writeTree(root, { 'a.txt': 'first\n', 'b.txt': 'small for now\n', 'c.txt': 'last\n' });
    const selection = await selectFiles(root);
    const grown = Buffer.from('grown line of text\n'.repeat(Math.ceil((2 * MiB) / 19))).subarray(0, 2 * MiB);
    writeFileSync(path.join(root, 'b.txt'), grown);

    const inline = await build(root, { selection, workers: 0 });
    const threaded = await build(root, { selection, workers: 1 });
    expect((await readFile(inline.path)).equals(await readFile(threaded.path))).toBe(true);
    expect(inline.digest).toBe(threaded.digest);
    for (const result of [inline, threaded]) {
      expect(result.warnings).toEqual([`b.txt: changed while archiving (14 bytes when selected, ${2 * MiB} archived)`]);
      expect(result.sourceBytes).toBe(6 + 2 * MiB + 5);
    }
    const entries = await readZip(inline.path);
    expect(entries.map((entry) => [entry.name, entry.method, entry.content.length])).toEqual([
      ['a.txt', 0, 6],
      ['b.txt', 8, 2 * MiB],
      ['c.txt', 0, 5],
    ]);
    expect(entries[1]?.content.equals(grown)).toBe(true);
  });
});
