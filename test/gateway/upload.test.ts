import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { GatewayClient } from '../../src/gateway/index.js';
import { clientFor, failure, json, startServer, type TestServer } from './helpers.js';

const SIZE = 20 * 1024 * 1024;

let dir: string;
let archive: string;
let archiveSha: string;
let server: TestServer;
let client: GatewayClient;
let received: { file: string; contentType: string; contentLength: number; transferEncoding?: string; auth?: string }[] = [];

/** `global.gc` without a command-line flag (V8 lets the flag be set at run time). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Minimal multipart parser for the test's own assertions (reads the captured body from disk). */
function parseMultipart(body: Buffer, contentType: string) {
  const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: string; data: Buffer }[] = [];
  let pos = body.indexOf(delimiter);
  for (;;) {
    const after = pos + delimiter.length;
    if (body.subarray(after, after + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', after);
    const headers = body.subarray(after + 2, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    parts.push({ headers, data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  return parts.map((p) => {
    const name = /name="([^"]*)"/.exec(p.headers)![1]!;
    const filename = /filename="([^"]*)"/.exec(p.headers)?.[1];
    return { name, filename, headers: p.headers, data: p.data };
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'od-upload-'));
  archive = join(dir, 'source');
  // 20 MiB of random bytes, written in 1 MiB slices (the test itself never holds the whole file).
  const out = createWriteStream(archive);
  const hash = createHash('sha256');
  for (let i = 0; i < 20; i++) {
    const slice = randomBytes(1024 * 1024);
    hash.update(slice);
    if (!out.write(slice)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  archiveSha = hash.digest('hex');

  let n = 0;
  server = await startServer(
    async (req, res) => {
      const file = join(dir, `body-${n++}.bin`);
      await pipeline(req, createWriteStream(file));
      received.push({
        file,
        contentType: String(req.headers['content-type']),
        contentLength: Number(req.headers['content-length']),
        transferEncoding: req.headers['transfer-encoding'] as string | undefined,
        auth: req.headers.authorization,
      });
      json(res, 200, { temp_file_path: '/tmp/uploads/abc.zip', filename: 'demo.zip', is_git: false });
    },
    { streamBody: true },
  );
  client = clientFor(server);
});

afterAll(async () => {
  await client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
});

describe('uploadOnly', () => {
  it('streams a 20 MiB archive from disk: exact bytes, .zip file name, fields, Content-Length, progress', async () => {
    const progress: [number, number][] = [];
    // Live Buffer memory, measured after a forced GC so garbage chunks do not count: a streamed
    // upload holds a few 64 KiB chunks at a time; a buffered one would hold all 20 MiB.
    const gc = exposeGc();
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    let peakLive = 0;
    let nextSample = 0;
    const res = await client.uploadOnly({
      projectName: 'demo',
      regionId: 'region-1',
      filePath: archive,
      onProgress: (sent, total) => {
        progress.push([sent, total]);
        if (sent >= nextSample) {
          nextSample += 1024 * 1024;
          gc();
          peakLive = Math.max(peakLive, process.memoryUsage().arrayBuffers - baseline);
        }
      },
    });
    expect(res).toEqual({ temp_file_path: '/tmp/uploads/abc.zip', filename: 'demo.zip', is_git: false });
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(r.transferEncoding).toBeUndefined();
    const bodySize = (await stat(r.file)).size;
    expect(r.contentLength).toBe(bodySize);
    expect(r.auth).toMatch(/^Bearer /);

    const parts = parseMultipart(await readFile(r.file), r.contentType);
    expect(parts.map((p) => p.name)).toEqual(['project_name', 'region_id', 'project_file']);
    expect(parts[0]!.data.toString()).toBe('demo');
    expect(parts[1]!.data.toString()).toBe('region-1');
    const filePart = parts[2]!;
    expect(filePart.filename).toBe('source.zip');
    expect(filePart.headers).toContain('Content-Type: application/zip');
    expect(filePart.data.length).toBe(SIZE);
    expect(createHash('sha256').update(filePart.data).digest('hex')).toBe(archiveSha);

    // Progress: starts at 0, grows monotonically, ends at the file size.
    expect(progress[0]).toEqual([0, SIZE]);
    expect(progress.at(-1)).toEqual([SIZE, SIZE]);
    expect(progress.length).toBeGreaterThan(10);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
    // Streamed, not buffered: live Buffer memory never grew by anything close to the file size.
    expect(peakLive).toBeLessThan(4 * 1024 * 1024);
  });

  it('keeps an explicit .zip file name and appends .zip to one without it', async () => {
    const small = join(dir, 'small.zip');
    await writeFile(small, Buffer.from('PK\u0003\u0004 tiny'));
    await client.uploadOnly({ projectName: 'p', regionId: 'r', filePath: small, fileName: 'my-app.zip' });
    await client.uploadOnly({ projectName: 'p', regionId: 'r', filePath: small, fileName: 'my-app.tar' });
    const names = await Promise.all(
      received.map(async (r) => parseMultipart(await readFile(r.file), r.contentType).find((p) => p.name === 'project_file')!.filename),
    );
    expect(names).toEqual(['my-app.zip', 'my-app.tar.zip']);
  });

  it('an empty archive still produces a well-formed body', async () => {
    const empty = join(dir, 'empty.zip');
    await writeFile(empty, '');
    await client.uploadOnly({ projectName: 'p', regionId: 'r', filePath: empty });
    const r = received[0]!;
    const parts = parseMultipart(await readFile(r.file), r.contentType);
    expect(parts.find((p) => p.name === 'project_file')!.data.length).toBe(0);
  });

  it('a git source sends git_url, branch and git_token fields and no file part', async () => {
    await client.uploadOnly({ projectName: 'p', regionId: 'r', gitUrl: 'https://github.com/acme/app.git', branch: 'main', gitToken: 'ghp_secretvalue123' });
    const r = received[0]!;
    const parts = parseMultipart(await readFile(r.file), r.contentType);
    expect(parts.map((p) => [p.name, p.data.toString()])).toEqual([
      ['project_name', 'p'],
      ['region_id', 'r'],
      ['git_url', 'https://github.com/acme/app.git'],
      ['branch', 'main'],
      ['git_token', 'ghp_secretvalue123'],
    ]);
  });

  it('a missing archive is invalid_input and nothing is sent', async () => {
    const err = await failure(client.uploadOnly({ projectName: 'p', regionId: 'r', filePath: join(dir, 'nope.zip') }));
    expect(err.code).toBe('invalid_input');
    expect(received).toHaveLength(0);
  });

  it('an upload is never retried (a 503 → one request)', async () => {
    const s = await startServer(async (req, res) => {
      await pipeline(req, createWriteStream(join(dir, 'discard.bin')));
      json(res, 503, { error: 'upload queue full' });
    }, { streamBody: true });
    const c = clientFor(s);
    try {
      const err = await failure(c.uploadOnly({ projectName: 'p', regionId: 'r', filePath: archive }));
      expect(err.code).toBe('server_error');
      expect(s.requests).toHaveLength(1);
    } finally {
      await c.close();
      await s.close();
    }
  });
});

