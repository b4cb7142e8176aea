/**
 * The chunked upload against the real local gateway over loopback: parts, retries of a single
 * failed part, complete → 409 missing_parts, resume from `.opendeploy/upload.json`, expiry, the
 * part pump's buffers handed from part to part, and the extraction gate on deployment create.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../src/gateway/index.js';
import { pumpBufferStats } from '../../src/gateway/client.js';
import { chunkedUpload, readSavedUpload, UPLOAD_STATE_FILE } from '../../src/gateway/multipart-upload.js';
import { startTestGateway, type TestGateway, type RecordedRequest } from '../helpers/gateway.js';
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
afterEach(async () => {
  delete process.env.OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS;
  delete process.env.OPENDEPLOY_LOCAL_EXTRACT_DELAY_MS;
  await gw.clearFaults();
});

interface Setup {
  client: GatewayClient;
  projectId: string;
  regionId: string;
  archive: string;
  stateDir: string;
  size: number;
}

/** A real zip of 7 parts (6 full 64 KiB parts and a shorter last one) and a fresh project. */
async function setup(name: string): Promise<Setup> {
  const client = new GatewayClient({ baseUrl: gw.url, token: patToken(), backoffBaseMs: 10 });
  const region = (await client.listRegions()).find((r) => r.status === 'active');
  const project = await client.createProject({ name, repo_url: 'file://upload', region_id: region!.id, skip_validation: true });
  const dir = await tempDir('od-mp-');
  const archive = path.join(dir, 'source.zip');
  // Random bytes do not compress: the stored zip is ~6.5 parts.
  await writeFile(archive, makeZip({ 'index.js': 'console.log("hi")\n', 'blob.bin': randomBytes(6 * PART + 20_000) }));
  return { client, projectId: project.id, regionId: region!.id, archive, stateDir: path.join(dir, '.opendeploy'), size: (await stat(archive)).size };
}

function upload(s: Setup, extra: Partial<Parameters<typeof chunkedUpload>[0]> = {}) {
  return chunkedUpload({
    client: s.client,
    archivePath: s.archive,
    projectId: s.projectId,
    projectName: 'p',
    regionId: s.regionId,
    stateDir: s.stateDir,
    partSize: PART,
    concurrency: 3,
    backoffBaseMs: 10,
    ...extra,
  });
}

/** PUT count per part number for one upload id, from the gateway's request journal. */
async function putsPerPart(uploadId: string): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const r of (await gw.requests()) as RecordedRequest[]) {
    const m = new RegExp(`^/api/v1/upload/multipart/${uploadId}/parts/(\\d+)$`).exec(r.path);
    if (r.method === 'PUT' && m) counts[Number(m[1])] = (counts[Number(m[1])] ?? 0) + 1;
  }
  return counts;
}

async function waitReady(client: GatewayClient, projectId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const p = (await client.getProject(projectId)) as Record<string, unknown>;
    if (p.source_status !== 'extracting') return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('still extracting');
}

