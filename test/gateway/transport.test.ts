/**
 * The gateway transport runs on node:http (a native parser; no WebAssembly to compile, nothing
 * heavy to load): connections are pooled and reused, a connection the server drops reads as
 * "closed by the server", `close` lets requests in flight finish, and nothing the client or the
 * deploy path imports at run time pulls undici in.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayClient, type RequestInfo } from '../../src/gateway/index.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { CANARY, clientFor, failure, json, startServer, type TestServer } from './helpers.js';

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

const REGIONS = [{ id: 'r1', name: 'us-east-1', status: 'active' }];

describe('gateway transport (node:http)', () => {
  it('reuses one pooled connection for consecutive requests', async () => {
    const sockets = new Set<Socket>();
    const server = await serve((req, res) => {
      sockets.add(req.socket);
      json(res, 200, REGIONS);
    });
    const client = track(clientFor(server));
    for (let i = 0; i < 3; i++) expect((await client.listRegions()).map((r) => r.id)).toEqual(['r1']);
    expect(server.requests).toHaveLength(3);
    expect(sockets.size).toBe(1);
    expect(server.requests.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive', 'keep-alive']);
  });

  it('a connection the server closes before answering reads "closed by the server"; GETs are retried', async () => {
    const server = await serve((req) => {
      req.socket.destroy();
    });
    const seen: RequestInfo[] = [];
    const client = track(clientFor(server, { onRequest: (i) => seen.push(i) }));
    const err = await failure(client.listRegions());
    expect(err.code).toBe('gateway_unreachable');
    expect(err.message).toBe(`Could not reach the gateway at ${server.api} (connection closed by the server).`);
    expect(err.details).toEqual({ route: 'GET /v1/regions/', reason: 'connection closed by the server', network_code: 'UND_ERR_SOCKET', ambiguous: false });
    expect(seen.map((i) => i.attempt)).toEqual([1, 2, 3]);
    expect(server.requests).toHaveLength(3);
  });

  it('a body cut short by the server reads "closed by the server" too', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('[{"id":"r1"', () => res.socket?.destroy());
    });
    const client = track(clientFor(server, { retries: 1 }));
    const err = await failure(client.listRegions());
    expect(err.code).toBe('gateway_unreachable');
    expect(err.message).toBe(`Could not reach the gateway at ${server.api} (connection closed by the server).`);
    expect(err.details.network_code).toBe('UND_ERR_SOCKET');
  });

  it('close() lets a request in flight finish, then closes the pool', async () => {
    const server = await serve(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      json(res, 200, REGIONS);
    });
    const client = new GatewayClient({ baseUrl: server.api, token: CANARY });
    const order: string[] = [];
    const call = client.listRegions().then((regions) => order.push(`regions ${regions.length}`));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await client.close().then(() => order.push('closed'));
    await call;
    expect(order).toEqual(['regions 1', 'closed']);
  });

  it('a POST without a body is sent with Content-Length: 0 and the Idempotency-Key', async () => {
    const server = await serve((_req, res) => json(res, 200, { aborted: true }));
    const client = track(clientFor(server));
    expect(await client.multipartAbort('u1', 'key-1')).toEqual({ aborted: true });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.method).toBe('POST');
    expect(server.requests[0]!.url).toBe('/api/v1/upload/multipart/u1/abort');
    expect(server.requests[0]!.headers['content-length']).toBe('0');
    expect(server.requests[0]!.headers['idempotency-key']).toBe('key-1');
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${CANARY}`);
  });

  it('a response body with a UTF-8 byte-order mark still parses', async () => {
    const server = await serve((_req, res) => {
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(REGIONS))]);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
    });
    const client = track(clientFor(server));
    expect((await client.listRegions()).map((r) => r.name)).toEqual(['us-east-1']);
  });

  it('neither the gateway client nor the deploy path imports undici at run time (type imports only)', () => {
    const offenders: string[] = [];
    for (const dir of ['src/gateway', 'src/deploy', 'src/deploy/stages']) {
      for (const name of readdirSync(path.join(REPO_ROOT, dir)).filter((n) => n.endsWith('.ts'))) {
        const text = readFileSync(path.join(REPO_ROOT, dir, name), 'utf8');
        for (const line of text.split('\n')) {
          if (/\bfrom ['"]undici['"]|import\(['"]undici['"]\)|require\(['"]undici['"]\)/.test(line) && !/^\s*import type /.test(line)) {
            offenders.push(`${dir}/${name}: ${line.trim()}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
