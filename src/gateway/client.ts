/**
 * The gateway client: the only code in opendeploy that speaks HTTP to the OpenDeploy gateway.
 * Every response body is parsed with a zod schema; every failure is an OdError of the closed set.
 * No method deletes anything (the gateway refuses DELETE with API tokens; deletions are dashboard-only).
 */
import type { z } from 'zod';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { bodyIsSensitive, isNetworkError, malformedResponse, mapHttpError, networkError } from './errors.js';
import { defaultUserAgent, HttpTransport, type RequestSpec, type TextResponse } from './http.js';
import { buildMultipart, zipFileName } from './multipart.js';
import { open as openFile } from 'node:fs/promises';
import { Agent as HttpAgent, type ClientRequest, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  collectionOf,
  CreateServiceResponseSchema,
  DependencySchema,
  DependencyStatusResponseSchema,
  DeploymentSchema,
  EnvMapResponseSchema,
  LogsResponseSchema,
  ProfileSchema,
  ProjectSchema,
  PutEnvResponseSchema,
  RegionSchema,
  RegisterResponseSchema,
  ServiceDomainSchema,
  ServiceSchema,
  SubdomainCheckSchema,
  UpdateSourceResponseSchema,
  UploadOnlyResponseSchema,
  MissingPartsSchema,
  MultipartInitResponseSchema,
  MultipartPartResponseSchema,
} from './schemas.js';
import { parseSseStream } from './sse.js';
import type {
  CreateDependencyBody,
  CreateDeploymentBody,
  CreateProjectBody,
  CreateServiceBody,
  Dependency,
  Deployment,
  LogLine,
  Profile,
  Project,
  Region,
  RegisterBody,
  RegisterResponse,
  RequestInfo,
  Service,
  ServiceDomain,
  SseEvent,
  UpdateServiceBody,
  UpdateSourceBody,
  UpdateSourceResponse,
  UploadOnlyInput,
  UploadOnlyResponse,
} from './types.js';

export interface GatewayClientOptions {
  /** Gateway base including `/api`; trailing slashes are stripped. */
  baseUrl: string;
  /** `od_*` bearer token; omitted only for register. */
  token?: string;
  /** Default `opendeploy/<version> (<platform>; node <ver>)`. */
  userAgent?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  uploadTimeoutMs?: number;
  /** Idle timeout of a log stream (time without any byte, comments included). Default 5 minutes. */
  streamIdleTimeoutMs?: number;
  /** Total attempts for idempotent requests, default 3. */
  retries?: number;
  /** Backoff base, default 500 ms (exponential, with jitter). */
  backoffBaseMs?: number;
  /** Cap of one backoff delay, default 8 s. */
  maxBackoffMs?: number;
  /** Longest Retry-After the client waits out before retrying (longer → the error is surfaced). Default 30 s. */
  maxRetryAfterMs?: number;
  /** Same-origin GET redirects followed, default 3. */
  maxRedirects?: number;
  /** For --verbose and the audit log; never carries tokens or bodies. */
  onRequest?: (info: RequestInfo) => void;
}

const enc = encodeURIComponent;

/** Env keys whose values are secrets worth scrubbing from any echo (values of other keys are often words like "production"). */
const SECRET_ENV_KEY = /pass|secret|token|key|auth|credential|private|dsn|cookie|session|salt|(^|_)url$|_uri$/i;

function registerEnvSecrets(...maps: (Record<string, string> | undefined)[]): void {
  for (const map of maps) {
    if (!map) continue;
    for (const [key, value] of Object.entries(map)) if (SECRET_ENV_KEY.test(key)) registerSecret(value);
  }
}

function isFileInput(input: UploadOnlyInput): input is Extract<UploadOnlyInput, { filePath: string }> {
  return typeof (input as { filePath?: unknown }).filePath === 'string';
}

/** Buffers of the part pump: their reuse is what keeps memory flat whatever the archive size. */
const PUMP_BUFFERS = 4;
const PUMP_BUFFER_BYTES = 256 * 1024;
/** Pump buffers kept between parts: enough for the most parts `OPENDEPLOY_MULTIPART_CONCURRENCY` allows at once. */
const SPARE_PUMP_BUFFERS = 8 * PUMP_BUFFERS;

