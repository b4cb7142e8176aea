import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { call, newAgent, patToken, sleep, startHarness, type Harness } from './helpers.js';

let h: Harness;
const pat = patToken();

beforeAll(async () => {
  // Many pending agents are minted here; the hourly register limit has its own test.
  h = await startHarness({ registerLimitPerHour: 100 });
});
afterAll(async () => {
  await h.close();
});

const uploadProject = (name: string): Record<string, unknown> => ({
  name,
  repo_url: 'file://upload',
  branch: 'main',
  region_id: ACTIVE_REGION_ID,
  skip_validation: true,
});

async function createProject(token: string, name: string): Promise<string> {
  const reply = await call(h.origin, 'POST', '/api/v1/projects/', { token, body: uploadProject(name) });
  expect(reply.status).toBe(201);
  return reply.json.id as string;
}

describe('projects', () => {
  it('POST /v1/projects/ → 201 full project', async () => {
    const reply = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: uploadProject('alpha') });
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({
      name: 'alpha',
      repo_url: 'file://upload',
      branch: 'main',
      region_id: ACTIVE_REGION_ID,
      source_path: '',
      source_status: null,
    });
    expect(reply.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(reply.json.created_at))).toBe(false);
    expect(reply.json).not.toHaveProperty('owner_id');
  });

  it('duplicate name for the same owner → 409 with the existing project_id', async () => {
    const id = await createProject(pat, 'dup-name');
    const again = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: uploadProject('dup-name') });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ error: 'project name already exists', project_id: id });
  });

  it('a pending agent may own one live project: the second POST → 409 with the existing id', async () => {
    const agent = await newAgent(h.origin);
    const first = await createProject(agent.token, 'agent-one');
    const second = await call(h.origin, 'POST', '/api/v1/projects/', { token: agent.token, body: uploadProject('agent-two') });
    expect(second.status).toBe(409);
    expect(second.json).toEqual({ error: 'agent already has a live project', project_id: first });
  });

  it('defaults region and branch; validates name, repo and region', async () => {
    const reply = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'defaults', repo_url: 'https://github.com/acme/app.git' } });
    expect(reply.status).toBe(201);
    expect(reply.json.region_id).toBe(ACTIVE_REGION_ID);
    expect(reply.json.branch).toBe('main');
    expect((await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { repo_url: 'file://upload', skip_validation: true } })).status).toBe(400);
    expect((await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'Bad_Name', repo_url: 'file://upload', skip_validation: true } })).status).toBe(400);
    const git = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'gitbad', repo_url: 'not a url' } });
    expect(git.status).toBe(400);
    expect(git.json).toMatchObject({ error: 'Git validation failed', error_code: 'invalid_repository_url' });
    const region = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { ...uploadProject('badregion'), region_id: 'nope' } });
    expect(region.status).toBe(400);
    expect(region.json).toEqual({ error: 'invalid region' });
  });

  it('GET list and detail; other owners and unknown ids → 404 project not found', async () => {
    const id = await createProject(pat, 'readable');
    const list = await call(h.origin, 'GET', '/api/v1/projects/', { token: pat });
    expect((list.json as Array<{ id: string }>).some((p) => p.id === id)).toBe(true);
    const one = await call(h.origin, 'GET', `/api/v1/projects/${id}`, { token: pat });
    expect(one.status).toBe(200);
    expect(one.json.id).toBe(id);

    const stranger = await newAgent(h.origin);
    const hidden = await call(h.origin, 'GET', `/api/v1/projects/${id}`, { token: stranger.token });
    expect(hidden.status).toBe(404);
    expect(hidden.json).toEqual({ error: 'project not found' });
    const strangerList = await call(h.origin, 'GET', '/api/v1/projects/', { token: stranger.token });
    expect(strangerList.json).toEqual([]);
    expect((await call(h.origin, 'GET', '/api/v1/projects/00000000-0000-0000-0000-000000000000', { token: pat })).json).toEqual({ error: 'project not found' });
  });

  it('PUT /v1/projects/:id/resources is not proxied → 404', async () => {
    const id = await createProject(pat, 'resources-404');
    const reply = await call(h.origin, 'PUT', `/api/v1/projects/${id}/resources`, { token: pat, body: { cpu_limit: '1' } });
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('404 page not found');
  });
});

