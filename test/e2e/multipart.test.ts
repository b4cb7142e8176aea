/**
 * `opendeploy deploy` of a folder whose archive is over the (test-lowered) multipart threshold,
 * against a real local gateway: the upload goes in parts, a killed run resumes with only the parts
 * not yet confirmed, an expired session starts over with a message, and JSON progress is throttled.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const PART = 64 * 1024;
/** ~12 parts of random (incompressible) data above a 256 KiB threshold. */
const BLOB = 11 * PART + 5000;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});
afterEach(async () => {
  delete process.env.OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS;
  await gw.clearFaults();
});

async function bigApp(name: string): Promise<string> {
  const dir = path.join(await tempDir('od-mp-e2e-'), name);
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: { start: 'node server.js' } }, null, 2));
  await writeFile(
    path.join(dir, 'server.js'),
    "require('http').createServer((q, s) => s.end('hello from big-app')).listen(process.env.PORT || 3000);\n",
  );
  // Random bytes (stored or deflated, the zip stays over the threshold).
  await writeFile(path.join(dir, 'assets', 'model.bin'), randomBytes(BLOB));
  return dir;
}

function envFor(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OD_GATEWAY: gw.url,
    OPENDEPLOY_HOME: home,
    OPENDEPLOY_TOKEN: patToken(),
    OPENDEPLOY_MULTIPART_THRESHOLD: String(256 * 1024),
    OPENDEPLOY_MULTIPART_PART_SIZE: String(PART),
    ...extra,
  };
}

