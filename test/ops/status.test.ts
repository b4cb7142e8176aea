import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { resultOf } from '../helpers/json-result.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let app: string;
let deployment: Record<string, unknown>;

function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return runCli(args, { cwd: options.cwd ?? app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...options.env } });
}

/** Status prints exactly one `{"type":"result",...}` line (and nothing else) on stdout; its fields without `type`. */
function only(run: CliRun): Record<string, unknown> {
  return resultOf(run);
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(['deploy', '--json']);
  expect(run.code).toBe(0);
  deployment = lastEvent(run)!;
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy status', () => {
  it('--json: one object with project, services (resources, URL), latest deployment, bound, no claim URL for a claimed token', async () => {
    await gw.clearRequests();
    const run = await cli(['status', '--json']);
    expect(run.code).toBe(0);
    const status = only(run);
    expect(Object.keys(status).sort()).toEqual(['bound', 'claim_url', 'dashboard_url', 'dependencies', 'environment', 'latest_deployment', 'project', 'services']);
    expect(status).toMatchObject({
      project: { id: deployment.project_id, name: 'node-http' },
      environment: 'production',
      dependencies: [],
      latest_deployment: { id: deployment.deployment_id, status: 'success', progress: 100 },
      bound: true,
      claim_url: null,
      dashboard_url: `${gw.origin}/projects/${String(deployment.project_id)}`,
    });
    expect(status.services).toEqual([
      {
        id: deployment.service_id,
        name: 'node-http',
        status: 'running',
        port: 3000,
        cpu: { request: '500m', limit: '2' },
        memory: { request: '1Gi', limit: '4Gi' },
        replicas: 1,
        url: deployment.url,
      },
    ]);
    // Read-only.
    expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('human mode: a compact table on stdout', async () => {
    const run = await cli(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^node-http {2}\(.+\) {2}production\n/);
    expect(run.stdout).toMatch(/SERVICE +ID +PORT +CPU +MEMORY +REPLICAS +STATUS +URL/);
    expect(run.stdout).toContain(`node-http  ${String(deployment.service_id)}  3000  500m/2  1Gi/4Gi  1         running  ${String(deployment.url)}`);
    expect(run.stdout).toContain(`latest deployment  ${String(deployment.deployment_id)}  success 100%`);
  });

  it('works outside the folder with --project', async () => {
    const elsewhere = await tempDir('od-elsewhere-');
    const run = await cli(['status', '--project', String(deployment.project_id), '--json'], { cwd: elsewhere });
    expect(run.code).toBe(0);
    expect(only(run)).toMatchObject({ project: { id: deployment.project_id }, latest_deployment: { id: deployment.deployment_id } });
  });

  it('an unclaimed credential gets its claim URL (with the live URL); databases are listed', async () => {
    const pendingHome = await tempDir('od-home-pending-');
    const pendingApp = await copyFixture('express-app');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: pendingHome };
    const deployed = await runCli(['deploy', '--json', '--yes', '--name', 'pending-status'], { cwd: pendingApp, env });
    expect(deployed.code).toBe(0);
    const auth = JSON.parse(await readFile(path.join(pendingHome, 'auth.json'), 'utf8')) as { agent_id: string; bind_sig: string };
    const run = await runCli(['status', '--json'], { cwd: pendingApp, env });
    expect(run.code).toBe(0);
    const status = only(run);
    const url = String(lastEvent(deployed)!.url);
    expect(status.bound).toBe(false);
    const link = JSON.parse(await readFile(path.join(pendingApp, '.opendeploy', 'project.json'), 'utf8')) as { dependencies: { dependency_id: string }[] };
    expect(status.dependencies).toEqual([{ engine: 'postgres', id: link.dependencies[0]!.dependency_id, status: 'running' }]);
    expect((status.services as { memory: unknown }[])[0]!.memory).toEqual({ request: '512Mi', limit: '1Gi' });
    expect(status.claim_url).toBe(`${gw.origin}/claim/${auth.agent_id}?h=${auth.bind_sig}&url=${encodeURIComponent(url)}`);
  });

  it('a rejected token → auth_invalid; no linked project → invalid_input', async () => {
    const denied = await cli(['status', '--json'], { env: { OPENDEPLOY_TOKEN: `od_a${'s'.repeat(43)}` } });
    expect(denied.code).toBe(3);
    expect(lastEvent(denied)).toMatchObject({ type: 'error', error_code: 'auth_invalid' });
    const nowhere = await cli(['status', '--json'], { cwd: await tempDir('od-unlinked-') });
    expect(nowhere.code).toBe(2);
    expect(lastEvent(nowhere)).toMatchObject({ type: 'error', error_code: 'invalid_input' });
  });
});
