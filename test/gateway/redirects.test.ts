import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayClient } from '../../src/gateway/index.js';
import { clientFor, failure, json, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
let client: GatewayClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

describe('redirects', () => {
  for (const status of [301, 302, 307, 308]) {
    it(`${status} on POST → internal error naming the route; the server saw exactly one request`, async () => {
      const server = await serve((req, res) => {
        res.writeHead(status, { location: '/api/v1/projects/' });
        res.end();
      });
      client = clientFor(server);
      const err = await failure(client.createProject({ name: 'demo', repo_url: 'file://upload' }));
      expect(err.code).toBe('internal');
      expect(err.exitCode).toBe(1);
      expect(err.retryable).toBe(false);
      expect(err.status).toBe(status);
      expect(err.message).toBe(
        'The gateway redirected POST /v1/projects/ to /v1/projects/; opendeploy always uses canonical paths, so this is a bug in opendeploy — please report it.',
      );
      expect(server.requests).toHaveLength(1);
    });
  }

  it('301 on an env PUT → internal, never re-issued', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(301, { location: '/api/v1/projects/p/services/s/env/' });
      res.end();
    });
    client = clientFor(server);
    const err = await failure(client.putEnv('p', 's', { A: 'b' }));
    expect(err.code).toBe('internal');
    expect(err.message).toContain('PUT /v1/projects/p/services/s/env to /v1/projects/p/services/s/env/');
    expect(server.requests).toHaveLength(1);
  });

  it('a same-origin GET redirect is followed (with the token) and the result parsed', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/api/v1/regions/') {
        res.writeHead(301, { location: '/api/v2/regions/' });
        res.end();
        return;
      }
      json(res, 200, [{ id: 'r1', status: 'active' }]);
    });
    client = clientFor(server);
    const regions = await client.listRegions();
    expect(regions).toEqual([{ id: 'r1', status: 'active' }]);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/v1/regions/', '/api/v2/regions/']);
    expect(server.requests[1]!.headers.authorization).toMatch(/^Bearer /);
  });

  it('follows a bounded chain of same-origin GET redirects', async () => {
    const server = await serve((req, res) => {
      const hops: Record<string, string> = {
        '/api/v1/projects/p1': '/api/v1/projects/p1/',
        '/api/v1/projects/p1/': '/api/v1/projects/p1/canonical',
      };
      const next = hops[req.url ?? ''];
      if (next) {
        res.writeHead(308, { location: next });
        res.end();
        return;
      }
      json(res, 200, { id: 'p1', name: 'demo' });
    });
    client = clientFor(server);
    expect(await client.getProject('p1')).toEqual({ id: 'p1', name: 'demo' });
    expect(server.requests.map((r) => r.url)).toEqual(['/api/v1/projects/p1', '/api/v1/projects/p1/', '/api/v1/projects/p1/canonical']);
    expect(server.requests.every((r) => r.headers.authorization !== undefined)).toBe(true);
  });

  it('stops after 3 same-origin redirects (a loop) with an internal error', async () => {
    let n = 0;
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `/api/v1/loop/${n++}` });
      res.end();
    });
    client = clientFor(server);
    const err = await failure(client.listRegions());
    expect(err.code).toBe('internal');
    expect(err.message).toMatch(/redirected GET \/v1\/regions\/ more than 3 times/);
    expect(server.requests).toHaveLength(4);
  });

  it('a cross-origin redirect is never followed and the other server never sees the token', async () => {
    const other = await serve((_req, res) => json(res, 200, [{ id: 'evil', status: 'active' }]));
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.origin}/api/v1/regions/` });
      res.end();
    });
    client = clientFor(server);
    const err = await failure(client.listRegions());
    expect(err.code).toBe('internal');
    expect(err.message).toContain(`to another origin (${other.origin}/api/v1/regions/)`);
    expect(err.details.cross_origin).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(other.requests).toHaveLength(0);
    expect(other.requests.some((r) => r.headers.authorization !== undefined)).toBe(false);
  });

  it('a redirect to the same host on another port is another origin', async () => {
    const other = await serve((_req, res) => json(res, 200, { id: 'p', name: 'x' }));
    const server = await serve((_req, res) => {
      res.writeHead(301, { location: `http://127.0.0.1:${other.port}/api/v1/projects/p` });
      res.end();
    });
    client = clientFor(server);
    const err = await failure(client.getProject('p'));
    expect(err.code).toBe('internal');
    expect(other.requests).toHaveLength(0);
  });
});
