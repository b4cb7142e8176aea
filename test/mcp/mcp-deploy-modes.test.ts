import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { callTool, startMcpServer, type McpServer } from '../helpers/mcp-client.js';
import { dashboardUrl } from '../../src/auth/index.js';

/**
 * `opendeploy mcp` (the built CLI in a child process, driven by the SDK client) in the deploy modes
 * an agent reaches for: `no_wait` (the result is "started" once the deployment exists) and
 * `local` (the server's own gateway keeps building and serving after the call returns); and the
 * fix command of a failure, written with the flags that reach the same service, pasted into the
 * CLI as it is.
 */

const TOKEN = patToken();

let gw: TestGateway;
let home: string;

type Server = McpServer;

function startServer(cwd: string, args: string[], env: Record<string, string>): Promise<Server> {
  return startMcpServer(cwd, args, { PATH: process.env.PATH ?? '', CI: 'true', NO_COLOR: '1', ...env });
}

const call = callTool;

async function ok(server: Server, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await call(server, name, args);
  expect(result.isError, `${result.text}\n${server.stderr()}`).toBe(false);
  return result.structured;
}

async function failed(server: Server, name: string, args: Record<string, unknown> = {}): Promise<{ error_code: string; details: Record<string, unknown> }> {
  const result = await call(server, name, args);
  expect(result.isError, result.text).toBe(true);
  return JSON.parse(result.text) as { error_code: string; details: Record<string, unknown> };
}

async function link(dir: string): Promise<{ project_id: string; services: { service_id: string; name: string }[] }> {
  return JSON.parse(await readFile(path.join(dir, '.opendeploy', 'project.json'), 'utf8')) as never;
}

/** argv of a printed command (words split on spaces, single-quoted words as `shellQuote` writes them). */
function argvOf(command: string): string[] {
  const words = [...command.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!));
  expect(words[0]).toBe('opendeploy');
  return words.slice(1);
}

/** Polls the deployments tool until `id` has ended; returns its row. */
async function settled(server: Server, args: Record<string, unknown>, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await ok(server, 'deployments', args);
    const row = (list.deployments as Record<string, unknown>[]).find((d) => d.id === id);
    if (row && ['success', 'failed', 'cancelled'].includes(String(row.status))) return row;
    if (Date.now() > deadline) throw new Error(`deployment ${id} did not end: ${JSON.stringify(row)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The build failure the next deployment of a gateway ends with (playbook row E1). */
const BUILD_FAILURE = { outcome: 'failed', phase: 'build', error_msg: 'Build failed', log_lines: ['npm ERR! missing script: build'] };

beforeAll(async () => {
  // Slow enough that a no_wait deploy returns while the deployment is still pending.
  gw = await startTestGateway({ buildDurationMs: 1500 });
  home = await tempDir('od-home-');
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy mcp against a hosted gateway', () => {
  let server: Server;
  let app: string;
  let elsewhere: string;

  beforeAll(async () => {
    app = await copyFixture('node-http');
    elsewhere = await tempDir('od-mcp-elsewhere-');
    server = await startServer(app, ['--gateway', gw.url], { HOME: home, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await server.close();
  });

  it('deploy with no_wait: "started" with the deployment id as soon as it exists; the deployment then succeeds', async () => {
    const started = await ok(server, 'deploy', { no_wait: true });
    const linked = await link(app);
    const rows = (await gw.state()).deployments as { id: string; service_id: string }[];
    expect(rows).toHaveLength(1);
    const id = rows[0]!.id;
    expect(started).toEqual({
      status: 'started',
      project_id: linked.project_id,
      service_id: linked.services[0]!.service_id,
      deployment_id: id,
      deployment_status: 'pending',
      follow_command: `opendeploy logs ${id} --follow --gateway ${gw.url}`,
      claim_url: null,
      dashboard_url: dashboardUrl(gw.url, linked.project_id),
      missing_required_vars: [],
    });
    // The call returned before the build ended; the gateway carries on and the deployment goes live.
    expect(await settled(server, {}, id)).toMatchObject({ id, status: 'success', live: true });
  });

  it('a failure and triage, asked with project and service: the fix command carries them, and it works pasted into the CLI', async () => {
    const linked = await link(app);
    const projectId = linked.project_id;
    const serviceId = linked.services[0]!.service_id;
    const target = { path: elsewhere, project: projectId, service: serviceId };
    const fix = `opendeploy redeploy --source . --project ${projectId} --service ${serviceId} --gateway ${gw.url}`;

    await gw.nextDeployment(BUILD_FAILURE);
    const error = await failed(server, 'redeploy', target);
    expect(error.error_code).toBe('build_failed');
    expect(error.details).toMatchObject({ cause_id: 'E1', fix_command: fix });
    const failedId = String(error.details.deployment_id);

    const report = await ok(server, 'triage', target);
    expect(report).toEqual({
      deployment_id: failedId,
      status: 'failed',
      cause_id: 'E1',
      cause: 'the build command failed',
      evidence: ['npm ERR! missing script: build'],
      fix_command: fix,
      next_action: `Run the build locally, fix the error quoted above, then run \`${fix}\`.`,
    });

    // Pasted as it is into a terminal in the project folder (where `--source .` points).
    const before = ((await gw.state()).deployments as unknown[]).length;
    const run = await runCli(argvOf(fix), { cwd: app, env: { OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
    expect(run.code, run.stderr).toBe(0);
    const rows = (await gw.state()).deployments as { id: string; service_id: string; status: string }[];
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({ service_id: serviceId, status: 'success' });
    expect(await settled(server, target, rows.at(-1)!.id)).toMatchObject({ status: 'success', live: true });
  });

  it("a failed deploy: the tool error carries cause_id and the fix command with the server's --gateway", async () => {
    await gw.nextDeployment(BUILD_FAILURE);
    const error = await failed(server, 'deploy');
    const fix = `opendeploy redeploy --source . --gateway ${gw.url}`;
    expect(error).toMatchObject({
      error_code: 'build_failed',
      next_action: `Run the build locally, fix the error quoted above, then run \`${fix}\`.`,
      details: { status: 'failed', cause_id: 'E1', cause: 'the build command failed', evidence: ['npm ERR! missing script: build'], fix_command: fix },
    });
  });
});