/**
 * Pump buffers handed back by finished parts, for the next ones: a part's buffers would otherwise
 * be garbage the moment it ends (external memory, freed only at a garbage collection that the
 * upload's few allocations rarely bring), 1 MiB per part.
 */
const sparePumpBuffers: Buffer[] = [];
let pumpBuffersAllocated = 0;

function takePumpBuffer(): Buffer {
  const spare = sparePumpBuffers.pop();
  if (spare !== undefined) return spare;
  pumpBuffersAllocated += 1;
  return Buffer.allocUnsafeSlow(PUMP_BUFFER_BYTES);
}

function givePumpBuffer(buffer: Buffer): void {
  if (sparePumpBuffers.length < SPARE_PUMP_BUFFERS) sparePumpBuffers.push(buffer);
}

/** How many pump buffers this process has allocated, and how many are waiting for the next part (for tests). */
export function pumpBufferStats(): { allocated: number; spare: number } {
  return { allocated: pumpBuffersAllocated, spare: sparePumpBuffers.length };
}

/**
 * Writes `[start, start+length)` of a file into a request through a few reused buffers (at most
 * PUMP_BUFFERS per request, taken as needed and handed on to the next part after). A buffer is
 * reused only when the socket has flushed it (the write callback), so it is never overwritten while
 * queued. A file stream would allocate a fresh buffer per chunk instead, and that garbage (collected
 * late, it is external memory) lifted the client's peak by ~50 MiB.
 */
async function pumpFileRange(req: ClientRequest, filePath: string, start: number, length: number, onBytes?: (n: number) => void): Promise<void> {
  const handle = await openFile(filePath, 'r');
  const free: Buffer[] = [];
  let taken = 0;
  /** Once the pump is over, buffers the socket flushes later go straight back to the spares. */
  let over = false;
  const waiters: Array<() => void> = [];
  // A closed request may never call back its queued writes: wake anyone waiting for a buffer.
  const onClose = (): void => {
    for (const wake of waiters.splice(0)) wake();
  };
  req.once('close', onClose);
  const settled = (event: 'drain'): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        req.off(event, done);
        req.off('close', done);
        resolve();
      };
      req.once(event, done);
      req.once('close', done);
    });
  const available = (): Buffer | undefined => {
    const buffer = free.pop();
    if (buffer !== undefined || taken >= PUMP_BUFFERS) return buffer;
    taken += 1;
    return takePumpBuffer();
  };
  try {
    let position = start;
    let left = length;
    while (left > 0) {
      if (req.destroyed) return;
      let buffer = available();
      while (!buffer) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        if (req.destroyed) return;
        buffer = available();
      }
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, left), position);
      if (bytesRead === 0) throw new Error(`${filePath} is shorter than expected (it changed during the upload)`);
      position += bytesRead;
      left -= bytesRead;
      const used = buffer;
      const ok = req.write(used.subarray(0, bytesRead), () => {
        if (over) givePumpBuffer(used);
        else free.push(used);
        onBytes?.(bytesRead);
        waiters.shift()?.();
      });
      if (!ok) await settled('drain');
    }
    req.end();
  } finally {
    over = true;
    for (const buffer of free.splice(0)) givePumpBuffer(buffer);
    req.off('close', onClose);
    await handle.close();
  }
}

export interface MultipartInitBody {
  project_id: string;
  project_name: string;
  region_id: string;
  total_size: number;
  part_size: number;
  total_parts: number;
  total_sha256: string;
}

export class GatewayClient {
  readonly baseUrl: string;
  private readonly http: HttpTransport;
  private readonly token: string | undefined;
  private readonly options: GatewayClientOptions;
  /** Keep-alive pool of the part PUTs (node:http; see putStream). */
  private partAgent: HttpAgent | undefined;

  /** `shared` is internal: `withToken` passes the existing transport so clones share one pool. */
  constructor(opts: GatewayClientOptions, shared?: { transport: HttpTransport }) {
    this.options = { ...opts };
    this.token = opts.token;
    registerSecret(opts.token);
    this.http = shared?.transport ?? new HttpTransport(opts);
    this.baseUrl = this.http.baseUrl;
  }

