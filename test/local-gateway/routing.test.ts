import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID, INACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { call, newAgent, patToken, startHarness, type Harness } from './helpers.js';

let h: Harness;
const pat = patToken();

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('base URL', () => {
  it('is http://127.0.0.1:<port>/api', () => {
    expect(h.gw.url).toBe(`http://127.0.0.1:${h.gw.port}/api`);
    expect(h.gw.port).toBeGreaterThan(0);
  });
});

describe('trailing-slash quirk', () => {
  const collections: Array<[string, string]> = [
    ['GET', '/api/v1/projects'],
    ['POST', '/api/v1/projects'],
    ['GET', '/api/v1/regions'],
    ['GET', '/api/v1/deployments'],
    ['POST', '/api/v1/deployments'],
    ['POST', '/api/v1/service-domains'],
    ['GET', '/api/v1/projects/abc/services'],
    ['POST', '/api/v1/projects/abc/services'],
  ];
  for (const [method, path] of collections) {
    it(`${method} ${path} → 301 to the slashed path (no auth needed, body never handled)`, async () => {
      const reply = await call(h.origin, method, path, method === 'POST' ? { body: { name: 'x' }, token: pat } : {});
      expect(reply.status).toBe(301);
      expect(reply.headers.get('location')).toBe(`${path}/`);
    });
  }

  it('keeps the query string on the redirect', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/deployments?project_id=p1');
    expect(reply.status).toBe(301);
    expect(reply.headers.get('location')).toBe('/api/v1/deployments/?project_id=p1');
  });

  it('single-resource routes have no slash: the slashed form redirects to it', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/projects/abc/');
    expect(reply.status).toBe(301);
    expect(reply.headers.get('location')).toBe('/api/v1/projects/abc');
  });

  it('GET /v1/service-domains answers with and without the slash', async () => {
    const a = await call(h.origin, 'GET', '/api/v1/service-domains?service_id=x', { token: pat });
    const b = await call(h.origin, 'GET', '/api/v1/service-domains/?service_id=x', { token: pat });
    expect(a.status).toBe(200);
    expect(a.json).toEqual([]);
    expect(b.status).toBe(200);
    expect(b.json).toEqual([]);
  });

  it('the slashed collection works', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/projects/', { token: pat });
    expect(reply.status).toBe(200);
    expect(Array.isArray(reply.json)).toBe(true);
  });
});

describe('unregistered routes', () => {
  it.each([
    ['GET', '/api/v1/deployments/abc/status'],
    ['GET', '/api/v1/deployments/status/abc'],
    ['PUT', '/api/v1/projects/abc/resources'],
    ['GET', '/api/v1/logs/deployment/abc'],
    ['GET', '/api/v1/nope'],
    ['GET', '/elsewhere'],
  ])('%s %s → 404 "404 page not found"', async (method, path) => {
    const reply = await call(h.origin, method, path, { token: pat, ...(method === 'PUT' ? { body: { cpu_limit: '1' } } : {}) });
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('404 page not found');
    expect(reply.headers.get('content-type')).toContain('text/plain');
  });

  it('the real deployment status poll is GET /v1/deployments/:id (JSON 404 for unknown ids)', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/deployments/does-not-exist', { token: pat });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: 'deployment not found' });
  });
});

describe('authentication', () => {
  it('missing Authorization → 401 auth_invalid envelope', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/regions/');
    expect(reply.status).toBe(401);
    expect(reply.json).toMatchObject({ error: 'unauthorized', error_code: 'auth_invalid' });
    expect(typeof reply.json.message).toBe('string');
  });

  it.each([
    ['not a bearer', 'Basic abc'],
    ['wrong shape', 'Bearer od_k123'],
    ['unknown kind letter', `Bearer od_x${'a'.repeat(43)}`],
    ['od_a never minted here', `Bearer od_a${'A'.repeat(43)}`],
  ])('%s → 401', async (_label, header) => {
    const reply = await call(h.origin, 'GET', '/api/v1/regions/', { headers: { authorization: header } });
    expect(reply.status).toBe(401);
    expect(reply.json.error).toBe('unauthorized');
    expect(reply.json.error_code).toBe('auth_invalid');
  });

  it('with --simulate, any well-formed od_k token is the local user (real mode: security.test.ts)', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/regions/', { token: patToken() });
    expect(reply.status).toBe(200);
  });
});

