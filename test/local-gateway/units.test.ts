import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExtractError, extractZip, unsafeEntryReason } from '../../src/local-gateway/extract.js';
import { MultipartError, multipartBoundary, parseMultipart, type FileSink } from '../../src/local-gateway/multipart.js';
import { checkPendingCaps, parseCpu, parseMemory } from '../../src/local-gateway/quantity.js';
import { hashToken, mintToken, tokenKind } from '../../src/local-gateway/tokens.js';
import { buildZip, makeTempDir, zipWithCli } from './helpers.js';

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir('od-lgw-unit-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

function multipartBody(boundary: string, parts: Array<{ name: string; value: string | Buffer; filename?: string }>): Buffer {
  const pieces: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.filename ? 'Content-Type: application/zip\r\n' : ''}\r\n`));
    pieces.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\nepilogue`));
  return Buffer.concat(pieces);
}

function memorySink(into: Buffer[]): FileSink {
  return {
    write(chunk) {
      into.push(Buffer.from(chunk));
    },
    async end() {},
    async abort() {},
  };
}

describe('multipart parser', () => {
  const boundary = '----odBoundary7MA4YWxkTrZu0gW';
  // File content that contains near-boundary bytes to catch split-delimiter bugs.
  const file = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from(`\r\n--${boundary.slice(0, 10)}`), Buffer.alloc(5000, 0x41), Buffer.from('\r\n-')]);
  const body = multipartBody(boundary, [
    { name: 'project_name', value: 'demo' },
    { name: 'project_file', value: file, filename: 'app.zip' },
    { name: 'region_id', value: 'r-1' },
  ]);

  for (const size of [1, 2, 7, 64, 4096, body.length]) {
    it(`parses identically with ${size}-byte chunks`, async () => {
      const got: Buffer[] = [];
      const result = await parseMultipart(chunked(body, size), boundary, (part) => (part.name === 'project_file' ? memorySink(got) : null));
      expect(result.fields.get('project_name')).toBe('demo');
      expect(result.fields.get('region_id')).toBe('r-1');
      expect(result.partNames).toEqual(['project_name', 'project_file', 'region_id']);
      expect(Buffer.concat(got).equals(file)).toBe(true);
    });
  }

  it('reads the boundary from Content-Type (quoted or not)', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('application/json')).toBeNull();
    expect(multipartBoundary(undefined)).toBeNull();
  });

  it('a truncated body is a 400', async () => {
    const truncated = body.subarray(0, body.length - 30);
    await expect(parseMultipart(chunked(truncated, 100), boundary, () => null)).rejects.toMatchObject({ status: 400 });
  });

  it('an oversized file part is a 413 and the sink is aborted', async () => {
    let aborted = false;
    const sink: FileSink = { write() {}, async end() {}, async abort() { aborted = true; } };
    const promise = parseMultipart(chunked(body, 512), boundary, () => sink, { maxFileBytes: 1000, maxFieldBytes: 100, maxParts: 10, maxHeaderBytes: 1000 });
    await expect(promise).rejects.toBeInstanceOf(MultipartError);
    await expect(promise).rejects.toMatchObject({ status: 413 });
    expect(aborted).toBe(true);
  });
});