  /** A client for the same gateway (sharing the connection pool) with another token. */
  withToken(token: string): GatewayClient {
    return new GatewayClient({ ...this.options, token }, { transport: this.http });
  }

  /** Closes the connection pool (shared with `withToken` clones). */
  async close(): Promise<void> {
    this.partAgent?.destroy();
    await this.http.close();
  }

  // ------------------------------------------------------------------ plumbing

  private requireToken(method: string, path: string): string {
    if (!this.token) {
      throw new OdError('auth_missing', `No credential is configured for ${method} ${path}.`, {
        nextAction: 'Run `opendeploy` interactively to create a credential, or set OPENDEPLOY_TOKEN.',
      });
    }
    return this.token;
  }

  private parse<S extends z.ZodType>(schema: S, res: TextResponse, method: string, sensitive = false): z.output<S> {
    let json: unknown;
    try {
      json = res.text === '' ? null : (JSON.parse(res.text) as unknown);
    } catch {
      throw malformedResponse({ method, route: res.route, status: res.status, problem: 'not JSON', bodyText: res.text, sensitive });
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const problem = result.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
        .join('; ');
      throw malformedResponse({
        method,
        route: res.route,
        status: res.status,
        problem,
        bodyText: res.text,
        sensitive: sensitive || bodyIsSensitive(res.text),
      });
    }
    return result.data;
  }

  private async call<S extends z.ZodType>(
    schema: S,
    spec: Omit<RequestSpec, 'token'>,
  ): Promise<z.output<S>> {
    const token = this.requireToken(spec.method, spec.path);
    const res = await this.http.request({ ...spec, token });
    return this.parse(schema, res, spec.method, spec.sensitive);
  }

  private async callRaw(spec: Omit<RequestSpec, 'token'>): Promise<unknown> {
    const token = this.requireToken(spec.method, spec.path);
    const res = await this.http.request({ ...spec, token });
    if (res.text.trim() === '') return null;
    try {
      return JSON.parse(res.text) as unknown;
    } catch {
      throw malformedResponse({ method: spec.method, route: res.route, status: res.status, problem: 'not JSON', bodyText: res.text, sensitive: spec.sensitive });
    }
  }

  // ------------------------------------------------------------------ credential

  /**
   * Anonymous registration of a pending credential. Accepts seed names (agent_id, claim_url) and newer
   * names (guest_id, bind_url), normalised to agent_id / claim_url. Does not require api_key (an
   * idempotent replay omits it; the auth layer decides). Never retried (429 surfaces as rate_limited).
   */
  async register(body: RegisterBody): Promise<RegisterResponse> {
    const res = await this.http.request({
      method: 'POST',
      path: '/v1/client-agents/register',
      json: body,
      sensitive: true,
    });
    const parsed = this.parse(RegisterResponseSchema, res, 'POST', true);
    registerSecret(parsed.api_key);
    registerSecret(parsed.bind_sig);
    return parsed;
  }

  /** 401 is expected for a pending credential; never use this as the sanity check (use listRegions). */
  getProfile(): Promise<Profile> {
    return this.call(ProfileSchema, { method: 'GET', path: '/v1/profile' });
  }

  listRegions(): Promise<Region[]> {
    return this.call(collectionOf(RegionSchema, ['data', 'regions']), { method: 'GET', path: '/v1/regions/' });
  }

  // ------------------------------------------------------------------ projects

  /** POST — never retried; after an ambiguous failure resolve with findProjectByName. */
  createProject(body: CreateProjectBody): Promise<Project> {
    registerSecret(body.token);
    return this.call(ProjectSchema, { method: 'POST', path: '/v1/projects/', json: body });
  }

  getProject(id: string): Promise<Project> {
    return this.call(ProjectSchema, { method: 'GET', path: `/v1/projects/${enc(id)}` });
  }

  listProjects(): Promise<Project[]> {
    return this.call(collectionOf(ProjectSchema, ['data', 'projects']), { method: 'GET', path: '/v1/projects/' });
  }

