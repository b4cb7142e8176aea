/**
 * `opendeploy logs` on a service that runs nothing yet (its first deployment is still building):
 * it says so and shows the latest deployment's logs; with `--follow` it follows that deployment to
 * its success and then keeps following the app's output until Ctrl-C.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const TOKEN = patToken();
let gw: TestGateway;
let app: string;
let home: string;
let deploymentId: string;
let serviceId: string;
let serviceName: string;

const cli = (args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliRun> =>
  runCli(args, { cwd: app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN }, ...options });

beforeAll(async () => {
  // A slow simulated build, so both runs below start while nothing runs yet.
  gw = await startTestGateway({ buildDurationMs: 8000 });
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(['deploy', '--no-wait', '--json']);
  expect(run.code, run.stderr).toBe(0);
  deploymentId = String(lastEvent(run)!.deployment_id);
  const link = (await readProjectJson(app)) as { services: { service_id: string; name: string }[] };
  serviceId = link.services[0]!.service_id;
  serviceName = link.services[0]!.name;
}, 60_000);

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy logs on a service with no running release', () => {
  it('says so and shows the latest deployment\'s logs', async () => {
    const run = await cli(['logs', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^${serviceName} has no running release \\(its status is [a-z]+\\), so there is no app output to show; showing the logs of its latest deployment instead\\.$`, 'm'));
    const stored = ((await gw.state()).logs as Record<string, { message: string }[] | undefined>)[deploymentId] ?? [];
    const lines = run.events.filter((event) => event.type === 'log');
    // The build goes on meanwhile: what was printed is the start of what the gateway holds now.
    expect(lines.map((line) => line.message)).toEqual(stored.slice(0, lines.length).map((line) => line.message));
    expect(lastEvent(run)).toEqual({ type: 'result', deployment_id: deploymentId, count: lines.length });
  });

  it('--follow follows the deployment to its success, then the app\'s output, until Ctrl-C', { timeout: 60_000 }, async () => {
    const service = (await (await fetch(`${gw.url}/v1/services/${serviceId}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { port: number; start_command: string };
    const run = await cli(['logs', '--follow', '--json'], {
      onEvent: (event, child) => {
        if (event.type === 'log' && event.message === `listening on :${service.port}`) child.kill('SIGINT');
      },
    });
    expect(run.code, run.stderr).toBe(130);
    const lines = run.events.filter((event) => event.type === 'log');
    const stored = ((await gw.state()).logs as Record<string, { message: string; source: string }[]>)[deploymentId]!;
    // Every line of the deployment once, in order, then the app's first lines.
    const deploymentLines = lines.slice(0, stored.length);
    expect(deploymentLines.map((line) => [line.source, line.message])).toEqual(stored.map((line) => [line.source, line.message]));
    expect(deploymentLines.some((line) => line.source === 'buildctl')).toBe(true);
    expect(lines.slice(stored.length).map((line) => [line.source, line.message])).toEqual([
      ['runtime', `> ${service.start_command}`],
      ['runtime', `listening on :${service.port}`],
    ]);
    expect(run.stderr).toContain(`${serviceName} is running now; following its output (Ctrl-C stops).`);
    expect(errorOf(run)).toMatchObject({ error_code: 'interrupted', message: `Stopped following the logs of ${serviceName}; nothing was changed.` });
  });

  it('a gateway without the service-logs route (404): a warning, then the latest deployment\'s logs', async () => {
    await gw.fault({ route: 'GET /api/v1/projects/:id/services/:sid/logs', status: 404, body: '404 page not found', count: 1 });
    const run = await cli(['logs', '--tail', '2', '--json']);
    await gw.clearFaults();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("This gateway does not serve the running app's output (404); showing the logs of the latest deployment instead.");
    const stored = ((await gw.state()).logs as Record<string, { message: string }[]>)[deploymentId]!;
    expect(run.events.filter((event) => event.type === 'log').map((line) => line.message)).toEqual(stored.slice(-2).map((line) => line.message));
    expect(lastEvent(run)).toEqual({ type: 'result', deployment_id: deploymentId, count: 2 });
  });

  it('a runtime stream that breaks twice in a row: caught up once, then gateway_unreachable (exit 6)', async () => {
    await gw.clearRequests();
    await gw.fault({ route: 'GET /api/v1/projects/:id/services/:sid/logs/stream', count: 50, drop: true });
    const run = await cli(['logs', '--follow', '--tail', '2', '--json']);
    await gw.clearFaults();
    expect(run.code, run.stderr).toBe(6);
    expect(errorOf(run)).toMatchObject({ error_code: 'gateway_unreachable', message: expect.stringMatching(new RegExp(`^The log stream of ${serviceName} broke twice \\(`)) });
    const projectId = String((await readProjectJson(app)).project_id);
    // No line came through the stream before it broke, so the one catch-up read asked for the tail.
    const catchUps = (await gw.requests()).filter((r) => r.path === `/api/v1/projects/${projectId}/services/${serviceId}/logs`);
    expect(catchUps.map((r) => r.query)).toEqual([{ tail: '2' }]);
    const served = (await (await fetch(`${gw.url}/v1/projects/${projectId}/services/${serviceId}/logs?tail=2`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { logs: { message: string }[] };
    // The catch-up read printed the last lines once.
    expect(run.events.filter((event) => event.type === 'log').map((line) => line.message)).toEqual(served.logs.map((line) => line.message));
  });
});
