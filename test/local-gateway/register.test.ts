import { afterEach, describe, expect, it } from 'vitest';
import { call, register, startHarness, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('POST /v1/client-agents/register', () => {
  it('mints an od_a token with agent_id, hex bind_sig, claim_url and this gateway', async () => {
    h = await startHarness();
    const reply = await register(h.origin, 'ua-one');
    expect(reply.status).toBe(200);
    const body = reply.json;
    expect(body.api_key).toMatch(/^od_a[A-Za-z0-9]{43}$/);
    expect(body.agent_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.bind_sig).toMatch(/^[0-9a-f]+$/);
    expect(body.gateway).toBe(h.gw.url);
    expect(body.claim_url).toBe(`http://127.0.0.1:${h.gw.port}/claim/${body.agent_id}?h=${body.bind_sig}`);

    // The fresh token works on the sanity route.
    const regions = await call(h.origin, 'GET', '/api/v1/regions/', { token: body.api_key });
    expect(regions.status).toBe(200);
  });

  it('needs no auth and accepts an empty body', async () => {
    h = await startHarness();
    const reply = await call(h.origin, 'POST', '/api/v1/client-agents/register', { headers: { 'user-agent': 'empty-body' } });
    expect(reply.status).toBe(200);
    expect(reply.json.api_key).toMatch(/^od_a/);
  });

  it('replays the same pending row without api_key for the same IP + User-Agent', async () => {
    h = await startHarness();
    const first = await register(h.origin, 'same-ua/1.0');
    const again = await register(h.origin, 'same-ua/1.0');
    expect(again.status).toBe(200);
    expect(again.json).not.toHaveProperty('api_key');
    expect(again.json.agent_id).toBe(first.json.agent_id);
    expect(again.json.bind_sig).toBe(first.json.bind_sig);
    expect(again.json.claim_url).toBe(first.json.claim_url);
    const other = await register(h.origin, 'other-ua/1.0');
    expect(other.json.api_key).toMatch(/^od_a/);
    expect(other.json.agent_id).not.toBe(first.json.agent_id);
  });

  it('rate-limits fresh mints per source IP with 429 + Retry-After; replays do not count', async () => {
    h = await startHarness({ registerLimitPerHour: 2 });
    expect((await register(h.origin, 'a')).status).toBe(200);
    expect((await register(h.origin, 'a')).status).toBe(200); // replay, not counted
    expect((await register(h.origin, 'b')).status).toBe(200);
    const limited = await register(h.origin, 'c');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(limited.json).toMatchObject({ error: 'rate_limited', retry_after_seconds: retryAfter });
    expect(typeof limited.json.message).toBe('string');
    expect(limited.json).not.toHaveProperty('api_key');
    // A replay of an existing pending row still answers while the IP is limited.
    const replay = await register(h.origin, 'a');
    expect(replay.status).toBe(200);
    expect(replay.json).not.toHaveProperty('api_key');
  });

  it('defaults to 5 fresh mints per hour', async () => {
    h = await startHarness();
    for (let i = 0; i < 5; i++) expect((await register(h.origin, `ua-${i}`)).status).toBe(200);
    expect((await register(h.origin, 'ua-6')).status).toBe(429);
  });

  it('a bound agent is no longer replayed: the same UA gets a new mint', async () => {
    h = await startHarness();
    const first = await register(h.origin, 'bind-then-again');
    await call(h.origin, 'POST', `/__local/agents/${first.json.agent_id}/bind`, { body: { bind_sig: first.json.bind_sig } });
    const second = await register(h.origin, 'bind-then-again');
    expect(second.json.api_key).toMatch(/^od_a/);
    expect(second.json.agent_id).not.toBe(first.json.agent_id);
  });
});

describe('claim page', () => {
  it('GET shows a page without side effects; POST with the signature binds', async () => {
    h = await startHarness();
    const reg = await register(h.origin, 'claimer');
    const claimPath = new URL(reg.json.claim_url).pathname + new URL(reg.json.claim_url).search;

    const page = await call(h.origin, 'GET', claimPath);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await call(h.origin, 'GET', '/api/v1/profile', { token: reg.json.api_key })).status).toBe(401);

    const wrongSig = await call(h.origin, 'POST', `/claim/${reg.json.agent_id}?h=${'0'.repeat(32)}`);
    expect(wrongSig.status).toBe(404);
    expect((await call(h.origin, 'GET', '/api/v1/profile', { token: reg.json.api_key })).status).toBe(401);

    const bound = await call(h.origin, 'POST', claimPath);
    expect(bound.status).toBe(200);
    expect((await call(h.origin, 'GET', '/api/v1/profile', { token: reg.json.api_key })).status).toBe(200);
  });
});

describe('POST /__local/agents/:agent_id/bind', () => {
  it('binds and moves the agent project to the local user (od_k sees it)', async () => {
    h = await startHarness();
    const reg = await register(h.origin, 'mover');
    const token = reg.json.api_key as string;
    const project = await call(h.origin, 'POST', '/api/v1/projects/', { token, body: { name: 'moved', repo_url: 'file://upload', skip_validation: true } });
    expect(project.status).toBe(201);
    const pat = `od_k${'Z'.repeat(43)}`;
    expect((await call(h.origin, 'GET', `/api/v1/projects/${project.json.id}`, { token: pat })).status).toBe(404);

    const bind = await call(h.origin, 'POST', `/__local/agents/${reg.json.agent_id}/bind`, { body: { bind_sig: reg.json.bind_sig } });
    expect(bind.status).toBe(200);
    expect(bind.json).toMatchObject({ agent_id: reg.json.agent_id, state: 'bound', project_ids: [project.json.id] });
    expect((await call(h.origin, 'GET', `/api/v1/projects/${project.json.id}`, { token: pat })).status).toBe(200);
    expect((await call(h.origin, 'GET', `/api/v1/projects/${project.json.id}`, { token })).status).toBe(200);

    const unknown = await call(h.origin, 'POST', '/__local/agents/nope/bind', { body: { bind_sig: reg.json.bind_sig } });
    expect(unknown.status).toBe(404);
  });
});