  /** Read-back by stable name (after a create that may have committed). */
  async findProjectByName(name: string): Promise<Project | undefined> {
    const projects = await this.listProjects();
    return projects.find((p) => p.name === name);
  }

  listProjectDeployments(projectId: string, status?: string): Promise<Deployment[]> {
    return this.call(collectionOf(DeploymentSchema, ['data', 'deployments']), {
      method: 'GET',
      path: `/v1/projects/${enc(projectId)}/deployments`,
      query: { status },
    });
  }

  // ------------------------------------------------------------------ dependencies

  createDependency(body: CreateDependencyBody): Promise<Dependency> {
    return this.call(DependencySchema, { method: 'POST', path: '/v1/dependencies/create', json: body, sensitive: true });
  }

  async getDependencyStatus(projectId: string): Promise<Dependency[]> {
    const res = await this.call(DependencyStatusResponseSchema, {
      method: 'GET',
      path: `/v1/dependencies/status/${enc(projectId)}`,
      sensitive: true,
    });
    return res.dependencies ?? [];
  }

  // ------------------------------------------------------------------ services

  /** POST — never retried; after an ambiguous failure resolve with findServiceByName. */
  createService(projectId: string, body: CreateServiceBody): Promise<{ service_id: string }> {
    registerEnvSecrets(body.runtime_variables, body.build_variables);
    return this.call(CreateServiceResponseSchema, {
      method: 'POST',
      path: `/v1/projects/${enc(projectId)}/services/`,
      json: body,
    });
  }

  /** The full service (includes decrypted env: the body is never quoted in errors). */
  getService(id: string): Promise<Service> {
    return this.call(ServiceSchema, { method: 'GET', path: `/v1/services/${enc(id)}`, sensitive: true });
  }

  listServices(projectId: string): Promise<Service[]> {
    return this.call(collectionOf(ServiceSchema, ['data', 'services']), {
      method: 'GET',
      path: `/v1/projects/${enc(projectId)}/services/`,
      sensitive: true,
    });
  }

  async findServiceByName(projectId: string, name: string): Promise<Service | undefined> {
    const services = await this.listServices(projectId);
    return services.find((s) => s.name === name);
  }

  /** PUT /v1/services/:id — resize without redeploy; idempotent (retried on transient failures). */
  updateService(id: string, body: UpdateServiceBody): Promise<Service> {
    return this.call(ServiceSchema, {
      method: 'PUT',
      path: `/v1/services/${enc(id)}`,
      json: body,
      idempotent: true,
      sensitive: true,
    });
  }

  /** The decrypted env map. Never log the result. */
  getEnv(projectId: string, serviceId: string): Promise<Record<string, string>> {
    return this.call(EnvMapResponseSchema, {
      method: 'GET',
      path: `/v1/projects/${enc(projectId)}/services/${enc(serviceId)}/env`,
      sensitive: true,
    });
  }

  /** Full replace of the env (omitted keys are deleted). Values are registered as secrets first. */
  putEnv(projectId: string, serviceId: string, variables: Record<string, string>): Promise<{ count: number; variables: string[] }> {
    for (const value of Object.values(variables)) registerSecret(value);
    return this.call(PutEnvResponseSchema, {
      method: 'PUT',
      path: `/v1/projects/${enc(projectId)}/services/${enc(serviceId)}/env`,
      json: { variables },
      idempotent: true,
      sensitive: true,
    });
  }

  // ------------------------------------------------------------------ source

  /**
   * POST /v1/upload/upload-only (multipart). A file is streamed from disk with an exact
   * Content-Length; the file part's name always ends in `.zip`. Never retried.
   */
  async uploadOnly(input: UploadOnlyInput): Promise<UploadOnlyResponse> {
    const path = '/v1/upload/upload-only';
    const token = this.requireToken('POST', path);
    const fields: Record<string, string | undefined> = {
      project_name: input.projectName,
      region_id: input.regionId,
      description: input.description,
    };
    let upload;
    if (isFileInput(input)) {
      upload = await buildMultipart(fields, {
        field: 'project_file',
        path: input.filePath,
        fileName: zipFileName(input.filePath, input.fileName),
        contentType: 'application/zip',
        onProgress: input.onProgress,
      });
    } else {
      registerSecret(input.gitToken);
      upload = await buildMultipart({
        ...fields,
        git_url: input.gitUrl,
        branch: input.branch,
        git_token: input.gitToken,
      });
    }
    const res = await this.http.request({ method: 'POST', path, upload, token });
    return this.parse(UploadOnlyResponseSchema, res, 'POST');
  }

