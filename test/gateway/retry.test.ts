import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayClient } from '../../src/gateway/index.js';
import { CANARY, clientFor, failure, json, startServer, type TestServer } from './helpers.js';

type Step = { status: number; body?: unknown; headers?: Record<string, string> } | 'drop';

/** A server that answers the n-th request with steps[n] (the last step repeats). */
async function scripted(steps: Step[]): Promise<TestServer> {
  let n = 0;
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    const step = steps[Math.min(n++, steps.length - 1)]!;
    if (step === 'drop') {
      req.socket.destroy();
      return;
    }
    json(res, step.status, step.body ?? { error: `status ${step.status}` }, step.headers);
  });
}

const okRegions = { status: 200, body: [{ id: 'r1', name: 'us-east-1', status: 'active' }] };
const okDomain = { status: 200, body: { id: 'dom1', domain: 'hello.opendeploy.run', type: 'auto', status: 'active' } };
const okService = { status: 200, body: { id: 's1', name: 'web', cpu_limit: '1' } };
const okEnv = { status: 200, body: { service_id: 's1', variables: ['A'], count: 1 } };

let server: TestServer | undefined;
let client: GatewayClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  server = undefined;
  client = undefined;
});

describe('retries of idempotent requests', () => {
  for (const status of [502, 503, 504, 429]) {
    it(`GET retries ${status} and gives up after exactly 3 attempts`, async () => {
      server = await scripted([{ status, headers: status === 429 ? { 'retry-after': '0' } : {} }]);
      client = clientFor(server);
      const err = await failure(client.listRegions());
      expect(err.code).toBe(status === 429 ? 'rate_limited' : 'server_error');
      expect(server.requests).toHaveLength(3);
      expect(server.requests.every((r) => r.method === 'GET' && r.url === '/api/v1/regions/')).toBe(true);
    });
  }

  it('GET succeeds on the third attempt after 503 and 502', async () => {
    server = await scripted([{ status: 503 }, { status: 502 }, okRegions]);
    client = clientFor(server);
    const regions = await client.listRegions();
    expect(regions).toEqual([{ id: 'r1', name: 'us-east-1', status: 'active' }]);
    expect(server.requests).toHaveLength(3);
  });

  it('GET retries a dropped connection and succeeds', async () => {
    server = await scripted(['drop', 'drop', okRegions]);
    client = clientFor(server);
    const regions = await client.listRegions();
    expect(regions[0]!.id).toBe('r1');
    expect(server.requests).toHaveLength(3);
  });

  it('GET dropped every time → gateway_unreachable after 3 attempts', async () => {
    server = await scripted(['drop']);
    client = clientFor(server);
    const err = await failure(client.getDeployment('d1'));
    expect(err.code).toBe('gateway_unreachable');
    expect(err.retryable).toBe(true);
    expect(err.exitCode).toBe(6);
    expect(server.requests).toHaveLength(3);
  });

  it('env PUT (full replace) retries 503 three times', async () => {
    server = await scripted([{ status: 503 }]);
    client = clientFor(server);
    const err = await failure(client.putEnv('p1', 's1', { A: 'secret-value-1' }));
    expect(err.code).toBe('server_error');
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((r) => r.method === 'PUT' && r.url === '/api/v1/projects/p1/services/s1/env')).toBe(true);
    expect(JSON.parse(server.requests[2]!.body)).toEqual({ variables: { A: 'secret-value-1' } });
  });

  it('env PUT succeeds after a dropped connection', async () => {
    server = await scripted(['drop', okEnv]);
    client = clientFor(server);
    expect(await client.putEnv('p1', 's1', { A: 'x' })).toEqual({ count: 1, variables: ['A'] });
    expect(server.requests).toHaveLength(2);
  });

  it('service PUT retries 504', async () => {
    server = await scripted([{ status: 504 }, okService]);
    client = clientFor(server);
    const svc = await client.updateService('s1', { cpu_limit: '1' });
    expect(svc.cpu_limit).toBe('1');
    expect(server.requests).toHaveLength(2);
  });

  it('subdomain PUT retries 429 with Retry-After 0', async () => {
    server = await scripted([{ status: 429, headers: { 'retry-after': '0' } }, { status: 502 }, okDomain]);
    client = clientFor(server);
    const dom = await client.renameSubdomain('dom1', 'hello');
    expect(dom.domain).toBe('hello.opendeploy.run');
    expect(server.requests).toHaveLength(3);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ subdomain: 'hello' });
  });

  it('no retry on 4xx other than 429', async () => {
    server = await scripted([{ status: 404 }]);
    client = clientFor(server);
    await failure(client.getProject('p'));
    expect(server.requests).toHaveLength(1);
  });

  it('retries is the total attempt count (retries: 1 → no retry, 5 → five attempts)', async () => {
    server = await scripted([{ status: 503 }]);
    client = clientFor(server, { retries: 1 });
    await failure(client.listRegions());
    expect(server.requests).toHaveLength(1);
    await client.close();
    server.requests.length = 0;
    client = clientFor(server, { retries: 5 });
    await failure(client.listRegions());
    expect(server.requests).toHaveLength(5);
  });

  it('backs off exponentially between attempts', async () => {
    server = await scripted([{ status: 503 }]);
    client = clientFor(server, { backoffBaseMs: 100 });
    const started = Date.now();
    await failure(client.listRegions());
    // Equal jitter: at least base/2 + 2*base/2 = 150 ms before the third attempt, at most 100 + 200.
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(3);
  });

  it('honours Retry-After (within the cap) before retrying', async () => {
    server = await scripted([{ status: 503, headers: { 'retry-after': '1' } }, okRegions]);
    client = clientFor(server);
    const started = Date.now();
    await client.listRegions();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests).toHaveLength(2);
  });

  it('reports every attempt to onRequest without the token', async () => {
    server = await scripted([{ status: 503 }, 'drop', okRegions]);
    const seen: unknown[] = [];
    client = clientFor(server, { onRequest: (info) => seen.push(info) });
    await client.listRegions();
    expect(seen).toHaveLength(3);
    expect(seen).toMatchObject([
      { method: 'GET', path: '/v1/regions/', status: 503, attempt: 1 },
      { method: 'GET', path: '/v1/regions/', attempt: 2, error: expect.stringContaining('Could not reach the gateway') },
      { method: 'GET', path: '/v1/regions/', status: 200, attempt: 3 },
    ]);
    expect(JSON.stringify(seen)).not.toContain(CANARY);
  });
});

