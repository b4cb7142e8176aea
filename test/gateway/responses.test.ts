import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OdError } from '../../src/core/errors.js';
import { GatewayClient } from '../../src/gateway/index.js';
import { CANARY, OD_TOKEN, clientFor, failure, json, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let client: GatewayClient;
let reply: { status: number; body: unknown; contentType?: string };

beforeAll(async () => {
  server = await startServer((_req, res) => {
    if (typeof reply.body === 'string' && reply.contentType) {
      res.writeHead(reply.status, { 'content-type': reply.contentType });
      res.end(reply.body);
      return;
    }
    json(res, reply.status, reply.body);
  });
  client = clientFor(server);
});
afterAll(async () => {
  await client.close();
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

describe('malformed bodies → server_error with a scrubbed excerpt, never a crash', () => {
  it('HTML instead of JSON', async () => {
    reply = { status: 200, body: '<html><body>502 Bad Gateway from the CDN</body></html>', contentType: 'text/html' };
    const err = await failure(client.listRegions());
    expect(err).toBeInstanceOf(OdError);
    expect(err.code).toBe('server_error');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe(
      'The gateway sent an unexpected response for GET /v1/regions/ (not JSON): <html><body>502 Bad Gateway from the CDN</body></html>',
    );
    expect(err.message).not.toMatch(/SyntaxError|at .*:\d+:\d+/);
  });

  it('a malformed deployment carrying a variables snapshot is never quoted (its values are secrets not yet known to the scrubber)', async () => {
    const value = 'snapshot-secret-4f1a9c7e2b';
    reply = { status: 200, body: { status: 'success', runtime_variables: JSON.stringify({ STRIPE_KEY: value }) } };
    const err = await failure(client.getDeployment('d-1'));
    expect(err.code).toBe('server_error');
    expect(err.message).toMatch(/^The gateway sent an unexpected response for GET \/v1\/deployments\/d-1 \(id: /);
    expect(err.message).toContain('[response body withheld: it may contain secrets]');
    expect(JSON.stringify({ message: err.message, details: err.details, next: err.nextAction })).not.toContain(value);
  });

  it('JSON of the wrong shape names the route and the missing field', async () => {
    reply = { status: 201, body: { name: 'demo', note: `token ${OD_TOKEN}` } };
    const err = await failure(client.createProject({ name: 'demo', repo_url: 'file://upload' }));
    expect(err.code).toBe('server_error');
    expect(err.message).toMatch(/^The gateway sent an unexpected response for POST \/v1\/projects\/ \(id: Invalid input: expected string, received undefined\): /);
    expect(err.message).toContain('od_a***');
    expect(err.message).not.toContain(OD_TOKEN);
    expect(err.details.excerpt).toContain('"name":"demo"');
  });

  it('a long body is truncated in the excerpt', async () => {
    reply = { status: 200, body: { unexpected: 'x'.repeat(5000) } };
    const err = await failure(client.getDeployment('d1'));
    expect(err.code).toBe('server_error');
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).toContain('…');
  });

  it('a sensitive route (decrypted env) is never quoted', async () => {
    reply = { status: 200, body: { variables: { DATABASE_URL: { nested: 'postgres://u:hunter2@db/x' } } } };
    const err = await failure(client.getEnv('p', 's'));
    expect(err.code).toBe('server_error');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('withheld');
  });

  it('a register body with api_key is never quoted even when malformed', async () => {
    reply = { status: 200, body: { api_key: 12345, agent_id: 'a', bind_sig: 's' } };
    const err = await failure(client.register({ source_hint: 'x' }));
    expect(err.code).toBe('server_error');
    expect(err.message).not.toContain('12345');
  });

  it('an empty 200 body where JSON is required', async () => {
    reply = { status: 200, body: '', contentType: 'application/json' };
    const err = await failure(client.getProject('p'));
    expect(err.code).toBe('server_error');
    expect(err.message).toContain('GET /v1/projects/p');
  });
});

describe('response normalisation', () => {
  it('register accepts seed names', async () => {
    reply = { status: 200, body: { api_key: OD_TOKEN, agent_id: 'ag-1', bind_sig: 'abcdef', claim_url: 'https://x/claim/ag-1?h=abcdef', gateway: 'https://gw/api' } };
    const r = await client.register({ source_hint: 'opendeploy/0.1.0 (linux)' });
    expect(r).toMatchObject({ api_key: OD_TOKEN, agent_id: 'ag-1', bind_sig: 'abcdef', claim_url: 'https://x/claim/ag-1?h=abcdef', gateway: 'https://gw/api' });
  });

  it('register accepts newer names (guest_id, bind_url) and a replay without api_key', async () => {
    reply = { status: 200, body: { guest_id: 'g-1', bind_sig: 'abcdef', bind_url: 'https://x/guest/g-1?h=abcdef', expires_in_seconds: 21600 } };
    const r = await client.register({ source_hint: 'x', name: 'laptop' });
    expect(r.agent_id).toBe('g-1');
    expect(r.claim_url).toBe('https://x/guest/g-1?h=abcdef');
    expect(r.api_key).toBeUndefined();
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ source_hint: 'x', name: 'laptop' });
  });

  it('listProjects accepts a bare array, {data}, {projects} and null', async () => {
    const p = { id: 'p1', name: 'demo', source_path: null };
    for (const body of [[p], { data: [p] }, { projects: [p] }]) {
      reply = { status: 200, body };
      const list = await client.listProjects();
      expect(list).toEqual([{ id: 'p1', name: 'demo', source_path: undefined }]);
    }
    reply = { status: 200, body: null };
    expect(await client.listProjects()).toEqual([]);
    expect(server.requests.every((r) => r.url === '/api/v1/projects/')).toBe(true);
  });

  it('findProjectByName / findServiceByName read back by exact name', async () => {
    reply = { status: 200, body: { data: [{ id: 'p1', name: 'demo' }, { id: 'p2', name: 'demo-2' }] } };
    expect((await client.findProjectByName('demo-2'))?.id).toBe('p2');
    expect(await client.findProjectByName('dem')).toBeUndefined();
    reply = { status: 200, body: [{ id: 's1', name: 'web', runtime_variables: { PORT: 3000 } }] };
    const svc = await client.findServiceByName('p1', 'web');
    expect(svc?.id).toBe('s1');
    expect(svc?.runtime_variables).toEqual({ PORT: '3000' });
    expect(await client.findServiceByName('p1', 'api')).toBeUndefined();
    expect(server.requests.at(-1)!.url).toBe('/api/v1/projects/p1/services/');
  });

  it('createService reads service_id, falling back to id', async () => {
    reply = { status: 201, body: { message: 'Service created successfully', service_id: 'svc-1' } };
    expect(await client.createService('p1', { name: 'web', type: 'web' })).toEqual({ service_id: 'svc-1' });
    reply = { status: 201, body: { id: 'svc-2', name: 'web' } };
    expect(await client.createService('p1', { name: 'web', type: 'web' })).toEqual({ service_id: 'svc-2' });
    reply = { status: 201, body: { message: 'ok' } };
    expect((await failure(client.createService('p1', { name: 'web', type: 'web' }))).code).toBe('server_error');
  });

  it('createDeployment never sends a resources field, even from an untyped caller', async () => {
    reply = { status: 201, body: { id: 'd1', status: 'pending' } };
    const body = { project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/t.zip', resources: { cpu_limit: '2' } };
    // @ts-expect-error — the type forbids `resources`
    await client.createDeployment(body);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/t.zip' });
  });

  it('listDeployments uses the slash collection with project_id and reads .data', async () => {
    reply = { status: 200, body: { data: [{ id: 'd1', status: 'success' }], total: 1 } };
    expect(await client.listDeployments('p 1')).toEqual([{ id: 'd1', status: 'success' }]);
    expect(server.requests[0]!.url).toBe('/api/v1/deployments/?project_id=p+1');
  });

  it('listProjectDeployments passes the status filter', async () => {
    reply = { status: 200, body: [{ id: 'd1', status: 'success' }] };
    await client.listProjectDeployments('p1', 'success');
    expect(server.requests[0]!.url).toBe('/api/v1/projects/p1/deployments?status=success');
  });

  it('logs: null → [], string lines → {message}, alternative text keys → message', async () => {
    reply = { status: 200, body: { deployment_id: 'd1', logs: null, total: 0 } };
    expect(await client.getDeploymentLogs('d1', { tail: 300 })).toEqual({ logs: [], total: 0 });
    expect(server.requests[0]!.url).toBe('/api/v1/deployments/d1/logs?tail=300');
    reply = { status: 200, body: { logs: ['plain line', { line: 'from line', source: 'buildctl' }, { message: 'm' }], total: 3 } };
    const logs = await client.getDeploymentLogs('d1', { since: '2024-01-01T00:00:00Z' });
    expect(logs.logs.map((l) => l.message)).toEqual(['plain line', 'from line', 'm']);
    expect(logs.total).toBe(3);
  });

  it('env GET accepts {variables} and a bare map; PUT reports key names only', async () => {
    reply = { status: 200, body: { variables: { A: '1', B: 2 } } };
    expect(await client.getEnv('p', 's')).toEqual({ A: '1', B: '2' });
    reply = { status: 200, body: { A: 'x' } };
    expect(await client.getEnv('p', 's')).toEqual({ A: 'x' });
    reply = { status: 200, body: { service_id: 's', variables: ['A', 'B'], count: 2 } };
    expect(await client.putEnv('p', 's', { A: '1', B: '2' })).toEqual({ count: 2, variables: ['A', 'B'] });
  });

  it('dependency status reads .dependencies (null → [])', async () => {
    reply = { status: 200, body: { dependencies: [{ id: 'dep1', status: 'running', env_vars: null }] } };
    expect(await client.getDependencyStatus('p1')).toEqual([{ id: 'dep1', status: 'running', env_vars: {} }]);
    expect(server.requests[0]!.url).toBe('/api/v1/dependencies/status/p1');
    reply = { status: 200, body: { dependencies: null } };
    expect(await client.getDependencyStatus('p1')).toEqual([]);
  });

  it('domains: check, list with filters (array or envelope), rename', async () => {
    reply = { status: 200, body: { available: false, reason: 'reserved' } };
    expect(await client.checkSubdomain('admin')).toEqual({ available: false, reason: 'reserved' });
    expect(server.requests[0]!.url).toBe('/api/v1/service-domains/check-subdomain/admin');
    reply = { status: 200, body: [{ id: 'd1', domain: 'x.opendeploy.run', type: 'auto', status: 'active' }] };
    const rows = await client.listServiceDomains('s1', { environment: 'production', type: 'auto' });
    expect(rows[0]!.domain).toBe('x.opendeploy.run');
    expect(server.requests[1]!.url).toBe('/api/v1/service-domains?service_id=s1&environment=production&type=auto');
    reply = { status: 200, body: { data: null } };
    expect(await client.listServiceDomains('s1')).toEqual([]);
  });

  it('cancel/rollback return the deployment when the body is one, else the raw body', async () => {
    reply = { status: 200, body: { id: 'd1', status: 'cancelled' } };
    expect(await client.cancelDeployment('d1')).toEqual({ id: 'd1', status: 'cancelled' });
    reply = { status: 200, body: { message: 'rollback started' } };
    expect(await client.rollbackDeployment('d1')).toEqual({ message: 'rollback started' });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/v1/deployments/d1/cancel',
      'POST /api/v1/deployments/d1/rollback',
    ]);
  });

  it('ids are path-encoded', async () => {
    reply = { status: 200, body: { id: 'a/b', name: 'x' } };
    await client.getProject('a/b?c');
    expect(server.requests[0]!.url).toBe('/api/v1/projects/a%2Fb%3Fc');
  });
});

