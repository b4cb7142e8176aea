/**
 * The embedded local gateway: a real HTTP server on 127.0.0.1 that speaks the OpenDeploy gateway
 * contract (the same routes, bodies and errors as the hosted one). By default deployments really build and run on this machine
 * (./runtime/), served through this same port by Host (`<label>.localhost:<port>`); with
 * `simulate: true` builds are simulated, so the CLI and its tests run end-to-end without running
 * anything. This file wires the pieces together and owns the request pipeline:
 *
 *   any Host but loopback names on this port      421 (DNS rebinding; see guard.ts)
 *   Host <label>.localhost  the deployed app (reverse proxy, WebSocket upgrades too; real mode only)
 *   a foreign Origin on anything below            403 (cross-origin browser requests)
 *   /__local/*  test control endpoints (loopback only; --simulate or the control secret; JSON POSTs)
 *   /claim/*    the claim page a user would open to bind an agent
 *   /projects/:id  the project page the CLI links to as the dashboard (read-only)
 *   /api/*      the contract: journal → scripted fault → trailing-slash rule → auth → handler
 *
 * Real mode accepts only credentials it issued: the local key it writes into `<dataDir>/auth.json`
 * on first start (local-key.ts) and agent tokens its register endpoint minted earlier.
 */

import { timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmod, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { App } from './app.js';
import { Timers } from './app.js';
import { authenticate } from './auth.js';
import type { FaultAction } from './faults.js';
import { FaultQueue, MALFORMED_BODY } from './faults.js';
import { failAfterCommit } from './commit-fault.js';
import { FOREIGN_HOST_TEXT, FOREIGN_ORIGIN_TEXT, hostAllowed, originAllowed } from './guard.js';
import { HttpError, NOT_FOUND_TEXT, RequestContext, Router, toggleTrailingSlash } from './http.js';
import { CONTROL_SECRET_FILE, ensureLocalKey, localAuthFile, writeControlSecret } from './local-key.js';
import type { RecordedRequest } from './recorder.js';
import { RequestRecorder } from './recorder.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerAgentRoutes, registerClaimRoutes } from './routes/agents.js';
import { registerControlRoutes } from './routes/control.js';
import { registerDependencyRoutes } from './routes/dependencies.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerDeploymentRoutes } from './routes/deployments.js';
import { registerDomainRoutes } from './routes/domains.js';
import { registerLogRoutes } from './routes/logs.js';
import { registerProjectRoutes } from './routes/projects.js';
import { registerServiceLogRoutes } from './routes/service-logs.js';
import { registerServiceRoutes } from './routes/services.js';
import { pruneExpiredUploads, registerUploadRoutes } from './routes/upload.js';
import { DeploymentScripts } from './scripts.js';
import { Simulator } from './simulator.js';
import { claimGatewayFile, findRunningGateway, releaseGatewayFile } from './gateway-file.js';
import type { RuntimeLogEvent } from './records.js';
import type { RestorePolicy } from './runtime/context.js';
import { LocalRuntime } from './runtime/runtime.js';
import type { SseStream } from './sse.js';
import { Store } from './store.js';

export interface LocalGatewayOptions {
  port?: number; // 0 (default) = pick a free port
  dataDir: string; // state + uploads live here; created 0700 if missing
  /** true: simulated builds and databases (tests). Default false: real builds, processes and databases. */
  simulate?: boolean;
  buildDurationMs?: number; // total simulated pending→success time, default 1000
  /** Simulated databases: how long one stays `provisioning` (default 300). */
  dependencyProvisionMs?: number;
  /** Real mode: how long a started app may take to answer HTTP (default 60 000). */
  readyTimeoutMs?: number;
  /** Real mode: restart current releases and databases on start (`all`, default) or mark them stopped (`none`). */
  restore?: RestorePolicy;
  /** Real mode: one-line notices for the person running it (restarted apps, leftovers). */
  notify?: (line: string) => void;
  registerLimitPerHour?: number; // default 5 per source IP
  log?: (line: string) => void; // optional request log sink (method path status ms), never tokens
  /**
   * Serve the test-only `/__local/*` endpoints in real mode too, guarded by a random secret written
   * (0600) to `<dataDir>/control-secret` and required in the `X-OpenDeploy-Control` header. With
   * `simulate` they are served without it (unless this is set, then the secret is required there too).
   */
  controlSecret?: boolean;
}

/** In-process view for tests that own the gateway object: unredacted, but never the HMAC secret or hashes. */
export interface GatewayInspection {
  state: Record<string, unknown>;
  requests: RecordedRequest[];
}

export interface LocalGateway {
  url: string; // "http://127.0.0.1:<port>/api"
  port: number;
  dataDir: string;
  simulate: boolean;
  /** Real mode: the credential file holding the local key (`<dataDir>/auth.json`); null when simulating. */
  authFile: string | null;
  /** The control secret when started with `controlSecret: true` (also in `<dataDir>/control-secret`). */
  controlSecret: string | null;
  /** A deep copy of the stored state and the request journal, for tests in the same process. */
  inspect(): GatewayInspection;
  /** Real mode: runtime (app output) log lines of every deployment as they are written. */
  onRuntimeLog(listener: (event: RuntimeLogEvent) => void): () => void;
  close(): Promise<void>; // stops apps/builds/databases and timers, closes sockets, flushes state
}

interface Routers {
  api: Router;
  control: Router;
  pages: Router;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
export const CONTROL_HEADER = 'x-opendeploy-control';

interface Guards {
  port: number;
  /** null: control endpoints need no secret (simulate without one) — see controlAccess. */
  controlSecret: string | null;
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const simulate = options.simulate === true;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0) throw new Error('local gateway: readyTimeoutMs must be > 0');
  const buildDurationMs = options.buildDurationMs ?? 1000;
  const registerLimitPerHour = options.registerLimitPerHour ?? 5;
  if (!Number.isFinite(buildDurationMs) || buildDurationMs < 0) throw new Error('local gateway: buildDurationMs must be >= 0');
  const dependencyProvisionMs = options.dependencyProvisionMs ?? 300;
  if (!Number.isFinite(dependencyProvisionMs) || dependencyProvisionMs < 0) throw new Error('local gateway: dependencyProvisionMs must be >= 0');
  if (!Number.isInteger(registerLimitPerHour) || registerLimitPerHour < 0) {
    throw new Error('local gateway: registerLimitPerHour must be a non-negative integer');
  }
  const sink = options.log;
  // A throwing log sink must never take the server down: it runs inside socket callbacks.
  const log = (line: string): void => {
    try {
      sink?.(line);
    } catch {
      /* ignored */
    }
  };
  const dataDir = path.resolve(options.dataDir);
  await ensurePrivateDir(dataDir);
  if (!simulate) {
    // Two real gateways on one data folder would both start its apps and databases.
    const running = await findRunningGateway(dataDir);
    if (running) throw new Error(`local gateway: another local gateway (pid ${running.pid}, ${running.url}) already serves ${dataDir}`);
  }
  const store = await Store.open(dataDir, log);

  // The executor needs the app and the app holds the executor: fill it in right after.
  const app = {
    store,
    settings: { simulate, buildDurationMs, dependencyProvisionMs, registerLimitPerHour },
    origin: '',
    url: '',
    dataDir,
    uploadsDir: path.join(dataDir, 'uploads'),
    projectsDir: path.join(dataDir, 'projects'),
    events: new EventEmitter().setMaxListeners(0),
    timers: new Timers(),
    faults: new FaultQueue(),
    recorder: new RequestRecorder(),
    scripts: new DeploymentScripts(),
    streams: new Set<SseStream>(),
    log,
  } as Omit<App, 'executor'> as App;
  app.executor = simulate
    ? new Simulator(app)
    : new LocalRuntime(app, { readyTimeoutMs, restore: options.restore ?? 'all', notify: (line) => options.notify?.(line) });
  await pruneExpiredUploads(app);
  const controlSecret = options.controlSecret === true ? await writeControlSecret(dataDir) : null;

  const routers: Routers = { api: new Router(), control: new Router(), pages: new Router() };
  registerAgentRoutes(routers.api);
  registerAccountRoutes(routers.api);
  registerProjectRoutes(routers.api);
  registerDependencyRoutes(routers.api);
  registerServiceLogRoutes(routers.api, app);
  registerServiceRoutes(routers.api);
  registerUploadRoutes(routers.api);
  registerDeploymentRoutes(routers.api);
  registerLogRoutes(routers.api);
  registerDomainRoutes(routers.api);
  registerControlRoutes(routers.control);
  registerClaimRoutes(routers.pages);
  registerDashboardRoutes(routers.pages);

  const guards: Guards = { port: 0, controlSecret };
  const server = http.createServer((req, res) => {
    if (!hostAllowed(req.headers.host, guards.port)) {
      refuse(res, 421, FOREIGN_HOST_TEXT);
      return;
    }
    // A deployed app's host name goes to the app, whatever the path (it may have its own /api).
    // Its Origin policy is the app's own business, as when it is hosted.
    if (app.executor.proxyRequest(req, res)) return;
    if (!originAllowed(req.headers.origin, guards.port)) {
      refuse(res, 403, FOREIGN_ORIGIN_TEXT);
      return;
    }
    void handleRequest(app, routers, guards, req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!hostAllowed(req.headers.host, guards.port)) {
      socket.end(`HTTP/1.1 421 Misdirected Request\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(FOREIGN_HOST_TEXT)}\r\n\r\n${FOREIGN_HOST_TEXT}`);
      return;
    }
    if (app.executor.proxyUpgrade(req, socket, head)) return;
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  const port = await listen(server, options.port ?? 0);
  guards.port = port;
  app.origin = `http://127.0.0.1:${port}`;
  app.url = `${app.origin}/api`;
  if (!simulate) {
    // Before the gateway announces itself (gateway.json), so a command that finds it finds the key too.
    try {
      const outcome = await ensureLocalKey(store, dataDir, app.url);
      if (outcome.status === 'minted') log(`local-gateway: minted the local key into ${localAuthFile(dataDir)}`);
      if (outcome.status === 'foreign' || outcome.status === 'unreadable') {
        log(`local-gateway: ${outcome.message}`);
        options.notify?.(outcome.message);
      }
    } catch (error) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      throw new Error(`local gateway: could not save the local key to ${localAuthFile(dataDir)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  claimGatewayFile(dataDir, { url: app.url, port, simulate });
  app.executor.resume(port);

  let closing: Promise<void> | undefined;
  return {
    url: app.url,
    port,
    dataDir,
    simulate,
    authFile: simulate ? null : localAuthFile(dataDir),
    controlSecret,
    inspect(): GatewayInspection {
      const { secret: _secret, agents, user, ...rest } = store.state;
      const { key_sha256: _key, ...shownUser } = user;
      const state = {
        ...rest,
        user: shownUser,
        agents: agents.map(({ token_sha256: _hash, ...agent }) => agent),
        scripted_deployments: app.scripts.list(),
      };
      // A JSON round trip: exactly what the HTTP dump used to return, detached from the live rows.
      return JSON.parse(JSON.stringify({ state, requests: app.recorder.list() })) as GatewayInspection;
    },
    onRuntimeLog(listener) {
      app.events.on('runtime:log', listener);
      return () => app.events.off('runtime:log', listener);
    },
    close(): Promise<void> {
      closing ??= (async () => {
        app.timers.stopAll();
        for (const stream of [...app.streams]) stream.close();
        await app.executor.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        releaseGatewayFile(dataDir, port);
        await store.close();
      })();
      return closing;
    },
  };
}

async function ensurePrivateDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask; set it explicitly on a directory we created.
  if (created !== undefined) await chmod(dir, 0o700);
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A short plain-text refusal written before any routing (no request context yet). */
function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), connection: 'close' });
  res.end(text);
}

/**
 * The control endpoints exist for tests. Real mode serves them only with a control secret (else
 * they do not exist: 404); when a secret is set it is required, whatever the mode. Every POST must
 * be `application/json`, which no cross-origin page can send without a CORS preflight.
 */
function controlAccess(ctx: RequestContext, guards: Guards): void {
  const req = ctx.req;
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) throw new HttpError(403, { error: 'control endpoints are loopback-only' });
  if (guards.controlSecret === null) {
    if (!ctx.app.settings.simulate) throw new HttpError(404, NOT_FOUND_TEXT);
  } else {
    const given = req.headers[CONTROL_HEADER];
    const expected = Buffer.from(guards.controlSecret);
    const candidate = Buffer.from(typeof given === 'string' ? given.trim() : '');
    if (candidate.length !== expected.length || !timingSafeEqual(candidate, expected)) {
      throw new HttpError(403, { error: `control endpoints need the X-OpenDeploy-Control header (the value in <data dir>/${CONTROL_SECRET_FILE})` });
    }
  }
  if (ctx.method === 'POST' && !/^application\/json\s*(;|$)/.test(ctx.contentType)) {
    throw new HttpError(415, { error: 'control endpoints accept only Content-Type: application/json' });
  }
}

async function handleRequest(app: App, routers: Routers, guards: Guards, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  res.once('close', () => {
    const status = res.headersSent ? String(res.statusCode) : 'dropped';
    app.log(`${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]} ${status} ${Math.round(performance.now() - started)}ms`);
  });

  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
  // Only contract traffic is journaled; control and claim requests are not what tests assert on.
  const ctx = new RequestContext(req, res, app, isApi ? app.recorder.start(req, url.pathname, url.searchParams) : undefined);
  try {
    if (ctx.path === '/__local' || ctx.path.startsWith('/__local/')) {
      controlAccess(ctx, guards);
      await dispatchPlain(ctx, routers.control);
    } else if (ctx.path.startsWith('/claim/') || ctx.path.startsWith('/projects/')) {
      await dispatchPlain(ctx, routers.pages);
    } else if (isApi) {
      const fault = app.faults.take(ctx.method, ctx.path);
      if (fault && ctx.entry) ctx.entry.fault = fault.route;
      if (fault && (await applyFault(ctx, fault))) return;
      await dispatchApi(ctx, routers.api);
    } else {
      ctx.sendText(404, NOT_FOUND_TEXT);
    }
  } catch (err) {
    sendError(ctx, err);
  }
}

async function dispatchPlain(ctx: RequestContext, router: Router): Promise<void> {
  const match = router.match(ctx.method, ctx.path);
  if (!match) {
    ctx.sendText(404, NOT_FOUND_TEXT);
    return;
  }
  ctx.params = match.params;
  await match.handler(ctx);
}

async function dispatchApi(ctx: RequestContext, api: Router): Promise<void> {
  // The DELETE guard is gateway middleware in front of every route: authenticated od_* callers
  // are refused whatever the path, and nothing is ever deleted.
  if (ctx.method === 'DELETE') {
    ctx.principal = authenticate(ctx.app, ctx.req.headers.authorization);
    throw new HttpError(403, {
      error: 'agent_delete_forbidden',
      error_code: 'agent_delete_forbidden',
      message: 'DELETE is not allowed with an API token; delete from the dashboard instead.',
      retryable: false,
      next_action: 'dashboard_handoff',
      method: 'DELETE',
      path: ctx.path,
    });
  }
  const match = api.match(ctx.method, ctx.path);
  if (!match) {
    // Router-level rule (before auth, like Gin's RedirectTrailingSlash): the other slash form
    // exists → 301 there, for every method. Clients must not follow it for a POST.
    const alternative = toggleTrailingSlash(ctx.path);
    if (ctx.path !== '/api/' && api.match(ctx.method, alternative)) {
      const location = alternative + ctx.search;
      ctx.write(301, `<a href="${location}">Moved Permanently</a>.\n`, { location, 'content-type': 'text/html; charset=utf-8' });
      return;
    }
    ctx.sendText(404, NOT_FOUND_TEXT);
    return;
  }
  ctx.params = match.params;
  if (!match.options.anonymous) ctx.principal = authenticate(ctx.app, ctx.req.headers.authorization);
  await match.handler(ctx);
}

function sendError(ctx: RequestContext, err: unknown): void {
  if (ctx.res.headersSent) {
    ctx.res.end();
    return;
  }
  if (err instanceof HttpError) {
    if (typeof err.body === 'string') ctx.sendText(err.status, err.body, err.headers);
    else ctx.send(err.status, err.body, err.headers);
    return;
  }
  ctx.app.log(`local-gateway: internal error on ${ctx.method} ${ctx.path}: ${err instanceof Error ? err.message : String(err)}`);
  ctx.send(500, { error: 'internal server error' });
}

/**
 * Plays a scripted fault. Returns true when the fault answered the request, false when it only
 * delayed it and normal handling should follow.
 */
async function applyFault(ctx: RequestContext, fault: FaultAction): Promise<boolean> {
  // Parse JSON bodies first so the journal shows what the client sent even when it got a fault.
  if (ctx.contentType.includes('json') && !fault.drop) await ctx.json().catch(() => undefined);
  if (fault.delayMs > 0) {
    const stillThere = await new Promise<boolean>((resolve) => {
      const onClose = (): void => resolve(false);
      ctx.res.once('close', onClose);
      const handle = ctx.app.timers.after(fault.delayMs, () => {
        ctx.res.off('close', onClose);
        resolve(true);
      });
      if (!handle) resolve(false); // gateway already closing
    });
    if (!stillThere) return true;
  }
  if (fault.commit) {
    // Ambiguous commit: the handler runs and applies the change; only its answer is lost.
    failAfterCommit(ctx, fault);
    return false;
  }
  if (fault.drop) {
    // No response at all: the client sees a reset / "socket hang up".
    ctx.req.socket.destroy();
    return true;
  }
  if (fault.malformed) {
    const body = typeof fault.body === 'string' ? fault.body : MALFORMED_BODY;
    ctx.write(fault.status ?? 200, body, { 'content-type': 'application/json; charset=utf-8', ...fault.headers });
    return true;
  }
  if (fault.status !== undefined) {
    const headers = fault.headers;
    if (typeof fault.body === 'string') {
      const looksJson = /^\s*[[{]/.test(fault.body);
      ctx.write(fault.status, fault.body, { 'content-type': looksJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8', ...headers });
    } else {
      const body = fault.body ?? { error: http.STATUS_CODES[fault.status] ?? 'injected fault' };
      ctx.send(fault.status, body, headers);
    }
    return true;
  }
  return false;
}
