/**
 * The HTTP layer of the gateway client: one keep-alive pool per protocol (node:http / node:https),
 * per-request timeouts, bounded retries with exponential backoff for idempotent requests only, and
 * manual redirect handling (node:http never follows redirects by itself).
 *
 * node:http rather than undici: undici parses responses with llhttp compiled to WebAssembly, and
 * V8 re-compiles that module in its optimising tier after the first few requests of a run (~25 MiB
 * for a moment), on top of ~19 MiB for loading undici itself. node:http's parser is native. A
 * whole deploy of a 1 GiB archive peaked at ~126 MiB with undici and peaks at ~90 MiB without it.
 *
 * Rules enforced here:
 * - the Bearer token is sent only to the configured origin: a redirect to another origin is never
 *   followed, whatever the method;
 * - a redirected POST/PUT/PATCH is never re-issued (it is a bug in our paths → `internal`);
 * - a redirected GET within the same origin is followed, at most `maxRedirects` times;
 * - POSTs are never retried; GETs and the idempotent PUTs retry on network errors, 429, 502/503/504.
 */
import { createRequire } from 'node:module';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { OdError } from '../core/errors.js';
import { parseGatewayUrl } from './base-url.js';
import { scrubText } from '../core/redact.js';
import { isNetworkError, mapHttpError, networkError, redirectError, retryAfterSeconds } from './errors.js';
import type { RequestInfo } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

export interface TransportOptions {
  baseUrl: string;
  userAgent?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  uploadTimeoutMs?: number;
  /** Total attempts for idempotent requests (1 = no retry). */
  retries?: number;
  backoffBaseMs?: number;
  /** Upper bound of one backoff delay. */
  maxBackoffMs?: number;
  /** A Retry-After longer than this is not waited out: the error is surfaced instead. */
  maxRetryAfterMs?: number;
  /** Same-origin redirects followed for GET. */
  maxRedirects?: number;
  onRequest?: (info: RequestInfo) => void;
}

export interface UploadBody {
  contentType: string;
  contentLength: number;
  /** Creates the body stream; called at most once (uploads are POSTs and never retried). */
  open: () => Readable;
}

export interface RequestSpec {
  method: HttpMethod;
  /** Path below the base URL, starting with `/v1/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  upload?: UploadBody;
  /** Bearer token; omitted for anonymous calls (register). */
  token?: string;
  /** GET is always idempotent; set for PUTs that are full replaces. */
  idempotent?: boolean;
  /** The response may carry secrets (decrypted env, api_key): never quote it in errors. */
  sensitive?: boolean;
  /** Headers + body timeout for this request. */
  timeoutMs?: number;
  accept?: string;
  /**
   * Consent kinds for the gateway's ConsentGate (`X-OpenDeploy-Consent`), sent only after the user
   * confirmed the action (e.g. `live_service_change` for cancel and rollback).
   */
  consent?: string[];
  signal?: AbortSignal;
  /** Extra request headers (`Idempotency-Key`, `X-Part-SHA256` of the chunked upload). */
  headers?: Record<string, string>;
  /** Non-2xx statuses handed back as a response instead of thrown (the caller reads their body). */
  passStatuses?: number[];
}

export interface TextResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  route: string;
}

export interface StreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The unread body; destroy it when done with it early (it holds a pooled connection). */
  body: Readable;
  route: string;
}

/** A response whose headers have arrived; the body is still on the wire. */
interface RawResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/**
 * Transport failures carry the same codes as before the client moved to node:http (`network_code` in
 * errors and JSON output, and the reasons errors.ts words for them): the three timeouts, and
 * `UND_ERR_SOCKET` for a connection the server closed before the response was complete.
 */
const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
const HEADERS_TIMEOUT = 'UND_ERR_HEADERS_TIMEOUT';
const BODY_TIMEOUT = 'UND_ERR_BODY_TIMEOUT';
const SERVER_CLOSED = 'UND_ERR_SOCKET';

function transportError(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

/**
 * node:http reports a connection the server closed as ECONNRESET ("socket hang up" before the
 * response, "aborted" during its body); it is re-labelled so it reads as it did ("connection
 * closed by the server"). A real reset (read ECONNRESET) keeps its code. Mutates in place so a
 * stream's own error (seen by whoever iterates the body) carries it too.
 */
function relabel(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object' && e.code === 'ECONNRESET' && (e.message === 'socket hang up' || e.message === 'aborted')) {
    try {
      (e as { code: string }).code = SERVER_CLOSED;
    } catch {
      // A frozen error keeps its code: still a network error.
    }
  }
  return err;
}

