/**
 * The "done when": a folder holding a 300 MiB file deploys against the local gateway
 * through the multipart upload with the production threshold and part size (100 MiB / 64 MiB).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const MiB = 1024 * 1024;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

it('deploys a folder holding a 300 MiB file through the multipart upload', async () => {
  const app = path.join(await tempDir('od-300-'), 'media-app');
  await mkdir(app, { recursive: true });
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'media-app', version: '1.0.0', scripts: { start: 'node server.js' } }));
  await writeFile(path.join(app, 'server.js'), "require('http').createServer((q, s) => s.end('hello')).listen(process.env.PORT || 3000);\n");
  // Random bytes in a .mp4: already compressed media, stored as it is.
  const out = createWriteStream(path.join(app, 'video.mp4'));
  for (let i = 0; i < 300; i++) if (!out.write(randomBytes(MiB))) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise((r) => out.end(r));

  const run = await runCli(['deploy', app, '--yes', '--json', '--name', 'media-app'], {
    env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    timeoutMs: 120_000,
  });
  expect(run.code, run.stderr).toBe(0);
  const upload = run.events.find((e) => e.type === 'stage' && e.stage === 'upload')!;
  const parts = Math.ceil(Number(upload.zip_bytes) / (64 * MiB));
  expect(Number(upload.zip_bytes)).toBeGreaterThan(300 * MiB);
  expect(upload).toMatchObject({ status: 'done', parts_sent: parts, resumed: false });
  expect(parts).toBe(5);
  const puts = (await gw.requests()).filter((r) => r.method === 'PUT' && r.path.includes('/upload/multipart/'));
  expect(puts).toHaveLength(5);
  expect(lastEvent(run)?.type).toBe('result');
}, 120_000);
