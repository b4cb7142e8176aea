/** Small real-socket HTTP servers for the gateway client tests (no mocking of our own modules). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GatewayClient, type GatewayClientOptions } from '../../src/gateway/index.js';

export interface Recorded {
  method: string;
  /** Path with query, as received (e.g. `/api/v1/projects/`). */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => unknown;

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `http://127.0.0.1:<port>/api` — what the client is configured with. */
  api: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1:0. Every request is recorded (body read fully) before the handler runs,
 * unless `streamBody` is set, in which case the handler receives the unread request.
 */
export async function startServer(handler: Handler, opts: { streamBody?: boolean } = {}): Promise<TestServer> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    let body = '';
    if (!opts.streamBody) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks).toString('utf8');
    }
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    try {
      await handler(req, res, body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(599);
      res.end(String(err));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    api: `${origin}/api`,
    port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A token that is not od_-shaped, so only registerSecret (not the pattern) can scrub it. */
export const CANARY = 'canary-Zq9vX3-never-print-me';
/** A token-shaped value, scrubbed by the od_ pattern. */
export const OD_TOKEN = 'od_aCanaryTokenValue1234567890abcdefghijklmnopq';

export function clientFor(server: { api: string }, opts: Partial<GatewayClientOptions> = {}): GatewayClient {
  return new GatewayClient({ baseUrl: server.api, token: CANARY, backoffBaseMs: 1, retries: 3, ...opts });
}

/** Awaits a promise that must reject and returns the rejection. */
export async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