/** The whole body as text (UTF-8, a leading BOM dropped, as a fetch-style `text()` does). */
function readText(body: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (chunk: Buffer) => chunks.push(chunk));
    body.once('end', () => resolve(new TextDecoder().decode(Buffer.concat(chunks))));
    body.on('error', (err) => reject(relabel(err)));
    body.once('close', () => {
      if (!body.complete) reject(transportError('the connection closed before the response was complete', SERVER_CLOSED));
    });
  });
}

/** Reads and drops the body (a redirect's), so the connection can be reused. */
function dump(body: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    body.once('end', resolve);
    body.on('error', () => resolve());
    body.once('close', () => resolve());
    body.resume();
  });
}

type HttpsModule = typeof import('node:https');
let httpsModule: Promise<HttpsModule> | undefined;
/** node:https (and TLS with it) loads only for an https gateway. */
function loadHttps(): Promise<HttpsModule> {
  httpsModule ??= import('node:https');
  return httpsModule;
}

/** Free pooled connections close after this long idle (below common servers' keep-alive, 5 s). */
const KEEP_ALIVE_IDLE_MS = 4_000;

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

export const DEFAULTS = {
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  uploadTimeoutMs: 600_000,
  retries: 3,
  backoffBaseMs: 500,
  maxBackoffMs: 8_000,
  maxRetryAfterMs: 30_000,
  maxRedirects: 3,
} as const;

function packageVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    // Both src/gateway/ and dist/gateway/ sit two levels below the package root.
    const pkg = require('../../package.json') as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function defaultUserAgent(): string {
  return `opendeploy/${packageVersion()} (${process.platform}; node ${process.versions.node})`;
}

/**
 * Validates and normalises a gateway base URL (see base-url.ts): trailing slashes stripped, no
 * query/fragment/credentials, and a bare origin means `<origin>/api`.
 */