describe('dependencies', () => {
  it('GET /v1/dependencies is the catalogue', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/dependencies', { token: pat });
    expect(reply.status).toBe(200);
    const names = (reply.json.dependencies as Array<{ name: string }>).map((d) => d.name);
    expect(names).toEqual(['postgres', 'mysql', 'mongodb', 'redis', 'clickhouse']);
  });

  it('postgres: 200 provisioning with realistic env_vars, then running after ~300 ms', async () => {
    const pid = await createProject(pat, 'with-db');
    const reply = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: pid, dependency_id: 'postgres', environment: 'production' } });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ dependency_id: 'postgres', status: 'provisioning', environment: 'production', type: 'database' });
    expect(typeof reply.json.name).toBe('string');
    expect(typeof reply.json.message).toBe('string');
    const env = reply.json.env_vars as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['DATABASE_URL', 'POSTGRES_DB', 'POSTGRES_HOST', 'POSTGRES_PASSWORD', 'POSTGRES_PORT', 'POSTGRES_USER']);
    expect(env['POSTGRES_PORT']).toBe('5432');
    expect(env['POSTGRES_PASSWORD']!.length).toBeGreaterThanOrEqual(24);
    expect(env['DATABASE_URL']).toBe(`postgresql://${env['POSTGRES_USER']}:${env['POSTGRES_PASSWORD']}@${env['POSTGRES_HOST']}:5432/${env['POSTGRES_DB']}`);

    const early = await call(h.origin, 'GET', `/api/v1/dependencies/status/${pid}`, { token: pat });
    expect(early.json.dependencies[0]).toMatchObject({ id: reply.json.id, dependency_id: 'postgres', status: 'provisioning' });
    expect(early.json.dependencies[0]).not.toHaveProperty('env_vars');
    await sleep(450);
    const later = await call(h.origin, 'GET', `/api/v1/dependencies/status/${pid}`, { token: pat });
    expect(later.json.dependencies[0].status).toBe('running');
  });

  it.each([
    ['mysql', ['DATABASE_URL', 'MYSQL_DATABASE', 'MYSQL_HOST', 'MYSQL_PASSWORD', 'MYSQL_PORT', 'MYSQL_USER']],
    ['mongodb', ['MONGODB_URI']],
    ['redis', ['REDIS_URL']],
    ['clickhouse', ['CLICKHOUSE_URL']],
  ])('%s env vars', async (engine, keys) => {
    const pid = await createProject(pat, `db-${engine}`);
    const reply = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: pid, dependency_id: engine } });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json.env_vars).sort()).toEqual(keys);
    expect(reply.json.environment).toBe('production');
  });

  it('two creates get different random passwords', async () => {
    const pid = await createProject(pat, 'two-dbs');
    const a = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: pid, dependency_id: 'redis' } });
    const b = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: pid, dependency_id: 'redis' } });
    expect(a.json.env_vars.REDIS_URL).not.toBe(b.json.env_vars.REDIS_URL);
  });

  it('unknown engine → 400 Invalid dependency_id format; unknown project → 404', async () => {
    const pid = await createProject(pat, 'bad-engine');
    const bad = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: pid, dependency_id: 'oracle' } });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: 'Invalid dependency_id format' });
    const missing = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: 'nope', dependency_id: 'redis' } });
    expect(missing.status).toBe(404);
  });
});

