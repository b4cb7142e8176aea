/**
 * The HTTP layer of the gateway client: one undici Agent, per-request timeouts, bounded retries with
 * exponential backoff for idempotent requests only, and manual redirect handling (undici 7's core
 * `request` never follows redirects; the redirect interceptor is deliberately not installed).
 *
 * Rules enforced here:
 * - the Bearer token is sent only to the configured origin: a redirect to another origin is never
 *   followed, whatever the method;
 * - a redirected POST/PUT/PATCH is never re-issued (it is a bug in our paths → `internal`);
 * - a redirected GET within the same origin is followed, at most `maxRedirects` times;
 * - POSTs are never retried; GETs and the idempotent PUTs retry on network errors, 429, 502/503/504.
 */
import { createRequire } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
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
  body: Dispatcher.ResponseData['body'];
  route: string;
}

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
  private readonly dispatcher: Dispatcher;

  constructor(options: TransportOptions, dispatcher?: Dispatcher) {
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
    this.dispatcher =
      dispatcher ??
      new Agent({
        connect: { timeout: this.opts.connectTimeoutMs },
        headersTimeout: this.opts.requestTimeoutMs,
        bodyTimeout: this.opts.requestTimeoutMs,
      });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
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
        text = await res.body.text();
      } catch (err) {
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

  private async dispatchFollowingRedirects(spec: RequestSpec, timeoutMs: number): Promise<Dispatcher.ResponseData> {
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

      const res = await this.dispatcher.request({
        // Explicit even though undici 7's core request never follows redirects: we decide below.
        // (Not in undici 7's types; the core accepts 0 and rejects anything else.)
        ...({ maxRedirections: 0 } as object),
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: spec.method,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: spec.signal,
      });

      const location = headerValue(res.headers, 'location');
      if (!REDIRECT_STATUS.has(res.statusCode) || !location) return res;

      await res.body.dump().catch(() => undefined);
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
