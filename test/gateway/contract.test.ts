/**
 * The gateway client against the real embedded local gateway over loopback HTTP: the whole first
 * deploy sequence, the pending-agent gates, and fault injection through `/__local/faults`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OdError } from '../../src/core/errors.js';
import { GatewayClient, type Deployment, type Region, type RequestInfo, type ServiceDomain } from '../../src/gateway/index.js';
import { startLocalGateway } from '../../src/local-gateway/server.js';
import { failure } from './helpers.js';
import { makeZip } from './zip.js';

type Gateway = Awaited<ReturnType<typeof startLocalGateway>>;

interface Journal {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  has_auth: boolean;
  user_agent: string;
  json?: unknown;
  form_fields?: string[];
  fault?: string;
}

let dir: string;
let gw: Gateway;
let anon: GatewayClient;
let client: GatewayClient;
const log: RequestInfo[] = [];

// Shared across the ordered steps below.
let agentId = '';
let bindSig = '';
let apiKey = '';
let region: Region;
let projectId = '';
let serviceId = '';
let tempFilePath = '';
let deployment: Deployment;
let autoDomain: ServiceDomain;

async function control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const origin = gw.url.replace(/\/api$/, '');
  // Control POSTs must be JSON (the gateway refuses anything else).
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
  });
  if (!res.ok) throw new Error(`control ${method} ${path} → ${res.status} ${await res.text()}`);
  return res.json();
}

async function journal(): Promise<Journal[]> {
  return (await control('GET', '/__local/requests')) as Journal[];
}

async function clearJournal(): Promise<void> {
  await control('POST', '/__local/requests/clear');
}

async function fault(spec: Record<string, unknown>): Promise<void> {
  await control('POST', '/__local/faults', spec);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'od-contract-'));
  gw = await startLocalGateway({ port: 0, dataDir: join(dir, 'gateway'), buildDurationMs: 300, simulate: true });
  anon = new GatewayClient({ baseUrl: gw.url, backoffBaseMs: 1, onRequest: (info) => log.push(info) });
});

afterAll(async () => {
  await anon?.close();
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('gateway client ↔ local gateway (ordered first-deploy contract)', () => {
  it('registers anonymously and gets a pending od_a credential', async () => {
    const reg = await anon.register({ source_hint: 'opendeploy/test (linux)' });
    expect(reg.api_key).toMatch(/^od_a[A-Za-z0-9]{43}$/);
    expect(reg.agent_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(reg.bind_sig).toBeTruthy();
    expect(reg.claim_url).toBe(`${gw.url.replace(/\/api$/, '')}/claim/${reg.agent_id}?h=${reg.bind_sig}`);
    agentId = reg.agent_id!;
    bindSig = reg.bind_sig!;
    apiKey = reg.api_key!;
    client = anon.withToken(apiKey);
    const [entry] = (await journal()).filter((j) => j.path === '/api/v1/client-agents/register');
    expect(entry).toMatchObject({ method: 'POST', has_auth: false, json: { source_hint: 'opendeploy/test (linux)' } });
    expect(entry!.user_agent).toMatch(/^opendeploy\//);
  });

  it('a replay (same IP + User-Agent) returns the agent without api_key', async () => {
    const replay = await anon.register({ source_hint: 'opendeploy/test (linux)' });
    expect(replay.agent_id).toBe(agentId);
    expect(replay.api_key).toBeUndefined();
  });

  it('lists regions (the sanity check) and picks the first active one', async () => {
    const regions = await client.listRegions();
    expect(regions.length).toBeGreaterThanOrEqual(2);
    region = regions.find((r) => r.status === 'active')!;
    expect(region).toBeDefined();
    expect(regions[0]!.status).toBe('inactive');
  });

  it('profile is 401 for a pending credential → auth_invalid', async () => {
    const err = await failure(client.getProfile());
    expect(err).toBeInstanceOf(OdError);
    expect(err.code).toBe('auth_invalid');
    expect(err.status).toBe(401);
  });

  it('creates a project; a second project for the pending agent is a 409 carrying the first id', async () => {
    const project = await client.createProject({
      name: 'contract-demo',
      repo_url: 'file://upload',
      branch: 'main',
      region_id: region.id,
      skip_validation: true,
    });
    projectId = project.id;
    expect(project.name).toBe('contract-demo');

    const err = await failure(client.createProject({ name: 'second-demo', repo_url: 'file://upload', region_id: region.id, skip_validation: true }));
    expect(err.code).toBe('conflict');
    expect(err.status).toBe(409);
    expect(err.details.project_id).toBe(projectId);
    expect(err.nextAction).toContain(projectId);

    expect((await client.findProjectByName('contract-demo'))?.id).toBe(projectId);
    expect(await client.findProjectByName('second-demo')).toBeUndefined();
    expect((await client.getProject(projectId)).id).toBe(projectId);
  });

  it('service caps for a pending agent → quota_exceeded naming field, requested and limit', async () => {
    const err = await failure(
      client.createService(projectId, { name: 'web', type: 'web', port: 3000, cpu_request: '500m', cpu_limit: '2', memory_request: '512Mi', memory_limit: '1Gi', replicas: 1 }),
    );
    expect(err.code).toBe('quota_exceeded');
    expect(err.exitCode).toBe(4);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('The gateway refused cpu_limit=2: the limit for an unclaimed credential is 1.');
    expect(err.details).toMatchObject({ field: 'cpu_limit', requested: '2', limit: '1' });

    const memErr = await failure(client.createService(projectId, { name: 'web', type: 'web', memory_limit: '4Gi' }));
    expect(memErr.code).toBe('quota_exceeded');
    expect(memErr.details.field).toBe('memory_limit');
    // Nothing was created by the refused calls.
    expect(await client.findServiceByName(projectId, 'web')).toBeUndefined();
  });

  it('creates the service within the caps and reads it back by name', async () => {
    const created = await client.createService(projectId, {
      name: 'web',
      type: 'web',
      environment: 'production',
      language: 'node',
      framework: 'express',
      port: 3000,
      runtime_variables: { NODE_ENV: 'production', PORT: '3000' },
      cpu_request: '500m',
      cpu_limit: '1',
      memory_request: '512Mi',
      memory_limit: '1Gi',
      replicas: 1,
    });
    serviceId = created.service_id;
    expect(serviceId).toBeTruthy();
    const found = await client.findServiceByName(projectId, 'web');
    expect(found?.id).toBe(serviceId);
    const svc = await client.getService(serviceId);
    expect(svc).toMatchObject({ id: serviceId, name: 'web', cpu_limit: '1', memory_limit: '1Gi' });
    expect(svc.runtime_variables).toMatchObject({ NODE_ENV: 'production', PORT: '3000' });
  });

  it('a second service for the pending agent → quota_exceeded (services)', async () => {
    const err = await failure(client.createService(projectId, { name: 'worker', type: 'worker' }));
    expect(err.code).toBe('quota_exceeded');
    expect(err.details.field).toBe('services');
  });

  it('env: full-replace PUT and GET round trip', async () => {
    const put = await client.putEnv(projectId, serviceId, { NODE_ENV: 'production', PORT: '3000', SESSION_SECRET: 'contract-secret-value' });
    expect(put.count).toBe(3);
    expect([...put.variables].sort()).toEqual(['NODE_ENV', 'PORT', 'SESSION_SECRET']);
    expect(await client.getEnv(projectId, serviceId)).toEqual({ NODE_ENV: 'production', PORT: '3000', SESSION_SECRET: 'contract-secret-value' });
  });

  it('upload-only streams a real zip (multipart fields in order, .zip name), update-source binds it', async () => {
    const zipPath = join(dir, 'contract-demo');
    await writeFile(
      zipPath,
      makeZip({
        'package.json': JSON.stringify({ name: 'contract-demo', scripts: { start: 'node server.js' } }),
        'server.js': "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);\n",
      }),
    );
    await clearJournal();
    const progress: number[] = [];
    const parked = await client.uploadOnly({
      projectName: 'contract-demo',
      regionId: region.id,
      filePath: zipPath,
      onProgress: (sent) => progress.push(sent),
    });
    tempFilePath = parked.temp_file_path;
    expect(tempFilePath).toBeTruthy();
    expect(progress.length).toBeGreaterThan(0);
    const [upload] = await journal();
    expect(upload).toMatchObject({ method: 'POST', path: '/api/v1/upload/upload-only', status: 200, has_auth: true });
    expect(upload!.form_fields).toEqual(['project_name', 'region_id', 'project_file']);

    const bound = await client.updateSource({ project_id: projectId, temp_file_path: tempFilePath, analysis: { language: 'node' } });
    expect(bound.source_status === 'ready' || Boolean(bound.source_path)).toBe(true);
    const project = await client.getProject(projectId);
    expect(project.source_path).toBeTruthy();
  });

  it('creates a deployment (no resources) and polls it to success', async () => {
    await clearJournal();
    const created = await client.createDeployment({
      project_id: projectId,
      service_id: serviceId,
      environment: 'production',
      source: 'zip',
      temp_file_path: tempFilePath,
      branch: 'main',
      dependencies: [],
    });
    expect(['pending', 'analyzing', 'building', 'deploying']).toContain(created.status);
    const [entry] = await journal();
    expect(entry!.path).toBe('/api/v1/deployments/');
    expect(Object.keys(entry!.json as object)).not.toContain('resources');

    const deadline = Date.now() + 15_000;
    deployment = created;
    const seen = new Set<string>();
    while (!['success', 'failed', 'cancelled', 'rolled_back'].includes(deployment.status)) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
      deployment = await client.getDeployment(created.id);
      seen.add(deployment.status);
    }
    expect(deployment.status).toBe('success');
    const listed = await client.listDeployments(projectId);
    expect(listed.map((d) => d.id)).toContain(created.id);
    const successful = await client.listProjectDeployments(projectId, 'success');
    expect(successful.map((d) => d.id)).toContain(created.id);
  });

  it('one-shot logs honour tail', async () => {
    const all = await client.getDeploymentLogs(deployment.id);
    expect(all.logs.length).toBeGreaterThan(0);
    expect(all.total).toBe(all.logs.length);
    expect(all.logs.every((l) => typeof l.message === 'string')).toBe(true);
    const tail = await client.getDeploymentLogs(deployment.id, { tail: 2 });
    expect(tail.logs).toHaveLength(2);
    expect(tail.logs.map((l) => l.message)).toEqual(all.logs.slice(-2).map((l) => l.message));
  });

  it('the SSE log stream replays the lines and ends with the terminal status', async () => {
    const events = [];
    for await (const event of client.streamDeploymentLogs(deployment.id)) {
      events.push(event);
      if (event.event === 'end') break;
    }
    const logs = events.filter((e) => e.event === 'log');
    const all = await client.getDeploymentLogs(deployment.id);
    expect(logs.map((e) => (e.data as { message: string }).message)).toEqual(all.logs.map((l) => l.message));
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'success' } });
  });

  it('a live SSE stream follows a running deployment to its end', async () => {
    const next = await client.createDeployment({ project_id: projectId, service_id: serviceId, environment: 'production', source: 'zip', temp_file_path: tempFilePath });
    const statuses: string[] = [];
    for await (const event of client.streamDeploymentLogs(next.id)) {
      if (event.event === 'status' || event.event === 'end') statuses.push((event.data as { status: string }).status);
      if (event.event === 'end') break;
    }
    expect(statuses.at(-1)).toBe('success');
    expect(statuses.length).toBeGreaterThan(1);
  });

  it('domains: the auto row appears, check-subdomain, rename (production)', async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await client.listServiceDomains(serviceId, { environment: 'production', type: 'auto' });
      if (rows[0]) {
        autoDomain = rows[0];
        break;
      }
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
    }
    expect(autoDomain.domain).toMatch(/\.opendeploy\.run$/);

    expect(await client.checkSubdomain('admin')).toEqual({ available: false, reason: 'reserved' });
    const prefix = `contract-${Date.now().toString(36)}`;
    expect((await client.checkSubdomain(prefix)).available).toBe(true);
    const renamed = await client.renameSubdomain(autoDomain.id, prefix);
    expect(renamed.domain).toBe(`${prefix}.opendeploy.run`);
    const taken = await client.checkSubdomain(prefix);
    expect(taken).toEqual({ available: false, reason: 'taken' });
  });

  it('billing is bind_required for the pending agent, and works once bound', async () => {
    const err = await failure(client.getBilling());
    expect(err.code).toBe('bind_required');
    expect(err.exitCode).toBe(4);
    expect(err.status).toBe(403);

    await control('POST', `/__local/agents/${agentId}/bind`, { bind_sig: bindSig });
    expect(await client.getBilling()).toBeTypeOf('object');
    const profile = await client.getProfile();
    expect(profile.id).toBeTruthy();
  });

  it('never sent a token to register, always to everything else; never a slash-less collection', async () => {
    const requests = await journal();
    expect(requests.length).toBeGreaterThan(5);
    for (const r of requests) {
      expect(r.has_auth).toBe(r.path !== '/api/v1/client-agents/register');
      expect(r.status).not.toBe(301);
    }
    expect(JSON.stringify(log)).not.toContain(apiKey);
  });
});

describe('fault injection through the local gateway', () => {
  it('GET regions retries a 503 twice and succeeds on the third attempt', async () => {
    await clearJournal();
    await fault({ route: 'GET /api/v1/regions/', count: 2, status: 503, body: { error: 'upstream unavailable' } });
    const regions = await client.listRegions();
    expect(regions.length).toBeGreaterThan(0);
    const hits = (await journal()).filter((r) => r.path === '/api/v1/regions/');
    expect(hits.map((h) => h.status)).toEqual([503, 503, 200]);
  });

  it('GET retries a dropped connection', async () => {
    await clearJournal();
    await fault({ route: 'GET /api/v1/projects/:id', count: 1, drop: true });
    expect((await client.getProject(projectId)).id).toBe(projectId);
    expect((await journal()).filter((r) => r.path === `/api/v1/projects/${projectId}`)).toHaveLength(2);
  });

  it('a POST create is never retried (502) and can be resolved by name afterwards', async () => {
    await clearJournal();
    await fault({ route: 'POST /api/v1/projects/', count: 1, status: 502, body: { error: 'bad gateway' } });
    const err = await failure(client.createProject({ name: 'fault-demo', repo_url: 'file://upload', skip_validation: true }));
    expect(err.code).toBe('server_error');
    expect(err.details.ambiguous).toBe(true);
    expect((await journal()).filter((r) => r.method === 'POST' && r.path === '/api/v1/projects/')).toHaveLength(1);
    expect(await client.findProjectByName('fault-demo')).toBeUndefined();
  });

  it('a dropped POST is ambiguous → gateway_unreachable, exactly one request', async () => {
    await clearJournal();
    await fault({ route: 'POST /api/v1/deployments/', count: 1, drop: true });
    const err = await failure(client.createDeployment({ project_id: projectId, service_id: serviceId, source: 'zip', temp_file_path: tempFilePath }));
    expect(err.code).toBe('gateway_unreachable');
    expect(err.details.ambiguous).toBe(true);
    expect(err.message).toContain(gw.url);
    expect((await journal()).filter((r) => r.method === 'POST' && r.path === '/api/v1/deployments/')).toHaveLength(1);
  });

  it('a malformed body → server_error naming the route, with an excerpt', async () => {
    await fault({ route: 'GET /api/v1/deployments/:id', count: 1, status: 200, malformed: true });
    const err = await failure(client.getDeployment(deployment.id));
    expect(err.code).toBe('server_error');
    expect(err.message).toContain(`GET /v1/deployments/${deployment.id}`);
    expect(err.details.excerpt).toBeTruthy();
  });

  it('a slow GET beyond the request timeout → gateway_unreachable after the retries', async () => {
    const impatient = new GatewayClient({ baseUrl: gw.url, token: apiKey, requestTimeoutMs: 200, retries: 2, backoffBaseMs: 1 });
    try {
      await clearJournal();
      await fault({ route: 'GET /api/v1/regions/', count: 2, delay_ms: 3000 });
      const err = await failure(impatient.listRegions());
      expect(err.code).toBe('gateway_unreachable');
      expect(err.message).toBe(`Could not reach the gateway at ${gw.url} (no response within 0.2s).`);
      expect((await journal()).filter((r) => r.path === '/api/v1/regions/')).toHaveLength(2);
    } finally {
      await impatient.close();
      await control('POST', '/__local/faults/clear');
    }
  });

  it('register 429 is surfaced at once with the wait (never retried)', async () => {
    await clearJournal();
    await fault({ route: 'POST /api/v1/client-agents/register', count: 1, status: 429, headers: { 'retry-after': '3540' }, body: { error: 'rate_limited' } });
    const err = await failure(new GatewayClient({ baseUrl: gw.url, userAgent: 'other-agent/1' }).register({ source_hint: 'x' }));
    expect(err.code).toBe('rate_limited');
    expect(err.message).toContain('try again in 59 minutes');
    expect((await journal()).filter((r) => r.path === '/api/v1/client-agents/register')).toHaveLength(1);
  });
});
