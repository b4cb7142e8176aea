/**
 * The part pump's buffers are handed from one part to the next: a multipart upload allocates as
 * many as its parts in flight need, never a fresh set per part, and a second upload in the same
 * process allocates none. (Each part's buffers used to be garbage once it ended: 1 MiB per part,
 * freed only by a garbage collection.)
 */
import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../src/gateway/index.js';
import { pumpBufferStats } from '../../src/gateway/client.js';
import { chunkedUpload } from '../../src/gateway/multipart-upload.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { makeZip } from './zip.js';

const PART = 64 * 1024;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

/** Uploads a fresh 7-part archive (random bytes: stored) to a fresh project, 3 parts at a time. */
async function uploadSevenParts(name: string): Promise<{ parts: number; size: number }> {
  const client = new GatewayClient({ baseUrl: gw.url, token: patToken(), backoffBaseMs: 10 });
  const region = (await client.listRegions()).find((r) => r.status === 'active');
  const project = await client.createProject({ name, repo_url: 'file://upload', region_id: region!.id, skip_validation: true });
  const dir = await tempDir('od-pump-');
  const archive = path.join(dir, 'source.zip');
  await writeFile(archive, makeZip({ 'index.js': 'console.log("hi")\n', 'blob.bin': randomBytes(6 * PART + 20_000) }));
  const result = await chunkedUpload({
    client,
    archivePath: archive,
    projectId: project.id,
    projectName: name,
    regionId: region!.id,
    stateDir: path.join(dir, '.opendeploy'),
    partSize: PART,
    concurrency: 3,
    backoffBaseMs: 10,
  });
  return { parts: result.sentParts.length, size: (await stat(archive)).size };
}

describe('the part pump', () => {
  it('reuses its buffers from part to part and from upload to upload', async () => {
    expect(pumpBufferStats()).toEqual({ allocated: 0, spare: 0 });
    const first = await uploadSevenParts('pump-a');
    expect(first.parts).toBe(7);
    // A 64 KiB part fits one 256 KiB buffer; at most 3 parts are in flight.
    const afterFirst = pumpBufferStats();
    expect(afterFirst.allocated).toBeGreaterThanOrEqual(1);
    expect(afterFirst.allocated).toBeLessThanOrEqual(3);
    expect(afterFirst.spare).toBe(afterFirst.allocated);
    const second = await uploadSevenParts('pump-b');
    expect(second.parts).toBe(7);
    expect(pumpBufferStats()).toEqual(afterFirst);
  });
});
