/**
 * Day-2 operations after an ambiguous commit (the gateway applied the request, the client saw a
 * dropped connection or a 502) and under concurrent writers. Each case names the bug it pins:
 * a second build, a rollback one release further, a `db add` re-run that "skipped", lost env keys.
 * Runs the CLI in-process (`main(argv, io)`) against a simulated local gateway.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { readProjectJson } from '../helpers/linked-app.js';

const TOKEN = `od_k${'A'.repeat(20)}${'b'.repeat(23)}`;

let gw: TestGateway;
let home: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  last: Record<string, unknown>;
}

async function od(cwd: string, args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main([...args, '--json', '--yes'], {
    env: { PATH: process.env.PATH, HOME: home, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, OD_GATEWAY: gw.url, CI: 'true', NO_COLOR: '1' },
    cwd,
    streams: { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) } },
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  const lines = stdout.trim().split('\n');
  let last: Record<string, unknown> = {};
  try {
    last = JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
  } catch {
    last = JSON.parse(stdout) as Record<string, unknown>;
  }
  return { code, stdout, stderr, last };
}

interface Row {
  id: string;
  project_id: string;
  service_id: string;
  status: string;
  is_current: boolean;
  is_rollback: boolean;
  rollback_from: string | null;
}

async function state(): Promise<{ deployments: Row[]; dependencies: Array<{ id: string; project_id: string; dependency_id: string; env_vars: Record<string, string> }>; services: Array<{ id: string; runtime_variables?: Record<string, string> }> }> {
  return (await gw.state()) as never;
}

async function projectJson(app: string): Promise<Record<string, unknown> & { project_id: string; services: Array<{ service_id: string }> }> {
  return (await readProjectJson(app)) as never;
}

async function deployedApp(): Promise<{ app: string; projectId: string; serviceId: string }> {
  const app = await copyFixture('node-http');
  const run = await od(app, ['deploy', '--name', `ambiguous-${randomBytes(3).toString('hex')}`]);
  expect(run.code, run.stdout).toBe(0);
  const link = await projectJson(app);
  return { app, projectId: link.project_id, serviceId: link.services[0]!.service_id };
}

async function deploymentsOf(projectId: string): Promise<Row[]> {
  return (await state()).deployments.filter((d) => d.project_id === projectId);
}

async function serviceEnv(projectId: string, serviceId: string): Promise<Record<string, string>> {
  const response = await fetch(`${gw.url}/v1/projects/${projectId}/services/${serviceId}/env`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await response.json()) as { variables: Record<string, string> };
  return body.variables;
}

beforeAll(async () => {
  gw = await startTestGateway({ buildDurationMs: 60 });
  home = await tempDir('od-ambiguous-home-');
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('deployment create after a lost answer', () => {
  it('redeploy: the deployment the gateway started is followed, no second build', async () => {
    const { app, projectId } = await deployedApp();
    const before = (await deploymentsOf(projectId)).length;
    await gw.fault({ route: 'POST /api/v1/deployments/', kind: 'commit-then-drop' });
    const run = await od(app, ['redeploy']);
    await gw.clearFaults();
    expect(run.code, run.stdout).toBe(0);
    expect((await deploymentsOf(projectId)).length).toBe(before + 1);
    expect(run.stderr).toContain('but the gateway did start deployment');
    expect(run.last.deployment_id).toBe((await deploymentsOf(projectId)).find((d) => d.is_current)!.id);
  });

  it('redeploy re-run after the watch failed: finishes with that deployment instead of starting another', async () => {
    const { app, projectId } = await deployedApp();
    const before = (await deploymentsOf(projectId)).length;
    // The first read (hiding the service's values) passes; the watch's first poll fails.
    await gw.fault({ route: 'GET /api/v1/deployments/:id', skip: 1, status: 500 });
    const first = await od(app, ['redeploy']);
    await gw.clearFaults();
    expect(first.code).toBe(1);
    expect(first.last.error_code).toBe('server_error');
    const again = await od(app, ['redeploy']);
    expect(again.code, again.stdout).toBe(0);
    expect((await deploymentsOf(projectId)).length).toBe(before + 1);
    // A later, deliberate redeploy still starts a new one.
    expect((await od(app, ['redeploy'])).code).toBe(0);
    expect((await deploymentsOf(projectId)).length).toBe(before + 2);
  });
});

describe('rollback after a lost answer', () => {
  it('a re-run rolls back to the recorded target and never one release further', async () => {
    const { app, projectId } = await deployedApp();
    expect((await od(app, ['redeploy'])).code).toBe(0);
    expect((await od(app, ['redeploy'])).code).toBe(0);
    const rows = await deploymentsOf(projectId);
    const current = rows.find((d) => d.is_current)!;
    const target = rows.filter((d) => d.status === 'success' && d.id !== current.id).at(-1)!;
    // The rollback is applied, its answer lost, and the read-back that would find it fails too.
    await gw.fault({ route: 'POST /api/v1/deployments/:id/rollback', kind: 'commit-then-drop' });
    await gw.fault({ route: 'GET /api/v1/deployments/', skip: 1, status: 500 });
    const first = await od(app, ['rollback']);
    await gw.clearFaults();
    expect(first.code).toBe(6);
    expect(first.last.error_code).toBe('gateway_unreachable');
    expect((await projectJson(app)).pending_rollback).toMatchObject({ to: target.id, from: current.id });

    const again = await od(app, ['rollback']);
    expect(again.code, again.stdout).toBe(0);
    expect(again.last).toMatchObject({ status: 'success', rolled_back_to: target.id, previous: current.id });
    const after = await deploymentsOf(projectId);
    const rollbacks = after.filter((d) => d.is_rollback);
    expect(rollbacks).toHaveLength(1);
    expect(after.find((d) => d.is_current)).toMatchObject({ id: rollbacks[0]!.id, rollback_from: target.id });
    expect((await projectJson(app)).pending_rollback).toBeUndefined();
  });

  it('a lost answer inside one run is read back: one rollback, success', async () => {
    const { app, projectId } = await deployedApp();
    expect((await od(app, ['redeploy'])).code).toBe(0);
    await gw.fault({ route: 'POST /api/v1/deployments/:id/rollback', kind: 'commit-then-502' });
    const run = await od(app, ['rollback']);
    await gw.clearFaults();
    expect(run.code, run.stdout).toBe(0);
    expect(run.stderr).toContain('the gateway did start rollback deployment');
    expect((await deploymentsOf(projectId)).filter((d) => d.is_rollback)).toHaveLength(1);
  });
});

describe('db add after a lost create answer', () => {
  it('a re-run wires the variables (rebuilt from the saved credentials) instead of reporting "skipped"', async () => {
    const { app, projectId, serviceId } = await deployedApp();
    await gw.fault({ route: 'POST /api/v1/dependencies/create', kind: 'commit-then-drop' });
    // The read-back after the lost answer fails as well, so only a re-run can finish.
    await gw.fault({ route: 'GET /api/v1/dependencies/status/:id', skip: 1, status: 500 });
    const first = await od(app, ['db', 'add', 'postgres']);
    await gw.clearFaults();
    expect(first.code).toBe(6);
    expect(first.last.error_code).toBe('gateway_unreachable');
    const credentials = path.join(app, '.opendeploy', 'dependency-credentials.json');
    expect((await stat(credentials)).mode & 0o777).toBe(0o600);

    const again = await od(app, ['db', 'add', 'postgres']);
    expect(again.code, again.stdout).toBe(0);
    expect(again.last).toMatchObject({ status: 'success', engine: 'postgres', redeployed: true });
    expect(again.last.env_added).toEqual(['DATABASE_URL', 'POSTGRES_DB', 'POSTGRES_HOST', 'POSTGRES_PASSWORD', 'POSTGRES_PORT', 'POSTGRES_USER']);
    const databases = (await state()).dependencies.filter((d) => d.project_id === projectId);
    expect(databases).toHaveLength(1);
    // What the service holds is exactly what the gateway made the database with.
    const env = await serviceEnv(projectId, serviceId);
    for (const [key, value] of Object.entries(databases[0]!.env_vars)) expect(env[key], key).toBe(value);
    await expect(stat(credentials)).rejects.toThrow();
  });

  it('a lost answer inside one run is read back: one database, variables wired, one deployment', async () => {
    const { app, projectId, serviceId } = await deployedApp();
    const before = (await deploymentsOf(projectId)).length;
    await gw.fault({ route: 'POST /api/v1/dependencies/create', kind: 'commit-then-502' });
    const run = await od(app, ['db', 'add', 'redis']);
    await gw.clearFaults();
    expect(run.code, run.stdout).toBe(0);
    const databases = (await state()).dependencies.filter((d) => d.project_id === projectId);
    expect(databases).toHaveLength(1);
    expect((await serviceEnv(projectId, serviceId)).REDIS_URL).toBe(databases[0]!.env_vars.REDIS_URL);
    expect((await deploymentsOf(projectId)).length).toBe(before + 1);
  });
});

describe('env changes under concurrent writers', () => {
  it('16 concurrent `env set K_i=v` runs: every key is there at the end', async () => {
    const { app, projectId, serviceId } = await deployedApp();
    const values = Array.from({ length: 16 }, (_, i) => [`RACE_${i}`, randomBytes(6).toString('hex')] as const);
    const runs = await Promise.all(values.map(([key, value]) => od(app, ['env', 'set', `${key}=${value}`])));
    expect(runs.map((r) => r.code)).toEqual(values.map(() => 0));
    const env = await serviceEnv(projectId, serviceId);
    for (const [key, value] of values) expect(env[key], key).toBe(value);
    // Every re-application is one more PUT, and each run that re-applied said so.
    const reapplied = runs.filter((r) => r.stderr.includes('applied it again on top')).length;
    const puts = (await gw.requests()).filter((r) => r.method === 'PUT' && r.path.endsWith('/env')).length;
    expect(puts).toBeGreaterThanOrEqual(values.length + reapplied);
  });

  it('a read-back that fails after the change was applied is success with a warning, verified: false', async () => {
    const { app, projectId, serviceId } = await deployedApp();
    const value = randomBytes(6).toString('hex');
    // GET before the PUT passes; the GET after it fails.
    await gw.fault({ route: 'GET /api/v1/projects/:id/services/:sid/env', skip: 1, status: 500 });
    const run = await od(app, ['env', 'set', `AFTER_PUT=${value}`]);
    await gw.clearFaults();
    expect(run.code, run.stdout).toBe(0);
    expect(run.last).toMatchObject({ keys_set: ['AFTER_PUT'], changed: true, verified: false });
    expect(run.stderr).toContain('The gateway accepted the change, but reading it back failed');
    expect((await serviceEnv(projectId, serviceId)).AFTER_PUT).toBe(value);
  });
});
