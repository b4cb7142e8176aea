import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun, errorOf } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let app: string;
let first: string;
let second: string;

function cli(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { cwd: app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra } });
}

async function rollbackPosts(): Promise<number> {
  return (await gw.requests()).filter((r) => r.method === 'POST' && /\/rollback$/.test(r.path)).length;
}

interface Row {
  id: string;
  status: string;
  is_rollback: boolean;
  rollback_from: string | null;
}

async function deployments(): Promise<Row[]> {
  return (await gw.state()).deployments as Row[];
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const one = await cli(['deploy', '--json']);
  expect(one.code).toBe(0);
  first = String(lastEvent(one)!.deployment_id);
  const two = await cli(['deploy', '--json']);
  expect(two.code).toBe(0);
  second = String(lastEvent(two)!.deployment_id);
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy rollback', () => {
  it('asks for consent without --yes in CI: exit 7, lists current → target, sends no POST', async () => {
    await gw.clearRequests();
    const run = await cli(['rollback', '--json']);
    expect(run.code).toBe(7);
    const error = errorOf(run);
    expect(error.error_code).toBe('consent_required');
    const details = error.details as { changes: string[]; resume_command: string };
    expect(details.changes).toEqual([`${second} → ${first}`]);
    expect(details.resume_command).toBe(`opendeploy rollback ${first} --json --yes`);
    expect(await rollbackPosts()).toBe(0);
  });

  it('rolls back to the previous success, watches it (NDJSON), reads it back and saves it', async () => {
    await gw.clearRequests();
    const run = await cli(['rollback', '--yes', '--json']);
    expect(run.code).toBe(0);
    const result = lastEvent(run)!;
    expect(result).toMatchObject({ type: 'result', status: 'success', rolled_back_to: first, previous: second });
    const created = String(result.deployment_id);
    // Both deploys bound the same (unchanged) folder: a plain redeploy rebuilds what now runs.
    expect(result.next_redeploy_source).toEqual({ source: 'live_release', deployment_id: created, command: 'opendeploy redeploy' });
    expect(created).not.toBe(first);
    expect(run.events.some((e) => e.type === 'progress' && e.deployment_id === created)).toBe(true);
    expect(run.events.some((e) => e.type === 'log' && typeof e.timestamp === 'string')).toBe(true);
    // Read-back on the gateway: the new deployment runs the old release; the replaced one is rolled back.
    const rows = await deployments();
    expect(rows.find((d) => d.id === created)).toMatchObject({ status: 'success', is_rollback: true, rollback_from: first });
    expect(rows.find((d) => d.id === second)?.status).toBe('rolled_back');
    const requests = await gw.requests();
    expect(requests.filter((r) => r.method === 'POST' && r.path === `/api/v1/deployments/${first}/rollback`)).toHaveLength(1);
    expect(requests.some((r) => r.method === 'GET' && r.path === `/api/v1/deployments/${created}`)).toBe(true);
    const state = JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')) as { last_deployment: { id: string; status: string } };
    expect(state.last_deployment).toMatchObject({ id: created, status: 'success' });
    const log = await readFile(path.join(home, 'logs', `${new Date().toISOString().slice(0, 10)}.log`), 'utf8');
    expect(log).toContain('"step":"deploy.rollback"');
  });

  it('no earlier success left (the current release already runs it) → not_found with a clear sentence', async () => {
    await gw.clearRequests();
    const run = await cli(['rollback', '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('not_found');
    expect(String(error.message)).toContain('no earlier successful deployment');
    expect(await rollbackPosts()).toBe(0);
  });

  it('an explicit id the gateway refuses (409: not a success) → conflict', async () => {
    const run = await cli(['rollback', second, '--yes', '--json']);
    expect(run.code).toBe(1);
    expect(errorOf(run).error_code).toBe('conflict');
  });

  it('an unknown id → not_found (404)', async () => {
    const run = await cli(['rollback', '00000000-0000-4000-8000-000000000000', '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('not_found');
    expect(String(error.message)).toContain('00000000-0000-4000-8000-000000000000');
  });

  it('a 201 without a deployment id is a false success → server_error, nothing saved', async () => {
    const before = await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8');
    await gw.fault({ route: 'POST /api/v1/deployments/:id/rollback', count: 1, status: 201, body: { message: 'rollback accepted' } });
    const run = await cli(['rollback', first, '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('server_error');
    expect(String(error.message)).toContain('no deployment id');
    expect(JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')).last_deployment).toEqual(JSON.parse(before).last_deployment);
  });

  it('a rejected token → auth_invalid (exit 3)', async () => {
    const run = await cli(['rollback', '--yes', '--json'], { OPENDEPLOY_TOKEN: `od_a${'z'.repeat(43)}` });
    expect(run.code).toBe(3);
    expect(errorOf(run).error_code).toBe('auth_invalid');
  });
});