describe('chunked upload against the local gateway', () => {
  it('sends every part once, completes, and the project source becomes ready', async () => {
    const s = await setup('mp-basic');
    const progress: number[] = [];
    const done = await upload(s, { onProgress: (sent) => progress.push(sent) });
    expect(done.result.source_status).toBe('extracting');
    expect(done.resumed).toBe(false);
    expect(await putsPerPart(done.uploadId)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1 });
    expect(progress.at(-1)).toBe(s.size);
    const project = await waitReady(s.client, s.projectId);
    expect(project.source_status).toBe('ready');
    expect(await readFile(path.join(String(project.source_path), 'index.js'), 'utf8')).toBe('console.log("hi")\n');
    // The resume file is gone once the upload is complete.
    expect(await readSavedUpload(s.stateDir)).toBeUndefined();
  });

  it('hands the part pump buffers from part to part and upload to upload, never a fresh set per part', async () => {
    // Each part's buffers used to be garbage once it ended (1 MiB per part, freed only by a GC):
    // 7 parts allocated 28. A 64 KiB part needs one 256 KiB buffer, and 3 parts are in flight.
    const before = pumpBufferStats();
    expect((await upload(await setup('mp-pump-a'))).sentParts).toHaveLength(7);
    const afterFirst = pumpBufferStats();
    expect(afterFirst.allocated - before.allocated).toBeLessThanOrEqual(3);
    // Every buffer it used is back for the next part: the spares it found plus the ones it allocated.
    expect(afterFirst.spare).toBe(before.spare + (afterFirst.allocated - before.allocated));
    expect((await upload(await setup('mp-pump-b'))).sentParts).toHaveLength(7);
    expect(pumpBufferStats()).toEqual(afterFirst);
  });

  it('a 502 on part 3 of 7 retries only part 3', async () => {
    const s = await setup('mp-fault');
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/3', status: 502, count: 2 });
    const done = await upload(s);
    expect(await putsPerPart(done.uploadId)).toEqual({ 1: 1, 2: 1, 3: 3, 4: 1, 5: 1, 6: 1, 7: 1 });
    expect((await waitReady(s.client, s.projectId)).source_status).toBe('ready');
  });

  it('a dropped connection on part 5 retries only part 5', async () => {
    const s = await setup('mp-drop');
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/5', drop: true, count: 1 });
    const done = await upload(s);
    expect(await putsPerPart(done.uploadId)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 2, 6: 1, 7: 1 });
  });

  it('complete → 409 missing_parts re-sends only the missing parts', async () => {
    const s = await setup('mp-missing');
    // Parts 2 and 6 are answered 200 without being stored (the answer lies), so complete finds them missing.
    for (const n of [2, 6]) {
      await gw.fault({ route: `PUT /api/v1/upload/multipart/:id/parts/${n}`, status: 200, body: { received: true, part_number: n }, count: 1 });
    }
    const done = await upload(s);
    expect(await putsPerPart(done.uploadId)).toEqual({ 1: 1, 2: 2, 3: 1, 4: 1, 5: 1, 6: 2, 7: 1 });
    const completes = ((await gw.requests()) as RecordedRequest[]).filter((r) => r.path === `/api/v1/upload/multipart/${done.uploadId}/complete`);
    expect(completes.map((r) => r.status)).toEqual([409, 200]);
  });

  it('resumes a cut-short upload: only parts not yet confirmed are sent', async () => {
    const s = await setup('mp-resume');
    // Parts 4..7 fail for good in the first run (after their attempts run out it gives up).
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/4', status: 503, count: 2 });
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/5', status: 503, count: 2 });
    await expect(upload(s, { concurrency: 1, partAttempts: 2 })).rejects.toMatchObject({ status: 503 });
    const saved = await readSavedUpload(s.stateDir);
    expect(saved?.confirmed_parts).toEqual([1, 2, 3]);
    expect((await stat(path.join(s.stateDir, UPLOAD_STATE_FILE))).mode & 0o777).toBe(0o600);

    const notices: string[] = [];
    const done = await upload(s, { onNotice: (m) => notices.push(m) });
    expect(done.resumed).toBe(true);
    expect(done.uploadId).toBe(saved!.upload_id);
    expect(done.reusedParts).toEqual([1, 2, 3]);
    expect([...new Set(done.sentParts)].sort()).toEqual([4, 5, 6, 7]);
    expect(notices).toEqual([`Resuming upload ${saved!.upload_id}: 3 of 7 parts already sent.`]);
    // Over both runs: 1..3 once; 4 twice failed + once; 5 twice failed + once; 6, 7 once.
    expect(await putsPerPart(done.uploadId)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 3, 5: 3, 6: 1, 7: 1 });
  });

  it('an expired session starts a new upload and says so', async () => {
    const s = await setup('mp-expired');
    process.env.OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS = '300';
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/2', status: 503, count: 1 });
    await expect(upload(s, { concurrency: 1, partAttempts: 1 })).rejects.toMatchObject({ status: 503 });
    const saved = await readSavedUpload(s.stateDir);
    expect(saved?.confirmed_parts).toEqual([1]);
    await new Promise((r) => setTimeout(r, 400));

    const notices: string[] = [];
    const done = await upload(s, { onNotice: (m) => notices.push(m) });
    expect(done.expiredSession).toBe(true);
    expect(done.resumed).toBe(false);
    expect(done.uploadId).not.toBe(saved!.upload_id);
    expect(notices).toEqual([`The earlier upload session ${saved!.upload_id} has expired; starting a new upload.`]);
    expect(await putsPerPart(done.uploadId)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1 });
  });

  it('a different archive never resumes the saved session', async () => {
    const s = await setup('mp-changed');
    await gw.fault({ route: 'PUT /api/v1/upload/multipart/:id/parts/2', status: 503, count: 1 });
    await expect(upload(s, { concurrency: 1, partAttempts: 1 })).rejects.toMatchObject({ status: 503 });
    const saved = await readSavedUpload(s.stateDir);
    await writeFile(s.archive, makeZip({ 'index.js': 'changed\n', 'blob.bin': randomBytes(6 * PART + 20_000) }));
    const done = await upload(s);
    expect(done.resumed).toBe(false);
    expect(done.expiredSession).toBe(false);
    expect(done.uploadId).not.toBe(saved!.upload_id);
  });
});