  /** POST /v1/upload/update-source — binds a parked upload to the project (mandatory step). */
  updateSource(body: UpdateSourceBody): Promise<UpdateSourceResponse> {
    return this.call(UpdateSourceResponseSchema, { method: 'POST', path: '/v1/upload/update-source', json: body });
  }

  // ------------------------------------------------------------------ chunked (multipart) upload

  /**
   * POST /v1/upload/multipart/init. The same Idempotency-Key replays the earlier init, which is how
   * a resumed upload checks its session is still open: the same `upload_id` comes back.
   */
  multipartInit(body: MultipartInitBody, idempotencyKey: string): Promise<{ upload_id: string; part_size: number; expires_at?: string | undefined }> {
    return this.call(MultipartInitResponseSchema, {
      method: 'POST',
      path: '/v1/upload/multipart/init',
      json: body,
      headers: { 'Idempotency-Key': idempotencyKey },
    });
  }

  /**
   * PUT one part: raw bytes `[start, start+length)` streamed from the archive file (never held in
   * memory). Sent once; the caller retries the part on its own (a part is idempotent by hash).
   */
  async multipartPutPart(
    uploadId: string,
    part: { number: number; filePath: string; start: number; length: number; sha256: string },
    onBytes?: (n: number) => void,
    signal?: AbortSignal,
  ): Promise<{ received: boolean; part_number: number }> {
    const path = `/v1/upload/multipart/${enc(uploadId)}/parts/${part.number}`;
    const token = this.requireToken('PUT', path);
    const res = await this.putStream(path, token, { 'content-type': 'application/octet-stream', 'x-part-sha256': part.sha256 }, part.length, (req) =>
      pumpFileRange(req, part.filePath, part.start, part.length, onBytes), signal);
    return this.parse(MultipartPartResponseSchema, res, 'PUT');
  }

  /**
   * One streamed PUT over node:http rather than undici: measured on a 1 GiB upload, undici's
   * stream-body path kept ~70 MiB more memory alive than node:http with the same file stream.
   * Same rules as the transport: the token goes only to the configured origin (no redirects are
   * followed), failures become the same OdErrors, and it is sent once (the caller retries parts).
   */
  private putStream(
    path: string,
    token: string,
    headers: Record<string, string>,
    length: number,
    pump: (req: ClientRequest) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<TextResponse> {
    const url = new URL(`${this.baseUrl}${path}`);
    const timeoutMs = this.options.uploadTimeoutMs ?? 600_000;
    const started = performance.now();
    const report = (info: Partial<RequestInfo>): void => {
      try {
        this.options.onRequest?.({ method: 'PUT', path, attempt: 1, ms: Math.round(performance.now() - started), ...info } as RequestInfo);
      } catch {
        // A logging hook must never break a request.
      }
    };
    this.partAgent ??= url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<TextResponse>((resolve, reject) => {
      const fail = (err: unknown): void => {
        const od = err instanceof OdError ? err : isNetworkError(err)
          ? networkError(err, { method: 'PUT', route: path, gateway: this.baseUrl, timeoutMs })
          : new OdError('internal', `Unexpected error while calling PUT ${path} on the gateway: ${err instanceof Error ? err.message : String(err)}.`, { cause: err });
        report({ error: od.message });
        reject(od);
      };
      const req = send(
        url,
        {
          method: 'PUT',
          agent: this.partAgent,
          headers: {
            ...headers,
            'content-length': String(length),
            'user-agent': this.options.userAgent ?? defaultUserAgent(),
            accept: 'application/json',
            authorization: `Bearer ${token}`,
          },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            report({ status });
            if (status >= 200 && status < 300) resolve({ status, headers: res.headers, text, route: path });
            else reject(mapHttpError({ method: 'PUT', route: path, status, headers: res.headers, bodyText: text, gateway: this.baseUrl }));
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('upload timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', fail);
      pump(req).catch((err: unknown) => req.destroy(err instanceof Error ? err : new Error(String(err))));
    });
  }

  /** POST …/complete: `{missing: [...]}` on the contract's 409 with `missing_parts`, else the bound source. */
  async multipartComplete(
    uploadId: string,
    body: { total_sha256: string; analysis?: unknown },
    idempotencyKey: string,
  ): Promise<{ missing: number[] } | { missing?: undefined; result: UpdateSourceResponse }> {
    const path = `/v1/upload/multipart/${enc(uploadId)}/complete`;
    const token = this.requireToken('POST', path);
    const spec = { method: 'POST' as const, path, json: body, token, headers: { 'Idempotency-Key': idempotencyKey } };
    const res = await this.http.request({ ...spec, passStatuses: [409] });
    if (res.status === 409) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.text);
      } catch {
        parsed = undefined;
      }
      const missing = MissingPartsSchema.safeParse(parsed);
      if (missing.success && missing.data.missing_parts.length > 0) return { missing: missing.data.missing_parts };
      // Any other 409 (session not open) is the mapped conflict error.
      throw mapHttpError({ method: 'POST', route: path, status: 409, headers: res.headers, bodyText: res.text, gateway: this.baseUrl });
    }
    return { result: this.parse(UpdateSourceResponseSchema, res, 'POST') };
  }

