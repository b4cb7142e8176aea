import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, patToken, startHarness, type Harness } from './helpers.js';

let h: Harness;
const pat = patToken();

beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await call(h.origin, 'POST', '/__local/faults/clear', { body: {} });
  await call(h.origin, 'POST', '/__local/requests/clear', { body: {} });
});
afterAll(async () => {
  await h.close();
});

const fault = (spec: Record<string, unknown>): Promise<any> => call(h.origin, 'POST', '/__local/faults', { body: spec });

describe('POST /__local/faults', () => {
  it('status + body replies for exactly `count` matching requests', async () => {
    expect((await fault({ route: 'GET /api/v1/regions/', count: 2, status: 503, body: { error: 'upstream unavailable' }, headers: { 'Retry-After': '7' } })).status).toBe(200);
    const a = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    const b = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    const c = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(a.json).toEqual({ error: 'upstream unavailable' });
    expect(a.headers.get('retry-after')).toBe('7');
  });

  it('string bodies are sent verbatim', async () => {
    await fault({ route: 'GET /api/v1/regions/', status: 502, body: '<html>Bad gateway</html>' });
    const reply = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    expect(reply.status).toBe(502);
    expect(reply.text).toBe('<html>Bad gateway</html>');
  });

  it(':id segments match any id; other methods and paths are untouched', async () => {
    await fault({ route: 'GET /api/v1/deployments/:id', status: 500 });
    expect((await call(h.origin, 'GET', '/api/v1/deployments/', { token: pat })).status).toBe(200);
    expect((await call(h.origin, 'POST', '/api/v1/deployments/abc/cancel', { token: pat })).status).toBe(404);
    expect((await call(h.origin, 'GET', '/api/v1/deployments/abc', { token: pat })).status).toBe(500);
    expect((await call(h.origin, 'GET', '/api/v1/deployments/abc', { token: pat })).status).toBe(404);
  });

  it('faults apply before routing, so even unauthenticated requests get them', async () => {
    await fault({ route: 'POST /api/v1/client-agents/register', status: 429, body: { error: 'rate_limited', retry_after_seconds: 60 }, headers: { 'retry-after': '60' } });
    const reply = await call(h.origin, 'POST', '/api/v1/client-agents/register', { body: {} });
    expect(reply.status).toBe(429);
    expect(reply.headers.get('retry-after')).toBe('60');
  });

  it('delay_ms delays, then handles normally (or replies the status if given)', async () => {
    await fault({ route: 'GET /api/v1/regions/', delay_ms: 400 });
    let started = Date.now();
    const slow = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    expect(slow.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);

    await fault({ route: 'GET /api/v1/regions/', delay_ms: 300, status: 504, body: { error: 'gateway timeout' } });
    started = Date.now();
    const timeout = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    expect(timeout.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('a client that gives up during a delay does not break the server', async () => {
    await fault({ route: 'GET /api/v1/regions/', delay_ms: 2000 });
    await expect(fetch(`${h.origin}/api/v1/regions/`, { headers: { authorization: `Bearer ${pat}` }, signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: pat })).status).toBe(200);
  });

  it('drop destroys the socket without a response', async () => {
    await fault({ route: 'POST /api/v1/projects/', drop: true });
    await expect(request(`${h.origin}/api/v1/projects/`, { method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' }, body: '{"name":"x"}' })).rejects.toThrow();
    const journal = (await call(h.origin, 'GET', '/__local/requests')).json as any[];
    expect(journal.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/projects/', status: 0 });
    // The next request is handled normally: the project was never created.
    const list = await call(h.origin, 'GET', '/api/v1/projects/', { token: pat });
    expect(list.json).toEqual([]);
  });

  it('malformed replies 200 with a body that is not valid JSON', async () => {
    await fault({ route: 'GET /api/v1/regions/', malformed: true });
    const reply = await call(h.origin, 'GET', '/api/v1/regions/', { token: pat });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/json');
    expect(() => JSON.parse(reply.text)).toThrow();
    await fault({ route: 'GET /api/v1/regions/', malformed: true, body: '<html>' });
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: pat })).text).toBe('<html>');
  });

  it('commit-then-drop applies the request, then destroys the connection without an answer', async () => {
    await fault({ route: 'POST /api/v1/projects/', kind: 'commit-then-drop' });
    await expect(request(`${h.origin}/api/v1/projects/`, { method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'committed-drop', repo_url: 'file://upload', skip_validation: true }) })).rejects.toThrow();
    const journal = (await call(h.origin, 'GET', '/__local/requests')).json as any[];
    // The journal keeps the status the handler committed with, and names the fault.
    expect(journal.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/projects/', status: 201, fault: 'POST /api/v1/projects/' });
    const list = (await call(h.origin, 'GET', '/api/v1/projects/', { token: pat })).json as any[];
    expect(list.filter((p) => p.name === 'committed-drop')).toHaveLength(1);
  });

  it('commit-then-502 applies the request, then answers 502 instead of the real response', async () => {
    await fault({ route: 'POST /api/v1/projects/', kind: 'commit-then-502' });
    const reply = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'committed-502', repo_url: 'file://upload', skip_validation: true } });
    expect(reply.status).toBe(502);
    expect(reply.json).toEqual({ error: 'Bad Gateway' });
    const list = (await call(h.origin, 'GET', '/api/v1/projects/', { token: pat })).json as any[];
    expect(list.filter((p) => p.name === 'committed-502')).toHaveLength(1);
    // A 4xx the handler answers is replaced too: the client never learns what happened.
    await fault({ route: 'POST /api/v1/projects/', commit: true, status: 503, body: '<html>busy</html>' });
    const refused = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: {} });
    expect([refused.status, refused.text]).toEqual([503, '<html>busy</html>']);
  });

  it('skip lets the first N matching requests through, then the fault applies', async () => {
    await fault({ route: 'GET /api/v1/regions/', skip: 2, status: 503 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(h.origin, 'GET', '/api/v1/regions/', { token: pat })).status);
    expect(statuses).toEqual([200, 200, 503, 200]);
    expect((await fault({ route: 'GET /api/v1/regions/', skip: -1, status: 503 })).status).toBe(400);
  });

  it('rejects an unknown kind and a commit with nothing to replace the answer', async () => {
    expect((await fault({ route: 'POST /api/v1/projects/', kind: 'commit-then-explode' })).status).toBe(400);
    expect((await fault({ route: 'POST /api/v1/projects/', commit: true })).status).toBe(400);
    expect((await fault({ route: 'POST /api/v1/projects/', commit: true, malformed: true, status: 200 })).status).toBe(400);
  });

  it('rejects invalid fault specs; clear removes pending faults', async () => {
    expect((await fault({ route: 'nonsense', status: 500 })).status).toBe(400);
    expect((await fault({ route: 'GET /api/v1/regions/' })).status).toBe(400);
    expect((await fault({ route: 'GET /api/v1/regions/', status: 99 })).status).toBe(400);
    await fault({ route: 'GET /api/v1/regions/', status: 500, count: 5 });
    expect((await call(h.origin, 'GET', '/__local/faults')).json).toHaveLength(1);
    await call(h.origin, 'POST', '/__local/faults/clear', { body: {} });
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: pat })).status).toBe(200);
  });
});

