import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { call, newAgent, patToken, startHarness, uploadArchive, waitFor, zipWithCli, type Harness } from './helpers.js';

let h: Harness;
const pat = patToken();
let prod: any;
let prod2: any;
let staging: any;

/** Full pipeline to a live service; returns its auto ServiceDomain row. */
async function liveService(name: string, environment: string, token = pat): Promise<any> {
  const pid = (await call(h.origin, 'POST', '/api/v1/projects/', { token, body: { name, repo_url: 'file://upload', region_id: ACTIVE_REGION_ID, skip_validation: true } })).json.id;
  const sid = (await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, { token, body: { name: 'web', type: 'web', environment, port: 8080 } })).json.service_id;
  const zip = await zipWithCli({ 'index.js': 'x' });
  const temp = (await uploadArchive(h.origin, token, { project_name: name, region_id: ACTIVE_REGION_ID }, { name: 'a.zip', data: zip })).json.temp_file_path;
  await call(h.origin, 'POST', '/api/v1/upload/update-source', { token, body: { project_id: pid, temp_file_path: temp } });
  await call(h.origin, 'POST', '/api/v1/deployments/', { token, body: { project_id: pid, service_id: sid, environment, source: 'zip', temp_file_path: temp } });
  return waitFor(async () => {
    const rows = (await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${sid}&environment=${environment}&type=auto`, { token })).json as any[];
    return rows[0];
  }, 5000);
}

beforeAll(async () => {
  h = await startHarness({ buildDurationMs: 100 });
  [prod, prod2, staging] = await Promise.all([liveService('dom-prod', 'production'), liveService('dom-prod-two', 'production'), liveService('dom-staging', 'staging')]);
});
afterAll(async () => {
  await h.close();
});

describe('GET /v1/service-domains/check-subdomain/:sub', () => {
  it('available', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/service-domains/check-subdomain/my-cool-app', { token: pat });
    expect(reply.status).toBe(200);
    expect(reply.json.available).toBe(true);
    expect(reply.json).not.toHaveProperty('reason');
  });

  it.each(['www', 'api', 'admin', 'dashboard', 'console', 'billing', 'login', 'auth', 'status', 'health', 'ingress', 'registry', 'monitor', 'grafana', 'root', 'ns1', 'ns2', 'mx'])(
    'reserved: %s',
    async (sub) => {
      const reply = await call(h.origin, 'GET', `/api/v1/service-domains/check-subdomain/${sub}`, { token: pat });
      expect(reply.json).toMatchObject({ available: false, reason: 'reserved' });
    },
  );

  it('taken by an existing row', async () => {
    const reply = await call(h.origin, 'GET', `/api/v1/service-domains/check-subdomain/${prod.subdomain}`, { token: pat });
    expect(reply.json).toMatchObject({ available: false, reason: 'taken' });
  });

  it.each(['a', '-abc', 'abc-', 'UPPER', 'with_underscore', 'x'.repeat(33)])('invalid format %s → 400', async (sub) => {
    const reply = await call(h.origin, 'GET', `/api/v1/service-domains/check-subdomain/${sub}`, { token: pat });
    expect(reply.status).toBe(400);
  });
});

describe('GET /v1/service-domains', () => {
  it('returns ServiceDomain rows filtered by service, environment and type', async () => {
    const rows = (await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${prod.service_id}`, { token: pat })).json;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: prod.id, service_id: prod.service_id, project_id: prod.project_id, environment: 'production', type: 'auto', status: 'active', ssl_enabled: true, is_primary: true });
    expect((await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${prod.service_id}&environment=staging`, { token: pat })).json).toEqual([]);
    expect((await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${prod.service_id}&type=custom`, { token: pat })).json).toEqual([]);
  });

  it('other owners see nothing', async () => {
    const stranger = await newAgent(h.origin);
    expect((await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${prod.service_id}`, { token: stranger.token })).json).toEqual([]);
    const rename = await call(h.origin, 'PUT', `/api/v1/service-domains/${prod.id}/subdomain`, { token: stranger.token, body: { subdomain: 'stolen' } });
    expect(rename.status).toBe(404);
  });
});

describe('PUT /v1/service-domains/:id/subdomain', () => {
  const rename = (id: string, subdomain: unknown): Promise<any> => call(h.origin, 'PUT', `/api/v1/service-domains/${id}/subdomain`, { token: pat, body: { subdomain } });

  it('production rename → 200 updated row', async () => {
    const reply = await rename(prod.id, 'shiny-app');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id: prod.id, domain: 'shiny-app.opendeploy.run', environment: 'production', status: 'active' });
    const check = await call(h.origin, 'GET', '/api/v1/service-domains/check-subdomain/shiny-app', { token: pat });
    expect(check.json).toMatchObject({ available: false, reason: 'taken' });
  });

  it('invalid format → 400', async () => {
    for (const sub of ['A', 'bad_name', '-x', '', 42]) expect((await rename(prod.id, sub)).status).toBe(400);
  });

  it('reserved → 400', async () => {
    const reply = await rename(prod.id, 'admin');
    expect(reply.status).toBe(400);
    expect(reply.json.error).toContain('reserved');
  });

  it('taken by another row → 409', async () => {
    const reply = await rename(prod2.id, (await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${prod.service_id}`, { token: pat })).json[0].subdomain);
    expect(reply.status).toBe(409);
  });

  it('staging rows → 400 production-only', async () => {
    const reply = await rename(staging.id, 'my-staging');
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: 'subdomain rename is only supported for production domains' });
  });

  it('unknown domain id → 404', async () => {
    expect((await rename('00000000-0000-0000-0000-000000000000', 'fine-name')).status).toBe(404);
  });
});

describe('custom domains (POST /v1/service-domains/)', () => {
  it('pending agents → 403 bind_required; bound callers → 201 pending row with cname_target', async () => {
    const agent = await newAgent(h.origin);
    const denied = await call(h.origin, 'POST', '/api/v1/service-domains/', { token: agent.token, body: { service_id: prod.service_id, domain: 'app.example.com', type: 'custom' } });
    expect(denied.status).toBe(403);
    expect(denied.json.error).toBe('bind_required');
    const created = await call(h.origin, 'POST', '/api/v1/service-domains/', { token: pat, body: { service_id: prod.service_id, domain: 'app.example.com', type: 'custom' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ domain: 'app.example.com', type: 'custom', status: 'pending' });
    expect(created.json.cname_target).toMatch(/\.cdn\.opendeploy\.run$/);
    const dup = await call(h.origin, 'POST', '/api/v1/service-domains/', { token: pat, body: { service_id: prod.service_id, domain: 'app.example.com', type: 'custom' } });
    expect(dup.status).toBe(409);
  });
});