describe('zip extraction', () => {
  it('extracts a zip made by the zip binary, keeping the executable bit', async () => {
    const zipPath = path.join(tmp, 'ok.zip');
    await writeFile(zipPath, await zipWithCli({ 'a/b/c.txt': 'deep', 'top.txt': 'top' }));
    const dest = path.join(tmp, 'ok');
    const result = await extractZip(zipPath, dest);
    expect(result.files).toBe(2);
    expect(await readFile(path.join(dest, 'a/b/c.txt'), 'utf8')).toBe('deep');

    const execZip = path.join(tmp, 'exec.zip');
    await writeFile(execZip, buildZip([{ name: 'run.sh', data: '#!/bin/sh', mode: 0o100755 }]));
    await extractZip(execZip, path.join(tmp, 'exec'));
    expect((await stat(path.join(tmp, 'exec', 'run.sh'))).mode & 0o111).not.toBe(0);
  });

  it('enforces the total-size cap on declared and actual sizes, and removes the partial output', async () => {
    const zipPath = path.join(tmp, 'big.zip');
    await writeFile(zipPath, buildZip([{ name: 'a.bin', data: Buffer.alloc(600) }, { name: 'b.bin', data: Buffer.alloc(600) }]));
    const dest = path.join(tmp, 'big');
    await expect(extractZip(zipPath, dest, { maxTotalBytes: 1000, maxEntries: 10 })).rejects.toBeInstanceOf(ExtractError);
    await expect(stat(dest)).rejects.toThrow();

    // A deflate entry whose central directory lies about its size (a zip bomb's trick).
    const liar = path.join(tmp, 'liar.zip');
    await writeFile(liar, buildZip([{ name: 'bomb.bin', data: Buffer.alloc(5000), method: 8, declaredSize: 10 }]));
    await expect(extractZip(liar, path.join(tmp, 'liar'), { maxTotalBytes: 1000, maxEntries: 10 })).rejects.toBeInstanceOf(ExtractError);
  });

  it('enforces the entry-count cap', async () => {
    const zipPath = path.join(tmp, 'many.zip');
    await writeFile(zipPath, buildZip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' }))));
    await expect(extractZip(zipPath, path.join(tmp, 'many'), { maxTotalBytes: 1e9, maxEntries: 4 })).rejects.toThrow(/too many entries/);
  });

  it('refuses duplicate entries instead of overwriting', async () => {
    const zipPath = path.join(tmp, 'dup.zip');
    await writeFile(zipPath, buildZip([{ name: 'x.txt', data: 'one' }, { name: 'x.txt', data: 'two' }]));
    await expect(extractZip(zipPath, path.join(tmp, 'dup'))).rejects.toThrow(/duplicate/);
  });

  it('refuses a symlink and never writes through it', async () => {
    const zipPath = path.join(tmp, 'link.zip');
    await writeFile(zipPath, buildZip([{ name: 'link', data: tmp, mode: 0o120777 }, { name: 'link/owned.txt', data: 'x' }]));
    await expect(extractZip(zipPath, path.join(tmp, 'link-out'))).rejects.toThrow(/symlink/);
    expect(await readdir(tmp)).not.toContain('owned.txt');
  });

  it('names unsafe entry paths', () => {
    expect(unsafeEntryReason('../x')).toMatch(/escapes/);
    expect(unsafeEntryReason('a/../../x')).toMatch(/escapes/);
    expect(unsafeEntryReason('/etc/passwd')).toMatch(/absolute/);
    expect(unsafeEntryReason('C:\\x')).toMatch(/absolute/);
    expect(unsafeEntryReason('..\\x')).toMatch(/escapes/);
    expect(unsafeEntryReason('a/b/c.txt')).toBeNull();
    expect(unsafeEntryReason('a..b/c')).toBeNull();
  });
});

describe('quantities and caps', () => {
  it('parses Kubernetes CPU and memory', () => {
    expect(parseCpu('500m')).toBe(0.5);
    expect(parseCpu('1')).toBe(1);
    expect(parseCpu('2')).toBe(2);
    expect(parseCpu('0.25')).toBe(0.25);
    expect(parseCpu('abc')).toBeNull();
    expect(parseMemory('512Mi')).toBe(512 * 1024 * 1024);
    expect(parseMemory('1Gi')).toBe(1024 ** 3);
    expect(parseMemory('4Gi')).toBe(4 * 1024 ** 3);
    expect(parseMemory('1G')).toBe(1e9);
    expect(parseMemory('lots')).toBeNull();
  });

  it('caps are inclusive at 1 vCPU / 1Gi / 1 replica', () => {
    expect(() => checkPendingCaps({ cpu_limit: '1', memory_limit: '1Gi', replicas: 1, cpu_request: '1000m', memory_request: '1024Mi' })).not.toThrow();
    expect(() => checkPendingCaps({ cpu_limit: '1001m' })).toThrow();
    expect(() => checkPendingCaps({ memory_limit: '1025Mi' })).toThrow();
    expect(() => checkPendingCaps({ replicas: 2 })).toThrow();
  });
});

describe('tokens', () => {
  it('mints od_ + kind + 43 base62 and hashes without keeping the plaintext', () => {
    const token = mintToken('a');
    expect(token).toMatch(/^od_a[A-Za-z0-9]{43}$/);
    expect(tokenKind(token)).toBe('a');
    expect(tokenKind(`od_k${'x'.repeat(43)}`)).toBe('k');
    expect(tokenKind('od_k123')).toBeNull();
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(mintToken('a')).not.toBe(token);
  });
});

