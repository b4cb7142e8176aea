/**
 * Small HTTP toolkit for the local gateway: a segment router with Gin-like trailing-slash
 * behaviour, a per-request context with cached body reading, and the error type handlers throw.
 * Kept dependency-free on purpose: the gateway must behave byte-for-byte like the contract, and a
 * framework would add its own redirects, error bodies and body parsing.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App, Principal } from './app.js';
import { HttpError, httpError } from './http-error.js';
import type { RecordedRequest } from './recorder.js';

// Handlers import the error with the rest of the toolkit.
export { HttpError, httpError };

/** Gin's plain-text 404 for unregistered routes. */
export const NOT_FOUND_TEXT = '404 page not found';

/** JSON bodies above this are refused; the largest legitimate body is an env map (32 KiB values). */
const MAX_JSON_BODY_BYTES = 10 * 1024 * 1024;

export type JsonObject = Record<string, unknown>;

export class RequestContext {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly search: string;
  params: Record<string, string> = {};
  principal: Principal | undefined;
  private rawBody: Promise<Buffer> | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly app: App,
    readonly entry: RecordedRequest | undefined,
  ) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.method = (req.method ?? 'GET').toUpperCase();
    this.path = url.pathname;
    this.query = url.searchParams;
    this.search = url.search;
  }

  /** The authenticated caller; only valid inside routes that require auth. */
  get caller(): Principal {
    if (!this.principal) throw new Error('route used ctx.caller without authentication');
    return this.principal;
  }

  param(name: string): string {
    return this.params[name] ?? '';
  }

  get contentType(): string {
    return (this.req.headers['content-type'] ?? '').toLowerCase();
  }

  /** Reads the whole body once (cached, so fault delays and handlers can share it). */
  readRaw(limit = MAX_JSON_BODY_BYTES): Promise<Buffer> {
    this.rawBody ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      this.req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) tooLarge = true;
        // Keep draining after the limit so the 413 can still be written on this socket.
        if (!tooLarge) chunks.push(chunk);
      });
      this.req.on('end', () => {
        if (tooLarge) reject(httpError(413, 'request body too large'));
        else resolve(Buffer.concat(chunks));
      });
      this.req.on('error', reject);
    });
    return this.rawBody;
  }

  /**
   * Parses a JSON object body. An empty body is `{}` (optional bodies such as register's);
   * anything that is not a JSON object is the contract's 400 "invalid JSON body".
   */
  async json(): Promise<JsonObject> {
    const raw = await this.readRaw();
    const text = raw.toString('utf8').trim();
    let value: unknown = {};
    if (text !== '') {
      try {
        value = JSON.parse(text);
      } catch {
        throw httpError(400, 'invalid JSON body');
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw httpError(400, 'invalid JSON body');
    }
    if (this.entry) {
      this.entry.json = value;
      this.entry.body_keys = Object.keys(value);
    }
    return value as JsonObject;
  }

  send(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.write(status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', ...headers });
  }

  sendText(status: number, text: string, headers: Record<string, string> = {}): void {
    this.write(status, text, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  }

  sendHtml(status: number, html: string): void {
    this.write(status, html, { 'content-type': 'text/html; charset=utf-8' });
  }

  write(status: number, body: string | Buffer, headers: Record<string, string>): void {
    if (this.res.headersSent || this.res.destroyed) return;
    if (this.entry) this.entry.status = status;
    this.res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
    this.res.end(body);
  }

  /** Marks the recorded status for responses that are written by hand (SSE). */
  noteStatus(status: number): void {
    if (this.entry) this.entry.status = status;
  }
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface RouteOptions {
  /** No Authorization required (register, claim page). */
  anonymous?: boolean;
}

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
  options: RouteOptions;
}

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
  options: RouteOptions;
}

/**
 * Routes are matched segment by segment: `:name` captures one non-empty segment, a final `*`
 * captures the rest, anything else must be equal. A trailing slash is an empty last segment, so
 * `/projects/` and `/projects` are different routes — which is what makes the 301 quirk possible.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): void {
    this.routes.push({ method: method.toUpperCase(), segments: pattern.split('/'), handler, options });
  }

  match(method: string, path: string): RouteMatch | null {
    const segments = path.split('/');
    for (const route of this.routes) {
      if (route.method !== '*' && route.method !== method) continue;
      const params = matchSegments(route.segments, segments);
      if (params) return { handler: route.handler, params, options: route.options };
    }
    return null;
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = actual.slice(i).join('/');
      return params;
    }
    const a = actual[i];
    if (a === undefined) return null;
    if (p.startsWith(':')) {
      if (a === '') return null;
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return null;
      }
    } else if (p !== a) {
      return null;
    }
  }
  return pattern.length === actual.length ? params : null;
}

/** The same path with its trailing slash toggled (what Gin's RedirectTrailingSlash tries). */
export function toggleTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
}

/** The JSON type name Go uses in "cannot unmarshal <type>" errors. */
export function goTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value; // string | number | boolean
}