describe('opendeploy mcp logs', () => {
  it("with no deployment named: the running app's output, as the gateway serves it; runtime: false and build read the deployment's", async () => {
    const app = await copyFixture('node-http');
    const server = await startServer(app, ['--gateway', gw.url], { HOME: home, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN });
    try {
      const deployed = await ok(server, 'deploy', { name: 'mcp-logs' });
      const projectId = String(deployed.project_id);
      const serviceId = String(deployed.service_id);
      const deploymentId = String(deployed.deployment_id);
      const served = async (route: string): Promise<[string, string][]> => {
        const response = await fetch(`${gw.url}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(response.status).toBe(200);
        return ((await response.json()) as { logs: { timestamp: string; message: string }[] }).logs.map((row) => [row.timestamp, row.message]);
      };
      const pairs = (logs: Record<string, unknown>): [string, string][] => (logs.lines as { timestamp: string; message: string }[]).map((line) => [line.timestamp, line.message]);

      const runtime = await ok(server, 'logs');
      const appLines = await served(`/v1/projects/${projectId}/services/${serviceId}/logs?tail=100`);
      expect(appLines.length).toBeGreaterThan(0);
      expect({ ...runtime, lines: pairs(runtime) }).toEqual({ source: 'runtime', deployment_id: null, service_id: serviceId, count: appLines.length, lines: appLines });

      const deployment = await ok(server, 'logs', { runtime: false });
      const deploymentLines = await served(`/v1/deployments/${deploymentId}/logs?tail=100`);
      expect({ ...deployment, lines: pairs(deployment) }).toEqual({ source: 'deployment', deployment_id: deploymentId, service_id: serviceId, count: deploymentLines.length, lines: deploymentLines });
      expect(await ok(server, 'logs', { deployment_id: deploymentId })).toMatchObject({ source: 'deployment', deployment_id: deploymentId, count: deploymentLines.length });
      const build = await ok(server, 'logs', { build: true });
      expect(build).toMatchObject({ source: 'deployment', deployment_id: deploymentId });
      expect((build.lines as { source: string }[]).every((line) => line.source === 'buildctl')).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('opendeploy mcp with local: true', () => {
  it('no_wait, a failure and triage through the server\'s own gateway; the fix command carries --local --data-dir and works in the CLI', async () => {
    const app = await copyFixture('node-http');
    const dataDir = await tempDir('od-mcp-local-');
    const localHome = await tempDir('od-home-local-');
    const server = await startServer(app, ['--local', '--data-dir', dataDir], { HOME: localHome, OPENDEPLOY_HOME: localHome, OD_LOCAL_SIMULATE: '1' });
    try {
      // The server keeps the gateway, so a deployment it did not wait for still builds and goes live.
      const started = await ok(server, 'deploy', { no_wait: true });
      expect(started).toMatchObject({ status: 'started', follow_command: `opendeploy logs ${String(started.deployment_id)} --follow --local --data-dir ${dataDir}` });
      // The server's gateway is not a background one: nothing to stop once the server ends.
      expect(started.stop_command).toBeUndefined();
      expect(await settled(server, {}, String(started.deployment_id))).toMatchObject({ status: 'success', live: true });
      // The next deploy of the unchanged folder finishes with that deployment instead of building another.
      expect(await ok(server, 'deploy')).toMatchObject({ status: 'success', deployment_id: started.deployment_id });

      // Its test control endpoints (simulate mode) script the next deployment's failure.
      const origin = new URL(String(started.dashboard_url)).origin;
      const scripted = await fetch(`${origin}/__local/next-deployment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BUILD_FAILURE) });
      expect(scripted.status).toBe(200);
      const fix = `opendeploy redeploy --source . --local --data-dir ${dataDir}`;
      const error = await failed(server, 'redeploy');
      expect(error.details).toMatchObject({ cause_id: 'E1', fix_command: fix });
      const report = await ok(server, 'triage');
      expect(report).toMatchObject({ deployment_id: error.details.deployment_id, cause_id: 'E1', fix_command: fix, next_action: `Run the build locally, fix the error quoted above, then run \`${fix}\`.` });

      // The CLI finds the server's gateway through the data folder and redeploys there.
      const run = await runCli(argvOf(fix), { cwd: app, env: { OPENDEPLOY_HOME: localHome } });
      expect(run.code, run.stderr).toBe(0);
      const list = await ok(server, 'deployments');
      const rows = list.deployments as Record<string, unknown>[];
      expect(rows.map((row) => [row.status, row.live])).toEqual([
        ['success', true],
        ['failed', false],
        ['success', false],
      ]);
    } finally {
      await server.close();
    }
  });
});
