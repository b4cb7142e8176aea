import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../src/gateway/index.js';
import { OdError } from '../../src/core/errors.js';
import { runCli, lastEvent, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});


async function deploy(fixture: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(['deploy', await copyFixture(fixture), '--json', ...args], {
    env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken(), ...env },
  });
}

describe('subdomains', () => {
  it('--subdomain renames the generated domain and reads it back', async () => {
    const run = await deploy('node-http', ['--name', 'sub-a', '--subdomain', 'quirk-site']);
    expect(run.code).toBe(0);
    expect(lastEvent(run)!.url).toBe('https://quirk-site.opendeploy.run');
    const rename = run.events.find((event) => event.type === 'stage' && event.stage === 'domain.rename');
    expect(rename).toMatchObject({ status: 'done', subdomain: 'quirk-site', url: 'https://quirk-site.opendeploy.run' });
  });

  it('a taken prefix (409) gets a 4-character suffix and one more try', async () => {
    const run = await deploy('node-http', ['--name', 'sub-b', '--subdomain', 'quirk-site']);
    expect(run.code).toBe(0);
    expect(lastEvent(run)!.url).toMatch(/^https:\/\/quirk-site-[a-z0-9]{4}\.opendeploy\.run$/);
    expect(run.events.find((event) => event.stage === 'domain.rename')?.message).toMatch(/^"quirk-site" was taken; claimed/);
  });

  it('a reserved prefix is refused locally before any request (exit 2)', async () => {
    await gw.clearRequests();
    const run = await deploy('node-http', ['--name', 'sub-c', '--subdomain', 'api']);
    expect(run.code).toBe(2);
    expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: 'invalid_input', message: '"api" is reserved by the platform.' });
    expect(await gw.requests()).toHaveLength(0);
  });

  it('staging keeps its generated domain: the rename is production-only', async () => {
    await gw.clearRequests();
    const run = await deploy('node-http', ['--name', 'sub-d', '--subdomain', 'quirk-staging', '--env', 'staging']);
    expect(run.code).toBe(0);
    expect(lastEvent(run)!.url).toMatch(/^https:\/\/[a-z0-9]{8}\.dev\.opendeploy\.run$/);
    expect(run.stderr).toContain('Subdomain renames are production-only');
    const renames = (await gw.requests()).filter((request) => request.method === 'PUT' && request.path.endsWith('/subdomain'));
    expect(renames).toHaveLength(0);
    const deployBody = (await gw.requests()).find((request) => request.method === 'POST' && request.path === '/api/v1/deployments/');
    expect(deployBody?.json?.environment).toBe('staging');
  });
});

describe('unclaimed credential limits', () => {
  it('a second folder reuses the one live project the 409 names, then the 1-service cap is surfaced (exit 4)', async () => {
    const home = await tempDir('od-home-');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home };
    const first = await runCli(['deploy', await copyFixture('node-http'), '--json', '--yes'], { env });
    expect(first.code).toBe(0);
    const second = await runCli(['deploy', await copyFixture('python-http'), '--json', '--yes'], { env });
    expect(second.stderr).toContain(`already has a live project (${String(lastEvent(first)!.project_id)})`);
    expect(second.events.find((event) => event.stage === 'project.create')).toMatchObject({ project_id: lastEvent(first)!.project_id });
    expect(second.code).toBe(4);
    expect(lastEvent(second)).toMatchObject({ type: 'error', error_code: 'quota_exceeded', retryable: false });
  });
});