describe('configuration', () => {
  it('strips trailing slashes from the base URL', async () => {
    const c = new GatewayClient({ baseUrl: `${server.api}///`, token: CANARY });
    expect(c.baseUrl).toBe(server.api);
    reply = { status: 200, body: [] };
    await c.listRegions();
    expect(server.requests[0]!.url).toBe('/api/v1/regions/');
    await c.close();
  });

  it('rejects a non-http or unparsable base URL with invalid_input', () => {
    for (const baseUrl of ['ftp://x/api', 'not a url']) {
      let caught: unknown;
      try {
        new GatewayClient({ baseUrl });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(OdError);
      expect((caught as OdError).code).toBe('invalid_input');
    }
  });

  it('a call needing a token without one is auth_missing and sends nothing', async () => {
    const c = new GatewayClient({ baseUrl: server.api });
    const err = await failure(c.listRegions());
    expect(err.code).toBe('auth_missing');
    expect(server.requests).toHaveLength(0);
    await c.close();
  });

  it('withToken shares the gateway and swaps the token', async () => {
    const anon = new GatewayClient({ baseUrl: server.api });
    const authed = anon.withToken(OD_TOKEN);
    expect(authed.baseUrl).toBe(anon.baseUrl);
    reply = { status: 200, body: [] };
    await authed.listRegions();
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${OD_TOKEN}`);
    await anon.close();
  });

  it('a custom User-Agent is sent', async () => {
    const c = clientFor(server, { userAgent: 'opendeploy-test/1' });
    reply = { status: 200, body: [] };
    await c.listRegions();
    expect(server.requests[0]!.headers['user-agent']).toBe('opendeploy-test/1');
    await c.close();
  });
});