describe('services', () => {
  const webService = (name = 'web'): Record<string, unknown> => ({
    name,
    type: 'web',
    environment: 'production',
    language: 'node',
    framework: 'express',
    port: 3000,
    start_command: 'node server.js',
    build_variables: { NEXT_PUBLIC_X: '1' },
    runtime_variables: { NODE_ENV: 'production', SECRET_KEY: 's3cret' },
    cpu_request: '500m',
    cpu_limit: '1',
    memory_request: '512Mi',
    memory_limit: '1Gi',
    replicas: 1,
  });

  it('201 {message, service_id} (not the full object); GET returns the full row', async () => {
    const pid = await createProject(pat, 'svc-shape');
    const reply = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: webService() });
    expect(reply.status).toBe(201);
    expect(Object.keys(reply.json).sort()).toEqual(['message', 'service_id']);
    expect(reply.json.message).toBe('Service created successfully');
    const row = await call(h.origin, 'GET', `/api/v1/services/${reply.json.service_id}`, { token: pat });
    expect(row.status).toBe(200);
    expect(row.json).toMatchObject({
      id: reply.json.service_id,
      project_id: pid,
      name: 'web',
      type: 'web',
      port: 3000,
      start_command: 'node server.js',
      cpu_request: '500m',
      cpu_limit: '1',
      memory_request: '512Mi',
      memory_limit: '1Gi',
      replicas: 1,
      runtime_variables: { NODE_ENV: 'production', SECRET_KEY: 's3cret' },
      build_variables: { NEXT_PUBLIC_X: '1' },
    });
    const list = await call(h.origin, 'GET', `/api/v1/projects/${pid}/services/`, { token: pat });
    expect(list.json).toHaveLength(1);
  });

  it('missing type → 400 with the Go validator message', async () => {
    const pid = await createProject(pat, 'svc-notype');
    const { type: _t, ...noType } = webService();
    const reply = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: noType });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: "Key: 'CreateServiceRequest.Type' Error:Field validation for 'Type' failed on the 'required' tag" });
  });

  it('wrong JSON types fail like the Go backend', async () => {
    const pid = await createProject(pat, 'svc-types');
    const reply = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: { ...webService(), cpu_limit: 2 } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('json: cannot unmarshal number into Go struct field CreateServiceRequest.cpu_limit of type string');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['cpu_limit', { cpu_limit: '2' }, '2', '1'],
    ['cpu_limit', { cpu_limit: '1500m' }, '1500m', '1'],
    ['memory_limit', { memory_limit: '4Gi' }, '4Gi', '1Gi'],
    ['memory_limit', { memory_limit: '2048Mi' }, '2048Mi', '1Gi'],
    ['replicas', { replicas: 3 }, '3', '1'],
  ])('pending agent over the cap (%s) → 403 agent_quota_exceeded, checked before validation', async (field, override, requested, limit) => {
    const agent = await newAgent(h.origin);
    const pid = await createProject(agent.token, `cap-${Math.random().toString(36).slice(2, 8)}`);
    // No `type`: the cap gate still answers first.
    const { type: _t, ...body } = { ...webService(), ...override } as Record<string, unknown>;
    const reply = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: agent.token, body });
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: 'agent_quota_exceeded', error_code: 'quota_exceeded', field, requested, limit });
    expect(typeof reply.json.message).toBe('string');
  });

  it('pending agent: a second service in the project → 403 field "services"', async () => {
    const agent = await newAgent(h.origin);
    const pid = await createProject(agent.token, 'one-svc');
    expect((await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: agent.token, body: webService('one') })).status).toBe(201);
    const second = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: agent.token, body: webService('two') });
    expect(second.status).toBe(403);
    expect(second.json).toMatchObject({ error: 'agent_quota_exceeded', field: 'services', requested: '2', limit: '1' });
  });

  it('od_k callers have no caps; duplicate names → 409', async () => {
    const pid = await createProject(pat, 'big-svc');
    const big = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: { ...webService('api'), cpu_limit: '2', memory_limit: '4Gi', replicas: 3 } });
    expect(big.status).toBe(201);
    expect((await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: webService('worker') })).status).toBe(201);
    const dup = await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: webService('api') });
    expect(dup.status).toBe(409);
  });

  it('unknown project → 404', async () => {
    const reply = await call(h.origin, 'POST', '/api/v1/projects/nope/services/', { token: pat, body: webService() });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: 'project not found' });
  });

  it('PUT /v1/services/:id is a partial update; caps apply to pending agents', async () => {
    const agent = await newAgent(h.origin);
    const pid = await createProject(agent.token, 'resize');
    const sid = (await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: agent.token, body: webService() })).json.service_id;
    const ok = await call(h.origin, 'PUT', `/api/v1/services/${sid}`, { token: agent.token, body: { memory_limit: '768Mi', start_command: 'npm start' } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ id: sid, memory_limit: '768Mi', start_command: 'npm start', cpu_limit: '1', port: 3000 });
    const over = await call(h.origin, 'PUT', `/api/v1/services/${sid}`, { token: agent.token, body: { cpu_limit: '2' } });
    expect(over.status).toBe(403);
    expect(over.json).toMatchObject({ error: 'agent_quota_exceeded', field: 'cpu_limit', requested: '2', limit: '1' });
    expect((await call(h.origin, 'GET', `/api/v1/services/${sid}`, { token: agent.token })).json.cpu_limit).toBe('1');
  });

  it('env: GET {variables}; PUT is a full replace with limits', async () => {
    const pid = await createProject(pat, 'env-svc');
    const sid = (await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token: pat, body: webService() })).json.service_id;
    const envPath = `/api/v1/projects/${pid}/services/${sid}/env`;
    const got = await call(h.origin, 'GET', envPath, { token: pat });
    expect(got.json).toEqual({ variables: { NODE_ENV: 'production', SECRET_KEY: 's3cret' } });

    const put = await call(h.origin, 'PUT', envPath, { token: pat, body: { variables: { B: '2', A: '1' } } });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ service_id: sid, variables: ['A', 'B'], count: 2 });
    expect((await call(h.origin, 'GET', envPath, { token: pat })).json).toEqual({ variables: { A: '1', B: '2' } });

    const longKey = await call(h.origin, 'PUT', envPath, { token: pat, body: { variables: { ['K'.repeat(129)]: 'v' } } });
    expect(longKey.status).toBe(400);
    const okKey = await call(h.origin, 'PUT', envPath, { token: pat, body: { variables: { ['K'.repeat(128)]: 'v'.repeat(32 * 1024) } } });
    expect(okKey.status).toBe(200);
    const bigValue = await call(h.origin, 'PUT', envPath, { token: pat, body: { variables: { BIG: 'v'.repeat(32 * 1024 + 1) } } });
    expect(bigValue.status).toBe(400);
    const wrongProject = await call(h.origin, 'GET', `/api/v1/projects/${await createProject(pat, 'env-other')}/services/${sid}/env`, { token: pat });
    expect(wrongProject.status).toBe(404);
  });
});
