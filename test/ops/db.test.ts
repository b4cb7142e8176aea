import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, errorOf } from '../helpers/cli.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { readProjectJson, deployLinked } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kDbAddOps${'D'.repeat(35)}`;

let gw: TestGateway;
let home: string;
let app: string;
let deployed: Record<string, unknown>;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra };
}

const projectJson = (): Promise<Record<string, unknown>> => readProjectJson(app);

/** The service env straight from the gateway (what a pod would get on the next deployment). */
async function gatewayEnv(): Promise<Record<string, string>> {
  const response = await fetch(`${gw.url}/v1/projects/${String(deployed.project_id)}/services/${String(deployed.service_id)}/env`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return ((await response.json()) as { variables: Record<string, string> }).variables;
}

async function putGatewayEnv(variables: Record<string, string>): Promise<void> {
  const response = await fetch(`${gw.url}/v1/projects/${String(deployed.project_id)}/services/${String(deployed.service_id)}/env`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ variables }),
  });
  expect(response.status).toBe(200);
}

const envPath = () => `/api/v1/projects/${String(deployed.project_id)}/services/${String(deployed.service_id)}/env`;
const POSTGRES_KEYS = ['DATABASE_URL', 'POSTGRES_DB', 'POSTGRES_HOST', 'POSTGRES_PASSWORD', 'POSTGRES_PORT', 'POSTGRES_USER'];