export function normaliseBaseUrl(raw: string): URL {
  return parseGatewayUrl(raw);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function buildQuery(query: RequestSpec['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

export class HttpTransport {
  /** Normalised base URL, e.g. `http://127.0.0.1:4000/api` (userinfo removed). */
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly opts: Required<Omit<TransportOptions, 'onRequest' | 'userAgent'>> & {
    userAgent: string;
    onRequest?: (info: RequestInfo) => void;
  };
  private httpAgent: HttpAgent | undefined;
  private httpsAgent: import('node:https').Agent | undefined;
  /** Requests not yet closed (their response body included): `close` waits for them. */
  private readonly active = new Set<ClientRequest>();

  constructor(options: TransportOptions) {
    const url = normaliseBaseUrl(options.baseUrl);
    url.username = '';
    url.password = '';
    this.origin = url.origin;
    this.basePath = url.pathname;
    this.baseUrl = `${url.origin}${url.pathname}`;
    this.opts = {
      baseUrl: this.baseUrl,
      userAgent: options.userAgent ?? defaultUserAgent(),
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      uploadTimeoutMs: options.uploadTimeoutMs ?? DEFAULTS.uploadTimeoutMs,
      retries: Math.max(1, Math.floor(options.retries ?? DEFAULTS.retries)),
      backoffBaseMs: Math.max(0, options.backoffBaseMs ?? DEFAULTS.backoffBaseMs),
      maxBackoffMs: Math.max(0, options.maxBackoffMs ?? DEFAULTS.maxBackoffMs),
      maxRetryAfterMs: Math.max(0, options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs),
      maxRedirects: Math.max(0, options.maxRedirects ?? DEFAULTS.maxRedirects),
      onRequest: options.onRequest,
    };
  }

  /** Waits for the requests in flight (as a graceful pool close does), then closes every pooled connection. */
  async close(): Promise<void> {
    await Promise.all([...this.active].map((req) => new Promise<void>((resolve) => (req.destroyed && req.closed ? resolve() : req.once('close', () => resolve())))));
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
  }

  /** Sends a request and reads the whole body as text. Throws OdError for every non-2xx outcome. */
  async request(spec: RequestSpec): Promise<TextResponse> {
    const res = await this.execute(spec, false);
    return res as TextResponse;
  }

  /** Sends a request and hands back the unread body of a 2xx response (SSE). */
  async stream(spec: RequestSpec): Promise<StreamResponse> {
    const res = await this.execute(spec, true);
    return res as StreamResponse;
  }

  private report(info: RequestInfo): void {
    if (!this.opts.onRequest) return;
    try {
      this.opts.onRequest({ ...info, ...(info.error ? { error: scrubText(info.error) } : {}) });
    } catch {
      // A logging hook must never break a request.
    }
  }

  private backoff(attempt: number): number {
    const exp = Math.min(this.opts.maxBackoffMs, this.opts.backoffBaseMs * 2 ** (attempt - 1));
    // "Equal jitter": half fixed, half random.
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  private async execute(spec: RequestSpec, streaming: boolean): Promise<TextResponse | StreamResponse> {
    const route = spec.path;
    const pathForLog = `${spec.path}${buildQuery(spec.query)}`;
    const idempotent = spec.method === 'GET' || spec.idempotent === true;
    const maxAttempts = idempotent && !spec.upload ? this.opts.retries : 1;
    const timeoutMs = spec.timeoutMs ?? (spec.upload ? this.opts.uploadTimeoutMs : this.opts.requestTimeoutMs);

    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let status: number;
      let headers: IncomingHttpHeaders;
      let text: string;
      try {
        const res = await this.dispatchFollowingRedirects(spec, timeoutMs);
        status = res.statusCode;
        headers = res.headers;
        if (streaming && status >= 200 && status < 300) {
          this.report({ method: spec.method, path: pathForLog, status, attempt, ms: elapsed() });
          return { status, headers, body: res.body, route };
        }
        text = await readText(res.body);
      } catch (caught) {
        const err = relabel(caught);
        if (err instanceof OdError) {
          this.report({ method: spec.method, path: pathForLog, status: err.status, attempt, ms: elapsed(), error: err.message });
          throw err;
        }
        if (spec.signal?.aborted) throw err;
        if (!isNetworkError(err)) {
          const message = err instanceof Error ? err.message : String(err);
          const od = new OdError(
            'internal',
            `Unexpected error while calling ${spec.method} ${route} on the gateway: ${scrubText(message)}.`,
            { nextAction: 'Re-run with --verbose and report the output if it happens again.', cause: err },
          );
          this.report({ method: spec.method, path: pathForLog, attempt, ms: elapsed(), error: od.message });
          throw od;
        }
        const od = networkError(err, {
          method: spec.method,
          route,
          gateway: this.baseUrl,
          timeoutMs,
          connectTimeoutMs: this.opts.connectTimeoutMs,
        });
        this.report({ method: spec.method, path: pathForLog, attempt, ms: elapsed(), error: od.message });
        if (attempt < maxAttempts) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw od;
      }

      this.report({ method: spec.method, path: pathForLog, status, attempt, ms: elapsed() });
      if (status >= 200 && status < 300) return { status, headers, text, route };
      if (spec.passStatuses?.includes(status)) return { status, headers, text, route };

      if (attempt < maxAttempts && RETRY_STATUS.has(status)) {
        const ra = retryAfterSeconds(headers);
        const raMs = ra === undefined ? 0 : ra * 1000;
        if (raMs <= this.opts.maxRetryAfterMs) {
          await sleep(Math.max(this.backoff(attempt), raMs));
          continue;
        }
      }
      throw mapHttpError({
        method: spec.method,
        route,
        status,
        headers,
        bodyText: text,
        sensitive: spec.sensitive,
        gateway: this.baseUrl,
      });
    }
  }

  /**
   * One request over the pool. Timeouts: connecting (TCP, and TLS for https) is bounded by
   * `connectTimeoutMs`; after that, `timeoutMs` without a byte either way fails the request —
   * before the response headers as "no response", after them as "the response stalled".
   */
  private async send(
    url: URL,
    init: { method: HttpMethod; headers: Record<string, string>; body: string | Readable | undefined; timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<RawResponse> {
    const secure = url.protocol === 'https:';
    const agentOptions = { keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS };
    let request: (url: URL, options: RequestOptions) => ClientRequest;
    let agent: HttpAgent;
    if (secure) {
      const https = await loadHttps();
      agent = this.httpsAgent ??= new https.Agent(agentOptions);
      request = https.request;
    } else {
      agent = this.httpAgent ??= new HttpAgent(agentOptions);
      request = httpRequest;
    }
    if (init.signal?.aborted) throw init.signal.reason ?? new Error('aborted');
    const connectTimeoutMs = this.opts.connectTimeoutMs;
    return new Promise<RawResponse>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const req = request(url, { method: init.method, headers: init.headers, agent, ...(init.signal ? { signal: init.signal } : {}) });
      this.active.add(req);
      req.once('close', () => {
        clearTimeout(connectTimer);
        this.active.delete(req);
      });
      req.once('socket', (socket: Socket) => {
        // A pooled connection is already open; only a new one has a connect phase to bound.
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => req.destroy(transportError(`connect timeout after ${connectTimeoutMs} ms`, CONNECT_TIMEOUT)), connectTimeoutMs);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      // Idle time on the connection (node:http arms it once connected, re-armed by every byte).
      req.setTimeout(init.timeoutMs, () => {
        if (response) response.destroy(transportError(`no data for ${init.timeoutMs} ms`, BODY_TIMEOUT));
        else req.destroy(transportError(`no response headers within ${init.timeoutMs} ms`, HEADERS_TIMEOUT));
      });
      // `on`, not `once`: a second error from a destroyed request must not go unhandled.
      req.on('error', (err) => {
        clearTimeout(connectTimer);
        // After the headers, a failure belongs to the body (its reader sees it there).
        if (!response) reject(relabel(err));
      });
      req.once('response', (res) => {
        clearTimeout(connectTimer);
        response = res;
        res.prependListener('error', relabel);
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      const body = init.body;
      if (body === undefined || typeof body === 'string') {
        req.end(body);
      } else {
        body.on('error', (err) => req.destroy(err));
        // A request that ends early (refused, reset, timed out) releases the file being streamed.
        req.once('close', () => {
          if (!body.readableEnded) body.destroy();
        });
        body.pipe(req);
      }
    });
  }

  private async dispatchFollowingRedirects(spec: RequestSpec, timeoutMs: number): Promise<RawResponse> {
    let url = new URL(`${this.basePath}${spec.path}${buildQuery(spec.query)}`, this.origin);
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {
        'user-agent': this.opts.userAgent,
        accept: spec.accept ?? 'application/json',
      };
      if (spec.consent && spec.consent.length > 0) headers['x-opendeploy-consent'] = spec.consent.join(',');
      if (spec.headers) for (const [name, value] of Object.entries(spec.headers)) headers[name.toLowerCase()] = value;
      let body: string | Readable | undefined;
      if (spec.upload) {
        headers['content-type'] = spec.upload.contentType;
        headers['content-length'] = String(spec.upload.contentLength);
        body = spec.upload.open();
      } else if (spec.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(spec.json);
      }
      // The credential only ever goes to the configured origin (redirects elsewhere are refused below).
      if (spec.token && url.origin === this.origin) headers.authorization = `Bearer ${spec.token}`;

      const res = await this.send(url, { method: spec.method, headers, body, timeoutMs, signal: spec.signal });

      const location = headerValue(res.headers, 'location');
      if (!REDIRECT_STATUS.has(res.statusCode) || !location) return res;

      await dump(res.body);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw redirectError({ method: spec.method, route: spec.path, status: res.statusCode, location, crossOrigin: true });
      }
      const crossOrigin = target.origin !== this.origin;
      const shown = crossOrigin ? `${target.origin}${target.pathname}` : this.relative(target);
      if (crossOrigin || spec.method !== 'GET') {
        throw redirectError({ method: spec.method, route: spec.path, status: res.statusCode, location: shown, crossOrigin });
      }
      if (hop >= this.opts.maxRedirects) {
        throw new OdError(
          'internal',
          `The gateway redirected GET ${spec.path} more than ${this.opts.maxRedirects} times (last to ${shown}); opendeploy stopped following — please report it.`,
          {
            status: res.statusCode,
            nextAction: 'Check that OD_GATEWAY is the gateway URL itself (including /api), then report this message.',
            details: { route: `GET ${spec.path}`, location: shown },
          },
        );
      }
      url = target;
    }
  }

  /** A same-origin URL shown relative to the base (`/v1/projects/`), else its path. */
  private relative(target: URL): string {
    const path = target.pathname;
    const rel = this.basePath && path.startsWith(`${this.basePath}/`) ? path.slice(this.basePath.length) : path;
    return `${rel}${target.search}`;
  }
}