describe('GET /__local/requests', () => {
  it('records method, path, query, status, has_auth, user_agent, body_keys and json, newest last', async () => {
    await call(h.origin, 'GET', '/api/v1/deployments/?project_id=p1', { token: pat, headers: { 'user-agent': 'journal-test/1' } });
    await call(h.origin, 'POST', '/api/v1/projects/', { body: { name: 'nope', repo_url: 'file://upload' } });
    const journal = (await call(h.origin, 'GET', '/__local/requests')).json as any[];
    expect(journal).toHaveLength(2);
    expect(journal[0]).toEqual({ method: 'GET', path: '/api/v1/deployments/', query: { project_id: 'p1' }, status: 200, has_auth: true, user_agent: 'journal-test/1', body_keys: [] });
    // A 401 is recorded too; the body was never read because auth failed first.
    expect(journal[1]).toMatchObject({ method: 'POST', path: '/api/v1/projects/', status: 401, has_auth: false });
    // Control calls are not journaled, and tokens never are.
    expect(JSON.stringify(journal)).not.toContain(pat);
  });

  it('keeps the JSON body of faulted requests so tests can check what was sent', async () => {
    await fault({ route: 'POST /api/v1/projects/', status: 503 });
    await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'retry-me', repo_url: 'file://upload', skip_validation: true } });
    const journal = (await call(h.origin, 'GET', '/__local/requests')).json as any[];
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ status: 503, body_keys: ['name', 'repo_url', 'skip_validation'], json: { name: 'retry-me' }, fault: 'POST /api/v1/projects/' });
  });

  it('records the 301 of a slash-less collection call', async () => {
    await call(h.origin, 'POST', '/api/v1/projects', { token: pat, body: { name: 'x' } });
    const journal = (await call(h.origin, 'GET', '/__local/requests')).json as any[];
    expect(journal[0]).toMatchObject({ method: 'POST', path: '/api/v1/projects', status: 301 });
  });
});

describe('GET /__local/state and /__local/reset', () => {
  it('dumps the store without the HMAC secret or token hashes', async () => {
    await call(h.origin, 'POST', '/api/v1/client-agents/register', { body: {}, headers: { 'user-agent': 'state-dump' } });
    const state = (await call(h.origin, 'GET', '/__local/state')).json;
    expect(state).not.toHaveProperty('secret');
    expect(state.agents.length).toBeGreaterThan(0);
    expect(state.agents[0]).not.toHaveProperty('token_sha256');
    for (const key of ['projects', 'services', 'deployments', 'domains', 'dependencies', 'uploads', 'logs']) expect(state).toHaveProperty(key);
  });

  it('reset clears faults, journal and scripts', async () => {
    await fault({ route: 'GET /api/v1/regions/', status: 500 });
    await call(h.origin, 'POST', '/__local/next-deployment', { body: { outcome: 'failed' } });
    expect((await call(h.origin, 'POST', '/__local/reset', { body: {} })).status).toBe(200);
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: pat })).status).toBe(200);
    expect((await call(h.origin, 'GET', '/__local/state')).json.scripted_deployments).toEqual([]);
  });
});