beforeAll(async () => {
  // A database stays `provisioning` for a second: far longer than the CLI takes from the create to
  // its first status read, so that read always sees it (the default 300 ms races a busy machine).
  gw = await startTestGateway({ dependencyProvisionMs: 1000 });
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  deployed = await deployLinked(app, env());
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy db add', () => {
  it('creates postgres, waits until running, merges its env (GET → PUT → GET), redeploys with it, and records it', async () => {
    const envBefore = await gatewayEnv();
    await gw.clearRequests();
    const run = await runCli(['db', 'add', 'postgres', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);

    const requests = await gw.requests();
    const create = requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/dependencies/create');
    // Credentials are chosen by the client (saved 0600 before the request), so a lost answer is recoverable.
    expect(create.map((r) => r.json)).toEqual([
      {
        project_id: deployed.project_id,
        dependency_id: 'postgres',
        environment: 'production',
        username: expect.stringMatching(/^app_[0-9a-f]{8}$/),
        password: expect.stringMatching(/^[A-Za-z0-9]{32}$/),
        database_name: 'app',
      },
    ]);
    const dependencyId = (run.events.find((e) => e.type === 'stage' && e.stage === 'dependency.create') ?? {}).dependency_id as string;
    expect(typeof dependencyId).toBe('string');
    // One progress event per status change: `provisioning` once, then `running` ends the wait.
    expect(run.events.filter((e) => e.type === 'progress' && e.stage === 'dependency.create')).toEqual([
      { type: 'progress', stage: 'dependency.create', message: 'postgres: provisioning', engine: 'postgres', status: 'provisioning' },
    ]);

    // Env: read, one full PUT keeping the existing keys, the read-back and one later look; all before
    // the deployment, whose create is preceded by a list of the service's deployments (the read-back
    // baseline if the create's answer is lost).
    const sequence = requests
      .filter((r) => r.path === envPath() || r.path === '/api/v1/deployments/')
      .map((r) => `${r.method} ${r.path === envPath() ? 'env' : 'deployments'}`);
    // (After the POST, the watch reads the env once more to hide its values in log lines.) The first
    // list of deployments is the check, before anything is created, that the redeploy would not
    // undo a rollback.
    expect(sequence.slice(0, sequence.indexOf('POST deployments') + 1)).toEqual(['GET deployments', 'GET env', 'PUT env', 'GET env', 'GET env', 'GET deployments', 'POST deployments']);
    const put = requests.find((r) => r.method === 'PUT' && r.path === envPath())!;
    const sent = (put.json as { variables: Record<string, string> }).variables;
    expect(Object.keys(sent).sort()).toEqual([...Object.keys(envBefore), ...POSTGRES_KEYS].sort());
    for (const [key, value] of Object.entries(envBefore)) expect(sent[key]).toBe(value);
    const deployment = requests.find((r) => r.method === 'POST' && r.path === '/api/v1/deployments/')!;
    expect((deployment.json as Record<string, unknown>).dependencies).toEqual([dependencyId]);

    const deploymentId = (run.events.find((e) => e.type === 'stage' && e.stage === 'deploy.create') ?? {}).deployment_id;
    expect(lastEvent(run)).toEqual({
      type: 'result',
      status: 'success',
      project_id: deployed.project_id,
      service_id: deployed.service_id,
      engine: 'postgres',
      dependency_id: dependencyId,
      env_added: POSTGRES_KEYS,
      env_kept: [],
      env_replaced: [],
      redeployed: true,
      deployment_id: deploymentId,
      url: deployed.url,
    });

    const state = await projectJson();
    expect(state.dependencies).toEqual([{ engine: 'postgres', dependency_id: dependencyId }]);
    expect(state.last_deployment).toMatchObject({ id: deploymentId, status: 'success' });
    await expect(access(path.join(app, '.opendeploy', 'dependency-env.json'))).rejects.toThrow();
    // The password reached the service and never the output.
    const password = (await gatewayEnv()).POSTGRES_PASSWORD!;
    expect(password.length).toBeGreaterThan(8);
    expect(run.stdout + run.stderr).not.toContain(password);
    const log = await readFile(path.join(home, 'logs', `${new Date().toISOString().slice(0, 10)}.log`), 'utf8');
    expect(log).not.toContain(password);
    expect(log).toContain('"step":"dependency.env_merge"');
  });

  it('an engine the project already has is skipped with a clear message: nothing created, nothing redeployed', async () => {
    await gw.clearRequests();
    const run = await runCli(['db', 'add', 'postgres', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    const dependencyId = ((await projectJson()).dependencies as { dependency_id: string }[])[0]!.dependency_id;
    expect(run.events[0]).toEqual({
      type: 'stage',
      stage: 'dependency.create',
      status: 'skipped',
      message: `Project already has a postgres database (${dependencyId}, running); nothing added`,
      engine: 'postgres',
      dependency_id: dependencyId,
      dependency_status: 'running',
    });
    expect(lastEvent(run)).toMatchObject({ type: 'result', status: 'skipped', engine: 'postgres', dependency_id: dependencyId, redeployed: false, deployment_id: null });
    expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('existing variables are kept by default (reported by name); --no-redeploy leaves the deployment alone', async () => {
    await putGatewayEnv({ ...(await gatewayEnv()), MONGODB_URI: 'mongodb://mine.example/app' });
    await gw.clearRequests();
    const run = await runCli(['db', 'add', 'mongodb', '--no-redeploy', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ status: 'success', engine: 'mongodb', env_added: [], env_kept: ['MONGODB_URI'], env_replaced: [], redeployed: false, deployment_id: null });
    expect(run.stderr).toContain('node-http already had MONGODB_URI; kept the existing value (use --overwrite to take the database\'s).');
    const requests = await gw.requests();
    expect(requests.filter((r) => r.method === 'PUT' || r.path === '/api/v1/deployments/')).toEqual([]);
    expect((await gatewayEnv()).MONGODB_URI).toBe('mongodb://mine.example/app');
    expect(((await projectJson()).dependencies as { engine: string }[]).map((d) => d.engine)).toEqual(['postgres', 'mongodb']);
  });

  it('--overwrite replaces same-named variables (DATABASE_URL) and adds the rest, verified by read-back', async () => {
    await gw.clearRequests();
    const run = await runCli(['db', 'add', 'mysql', '--overwrite', '--no-redeploy', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({
      status: 'success',
      engine: 'mysql',
      env_added: ['MYSQL_DATABASE', 'MYSQL_HOST', 'MYSQL_PASSWORD', 'MYSQL_PORT', 'MYSQL_USER'],
      env_kept: [],
      env_replaced: ['DATABASE_URL'],
      redeployed: false,
    });
    const calls = (await gw.requests()).filter((r) => r.path === envPath()).map((r) => r.method);
    // Read, replace, read back, and one later look for a concurrent writer.
    expect(calls).toEqual(['GET', 'PUT', 'GET', 'GET']);
    const after = await gatewayEnv();
    expect(after.DATABASE_URL).toMatch(/^mysql:\/\//);
    expect(after.POSTGRES_PASSWORD).toBeDefined();
  });

  it('a failed redeploy after the merge is the diagnosed error (exit 5); the database and its env stay', async () => {
    await gw.nextDeployment({ outcome: 'failed', phase: 'build', log_lines: ['npm ERR! missing script: build'] });
    const run = await runCli(['db', 'add', 'redis', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(5);
    expect(errorOf(run)).toMatchObject({ error_code: 'build_failed', retryable: false });
    expect((await gatewayEnv()).REDIS_URL).toMatch(/^redis:\/\//);
    expect(((await projectJson()).dependencies as { engine: string }[]).map((d) => d.engine)).toEqual(['postgres', 'mongodb', 'mysql', 'redis']);
  });

  it('a db add interrupted after the create finishes on the next run with the saved variables', async () => {
    const pendingFile = path.join(app, '.opendeploy', 'dependency-env.json');
    await writeFile(pendingFile, JSON.stringify({ PGBOUNCER_URL: 'postgres://resumed.example/app' }), { mode: 0o600 });
    await gw.clearRequests();
    const run = await runCli(['db', 'add', 'postgres', '--no-redeploy', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    expect(run.events[0]).toMatchObject({ type: 'stage', stage: 'dependency.create', status: 'skipped' });
    expect(lastEvent(run)).toMatchObject({ status: 'success', engine: 'postgres', env_added: ['PGBOUNCER_URL'], redeployed: false });
    expect((await gw.requests()).some((r) => r.path === '/api/v1/dependencies/create')).toBe(false);
    expect((await gatewayEnv()).PGBOUNCER_URL).toBe('postgres://resumed.example/app');
    await expect(access(pendingFile)).rejects.toThrow();
  });

  it('an unknown engine is invalid_input listing the four (exit 2), before any request', async () => {
    await gw.clearRequests();
    const run = await runCli(['db', 'add', 'oracle', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: '"oracle" is not a database opendeploy can add. Choose one of: postgres, mysql, mongodb, redis.',
      retryable: false,
      next_action: 'For example: opendeploy db add postgres',
      details: { engines: ['postgres', 'mysql', 'mongodb', 'redis'] },
    });
    expect(await gw.requests()).toEqual([]);
  });

  it('an unknown project is not_found (exit 1); a rejected token is auth_invalid (exit 3) and creates nothing', async () => {
    const unknown = await runCli(['db', 'add', 'postgres', '--project', '00000000-0000-4000-8000-000000000000', '--json'], { cwd: app, env: env() });
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown).error_code).toBe('not_found');

    await gw.clearRequests();
    const bad = await runCli(['db', 'add', 'postgres', '--json'], { cwd: app, env: env({ OPENDEPLOY_TOKEN: `od_a${'z'.repeat(43)}` }) });
    expect(bad.code).toBe(3);
    expect(errorOf(bad).error_code).toBe('auth_invalid');
    const requests: RecordedRequest[] = await gw.requests();
    expect(requests.every((r) => r.status === 401)).toBe(true);
    expect(requests.some((r) => r.path === '/api/v1/dependencies/create')).toBe(false);
  });
});