function puts(requests: RecordedRequest[]): number[] {
  return requests
    .filter((r) => r.method === 'PUT' && /^\/api\/v1\/upload\/multipart\/[^/]+\/parts\/\d+$/.test(r.path))
    .map((r) => Number(r.path.split('/').at(-1)))
    .sort((a, b) => a - b);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('deploy through the multipart upload', () => {
  it('a folder over the threshold deploys through parts (no upload-only, no update-source)', async () => {
    const app = await bigApp('big-app');
    const home = await tempDir('od-home-');
    await gw.clearRequests();
    const started = Date.now();
    const env = envFor(home);
    const run = await runCli(['deploy', app, '--yes', '--json', '--name', 'big-app'], { env });
    const seconds = (Date.now() - started) / 1000;
    expect(run.code, run.stderr).toBe(0);
    const upload = run.events.find((e) => e.type === 'stage' && e.stage === 'upload')!;
    expect(upload.status).toBe('done');
    const totalParts = Math.ceil(Number(upload.zip_bytes) / PART);
    expect(upload).toMatchObject({ parts_sent: totalParts, parts_reused: 0, resumed: false, expired_session: false });
    const requests = await gw.requests();
    expect(puts(requests)).toEqual(range(1, totalParts));
    expect(requests.some((r) => r.path === '/api/v1/upload/upload-only' || r.path === '/api/v1/upload/update-source')).toBe(false);
    expect(run.events.find((e) => e.type === 'stage' && e.stage === 'extract')?.status).toBe('done');
    expect(lastEvent(run)?.type).toBe('result');
    // Throttled: a few progress events a second at most (plus the final one), never one per chunk.
    const progress = run.events.filter((e) => e.type === 'progress' && e.stage === 'upload');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
    expect(progress.at(-1)).toMatchObject({ sent: Number(upload.zip_bytes), total: Number(upload.zip_bytes), percent: 100 });
    // Packing reports source bytes the same way, ending at the whole selection.
    const packed = run.events.find((e) => e.type === 'stage' && e.stage === 'archive')!;
    const packing = run.events.filter((e) => e.type === 'progress' && e.stage === 'archive');
    expect(packing.at(-1)).toMatchObject({ sent: Number(packed.bytes), total: Number(packed.bytes), percent: 100 });
    // The resume file is removed once the upload completed.
    await expect(readFile(path.join(app, '.opendeploy', 'upload.json'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    // `redeploy --source` of a changed folder goes through the same multipart stage.
    await writeFile(path.join(app, 'assets', 'model.bin'), randomBytes(BLOB));
    await gw.clearRequests();
    const redeploy = await runCli(['redeploy', '--source', '.', '--json'], { cwd: app, env });
    expect(redeploy.code, redeploy.stderr).toBe(0);
    const again = redeploy.events.find((e) => e.type === 'stage' && e.stage === 'upload')!;
    expect(again).toMatchObject({ status: 'done', parts_sent: totalParts, resumed: false });
    expect(puts(await gw.requests())).toEqual(range(1, totalParts));
  });

  /** Runs a deploy and SIGKILLs it once upload.json confirms at least `parts` parts. */
  async function killAfterParts(app: string, env: Record<string, string>, parts: number) {
    let child: ChildProcess | undefined;
    let killed = false;
    const watcher = setInterval(() => {
      void readFile(path.join(app, '.opendeploy', 'upload.json'), 'utf8')
        .then((text) => {
          const saved = JSON.parse(text) as { confirmed_parts: number[] };
          if (!killed && child && saved.confirmed_parts.length >= parts) {
            killed = true;
            child.kill('SIGKILL');
          }
        })
        .catch(() => undefined);
    }, 20);
    try {
      return await runCli(['deploy', app, '--yes', '--json', '--name', path.basename(app)], {
        env,
        onEvent: (_event, c) => {
          child = c;
        },
      });
    } finally {
      clearInterval(watcher);
    }
  }

  it('a run killed mid-upload is resumed: the re-run sends only the parts not yet confirmed', async () => {
    const app = await bigApp('big-kill');
    const env = envFor(await tempDir('od-home-'));
    // Parts after the first three are held 5 s: the run is killed while they are in flight.
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/:n', delay_ms: 5000, skip: 3, count: 1000 });
    const killed = await killAfterParts(app, env, 3);
    expect(killed.signal).toBe('SIGKILL');
    const saved = JSON.parse(await readFile(path.join(app, '.opendeploy', 'upload.json'), 'utf8')) as {
      upload_id: string;
      confirmed_parts: number[];
      total_parts: number;
    };
    expect(saved.confirmed_parts).toEqual([1, 2, 3]);
    await gw.clearFaults();
    await gw.clearRequests();

    const resumed = await runCli(['deploy', app, '--yes', '--json'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const upload = resumed.events.find((e) => e.type === 'stage' && e.stage === 'upload')!;
    expect(upload).toMatchObject({ upload_id: saved.upload_id, resumed: true, parts_reused: 3, parts_sent: saved.total_parts - 3 });
    expect(puts(await gw.requests())).toEqual(range(4, saved.total_parts));
    expect(resumed.stderr).toContain(`Resuming upload ${saved.upload_id}: 3 of ${saved.total_parts} parts already sent.`);
  });

  it('an expired session starts a new upload and says so', async () => {
    const app = await bigApp('big-expired');
    const env = envFor(await tempDir('od-home-'));
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/:n', delay_ms: 5000, skip: 2, count: 1000 });
    const killed = await killAfterParts(app, env, 2);
    expect(killed.signal).toBe('SIGKILL');
    const saved = JSON.parse(await readFile(path.join(app, '.opendeploy', 'upload.json'), 'utf8')) as { upload_id: string; total_parts: number };
    await gw.clearFaults();
    process.env.OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS = '100';
    await new Promise((r) => setTimeout(r, 250));
    await gw.clearRequests();

    const again = await runCli(['deploy', app, '--yes', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`The earlier upload session ${saved.upload_id} has expired; starting a new upload.`);
    const upload = again.events.find((e) => e.type === 'stage' && e.stage === 'upload')!;
    expect(upload).toMatchObject({ resumed: false, expired_session: true, parts_reused: 0, parts_sent: saved.total_parts });
    expect(upload.upload_id).not.toBe(saved.upload_id);
    expect(puts(await gw.requests())).toEqual(range(1, saved.total_parts));
  });
});
