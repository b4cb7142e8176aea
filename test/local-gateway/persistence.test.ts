import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID, startLocalGateway, type LocalGateway } from '../../src/local-gateway/index.js';
import { call, makeTempDir, patToken, register, uploadArchive, waitFor, zipWithCli } from './helpers.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start(dataDir: string, buildDurationMs = 300): Promise<{ gw: LocalGateway; origin: string }> {
  const gw = await startLocalGateway({ dataDir, buildDurationMs, simulate: true });
  cleanup.push(() => gw.close());
  return { gw, origin: gw.url.replace(/\/api$/, '') };
}

describe('data folder', () => {
  it('is created with mode 0700 and holds state.json (0600)', async () => {
    const parent = await makeTempDir();
    cleanup.push(() => rm(parent, { recursive: true, force: true }));
    const dataDir = path.join(parent, 'nested', 'gateway');
    const { gw } = await start(dataDir);
    expect(gw.dataDir).toBe(dataDir);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dataDir, 'state.json'))).mode & 0o777).toBe(0o600);
  });

  it('a corrupt state file is moved aside, not deleted, and a fresh state starts', async () => {
    const dataDir = await makeTempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    await writeFile(path.join(dataDir, 'state.json'), '{not json');
    const { origin } = await start(dataDir);
    expect((await call(origin, 'GET', '/api/v1/regions/', { token: patToken() })).status).toBe(200);
    const files = await readdir(dataDir);
    expect(files.some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
  });

  it('close() is idempotent and stops answering', async () => {
    const dataDir = await makeTempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const gw = await startLocalGateway({ dataDir, simulate: true });
    await gw.close();
    await gw.close();
    await expect(fetch(`${gw.url}/v1/regions/`)).rejects.toThrow();
  });

  it('close() ends open SSE streams', async () => {
    const dataDir = await makeTempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const gw = await startLocalGateway({ dataDir, buildDurationMs: 60_000, simulate: true });
    const origin = gw.url.replace(/\/api$/, '');
    const pat = patToken();
    const pid = (await call(origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'sse-close', repo_url: 'file://upload', skip_validation: true } })).json.id;
    const sid = (await call(origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: { name: 'web', type: 'web' } })).json.service_id;
    const dep = (await call(origin, 'POST', '/api/v1/deployments/', { token: pat, body: { project_id: pid, service_id: sid, source: 'zip', temp_file_path: '/x' } })).json;
    const res = await fetch(`${gw.url}/v1/deployments/${dep.id}/logs/stream`, { headers: { authorization: `Bearer ${pat}` } });
    const body = res.text().catch(() => 'closed');
    const started = Date.now();
    await gw.close();
    await body;
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('restart with the same data folder', () => {
  it('keeps agents, projects, sources, deployments, logs and domains', async () => {
    const dataDir = await makeTempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await start(dataDir);
    const reg = await register(first.origin, 'restart-ua');
    const token = reg.json.api_key as string;
    const pid = (await call(first.origin, 'POST', '/api/v1/projects/', { token, body: { name: 'survivor', repo_url: 'file://upload', region_id: ACTIVE_REGION_ID, skip_validation: true } })).json.id;
    const sid = (await call(first.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token, body: { name: 'web', type: 'web', runtime_variables: { A: '1' } } })).json.service_id;
    const zip = await zipWithCli({ 'index.js': 'hi' });
    const temp = (await uploadArchive(first.origin, token, { project_name: 'survivor', region_id: ACTIVE_REGION_ID }, { name: 'a.zip', data: zip })).json.temp_file_path;
    const src = (await call(first.origin, 'POST', '/api/v1/upload/update-source', { token, body: { project_id: pid, temp_file_path: temp } })).json.source_path;
    const dep = (await call(first.origin, 'POST', '/api/v1/deployments/', { token, body: { project_id: pid, service_id: sid, source: 'zip', temp_file_path: temp } })).json;
    const domain = await waitFor(async () => (await call(first.origin, 'GET', `/api/v1/service-domains?service_id=${sid}`, { token })).json[0], 5000);
    const logsBefore = (await call(first.origin, 'GET', `/api/v1/deployments/${dep.id}/logs`, { token })).json;
    await first.gw.close();

    const second = await start(dataDir);
    expect((await call(second.origin, 'GET', '/api/v1/regions/', { token })).status).toBe(200);
    const project = (await call(second.origin, 'GET', `/api/v1/projects/${pid}`, { token })).json;
    expect(project).toMatchObject({ id: pid, name: 'survivor', source_path: src, source_status: 'ready' });
    expect(await readFile(path.join(src, 'index.js'), 'utf8')).toBe('hi');
    expect((await call(second.origin, 'GET', `/api/v1/services/${sid}`, { token })).json.runtime_variables).toEqual({ A: '1' });
    expect((await call(second.origin, 'GET', `/api/v1/deployments/${dep.id}`, { token })).json.status).toBe('success');
    expect((await call(second.origin, 'GET', `/api/v1/deployments/${dep.id}/logs`, { token })).json).toEqual(logsBefore);
    expect((await call(second.origin, 'GET', `/api/v1/service-domains?service_id=${sid}`, { token })).json).toEqual([domain]);
    // Idempotent replay and the one-live-project rule survive too.
    const replay = await register(second.origin, 'restart-ua');
    expect(replay.json.agent_id).toBe(reg.json.agent_id);
    expect(replay.json).not.toHaveProperty('api_key');
    // The uploaded temp file is still usable for another bind.
    expect((await call(second.origin, 'POST', '/api/v1/upload/update-source', { token, body: { project_id: pid, temp_file_path: temp } })).status).toBe(200);
  });

  it('resumes a deployment that was mid-build when the gateway stopped', async () => {
    const dataDir = await makeTempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await start(dataDir, 1000);
    const pat = patToken();
    const pid = (await call(first.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'resume', repo_url: 'file://upload', skip_validation: true } })).json.id;
    const sid = (await call(first.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: { name: 'web', type: 'web' } })).json.service_id;
    const zip = await zipWithCli({ 'index.js': 'hi' });
    const temp = (await uploadArchive(first.origin, pat, { project_name: 'resume', region_id: ACTIVE_REGION_ID }, { name: 'a.zip', data: zip })).json.temp_file_path;
    await call(first.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: pid, temp_file_path: temp } });
    const dep = (await call(first.origin, 'POST', '/api/v1/deployments/', { token: pat, body: { project_id: pid, service_id: sid, source: 'zip', temp_file_path: temp } })).json;
    await waitFor(async () => (await call(first.origin, 'GET', `/api/v1/deployments/${dep.id}`, { token: pat })).json.status === 'building', 3000, 10);
    await first.gw.close();
    const midway = JSON.parse(await readFile(path.join(dataDir, 'state.json'), 'utf8')).deployments[0];
    expect(midway.status).toBe('building');

    const second = await start(dataDir, 1000);
    const done = await waitFor(async () => {
      const d = (await call(second.origin, 'GET', `/api/v1/deployments/${dep.id}`, { token: pat })).json;
      return d.status === 'success' ? d : undefined;
    }, 5000);
    expect(done.progress).toBe(100);
    const logs = (await call(second.origin, 'GET', `/api/v1/deployments/${dep.id}/logs`, { token: pat })).json.logs as Array<{ message: string }>;
    // No step ran twice across the restart.
    expect(new Set(logs.map((l) => l.message)).size).toBe(logs.length);
    await waitFor(async () => (await call(second.origin, 'GET', `/api/v1/service-domains?service_id=${sid}`, { token: pat })).json[0], 3000);
  });
});
