import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OdError } from '../../src/core/errors.js';
import type { GatewayClient, RequestInfo } from '../../src/gateway/index.js';
import { CANARY, clientFor, failure, json, startServer, type TestServer } from './helpers.js';

/**
 * A hostile gateway that echoes the Authorization header and the request body back in every kind of
 * failure. Nothing the client produces (messages, next actions, details, request log) may contain the
 * canary token or a secret value from a request body.
 */
const ENV_SECRET = 'env-value-s3cr3t-XYZ';
const GIT_TOKEN = 'git-token-value-ABC123';

let server: TestServer;
let other: TestServer;
let client: GatewayClient;
const seen: RequestInfo[] = [];
let dir: string;

beforeAll(async () => {
  other = await startServer((_req, res) => json(res, 200, []));
  server = await startServer((req, res, body) => {
    const echo = `auth=${req.headers.authorization ?? ''} body=${body}`;
    const route = req.url ?? '';
    if (route.startsWith('/api/v1/regions/')) return json(res, 401, { error: echo, message: echo });
    if (route.startsWith('/api/v1/projects/p1')) return json(res, 403, { error: echo });
    if (route.startsWith('/api/v1/projects/')) return json(res, 500, { error: echo });
    if (route.startsWith('/api/v1/deployments/')) return json(res, 200, { unexpected: echo });
    if (route.startsWith('/api/v1/services/')) return json(res, 400, { error: echo, message: echo });
    if (route.includes('/env')) return json(res, 422, { error: echo });
    if (route.startsWith('/api/v1/upload/upload-only')) return json(res, 400, { error: echo });
    if (route.startsWith('/api/v1/billing/')) {
      res.writeHead(302, { location: `${other.origin}/steal?token=${CANARY}` });
      return res.end();
    }
    if (route.startsWith('/api/v1/profile')) return json(res, 429, { error: echo }, { 'retry-after': '9999' });
    return json(res, 404, { error: echo });
  });
  client = clientFor(server, { onRequest: (info) => seen.push(info) });
  dir = await mkdtemp(join(tmpdir(), 'od-secrets-'));
});
afterAll(async () => {
  await client.close();
  await server.close();
  await other.close();
  await rm(dir, { recursive: true, force: true });
});

function everything(err: OdError): string {
  return [err.message, err.nextAction, JSON.stringify(err.details), String(err), err.stack ?? ''].join('\n');
}

describe('the token and secret request values never appear in errors or the request log', () => {
  const calls: [string, (c: GatewayClient) => Promise<unknown>][] = [
    ['401 echo', (c) => c.listRegions()],
    ['403 echo', (c) => c.getProject('p1')],
    ['500 echo', (c) => c.createProject({ name: 'demo', repo_url: 'file://upload', token: GIT_TOKEN })],
    ['malformed 200 echo', (c) => c.getDeployment('d1')],
    ['400 echo', (c) => c.updateService('s1', { cpu_limit: '1' })],
    ['422 echo of env values', (c) => c.putEnv('p1', 's1', { API_KEY: ENV_SECRET })],
    ['429 echo', (c) => c.getProfile()],
    ['cross-origin redirect carrying the token', (c) => c.getBilling()],
    ['404 echo', (c) => c.checkSubdomain('x')],
  ];
  for (const [name, call] of calls) {
    it(name, async () => {
      const err = await failure(call(client));
      expect(err).toBeInstanceOf(OdError);
      const text = everything(err);
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(ENV_SECRET);
      expect(text).not.toContain(GIT_TOKEN);
    });
  }

  it('git tokens in an upload form are scrubbed from the echo', async () => {
    const err = await failure(client.uploadOnly({ projectName: 'p', regionId: 'r', gitUrl: 'https://x/y.git', gitToken: GIT_TOKEN }));
    expect(everything(err)).not.toContain(GIT_TOKEN);
    expect(everything(err)).not.toContain(CANARY);
  });

  it('an upload echo never leaks the token', async () => {
    const f = join(dir, 'a.zip');
    await writeFile(f, 'PK');
    const err = await failure(client.uploadOnly({ projectName: 'p', regionId: 'r', filePath: f }));
    expect(everything(err)).not.toContain(CANARY);
  });

  it('the other origin never received a request', () => {
    expect(other.requests).toHaveLength(0);
  });

  it('the request log carries no token, no body', () => {
    expect(seen.length).toBeGreaterThan(9);
    const text = JSON.stringify(seen);
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(ENV_SECRET);
    expect(text).not.toContain(GIT_TOKEN);
    for (const info of seen) expect(Object.keys(info).sort()).toEqual(expect.arrayContaining(['attempt', 'method', 'ms', 'path']));
  });
});