describe('local gateway multipart contract', () => {
  async function raw(s: Setup, method: string, route: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}) {
    const token = (s.client as unknown as { token: string }).token;
    const res = await fetch(`${gw.url}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...init.headers }, body: init.body });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
  }
  const initBody = (s: Setup, over: Record<string, unknown> = {}) =>
    JSON.stringify({ project_id: s.projectId, project_name: 'p', region_id: s.regionId, total_size: 200_000, part_size: PART, total_parts: 4, total_sha256: 'a'.repeat(64), ...over });

  it('init needs an Idempotency-Key, replays the same key, and checks sizes', async () => {
    const s = await setup('mp-contract');
    const json = { 'content-type': 'application/json' };
    expect((await raw(s, 'POST', '/v1/upload/multipart/init', { headers: json, body: initBody(s) })).status).toBe(400);
    const first = await raw(s, 'POST', '/v1/upload/multipart/init', { headers: { ...json, 'idempotency-key': 'k1' }, body: initBody(s) });
    expect(first.status).toBe(200);
    expect(first.json.part_size).toBe(PART);
    const again = await raw(s, 'POST', '/v1/upload/multipart/init', { headers: { ...json, 'idempotency-key': 'k1' }, body: initBody(s) });
    expect(again.json.upload_id).toBe(first.json.upload_id);
    const bad = await raw(s, 'POST', '/v1/upload/multipart/init', { headers: { ...json, 'idempotency-key': 'k2' }, body: initBody(s, { total_parts: 3 }) });
    expect(bad).toMatchObject({ status: 400, json: { error: 'total_parts must equal ceil(total_size / part_size)' } });

    const id = String(first.json.upload_id);
    const part = (n: number, body: Buffer, sha = 'b'.repeat(64)) =>
      raw(s, 'PUT', `/v1/upload/multipart/${id}/parts/${n}`, { headers: { 'x-part-sha256': sha, 'content-type': 'application/octet-stream' }, body });
    expect((await part(5, Buffer.alloc(10))).status).toBe(416);
    expect((await part(1, Buffer.alloc(PART + 1))).status).toBe(413);
    expect((await part(1, Buffer.alloc(10))).json.error).toBe(`part 1 must be ${PART} bytes, got 10`);
    expect((await part(1, Buffer.alloc(PART))).json.error).toBe('part 1 sha256 mismatch; part not stored');

    const complete = await raw(s, 'POST', `/v1/upload/multipart/${id}/complete`, { headers: { ...json, 'idempotency-key': 'c1' }, body: JSON.stringify({ total_sha256: 'a'.repeat(64) }) });
    expect(complete).toMatchObject({ status: 409, json: { missing_parts: [1, 2, 3, 4] } });
    const aborted = await raw(s, 'POST', `/v1/upload/multipart/${id}/abort`, { headers: { 'idempotency-key': 'a1' } });
    expect(aborted).toMatchObject({ status: 200, json: { aborted: true } });
    expect((await part(1, Buffer.alloc(PART))).status).toBe(409);
  });

  it('deployment create answers 409 + Retry-After while extracting', async () => {
    const s = await setup('mp-gate');
    process.env.OPENDEPLOY_LOCAL_EXTRACT_DELAY_MS = '1500';
    await upload(s);
    const service = await s.client.createService(s.projectId, { name: 'web', type: 'web', port: 3000 } as never);
    const res = await raw(s, 'POST', '/v1/deployments/', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_id: s.projectId, service_id: service.service_id, source: 'zip', temp_file_path: 'multipart:x' }),
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.json.source_status).toBe('extracting');
  });

  it('an archive that cannot be extracted: source_status failed, deployment create 422', async () => {
    const s = await setup('mp-bad-zip');
    await writeFile(s.archive, randomBytes(3 * PART));
    const done = await upload(s);
    expect(done.result.source_status).toBe('extracting');
    const project = await waitReady(s.client, s.projectId);
    expect(project.source_status).toBe('failed');
    expect(typeof project.extraction_error).toBe('string');
    const service = await s.client.createService(s.projectId, { name: 'web', type: 'web', port: 3000 } as never);
    const res = await raw(s, 'POST', '/v1/deployments/', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_id: s.projectId, service_id: service.service_id, source: 'zip', temp_file_path: 'multipart:x' }),
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ source_status: 'failed', extraction_error: project.extraction_error });
  });
});
