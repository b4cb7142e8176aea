import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadAndBind, type BoundSource } from '../../src/deploy/upload.js';
import { createGatewayClient } from '../../src/gateway/factory.js';
import { JsonReporter } from '../../src/cli/output/json.js';
import type { AuditSink } from '../../src/core/session.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deployLinked, readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const TOKEN = patToken();
let gw: TestGateway;
let project: { project_id: string; project_name: string; region_id: string };

beforeAll(async () => {
  gw = await startTestGateway();
  const home = await tempDir('od-home-');
  const app = await copyFixture('node-http');
  await deployLinked(app, { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN });
  project = (await readProjectJson(app)) as typeof project;
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

/** The audit lines a run wrote, by step. */
function auditSink(): AuditSink & { steps: string[] } {
  const steps: string[] = [];
  return {
    steps,
    info: (step) => steps.push(step),
    warn: (step) => steps.push(step),
    error: (step) => steps.push(step),
    path: '',
    lastError: undefined,
    flush: async () => undefined,
  };
}

async function upload(root: string, last?: BoundSource) {
  let stdout = '';
  const reporter = new JsonReporter({ stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: () => true } }, false);
  const audit = auditSink();
  const bound: BoundSource[] = [];
  const result = await uploadAndBind({
    client: createGatewayClient(gw.url, TOKEN, () => undefined, {}),
    reporter,
    audit,
    signal: new AbortController().signal,
    env: {},
    projectId: project.project_id,
    projectName: project.project_name,
    regionId: project.region_id,
    root,
    secretFiles: [],
    ...(last ? { last: { digest: last.digest, tempFilePath: last.tempFilePath } } : {}),
    force: false,
    uploadStateDir: await tempDir('od-upload-state-'),
    onBound: async (source) => {
      bound.push(source);
    },
  });
  const stages = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((event) => event.type === 'stage')
    .map((event) => `${String(event.stage)} ${String(event.status)}`);
  return { result, bound, stages, audit: audit.steps };
}

describe('upload and bind (no state writes)', () => {
  it('packs, uploads and binds a folder; tells the caller what was bound and writes nothing into the folder', async () => {
    const source = await copyFixture('node-http');
    await writeFile(path.join(source, 'NOTES.md'), 'upload test\n');
    await gw.clearRequests();
    const first = await upload(source);

    expect(first.result.changed).toBe(true);
    expect(first.result.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(first.bound).toEqual([{ tempFilePath: first.result.tempFilePath, digest: first.result.digest }]);
    expect(first.stages).toEqual(['archive done', 'upload done', 'update_source done']);
    expect(first.audit).toEqual(['archive', 'upload', 'update_source']);
    const posts = (await gw.requests()).filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path)).toEqual(['/api/v1/upload/upload-only', '/api/v1/upload/update-source']);
    expect(posts[1]!.json).toMatchObject({ project_id: project.project_id, temp_file_path: first.result.tempFilePath });
    await expect(access(path.join(source, '.opendeploy'))).rejects.toThrow();

    // The same folder with the last upload's digest: nothing is sent, nothing is bound.
    await gw.clearRequests();
    const again = await upload(source, first.result);
    expect(again.result).toEqual({ tempFilePath: first.result.tempFilePath, digest: first.result.digest, changed: false });
    expect(again.bound).toEqual([]);
    expect(again.stages).toEqual(['archive done', 'upload skipped']);
    expect(again.audit).toEqual(['archive']);
    expect((await gw.requests()).filter((r) => r.method === 'POST')).toEqual([]);
    await expect(access(path.join(source, '.opendeploy'))).rejects.toThrow();
  });
});
