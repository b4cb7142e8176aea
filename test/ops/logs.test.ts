import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliOptions, type CliRun, errorOf } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startDeploymentViaApi } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { parseSince, parseTail } from '../../src/ops/logs.js';

const TOKEN = patToken();
const STREAM = /^\/api\/v1\/deployments\/[^/]+\/logs\/stream$/;

let gw: TestGateway;
let home: string;
let app: string;
let deployed: string;
let allLines: { timestamp: string; message: string; source: string }[];

function cli(args: string[], options: { env?: Record<string, string>; onEvent?: CliOptions['onEvent'] } = {}): Promise<CliRun> {
  return runCli(args, {
    cwd: app,
    env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...options.env },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
}

/** Starts another deployment of the linked service straight through the API. */
const startDeployment = (): Promise<string> => startDeploymentViaApi(gw, app, TOKEN);

beforeAll(async () => {
  // A slow build, so `logs --follow` connects while it is still running even on a busy machine.
  gw = await startTestGateway({ buildDurationMs: 15000 });
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(['deploy', '--json']);
  expect(run.code).toBe(0);
  deployed = String(lastEvent(run)!.deployment_id);
  allLines = ((await gw.state()).logs as Record<string, { timestamp: string; message: string; source: string }[]>)[deployed]!;
}, 90_000);

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy logs (one-shot)', () => {
  it('--tail N: N log events with timestamps, then a result with the count', async () => {
    const run = await cli(['logs', deployed, '--tail', '3', '--json']);
    expect(run.code).toBe(0);
    const logs = run.events.filter((e) => e.type === 'log');
    expect(logs.map((e) => e.message)).toEqual(allLines.slice(-3).map((l) => l.message));
    expect(logs.map((e) => e.timestamp)).toEqual(allLines.slice(-3).map((l) => l.timestamp));
    expect(lastEvent(run)).toEqual({ type: 'result', deployment_id: deployed, count: 3 });
    expect(run.events).toHaveLength(4);
  });

  it('human mode prints "timestamp  message" on stdout; --build keeps only build lines', async () => {
    const run = await cli(['logs', deployed, '--build']);
    expect(run.code).toBe(0);
    const build = allLines.filter((l) => l.source === 'buildctl');
    expect(build.length).toBeGreaterThan(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual(build.map((l) => `${l.timestamp}  ${l.message}`));
  });

  it('--since: a future time gives no lines; a bad value is invalid_input (exit 2)', async () => {
    const none = await cli(['logs', deployed, '--since', '2999-01-01T00:00:00Z', '--json']);
    expect(none.code).toBe(0);
    expect(lastEvent(none)).toMatchObject({ type: 'result', count: 0 });
    const recent = await cli(['logs', deployed, '--since', '1h', '--json']);
    expect(lastEvent(recent)).toMatchObject({ type: 'result', count: allLines.length });
    const bad = await cli(['logs', '--since', 'yesterday', '--json']);
    expect(bad.code).toBe(2);
    expect(errorOf(bad).error_code).toBe('invalid_input');
  });

  it('an unknown deployment → not_found; a rejected token → auth_invalid', async () => {
    const missing = await cli(['logs', '00000000-0000-4000-8000-000000000000', '--json']);
    expect(missing.code).toBe(1);
    expect(errorOf(missing).error_code).toBe('not_found');
    const denied = await cli(['logs', '--json'], { env: { OPENDEPLOY_TOKEN: `od_a${'w'.repeat(43)}` } });
    expect(denied.code).toBe(3);
    expect(errorOf(denied).error_code).toBe('auth_invalid');
  });
});

describe('opendeploy logs --follow', () => {
  it('streams a running build and ends with exit 0 when the deployment is over', { timeout: 60_000 }, async () => {
    const running = await startDeployment();
    const run = await cli(['logs', running, '--follow', '--json']);
    expect(run.code).toBe(0);
    const logs = run.events.filter((e) => e.type === 'log');
    const stored = ((await gw.state()).logs as Record<string, { message: string }[]>)[running]!;
    // Every line exactly once, in order, each with its timestamp.
    expect(logs.map((e) => e.message)).toEqual(stored.map((l) => l.message));
    expect(logs.every((e) => typeof e.timestamp === 'string')).toBe(true);
    // It was followed while running: a status change arrived before the end.
    expect(run.events.some((e) => e.type === 'progress' && ['pending', 'building', 'deploying'].includes(String(e.status)))).toBe(true);
    expect(lastEvent(run)).toMatchObject({ type: 'result', deployment_id: running, status: 'success', count: stored.length });
  });

  it('Ctrl-C stops following with exit 130', async () => {
    const running = await startDeployment();
    // One Ctrl-C: several lines can arrive in one chunk, and a second Ctrl-C ends the process at once.
    let killed = false;
    const run = await cli(['logs', running, '--follow', '--json'], {
      onEvent: (event, child) => {
        if (event.type === 'log' && !killed) {
          killed = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(run.code).toBe(130);
    expect(errorOf(run).error_code).toBe('interrupted');
    await cli(['cancel', running, '--yes', '--json']);
  });

  it('a broken stream is reconnected once from the last timestamp, then stops with gateway_unreachable (exit 6)', async () => {
    await gw.clearRequests();
    await gw.fault({ route: 'GET /api/v1/deployments/:id/logs/stream', count: 50, drop: true });
    const run = await cli(['logs', deployed, '--follow', '--tail', '2', '--json']);
    await gw.clearFaults();
    expect(run.code).toBe(6);
    expect(errorOf(run).error_code).toBe('gateway_unreachable');
    expect(run.events.filter((e) => e.type === 'log')).toHaveLength(2);
    const requests = await gw.requests();
    // Two connections at most (the client's own transport retries each connect up to 3 times).
    expect(requests.filter((r) => STREAM.test(r.path)).length).toBeLessThanOrEqual(6);
    const catchUp = requests.filter((r) => r.path === `/api/v1/deployments/${deployed}/logs` && JSON.stringify(r.query ?? '').includes('since'));
    expect(catchUp).toHaveLength(1);
    expect((catchUp[0]!.query as Record<string, string>).since).toBe(allLines.at(-1)!.timestamp);
  });
});

describe('logs option parsing', () => {
  it('parseSince accepts RFC3339 and durations; parseTail bounds N', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(parseSince('10m', now)).toBe('2026-01-01T11:50:00.000Z');
    expect(parseSince('1h30m', now)).toBe('2026-01-01T10:30:00.000Z');
    expect(parseSince('2026-01-01T10:00:00+02:00', now)).toBe('2026-01-01T08:00:00.000Z');
    expect(() => parseSince('10 minutes', now)).toThrow(/RFC3339/);
    expect(parseTail(undefined)).toBe(100);
    expect(parseTail('5')).toBe(5);
    for (const bad of ['0', '-1', '1.5', 'abc', '10001']) expect(() => parseTail(bad)).toThrow();
  });
});
