import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, lastEvent } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

function utcDate(): string {
  return new Date().toISOString().slice(0, 10);
}

async function auditLines(home: string): Promise<Record<string, unknown>[]> {
  const raw = await readFile(path.join(home, 'logs', `${utcDate()}.log`), 'utf8');
  return raw
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('first deploy of a Node HTTP app with a freshly minted credential', () => {
  let home: string;
  let app: string;
  let run: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    home = await tempDir('od-home-');
    app = await copyFixture('node-http');
    run = await runCli(['deploy', app, '--yes', '--json'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
  });

  it('exits 0 and ends with the exact result line', async () => {
    expect(run.stderr).not.toContain('✖');
    expect(run.code).toBe(0);
    const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as Record<string, string>;
    const result = lastEvent(run)!;
    expect(Object.keys(result).sort()).toEqual(
      ['claim_url', 'dashboard_url', 'deployment_id', 'missing_required_vars', 'project_id', 'service_id', 'status', 'type', 'url'].sort(),
    );
    // node-http needs no variable the service lacks.
    expect(result.missing_required_vars).toEqual([]);
    expect(result.type).toBe('result');
    expect(result.status).toBe('success');
    expect(result.url).toMatch(/^https:\/\/[a-z0-9]{8}\.opendeploy\.run$/);
    expect(result.dashboard_url).toBe(`${gw.origin}/projects/${String(result.project_id)}`);
    expect(result.claim_url).toBe(
      `${gw.origin}/claim/${auth.agent_id}?h=${auth.bind_sig}&url=${encodeURIComponent(String(result.url))}`,
    );
  });

  it('writes auth.json with mode 0600 inside a 0700 folder, in the documented shape', async () => {
    expect((await stat(path.join(home, 'auth.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(auth).sort()).toEqual(['agent_id', 'api_key', 'bind_sig', 'claim_url', 'gateway', 'version']);
    expect(auth.version).toBe(1);
    expect(auth.gateway).toBe(gw.url);
    expect(auth.api_key).toMatch(/^od_a[A-Za-z0-9]{43}$/);
  });

  it('emits one stage event per pipeline stage, in order', () => {
    const stages = run.events.filter((event) => event.type === 'stage').map((event) => event.stage);
    // Analysis first: a refused or empty folder stops before any credential is resolved or minted.
    expect(stages).toEqual([
      'analyze',
      'auth.resolve',
      'project.create',
      'service.create',
      'archive',
      'upload',
      'update_source',
      'deploy.create',
      'deploy.terminal',
    ]);
  });

  it('links the folder in .opendeploy/project.json with the ids of the result (this run\'s deployment and URL in local.json)', async () => {
    const result = lastEvent(run)!;
    const state = JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')) as Record<string, unknown>;
    const local = JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')) as Record<string, unknown>;
    expect(state.project_id).toBe(result.project_id);
    expect(state.gateway).toBe(gw.url);
    expect(state.environment).toBe('production');
    expect(state.services).toEqual([{ name: 'node-http', service_id: result.service_id, source_path: '.' }]);
    expect(local.last_deployment).toMatchObject({ id: result.deployment_id, service_id: result.service_id, status: 'success' });
    expect(local.url).toBe(result.url);
  });

  it('creates the service with the pending-agent caps and the analyzed port', async () => {
    const result = lastEvent(run)!;
    const requests = await gw.requests();
    const create = requests.find((request) => request.method === 'POST' && request.path === `/api/v1/projects/${String(result.project_id)}/services/`);
    expect(create?.json).toMatchObject({
      name: 'node-http',
      type: 'web',
      environment: 'production',
      port: 3000,
      start_command: 'npm start',
      runtime_variables: { PORT: '3000' },
      cpu_request: '500m',
      cpu_limit: '1',
      memory_request: '512Mi',
      memory_limit: '1Gi',
      replicas: 1,
    });
    const deploy = requests.find((request) => request.method === 'POST' && request.path === '/api/v1/deployments/');
    expect(deploy?.json).not.toHaveProperty('resources');
    expect(deploy?.json).toMatchObject({ project_id: result.project_id, service_id: result.service_id, source: 'zip', environment: 'production' });
  });

  it('writes an audit line for every stage boundary', async () => {
    const steps = (await auditLines(home)).map((line) => line.step);
    for (const step of ['auth.resolve', 'region.pick', 'project.create', 'service.create', 'archive', 'upload', 'update_source', 'deploy.create', 'deploy.terminal', 'report']) {
      expect(steps).toContain(step);
    }
    expect((await stat(path.join(home, 'logs', `${utcDate()}.log`))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(home, 'logs'))).mode & 0o777).toBe(0o700);
  });
});

describe('deploy with a dashboard token (bound user)', () => {
  it('uses OPENDEPLOY_TOKEN as is, never writes it, prints no claim URL and sends bound resources', async () => {
    const home = await tempDir('od-home-');
    const app = await copyFixture('node-http');
    const token = `od_k${'Z'.repeat(39)}9a8b`;
    const run = await runCli(['deploy', app, '--json', '--name', 'bound-app'], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: token },
    });
    expect(run.code).toBe(0);
    const result = lastEvent(run)!;
    expect(result.claim_url).toBeNull();
    expect(await readdir(home)).toEqual(['logs']);
    const requests = await gw.requests();
    const create = requests.find((request) => request.method === 'POST' && request.path === `/api/v1/projects/${String(result.project_id)}/services/`);
    expect(create?.json).toMatchObject({ cpu_limit: '2', memory_limit: '4Gi', memory_request: '1Gi' });
    const everything = run.stdout + run.stderr + (await readFile(path.join(home, 'logs', `${utcDate()}.log`), 'utf8'));
    expect(everything).not.toContain(token);
  });
});

describe('human output', () => {
  it('prints stage lines on stderr and only the report on stdout', async () => {
    const home = await tempDir('od-home-');
    const app = await copyFixture('node-http');
    const token = `od_k${'H'.repeat(39)}1234`;
    const run = await runCli(['deploy', app, '--name', 'human-app'], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: token },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('✔ Project human-app created');
    expect(run.stderr).toMatch(/✔ Deployment [0-9a-f-]+ succeeded/);
    const stdoutLines = run.stdout.trim().split('\n');
    expect(stdoutLines[0]).toMatch(/^Deployed human-app → https:\/\/[a-z0-9]{8}\.opendeploy\.run$/);
    expect(run.stdout).toContain(`  dashboard   ${gw.origin}/projects/`);
    expect(run.stdout).not.toContain('claim');
  });
});