  /** POST …/abort (empty body). */
  multipartAbort(uploadId: string, idempotencyKey: string): Promise<unknown> {
    return this.callRaw({ method: 'POST', path: `/v1/upload/multipart/${enc(uploadId)}/abort`, headers: { 'Idempotency-Key': idempotencyKey } });
  }

  // ------------------------------------------------------------------ deployments

  /** POST /v1/deployments/ — the body type has no `resources` field. Never retried. */
  createDeployment(body: CreateDeploymentBody): Promise<Deployment> {
    // Defence in depth for untyped callers: `resources` with K8s strings 400s the deployment service.
    const { resources: _dropped, ...clean } = body as CreateDeploymentBody & { resources?: unknown };
    registerEnvSecrets(clean.runtime_variables, clean.build_variables);
    return this.call(DeploymentSchema, { method: 'POST', path: '/v1/deployments/', json: clean });
  }

  getDeployment(id: string): Promise<Deployment> {
    return this.call(DeploymentSchema, { method: 'GET', path: `/v1/deployments/${enc(id)}` });
  }

  listDeployments(projectId: string): Promise<Deployment[]> {
    return this.call(collectionOf(DeploymentSchema, ['data', 'deployments']), {
      method: 'GET',
      path: '/v1/deployments/',
      query: { project_id: projectId },
    });
  }

  /** Returns the deployment when the body is one, else the raw (parsed) body. */
  async cancelDeployment(id: string): Promise<Deployment | unknown> {
    // Called only after the user confirmed: the gateway's ConsentGate wants the kind named.
    const raw = await this.callRaw({ method: 'POST', path: `/v1/deployments/${enc(id)}/cancel`, consent: ['live_service_change'] });
    const parsed = DeploymentSchema.safeParse(raw);
    return parsed.success ? parsed.data : raw;
  }

  /** Returns the deployment when the body is one, else the raw (parsed) body (check it for a deployment id). */
  async rollbackDeployment(id: string): Promise<Deployment | unknown> {
    const raw = await this.callRaw({ method: 'POST', path: `/v1/deployments/${enc(id)}/rollback`, consent: ['live_service_change'] });
    const parsed = DeploymentSchema.safeParse(raw);
    return parsed.success ? parsed.data : raw;
  }

  /** One-shot logs; `logs: null` becomes `[]`, string entries become `{message}`. */
  getDeploymentLogs(id: string, opts: { tail?: number; since?: string } = {}): Promise<{ logs: LogLine[]; total: number }> {
    return this.call(LogsResponseSchema, {
      method: 'GET',
      path: `/v1/deployments/${enc(id)}/logs`,
      query: { tail: opts.tail, since: opts.since },
    });
  }