describe('regions', () => {
  it('lists an inactive region first, then the active us-east-1', async () => {
    const reply = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    expect(reply.status).toBe(200);
    expect(reply.json).toHaveLength(2);
    expect(reply.json[0]).toMatchObject({ id: INACTIVE_REGION_ID, status: 'inactive' });
    expect(reply.json[1]).toEqual({ id: ACTIVE_REGION_ID, name: 'us-east-1', code: 'us-east-1', status: 'active', environment: 'production' });
    const firstActive = (reply.json as Array<{ status: string; id: string }>).find((r) => r.status === 'active');
    expect(firstActive?.id).toBe(ACTIVE_REGION_ID);
  });
});

describe('profile, billing and the DELETE guard', () => {
  it('profile: od_k → 200 {id,email,plan}; pending agent → 401; bound agent → 200', async () => {
    const user = await call(h.origin, 'GET', '/api/v1/profile', { token: pat });
    expect(user.status).toBe(200);
    expect(user.json).toMatchObject({ email: 'local@opendeploy.local', plan: 'free' });
    expect(user.json.id).toMatch(/^[0-9a-f-]{36}$/);

    const agent = await newAgent(h.origin);
    const pending = await call(h.origin, 'GET', '/api/v1/profile', { token: agent.token });
    expect(pending.status).toBe(401);
    expect(pending.json.error).toBe('unauthorized');

    await call(h.origin, 'POST', `/__local/agents/${agent.agentId}/bind`, { body: { bind_sig: agent.bindSig } });
    const bound = await call(h.origin, 'GET', '/api/v1/profile', { token: agent.token });
    expect(bound.status).toBe(200);
    expect(bound.json.id).toBe(user.json.id);
  });

  it('billing: pending agent → 403 bind_required; bound → 200 {plan:"free"}', async () => {
    const agent = await newAgent(h.origin);
    for (const [method, path] of [['GET', '/api/v1/billing/subscription'], ['POST', '/api/v1/billing/checkout'], ['GET', '/api/v1/billing']]) {
      const reply = await call(h.origin, method as string, path as string, { token: agent.token, ...(method === 'POST' ? { body: {} } : {}) });
      expect(reply.status).toBe(403);
      expect(reply.json).toMatchObject({ error: 'bind_required', error_code: 'bind_required', next_action: 'bind_account' });
      expect(typeof reply.json.message).toBe('string');
    }
    const bound = await call(h.origin, 'GET', '/api/v1/billing/subscription', { token: pat });
    expect(bound.status).toBe(200);
    expect(bound.json).toEqual({ plan: 'free' });
  });

  it('any DELETE → 403 agent_delete_forbidden with method and path', async () => {
    for (const path of ['/api/v1/projects/abc', '/api/v1/service-domains/x', '/api/v1/whatever']) {
      const reply = await call(h.origin, 'DELETE', path, { token: pat });
      expect(reply.status).toBe(403);
      expect(reply.json).toMatchObject({ error: 'agent_delete_forbidden', method: 'DELETE', path });
      expect(typeof reply.json.message).toBe('string');
    }
    const agent = await newAgent(h.origin);
    const asAgent = await call(h.origin, 'DELETE', '/api/v1/projects/abc', { token: agent.token });
    expect(asAgent.status).toBe(403);
    const anonymous = await call(h.origin, 'DELETE', '/api/v1/projects/abc');
    expect(anonymous.status).toBe(401);
  });
});

describe('request bodies', () => {
  it('malformed JSON → 400 {"error":"invalid JSON body"}', async () => {
    const reply = await call(h.origin, 'POST', '/api/v1/projects/', {
      token: pat,
      rawBody: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: 'invalid JSON body' });
  });

  it('a JSON array is not an object body either', async () => {
    const reply = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: [1, 2] });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: 'invalid JSON body' });
  });
});