describe('POSTs are never retried', () => {
  for (const step of [{ status: 503 }, { status: 502 }, { status: 429, headers: { 'retry-after': '0' } }, 'drop'] as Step[]) {
    const label = step === 'drop' ? 'a dropped connection' : String(step.status);
    it(`createProject on ${label}: exactly one request`, async () => {
      server = await scripted([step]);
      client = clientFor(server);
      const err = await failure(client.createProject({ name: 'demo', repo_url: 'file://upload', skip_validation: true }));
      expect(server.requests).toHaveLength(1);
      if (step === 'drop') {
        expect(err.code).toBe('gateway_unreachable');
        // The request reached the server: the create may have committed.
        expect(err.details.ambiguous).toBe(true);
        expect(err.message).toMatch(/may or may not have been applied/);
        expect(err.nextAction).toMatch(/reads back by name/);
      }
    });
  }

  it('createDeployment and updateSource on 503: one request each', async () => {
    server = await scripted([{ status: 503 }]);
    client = clientFor(server);
    await failure(client.createDeployment({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/t.zip' }));
    await failure(client.updateSource({ project_id: 'p', temp_file_path: '/t.zip' }));
    await failure(client.createService('p', { name: 'web', type: 'web' }));
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/v1/deployments/',
      'POST /api/v1/upload/update-source',
      'POST /api/v1/projects/p/services/',
    ]);
  });
});