  /**
   * Live deploy logs over SSE. Yields `{event, data}` with `data` JSON-decoded when it is JSON.
   * Ends quietly when `signal` aborts or the server closes the stream; connection failures before the
   * first byte are retried like any GET.
   */
  streamDeploymentLogs(id: string, opts: { signal?: AbortSignal } = {}): AsyncIterable<SseEvent> {
    return this.sse(`/v1/deployments/${enc(id)}/logs/stream`, undefined, opts.signal);
  }

  /**
   * GET /v1/projects/:id/services/:sid/logs — the running app's output (its container logs), in the
   * same shape as deployment logs (`logs: null` becomes `[]`).
   */
  getServiceLogs(projectId: string, serviceId: string, opts: { tail?: number; since?: string } = {}): Promise<{ logs: LogLine[]; total: number }> {
    return this.call(LogsResponseSchema, {
      method: 'GET',
      path: `/v1/projects/${enc(projectId)}/services/${enc(serviceId)}/logs`,
      query: { tail: opts.tail, since: opts.since },
    });
  }

  /**
   * The running app's output over SSE: the lines a `tail`/`since` read would return, then new ones
   * for as long as the connection stays open (it has no end of its own). Same framing and rules as
   * `streamDeploymentLogs`.
   */
  streamServiceLogs(projectId: string, serviceId: string, opts: { tail?: number; since?: string; signal?: AbortSignal } = {}): AsyncIterable<SseEvent> {
    return this.sse(`/v1/projects/${enc(projectId)}/services/${enc(serviceId)}/logs/stream`, { tail: opts.tail, since: opts.since }, opts.signal);
  }

  private async *sse(path: string, query: Record<string, string | number | undefined> | undefined, signal: AbortSignal | undefined): AsyncIterable<SseEvent> {
    const token = this.requireToken('GET', path);
    if (signal?.aborted) return;
    let res;
    try {
      res = await this.http.stream({
        method: 'GET',
        path,
        ...(query ? { query } : {}),
        token,
        accept: 'text/event-stream',
        signal,
        timeoutMs: this.options.streamIdleTimeoutMs ?? 300_000,
      });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const body = res.body;
    try {
      for await (const event of parseSseStream(body)) {
        yield event;
        if (signal?.aborted) return;
      }
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof OdError) throw err;
      if (isNetworkError(err)) {
        throw networkError(err, {
          method: 'GET',
          route: path,
          gateway: this.baseUrl,
          timeoutMs: this.options.streamIdleTimeoutMs ?? 300_000,
        });
      }
      throw err;
    } finally {
      if (!body.destroyed) body.destroy();
    }
  }

  // ------------------------------------------------------------------ domains

  checkSubdomain(prefix: string): Promise<{ available: boolean; reason?: string }> {
    return this.call(SubdomainCheckSchema, {
      method: 'GET',
      path: `/v1/service-domains/check-subdomain/${enc(prefix)}`,
    }).then((r) => (r.reason ? { available: r.available, reason: r.reason } : { available: r.available }));
  }

  listServiceDomains(serviceId: string, filter: { environment?: string; type?: string } = {}): Promise<ServiceDomain[]> {
    return this.call(collectionOf(ServiceDomainSchema, ['data', 'domains', 'service_domains']), {
      method: 'GET',
      path: '/v1/service-domains',
      query: { service_id: serviceId, environment: filter.environment, type: filter.type },
    });
  }

  /** PUT — full replace of the prefix; idempotent. */
  renameSubdomain(domainId: string, subdomain: string): Promise<ServiceDomain> {
    return this.call(ServiceDomainSchema, {
      method: 'PUT',
      path: `/v1/service-domains/${enc(domainId)}/subdomain`,
      json: { subdomain },
      idempotent: true,
    });
  }

  // ------------------------------------------------------------------ billing

  /** Only used to prove the bind_required mapping for pending credentials. */
  getBilling(): Promise<unknown> {
    return this.callRaw({ method: 'GET', path: '/v1/billing/subscription' });
  }
}
