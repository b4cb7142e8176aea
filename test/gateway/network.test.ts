import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { GatewayClient, type RequestInfo } from '../../src/gateway/index.js';
import { CANARY, clientFor, failure, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
const clients: GatewayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}
function track(c: GatewayClient): GatewayClient {
  clients.push(c);
  return c;
}

describe('network failures → gateway_unreachable', () => {
  it('connection refused names the gateway URL; GETs are retried', async () => {
    const s = await startServer(() => undefined);
    const api = s.api;
    await s.close();
    const seen: RequestInfo[] = [];
    const client = track(new GatewayClient({ baseUrl: api, token: CANARY, backoffBaseMs: 1, onRequest: (i) => seen.push(i) }));
    const err = await failure(client.listRegions());
    expect(err.code).toBe('gateway_unreachable');
    expect(err.exitCode).toBe(6);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`Could not reach the gateway at ${api} (connection refused).`);
    expect(err.nextAction).toBe('Check OD_GATEWAY or your network, then re-run.');
    expect(err.details).toMatchObject({ network_code: 'ECONNREFUSED', ambiguous: false });
    expect(seen.map((i) => i.attempt)).toEqual([1, 2, 3]);
  });

  it('connection refused on a POST is not ambiguous (nothing was sent) and not retried', async () => {
    const s = await startServer(() => undefined);
    const api = s.api;
    await s.close();
    const seen: RequestInfo[] = [];
    const client = track(new GatewayClient({ baseUrl: api, token: CANARY, backoffBaseMs: 1, onRequest: (i) => seen.push(i) }));
    const err = await failure(client.createProject({ name: 'demo', repo_url: 'file://upload' }));
    expect(err.code).toBe('gateway_unreachable');
    expect(err.details.ambiguous).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('DNS failure → gateway_unreachable', async () => {
    const client = track(new GatewayClient({ baseUrl: 'http://opendeploy-gateway.invalid/api', token: CANARY, retries: 1 }));
    const err = await failure(client.listRegions());
    expect(err.code).toBe('gateway_unreachable');
    expect(err.message).toMatch(/^Could not reach the gateway at http:\/\/opendeploy-gateway\.invalid\/api \(/);
  });

  it('a GET with no response in time → gateway_unreachable after the retries', async () => {
    const server = await serve(() => {
      /* never answer */
    });
    const client = track(clientFor(server, { requestTimeoutMs: 200, retries: 2 }));
    const started = Date.now();
    const err = await failure(client.listRegions());
    expect(err.code).toBe('gateway_unreachable');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`Could not reach the gateway at ${server.api} (no response within 0.2s).`);
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a stalled response body → gateway_unreachable', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('[{"id":');
      /* then stall */
    });
    const client = track(clientFor(server, { requestTimeoutMs: 200, retries: 1 }));
    const err = await failure(client.listRegions());
    expect(err.code).toBe('gateway_unreachable');
    expect(err.message).toContain('the response stalled for 0.2s');
  });

  it('a POST with no response in time is ambiguous: one request, read back before re-creating', async () => {
    const server = await serve(() => {
      /* the create may have committed; the answer never comes */
    });
    const client = track(clientFor(server, { requestTimeoutMs: 200 }));
    const err = await failure(client.createService('p1', { name: 'web', type: 'web' }));
    expect(err.code).toBe('gateway_unreachable');
    expect(err.details.ambiguous).toBe(true);
    expect(err.message).toBe(
      `The gateway at ${server.api} did not complete POST /v1/projects/p1/services/ (no response within 0.2s); the change may or may not have been applied.`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('a connection closed mid-response on a POST is ambiguous', async () => {
    const server = await serve((req) => {
      req.socket.destroy();
    });
    const client = track(clientFor(server));
    const err = await failure(client.createDeployment({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/t.zip' }));
    expect(err.code).toBe('gateway_unreachable');
    expect(err.details.ambiguous).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('connect timeout is configurable (a TLS handshake that never completes)', async () => {
    // A plain TCP listener that accepts and never speaks: for https the connect phase (TCP + TLS
    // handshake) never finishes, so the connect timeout fires.
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const client = track(new GatewayClient({ baseUrl: `https://127.0.0.1:${port}/api`, token: CANARY, connectTimeoutMs: 300, retries: 1 }));
      const started = Date.now();
      const err = await failure(client.listRegions());
      expect(err.code).toBe('gateway_unreachable');
      expect(err.message).toBe(`Could not reach the gateway at https://127.0.0.1:${port}/api (connection timed out after 0.3s).`);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
