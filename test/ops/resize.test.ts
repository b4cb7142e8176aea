import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun, errorOf } from '../helpers/cli.js';
import { resultOf } from '../helpers/json-result.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { formatMemory, resizeBody } from '../../src/ops/quantity.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kResizeOps${'Z'.repeat(34)}`;

afterAll(async () => {
  await cleanupTempDirs();
});

/** `--json` one-shot output: one `{"type":"result",...}` line on stdout (its fields, without `type`). */
function documentOf(run: CliRun): Record<string, unknown> {
  return resultOf(run);
}

describe('resize request bodies (local validation)', () => {
  it('limits as given, cpu request = min(limit, 500m), memory request = half the limit', () => {
    expect(resizeBody({ cpu: '2', memory: '4Gi', replicas: '2' })).toEqual({ cpu_limit: '2', cpu_request: '500m', memory_limit: '4Gi', memory_request: '2Gi', replicas: 2 });
    expect(resizeBody({ cpu: '250m', memory: '512Mi' })).toEqual({ cpu_limit: '250m', cpu_request: '250m', memory_limit: '512Mi', memory_request: '256Mi' });
    expect(resizeBody({ cpu: '0.5', memory: '1.5Gi' })).toEqual({ cpu_limit: '0.5', cpu_request: '0.5', memory_limit: '1.5Gi', memory_request: '768Mi' });
    expect(resizeBody({ memory: '2G' })).toEqual({ memory_limit: '2G', memory_request: '1G' });
    expect(resizeBody({ replicas: '20' })).toEqual({ replicas: 20 });
    expect(formatMemory(1000)).toBe('1k');
    expect(formatMemory(1023)).toBe('1023');
  });

  it('implausible values are refused with the allowed range before anything is sent', () => {
    const refusal = (request: Parameters<typeof resizeBody>[0]): unknown => {
      try {
        resizeBody(request);
        return 'accepted';
      } catch (error) {
        const od = error as { code: string; message: string; details: Record<string, unknown> };
        return { code: od.code, message: od.message, details: od.details };
      }
    };
    expect(refusal({ cpu: '3000' })).toEqual({
      code: 'invalid_input',
      message: '--cpu "3000" is outside the range a service can have (10m to 32 cores).',
      details: { field: 'cpu', value: '3000', min: '10m', max: '32' },
    });
    expect(refusal({ cpu: '5m' })).toMatchObject({ code: 'invalid_input', details: { field: 'cpu', value: '5m' } });
    expect(refusal({ memory: '1Ti' })).toEqual({
      code: 'invalid_input',
      message: '--memory "1Ti" is outside the range a service can have (64Mi to 64Gi).',
      details: { field: 'memory', value: '1Ti', min: '64Mi', max: '64Gi' },
    });
    expect(refusal({ memory: '32Mi' })).toMatchObject({ code: 'invalid_input', details: { field: 'memory', value: '32Mi' } });
    // The edges are allowed.
    expect(resizeBody({ cpu: '10m', memory: '64Mi' })).toEqual({ cpu_limit: '10m', cpu_request: '10m', memory_limit: '64Mi', memory_request: '32Mi' });
    expect(resizeBody({ cpu: '32', memory: '64Gi' })).toEqual({ cpu_limit: '32', cpu_request: '500m', memory_limit: '64Gi', memory_request: '32Gi' });
  });
});

describe('opendeploy resize (claimed credential)', () => {
  let gw: TestGateway;
  let home: string;
  let app: string;
  let deployed: Record<string, unknown>;
  const env = (extra: Record<string, string> = {}) => ({ OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra });

  beforeAll(async () => {
    gw = await startTestGateway();
    home = await tempDir('od-home-');
    app = await copyFixture('node-http');
    const run = await runCli(['deploy', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    deployed = lastEvent(run)!;
  });
  afterAll(async () => {
    await gw.close();
  });

  it('a read-back that fails after the gateway accepted the resize is success with a warning (verified: false)', async () => {
    await gw.fault({ route: 'GET /api/v1/services/:id', status: 500 });
    const run = await runCli(['resize', '--replicas', '2', '--json'], { cwd: app, env: env() });
    await gw.clearFaults();
    expect(run.code, run.stderr).toBe(0);
    const doc = documentOf(run);
    expect(doc).toMatchObject({ status: 'success', changed: ['replicas'], verified: false, resources: { replicas: 2 } });
    expect(String(doc.warning)).toMatch(/^The gateway accepted the resize, but reading the service back failed \(.+\); `opendeploy status` shows it\.$/);
    // The change really is there.
    const service = (await (await fetch(`${gw.url}/v1/services/${String(deployed.service_id)}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { replicas: number };
    expect(service.replicas).toBe(2);
  });

  it('PUTs the Kubernetes strings, reads the service back, never redeploys, and audits service.resize', async () => {
    await gw.clearRequests();
    const run = await runCli(['resize', '--cpu', '2', '--memory', '1.5Gi', '--replicas', '3', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    const resources = { cpu_request: '500m', cpu_limit: '2', memory_request: '768Mi', memory_limit: '1.5Gi', replicas: 3 };
    expect(documentOf(run)).toEqual({
      status: 'success',
      project_id: deployed.project_id,
      service_id: deployed.service_id,
      service: 'node-http',
      resources,
      changed: ['cpu_limit', 'cpu_request', 'memory_limit', 'memory_request', 'replicas'],
      redeployed: false,
      verified: true,
    });

    const servicePath = `/api/v1/services/${String(deployed.service_id)}`;
    const calls = (await gw.requests()).filter((r) => r.path === servicePath).map((r) => ({ method: r.method, status: r.status, json: r.json }));
    // The PUT, then the GET that proves it (the read-back).
    expect(calls).toEqual([
      { method: 'PUT', status: 200, json: resources },
      { method: 'GET', status: 200, json: undefined },
    ]);
    expect((await gw.requests()).some((r) => r.path.startsWith('/api/v1/deployments'))).toBe(false);

    const log = await readFile(path.join(home, 'logs', `${new Date().toISOString().slice(0, 10)}.log`), 'utf8');
    const line = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.step === 'service.resize').at(-1);
    expect(line).toMatchObject({ level: 'info', project_id: deployed.project_id, service_id: deployed.service_id, ...resources, verified: true });
  });

  it('human output lists the read-back values', async () => {
    const run = await runCli(['resize', '--cpu', '250m'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `Resized node-http (${String(deployed.service_id)}); no redeploy needed, the workload rolls by itself.\n` +
        '  cpu       request 250m  limit 250m\n  memory    request 768Mi  limit 1.5Gi\n  replicas  3\n',
    );
  });

  it.each([
    [['--cpu', '3x'], '--cpu "3x" is not a Kubernetes CPU quantity.'],
    [['--cpu', '0'], '--cpu "0" is not a Kubernetes CPU quantity.'],
    [['--memory', '512'], '--memory "512" is not a Kubernetes memory quantity.'],
    [['--memory', '1GB'], '--memory "1GB" is not a Kubernetes memory quantity.'],
    [['--replicas', '0'], '--replicas "0" must be a whole number from 1 to 20.'],
    [['--replicas', '21'], '--replicas "21" must be a whole number from 1 to 20.'],
    [[], 'Nothing to change: give at least one of --cpu, --memory or --replicas.'],
  ])('%j is invalid_input (exit 2) with an example, and nothing is sent', async (args, message) => {
    await gw.clearRequests();
    const run = await runCli(['resize', ...args, '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(2);
    const error = errorOf(run);
    expect(error.error_code).toBe('invalid_input');
    expect(error.message).toBe(message);
    expect(String(error.next_action)).toMatch(/e\.g\.|example/i);
    expect(await gw.requests()).toEqual([]);
  });

  it('403 agent_quota_exceeded names field, requested and limit (exit 4); no read-back, nothing retried', async () => {
    await gw.fault({ route: 'PUT /api/v1/services/:id', status: 403, body: { error: 'agent_quota_exceeded', field: 'memory_limit', requested: '8Gi', limit: '4Gi' } });
    await gw.clearRequests();
    const run = await runCli(['resize', '--memory', '8Gi', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(4);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'quota_exceeded',
      message: 'The gateway refused memory_limit=8Gi: the limit for the plan of this account is 4Gi. Nothing was changed.',
      retryable: false,
      next_action: `Upgrade the plan at ${gw.origin}/settings, or re-run with --memory at most 4Gi.`,
      details: { field: 'memory_limit', requested: '8Gi', limit: '4Gi' },
    });
    const calls = (await gw.requests()).filter((r) => r.path.startsWith('/api/v1/services/'));
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual(['PUT 403']);
  });

  it('404 on the service is not_found (exit 1); a rejected token is auth_invalid (exit 3)', async () => {
    await gw.fault({ route: 'PUT /api/v1/services/:id', status: 404, body: { error: 'service not found' } });
    const gone = await runCli(['resize', '--replicas', '1', '--json'], { cwd: app, env: env() });
    expect(gone.code).toBe(1);
    expect(errorOf(gone)).toMatchObject({ error_code: 'not_found', retryable: false });

    await gw.clearRequests();
    const bad = await runCli(['resize', '--replicas', '1', '--json'], { cwd: app, env: env({ OPENDEPLOY_TOKEN: `od_a${'y'.repeat(43)}` }) });
    expect(bad.code).toBe(3);
    expect(errorOf(bad).error_code).toBe('auth_invalid');
    expect((await gw.requests()).every((r) => r.status === 401)).toBe(true);
  });
});

describe('opendeploy resize (unclaimed credential)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  it('beyond the caps: quota_exceeded (exit 4) whose next action is the claim URL; within the caps it applies', async () => {
    const home = await tempDir('od-home-');
    const app = await copyFixture('static-site');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home };
    const deploy = await runCli(['deploy', '--json', '--yes'], { cwd: app, env });
    expect(deploy.code).toBe(0);
    const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as Record<string, string>;
    const claim = `${gw.origin}/claim/${auth.agent_id}?h=${auth.bind_sig}`;

    const run = await runCli(['resize', '--cpu', '2', '--json'], { cwd: app, env });
    expect(run.code).toBe(4);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'quota_exceeded',
      message: 'The gateway refused cpu_limit=2: the limit for an unclaimed credential is 1. Nothing was changed.',
      retryable: false,
      next_action: `Open ${claim} and sign in to claim this credential and lift the limit, or re-run with --cpu at most 1.`,
      details: { field: 'cpu_limit', requested: '2', limit: '1', claim_url: claim },
    });
    // The token itself never appears.
    expect(run.stdout + run.stderr).not.toContain(auth.api_key);

    const ok = await runCli(['resize', '--cpu', '1', '--memory', '1Gi', '--json'], { cwd: app, env });
    expect(ok.code).toBe(0);
    expect(documentOf(ok).resources).toEqual({ cpu_request: '500m', cpu_limit: '1', memory_request: '512Mi', memory_limit: '1Gi', replicas: 1 });
  });
});