describe('managed databases', () => {
  it('an Express + Postgres app gets a postgres dependency whose DATABASE_URL reaches the service', async () => {
    const app = await copyFixture('express-app');
    const run = await runCli(['deploy', app, '--json'], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(0);
    const dep = run.events.find((event) => event.type === 'stage' && event.stage === 'dependency.create');
    expect(dep).toMatchObject({ status: 'done', engine: 'postgres' });
    const result = lastEvent(run)!;
    const state = (await gw.state()) as { services?: Record<string, { runtime_variables?: Record<string, string> }> | { id: string; runtime_variables?: Record<string, string> }[] };
    const services = Array.isArray(state.services) ? state.services : Object.values(state.services ?? {});
    const service = (services as { id: string; runtime_variables?: Record<string, string> }[]).find((row) => row.id === result.service_id);
    expect(service?.runtime_variables?.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
    expect(service?.runtime_variables?.PORT).toBe('8080');
    const deployBody = (await gw.requests()).find((request) => request.method === 'POST' && request.path === '/api/v1/deployments/' && request.json?.service_id === result.service_id);
    expect(deployBody?.json?.dependencies).toEqual([dep!.dependency_id]);
    // The connection variables were only kept on disk until the service held them.
    expect((await readdir(path.join(app, '.opendeploy'))).sort()).toEqual(['.gitignore', 'analysis.json', 'local.json', 'project.json']);
    expect(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')).not.toContain(service!.runtime_variables!.DATABASE_URL!);
    const link = JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')) as Record<string, unknown>;
    expect(link.dependencies).toEqual([{ engine: 'postgres', dependency_id: dep!.dependency_id }]);
    expect(JSON.stringify(link)).not.toContain(service!.runtime_variables!.DATABASE_URL!);
  });
});

describe('analysis drives the service body', () => {
  async function serviceRow(serviceId: unknown): Promise<Record<string, unknown> | undefined> {
    const state = (await gw.state()) as { services?: Record<string, unknown>[] | Record<string, Record<string, unknown>> };
    const rows = Array.isArray(state.services) ? state.services : Object.values(state.services ?? {});
    return rows.find((row) => row.id === serviceId);
  }

  it('a Django + Postgres app gets a postgres dependency and DATABASE_URL on its service', async () => {
    const run = await deploy('django-postgres', []);
    expect(run.code).toBe(0);
    expect(run.events.find((event) => event.type === 'stage' && event.stage === 'dependency.create')).toMatchObject({ status: 'done', engine: 'postgres' });
    const row = await serviceRow(lastEvent(run)!.service_id);
    expect(row).toMatchObject({ type: 'web', language: 'python', framework: 'django', port: 8000 });
    expect(String((row?.runtime_variables as Record<string, string>).DATABASE_URL)).toMatch(/^postgres(ql)?:\/\//);
  });

  it('a static site becomes a static service', async () => {
    const run = await deploy('static-site', []);
    expect(run.code).toBe(0);
    const row = await serviceRow(lastEvent(run)!.service_id);
    expect(row).toMatchObject({ name: 'static-site', type: 'static', language: 'static', framework: 'static' });
  });

  it('a compose app becomes one project with one service per built service and each database once', async () => {
    const app = await copyFixture('compose-postgres-redis');
    const run = await runCli(['deploy', app, '--json'], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(0);
    const created = run.events.filter((event) => event.type === 'stage' && event.stage === 'service.create');
    expect(created).toHaveLength(2);
    const engines = run.events.filter((event) => event.type === 'stage' && event.stage === 'dependency.create').map((event) => event.engine);
    expect(engines.sort()).toEqual(['postgres', 'redis']);
    expect(run.events.find((event) => event.type === 'stage' && event.stage === 'project.create')?.message).toMatch(/^Project compose-postgres-redis created/);
    const terminals = run.events.filter((event) => event.type === 'stage' && event.stage === 'deploy.terminal');
    expect(terminals).toHaveLength(2);
  });
});

describe('request discipline across all of the above', () => {
  it('never sent DELETE, never polled /status, always used collection slashes, never sent resources', async () => {
    const requests = await gw.requests();
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter((request) => request.method === 'DELETE')).toEqual([]);
    expect(requests.filter((request) => request.path.includes('/status/') || request.path.endsWith('/status'))).toEqual(
      requests.filter((request) => request.path.startsWith('/api/v1/dependencies/status/')),
    );
    expect(requests.filter((request) => request.status === 301)).toEqual([]);
    for (const request of requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/v1/deployments'))) {
      expect(request.json).not.toHaveProperty('resources');
    }
  });

  it('the client strips a resources block even when a caller passes one (the gateway would 400 on K8s strings)', async () => {
    await gw.clearRequests();
    const client = new GatewayClient({ baseUrl: gw.url, token: patToken() });
    const error = await client
      .createDeployment({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/tmp/x.zip', resources: { cpu_limit: '2' } } as never)
      .then(() => undefined, (thrown: unknown) => thrown);
    // The request went out without `resources`, so the gateway got as far as looking up the project.
    expect((error as OdError).code).toBe('not_found');
    const [sent] = await gw.requests();
    expect(sent?.json).toEqual({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/tmp/x.zip' });
    // Sent anyway (by something that is not opendeploy), the gateway answers with the unmarshal 400.
    const raw = await fetch(`${gw.url}/v1/deployments/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${patToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/x', resources: { cpu_limit: '2' } }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: string }).error).toBe(
      'json: cannot unmarshal string into Go struct field ResourceLimits.resources.cpu_limit of type float64',
    );
  });
});
