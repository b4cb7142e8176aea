import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun, errorOf } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startDeploymentViaApi } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let app: string;
let deployed: string;

function cli(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { cwd: app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra } });
}

async function cancelPosts(): Promise<number> {
  return (await gw.requests()).filter((r) => r.method === 'POST' && /\/cancel$/.test(r.path)).length;
}

/** Starts another deployment of the linked service straight through the API. */
const startDeployment = (): Promise<string> => startDeploymentViaApi(gw, app, TOKEN);

async function statusOf(id: string): Promise<string> {
  const rows = (await gw.state()).deployments as { id: string; status: string }[];
  return rows.find((d) => d.id === id)!.status;
}

beforeAll(async () => {
  // Slow builds, so a deployment is still running after two CLI runs on a busy machine.
  gw = await startTestGateway({ buildDurationMs: 15_000 });
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(['deploy', '--json']);
  expect(run.code).toBe(0);
  deployed = String(lastEvent(run)!.deployment_id);
}, 90_000);

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy cancel', () => {
  it('nothing running → not_found "nothing is running", no POST', async () => {
    await gw.clearRequests();
    const run = await cli(['cancel', '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('not_found');
    expect(String(error.message)).toMatch(/^Nothing is running/);
    expect(await cancelPosts()).toBe(0);
  });

  it('without --yes in CI: exit 7 consent_required listing the id, no POST; then --yes cancels and reads back', async () => {
    const running = await startDeployment();
    await gw.clearRequests();
    const gate = await cli(['cancel', '--json']);
    expect(gate.code).toBe(7);
    const error = errorOf(gate);
    expect(error.error_code).toBe('consent_required');
    expect((error.details as { changes: string[] }).changes).toEqual([running]);
    expect(String((error.details as { resume_command: string }).resume_command)).toBe(`opendeploy cancel ${running} --json --yes`);
    expect(await cancelPosts()).toBe(0);
    expect(await statusOf(running)).not.toBe('cancelled');

    const run = await cli(['cancel', '--yes', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ status: 'cancelled', deployment_id: running });
    expect(['pending', 'building', 'deploying']).toContain(doc.previous_status);
    expect(await cancelPosts()).toBe(1);
    // Read back: a GET after the POST saw it cancelled, and the gateway agrees.
    const requests = await gw.requests();
    const post = requests.findIndex((r) => r.method === 'POST' && r.path === `/api/v1/deployments/${running}/cancel`);
    expect(requests.slice(post + 1).some((r) => r.method === 'GET' && r.path === `/api/v1/deployments/${running}`)).toBe(true);
    expect(await statusOf(running)).toBe('cancelled');
  });

  it('a terminal deployment → conflict, no POST', async () => {
    await gw.clearRequests();
    const run = await cli(['cancel', deployed, '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('conflict');
    expect(String(error.message)).toContain('already success');
    expect(await cancelPosts()).toBe(0);
  });

  it('a 409 from the gateway (finished meanwhile) → conflict', async () => {
    const running = await startDeployment();
    await gw.fault({ route: 'POST /api/v1/deployments/:id/cancel', count: 1, status: 409, body: { error: 'deployment is already success' } });
    const run = await cli(['cancel', running, '--yes', '--json']);
    expect(run.code).toBe(1);
    expect(errorOf(run).error_code).toBe('conflict');
    // Leave nothing running for the other tests.
    await cli(['cancel', running, '--yes', '--json']);
  });

  it('an unknown id → not_found (404)', async () => {
    const run = await cli(['cancel', '00000000-0000-4000-8000-000000000000', '--yes', '--json']);
    expect(run.code).toBe(1);
    expect(errorOf(run).error_code).toBe('not_found');
  });

  it('a rejected token → auth_invalid (exit 3)', async () => {
    const run = await cli(['cancel', '--yes', '--json'], { OPENDEPLOY_TOKEN: `od_a${'q'.repeat(43)}` });
    expect(run.code).toBe(3);
    expect(errorOf(run).error_code).toBe('auth_invalid');
  });
});
