/** Test-only helpers: a tiny real HTTP gateway and a fetch-based RegisterClient adapter. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { OdError } from '../../src/core/errors.js';
import type { RegisterClient, RegisterResponse } from '../../src/auth/index.js';

export const CANARY_TOKEN = 'od_aCANARYminted0123456789abcdefghijklmnopqrs';
export const CANARY_BIND_SIG = 'c0ffee5eedba5eba11deadbeef0123456789abcd';
export const CANARY_AGENT_ID = '8f3e2b14-ad7c-4f0c-9b1d-aaaaaaaaaaaa';

export type RegisterMode = 'ok' | 'replay' | 'rate_limited' | 'no_bind_sig' | 'no_agent_id' | 'guest_id';

export interface FakeGatewayState {
  registerMode: RegisterMode;
  registerCalls: number;
  registerBodies: unknown[];
  profileCalls: number;
  profileAuth: string[];
  /** Tokens for which GET /v1/profile answers 200. */
  boundTokens: Set<string>;
  /** Forces GET /v1/profile to answer this status. */
  profileStatus?: number;
  /** `gateway` field returned by register (omitted when undefined). */
  returnGateway?: string;
  retryAfter: string;
}

export interface FakeGateway {
  /** Base URL including `/api`. */
  url: string;
  state: FakeGatewayState;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGateway(): Promise<FakeGateway> {
  const state: FakeGatewayState = {
    registerMode: 'ok',
    registerCalls: 0,
    registerBodies: [],
    profileCalls: 0,
    profileAuth: [],
    boundTokens: new Set(),
    retryAfter: '120',
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'POST' && req.url === '/api/v1/client-agents/register') {
        state.registerCalls += 1;
        state.registerBodies.push(body === '' ? undefined : JSON.parse(body));
        const base: Record<string, unknown> = {
          api_key: CANARY_TOKEN,
          agent_id: CANARY_AGENT_ID,
          bind_sig: CANARY_BIND_SIG,
          claim_url: `https://dash.example/claim/${CANARY_AGENT_ID}?h=${CANARY_BIND_SIG}`,
        };
        if (state.returnGateway !== undefined) base['gateway'] = state.returnGateway;
        switch (state.registerMode) {
          case 'ok':
            return send(200, base);
          case 'guest_id': {
            const { agent_id, ...rest } = base;
            return send(200, { ...rest, guest_id: agent_id });
          }
          case 'replay': {
            const { api_key: _omitted, ...rest } = base;
            return send(200, rest);
          }
          case 'no_bind_sig': {
            const { bind_sig: _omitted, ...rest } = base;
            return send(200, rest);
          }
          case 'no_agent_id': {
            const { agent_id: _omitted, ...rest } = base;
            return send(200, rest);
          }
          case 'rate_limited':
            return send(429, { error: 'rate_limited', message: 'too many registrations' }, { 'retry-after': state.retryAfter });
        }
      }
      if (req.method === 'GET' && req.url === '/api/v1/profile') {
        state.profileCalls += 1;
        const auth = req.headers.authorization ?? '';
        state.profileAuth.push(auth);
        if (state.profileStatus !== undefined) return send(state.profileStatus, { error: 'forced' });
        const token = auth.replace(/^Bearer /, '');
        if (state.boundTokens.has(token)) return send(200, { id: 'u1', email: 'a@b.c', plan: 'free' });
        return send(401, { error: 'unauthorized' });
      }
      return send(404, { error: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api`,
    state,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

/** Minimal RegisterClient over fetch, mapping statuses the way the real gateway client does. */
export class FetchRegisterClient implements RegisterClient {
  constructor(
    private readonly gateway: string,
    private readonly token?: string,
  ) {}

  register(body: { source_hint: string }): Promise<RegisterResponse> {
    return this.call('POST', '/v1/client-agents/register', body) as Promise<RegisterResponse>;
  }

  getProfile(): Promise<unknown> {
    return this.call('GET', '/v1/profile');
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    const res = await fetch(`${this.gateway}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status === 401) throw new OdError('auth_invalid', 'unauthorized', { status: 401 });
    if (res.status === 429) {
      throw new OdError('rate_limited', 'rate limited', {
        status: 429,
        details: { retry_after_seconds: Number(res.headers.get('retry-after')) },
      });
    }
    if (!res.ok) throw new OdError('server_error', `HTTP ${res.status}`, { status: res.status });
    return JSON.parse(text) as unknown;
  }
}

/** Every regular file under `dir` (recursively). */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...allFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Concatenated content of every file under `dir`. */
export function allText(dir: string): string {
  return allFiles(dir)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}

export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}
