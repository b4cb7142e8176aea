/**
 * Gateway failures → OdError. The only place that knows which HTTP status and which body code means
 * which error of the closed set. All server text goes through scrubText/excerpt; a body that is
 * sensitive (register, decrypted env, service specs, anything holding `api_key`) is never quoted.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { OdError } from '../core/errors.js';
import { excerpt, redact, scrubText } from '../core/redact.js';

export interface HttpFailure {
  method: string;
  /** Path relative to the gateway base, without query (e.g. `/v1/projects/`). */
  route: string;
  status: number;
  headers: IncomingHttpHeaders;
  bodyText: string;
  /** The response may hold secrets: never quote it. */
  sensitive?: boolean;
  /** Base URL for messages (already stripped of userinfo). */
  gateway: string;
}

type Body = Record<string, unknown>;

function parseBody(text: string): Body | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Body) : undefined;
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * True when a body must never be quoted: it carries a credential, or a variables map (a service's
 * or a deployment's `runtime_variables`/`build_variables` snapshot, a database's `env_vars`), whose
 * values are secrets the client has not seen yet and so cannot scrub.
 */
export function bodyIsSensitive(text: string): boolean {
  return /api_key|bind_sig|private_key|runtime_variables|build_variables|env_vars/i.test(text);
}

/** A short, scrubbed quote of a body, or a note that it was withheld. */
export function safeExcerpt(text: string, sensitive = false, max = 200): string {
  if (text.trim() === '') return '[empty body]';
  if (sensitive || bodyIsSensitive(text)) return '[response body withheld: it may contain secrets]';
  const clean = excerpt(text, max).replace(/[.\s]+$/, '');
  return clean === '' ? '[empty body]' : clean;
}

/** The server's own explanation: `message`, `error_message`, `error`, or a body excerpt. */
function serverText(body: Body | undefined, f: HttpFailure): string {
  if (body) {
    const parts = [str(body.message), str(body.error_message), str(body.error)].filter(
      (p): p is string => p !== undefined,
    );
    const unique = [...new Set(parts)];
    if (unique.length > 0) {
      const joined = unique.slice(0, 2).join(': ');
      return f.sensitive || bodyIsSensitive(joined) ? '[withheld]' : excerpt(joined, 200).replace(/[.!\s]+$/, '');
    }
  }
  return safeExcerpt(f.bodyText, f.sensitive);
}

/** Machine codes named by the body (`error_code` first, then the legacy `error`), lower-cased. */
function bodyCodes(body: Body | undefined): string[] {
  if (!body) return [];
  return [str(body.error_code), str(body.error), str(body.reason)]
    .filter((c): c is string => c !== undefined)
    .map((c) => c.toLowerCase());
}

/** Retry-After in seconds from the header (delta-seconds or HTTP date) or the body. */
export function retryAfterSeconds(headers: IncomingHttpHeaders, body?: Body): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value !== undefined && value.trim() !== '') {
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  }
  for (const key of ['retry_after_seconds', 'retry_after']) {
    const v = body?.[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.ceil(v);
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

/** "45 seconds", "59 minutes", "3 hours". */
export function humanDuration(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 90) return plural(Math.max(0, Math.round(seconds)), 'second');
  if (seconds < 2 * 3600) return plural(Math.ceil(seconds / 60), 'minute');
  return plural(Math.ceil(seconds / 3600), 'hour');
}

/** Dashboard host: the gateway base without its trailing `/api`. */
export function dashboardUrl(gateway: string): string {
  return gateway.replace(/\/api$/, '');
}

/** The gateway's own sentence for a 401 (its `message`, not the machine code), unless withheld. */
function rejectionReason(body: Body | undefined, fallback: string): { reason?: string } {
  if (fallback === '[withheld]' || fallback === '[empty body]') return {};
  const own = str(body?.message) ?? str(body?.error_message);
  return { reason: own === undefined ? fallback : excerpt(own, 200).replace(/[.!\s]+$/, '') };
}

/** The hosted dashboard (the one with account pages); local and self-run gateways have none. */
function isHostedDashboard(gateway: string): boolean {
  try {
    return new URL(gateway).hostname === 'dashboard.dev.opendeploy.dev';
  } catch {
    return false;
  }
}

function fmtValue(value: unknown): string {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return scrubText(JSON.stringify(value) ?? 'unknown');
}

function isRegister(route: string): boolean {
  return /\/client-(agents|guests)\/register$/.test(route);
}

function quotaFromFieldBody(f: HttpFailure, body: Body, code: string): OdError {
  const field = str(body.field);
  const requested = body.requested;
  const limit = body.limit;
  const details: Record<string, unknown> = { error_code: code, route: `${f.method} ${f.route}` };
  let message: string;
  let nextAction: string;
  if (field !== undefined) {
    details.field = field;
    details.requested = requested;
    details.limit = limit;
    message =
      `The gateway refused ${field}=${fmtValue(requested)}: ` +
      `the limit for an unclaimed credential is ${fmtValue(limit)}.`;
    nextAction =
      `Bind this credential to an account with the claim URL (or use a dashboard token) to lift the limit, ` +
      `or lower ${field} to ${fmtValue(limit)} or less.`;
  } else {
    message = `The gateway refused ${f.method} ${f.route}: the request exceeds the limits of an unclaimed credential (${serverText(body, f)}).`;
    nextAction = 'Bind this credential to an account with the claim URL (or use a dashboard token) to lift the limits.';
  }
  return new OdError('quota_exceeded', message, { status: f.status, retryable: false, nextAction, details });
}

function quotaFromResources(f: HttpFailure, body: Body): OdError {
  const list = Array.isArray(body.exceeded_resources) ? body.exceeded_resources : [];
  const described = list.map((item) => {
    if (item === null || typeof item !== 'object') return fmtValue(item);
    const r = item as Body;
    const name = str(r.resource_type) ?? str(r.name) ?? 'resource';
    const unit = str(r.unit) ? ` ${scrubText(String(r.unit))}` : '';
    const parts: string[] = [];
    if (r.current !== undefined) parts.push(`current ${fmtValue(r.current)}${unit}`);
    if (r.requested !== undefined) parts.push(`requested ${fmtValue(r.requested)}${unit}`);
    if (r.limit !== undefined) parts.push(`limit ${fmtValue(r.limit)}${unit}`);
    return parts.length > 0 ? `${scrubText(name)} (${parts.join(', ')})` : scrubText(name);
  });
  const what =
    described.length > 0
      ? `the plan quota is exhausted for ${described.join('; ')}`
      : `the plan quota is exhausted (the gateway did not name the resource)`;
  return new OdError('quota_exceeded', `The gateway refused ${f.method} ${f.route}: ${what}.`, {
    status: f.status,
    retryable: false,
    nextAction: `Upgrade the plan at ${dashboardUrl(f.gateway)}/settings, or reduce what the deploy asks for.`,
    details: redact({
      route: `${f.method} ${f.route}`,
      exceeded_resources: list,
      available_addons: Array.isArray(body.available_addons) ? body.available_addons : undefined,
    }) as Record<string, unknown>,
  });
}

/** Selected, scrubbed body fields worth keeping in `details`. */
function pickDetails(body: Body | undefined, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!body) return out;
  for (const key of keys) {
    if (body[key] !== undefined && body[key] !== null) out[key] = redact(body[key]);
  }
  return out;
}

/** Maps a non-2xx, non-redirect gateway response to an OdError. */
export function mapHttpError(f: HttpFailure): OdError {
  const body = parseBody(f.bodyText);
  const codes = bodyCodes(body);
  const has = (code: string) => codes.includes(code);
  const routeName = `${f.method} ${f.route}`;
  const text = () => serverText(body, f);
  /** `<prefix>: <server text>.` — or just `<prefix>.` when the server said nothing. */
  const said = (prefix: string) => {
    const t = text();
    return t === '[empty body]' ? `${prefix}.` : `${prefix}: ${t}.`;
  };
  const baseDetails = (): Record<string, unknown> => ({
    route: routeName,
    ...pickDetails(body, ['error_code', 'error', 'next_action']),
  });

  // Body codes that mean the same thing whatever the status.
  if (has('bind_required')) {
    return new OdError('bind_required', `This credential is not bound to an account yet, so the gateway refused ${routeName}.`, {
      status: f.status,
      retryable: false,
      nextAction: 'Open the claim URL (see `opendeploy auth status`), sign in to bind the credential, then re-run.',
      details: baseDetails(),
    });
  }
  if (has('agent_quota_exceeded') || has('guest_quota_exceeded')) {
    return quotaFromFieldBody(f, body ?? {}, codes.find((c) => c === 'agent_quota_exceeded' || c === 'guest_quota_exceeded') ?? 'agent_quota_exceeded');
  }
  if (has('consent_required')) {
    return new OdError('consent_required', said(`The gateway requires explicit consent for ${routeName}`), {
      status: f.status,
      retryable: false,
      nextAction: 'Confirm the action (re-run with --yes) once you are sure you want it.',
      details: { ...baseDetails(), ...pickDetails(body, ['kind', 'consent_kind']) },
    });
  }

  const status = f.status;
  if (status === 401) {
    return new OdError('auth_invalid', said(`The gateway rejected the credential (401) on ${routeName}`), {
      status,
      retryable: false,
      // Only the hosted dashboard has an API-keys page; never send the user to one that does not exist.
      nextAction: isHostedDashboard(f.gateway)
        ? `Replace the api_key in auth.json (or OPENDEPLOY_TOKEN) with a valid token from ${dashboardUrl(f.gateway)}/account/api-keys; ` +
          'opendeploy never deletes auth.json by itself.'
        : `Replace the api_key in auth.json (or OPENDEPLOY_TOKEN) with a token issued by ${f.gateway}; opendeploy never deletes auth.json by itself.`,
      // The gateway's own reason, so callers that reword the error can still pass it on.
      details: { ...baseDetails(), ...rejectionReason(body, text()) },
    });
  }
  if (status === 403) {
    if (has('agent_delete_forbidden')) {
      return new OdError('invalid_input', `The gateway refuses deletes made with an API token (${routeName}).`, {
        status,
        retryable: false,
        nextAction: `Delete it from the dashboard at ${dashboardUrl(f.gateway)} instead.`,
        details: baseDetails(),
      });
    }
    if (body && Array.isArray(body.exceeded_resources)) return quotaFromResources(f, body);
    if (has('subscription_required') || has('quota_exceeded') || /quota|subscription/i.test(str(body?.error) ?? '')) {
      return quotaFromResources(f, body ?? {});
    }
    // Plain forbidden: this credential may not touch that resource. That is a credential problem
    // (wrong account, or a pending credential reading something it does not own) → auth_invalid.
    return new OdError('auth_invalid', said(`The gateway refused ${routeName} for this credential (403)`), {
      status,
      retryable: false,
      nextAction:
        'Check that this credential owns the project (`opendeploy auth status`), or use a dashboard token of the owning account.',
      details: baseDetails(),
    });
  }
  if (status === 404) {
    return new OdError('not_found', said(`The gateway has no ${routeName} (404)`), {
      status,
      retryable: false,
      nextAction: 'Check the id; the resource may have been deleted or garbage-collected (unbound credentials: after 6 idle hours).',
      details: baseDetails(),
    });
  }
  if (status === 409) {
    const retryAfter = retryAfterSeconds(f.headers, body);
    const details: Record<string, unknown> = {
      ...baseDetails(),
      ...pickDetails(body, ['project_id', 'source_status', 'missing_parts']),
    };
    if (retryAfter !== undefined) details.retry_after = retryAfter;
    const projectId = str(body?.project_id);
    const nextAction = projectId
      ? `Reuse the existing project ${scrubText(projectId)}, wait for it to be garbage-collected, or bind the credential and use a dashboard token.`
      : retryAfter !== undefined
        ? `Wait ${humanDuration(retryAfter)} and try again.`
        : 'Resolve the conflict (pick another name, or reuse the existing resource) and re-run.';
    return new OdError('conflict', said(`The gateway reported a conflict on ${routeName}`), {
      status,
      retryable: retryAfter !== undefined,
      nextAction,
      details,
    });
  }
  if (status === 429) {
    const retryAfter = retryAfterSeconds(f.headers, body);
    const when = retryAfter !== undefined ? `try again in ${humanDuration(retryAfter)}` : 'try again later';
    const details: Record<string, unknown> = baseDetails();
    if (retryAfter !== undefined) details.retry_after_seconds = retryAfter;
    const register = isRegister(f.route);
    return new OdError(
      'rate_limited',
      register
        ? `The gateway is rate-limiting new credentials from this network: ${when}.`
        : `The gateway is rate-limiting ${routeName}: ${when}.`,
      {
        status,
        retryable: true,
        nextAction: register
          ? 'Wait and run once more, or use a dashboard token (OPENDEPLOY_TOKEN) instead of registering a new credential; repeated attempts extend the cooldown.'
          : `Wait ${retryAfter !== undefined ? humanDuration(retryAfter) : 'a while'} and re-run.`,
        details,
      },
    );
  }
  if (status === 400 || status === 422) {
    const t = text();
    if (/\/upload\/update-source$/.test(f.route) && /not found or expired|expired/i.test(t)) {
      return new OdError('server_error', `The gateway no longer has the uploaded archive (${routeName}): ${t}.`, {
        status,
        retryable: true,
        nextAction: 'Re-upload the source (opendeploy does this on re-run) and bind it again.',
        details: { ...baseDetails(), reason: 'temp_file_expired' },
      });
    }
    return new OdError('invalid_input', said(`The gateway rejected ${routeName} (${status})`), {
      status,
      retryable: false,
      nextAction: 'Fix the named input and re-run; if opendeploy built this request itself, please report it.',
      details: {
        ...baseDetails(),
        ...pickDetails(body, [
          'error_message',
          'available_branches',
          'default_branch',
          'extraction_error',
          'source_status',
          'field',
        ]),
      },
    });
  }
  if (status === 413) {
    return new OdError('invalid_input', `The gateway refused ${routeName}: the request body is too large (413).`, {
      status,
      retryable: false,
      nextAction: 'Make the archive smaller (check the ignore rules) and re-run.',
      details: baseDetails(),
    });
  }
  if (status >= 500) {
    return new OdError('server_error', said(`The gateway returned ${status} for ${routeName}`), {
      status,
      retryable: true,
      nextAction:
        f.method === 'GET'
          ? 'Wait a moment and re-run; if it keeps failing, the platform is degraded.'
          : 'The change may or may not have been applied; re-run and opendeploy reads back before creating anything again.',
      details: { ...baseDetails(), ambiguous: f.method !== 'GET' },
    });
  }
  if (status >= 300 && status < 400) {
    return new OdError('server_error', `The gateway answered ${routeName} with a ${status} redirect without a Location.`, {
      status,
      retryable: false,
      nextAction: 'Check OD_GATEWAY (it must include the /api suffix) and re-run.',
      details: baseDetails(),
    });
  }
  return new OdError('invalid_input', said(`The gateway rejected ${routeName} (${status})`), {
    status,
    retryable: false,
    nextAction: 'Fix the request and re-run; if opendeploy built this request itself, please report it.',
    details: baseDetails(),
  });
}

/** A 2xx body that did not match its schema (or was not JSON). */
export function malformedResponse(args: {
  method: string;
  route: string;
  status: number;
  problem: string;
  bodyText: string;
  sensitive?: boolean;
}): OdError {
  const quote = safeExcerpt(args.bodyText, args.sensitive);
  return new OdError(
    'server_error',
    `The gateway sent an unexpected response for ${args.method} ${args.route} (${scrubText(args.problem)}): ${quote}`,
    {
      status: args.status,
      retryable: false,
      nextAction: 'Check that OD_GATEWAY points at an OpenDeploy gateway (with the /api suffix); if it does, report this response.',
      details: { route: `${args.method} ${args.route}`, problem: scrubText(args.problem), excerpt: quote },
    },
  );
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETDOWN: 'network down',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response in time',
  UND_ERR_BODY_TIMEOUT: 'the response stalled',
  UND_ERR_RESPONSE_STATUS_CODE: 'unexpected response',
};

/** Whether a request surely never reached the server (so a POST cannot have been applied). */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && e.code !== 'UND_ERR' && (e.code in NETWORK_REASONS || /^(E[A-Z]+|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(e.code))) {
    return e.code;
  }
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner, depth + 1);
      if (c) return c;
    }
  }
  const fromCause = errorCode(e.cause, depth + 1);
  if (fromCause) return fromCause;
  return typeof e.code === 'string' ? e.code : undefined;
}

/** True for errors that are a network/transport failure (as opposed to a bug in our code). */
export function isNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  if (!code) return false;
  return code in NETWORK_REASONS || /^(E[A-Z]+$|ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code);
}

export function networkError(
  err: unknown,
  ctx: { method: string; route: string; gateway: string; timeoutMs?: number; connectTimeoutMs?: number },
): OdError {
  const code = errorCode(err) ?? 'unknown';
  let reason = NETWORK_REASONS[code];
  if (code === 'UND_ERR_CONNECT_TIMEOUT' && ctx.connectTimeoutMs) {
    reason = `connection timed out after ${Math.round(ctx.connectTimeoutMs / 100) / 10}s`;
  } else if (code === 'UND_ERR_HEADERS_TIMEOUT' && ctx.timeoutMs) {
    reason = `no response within ${Math.round(ctx.timeoutMs / 100) / 10}s`;
  } else if (code === 'UND_ERR_BODY_TIMEOUT' && ctx.timeoutMs) {
    reason = `the response stalled for ${Math.round(ctx.timeoutMs / 100) / 10}s`;
  } else if (!reason) {
    reason = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code) ? `TLS error ${code}` : `network error ${code}`;
  }
  const mutation = ctx.method !== 'GET';
  const ambiguous = mutation && !NEVER_SENT.has(code);
  const gateway = scrubText(ctx.gateway);
  const message = ambiguous
    ? `The gateway at ${gateway} did not complete ${ctx.method} ${ctx.route} (${reason}); the change may or may not have been applied.`
    : `Could not reach the gateway at ${gateway} (${reason}).`;
  const nextAction = ambiguous
    ? 'Re-run: opendeploy reads back by name before creating anything again.'
    : 'Check OD_GATEWAY or your network, then re-run.';
  return new OdError('gateway_unreachable', message, {
    retryable: true,
    nextAction,
    details: { route: `${ctx.method} ${ctx.route}`, reason, network_code: code, ambiguous },
    cause: err,
  });
}

export function redirectError(args: {
  method: string;
  route: string;
  status: number;
  location: string;
  crossOrigin: boolean;
}): OdError {
  const to = scrubText(args.location);
  if (args.crossOrigin) {
    return new OdError(
      'internal',
      `The gateway redirected ${args.method} ${args.route} to another origin (${to}); opendeploy never sends its credential elsewhere, so it stopped — please report this.`,
      {
        status: args.status,
        retryable: false,
        nextAction: 'Check that OD_GATEWAY is the gateway URL itself (including /api), not an address that redirects.',
        details: { route: `${args.method} ${args.route}`, location: to, cross_origin: true },
      },
    );
  }
  return new OdError(
    'internal',
    `The gateway redirected ${args.method} ${args.route} to ${to}; opendeploy always uses canonical paths, so this is a bug in opendeploy — please report it.`,
    {
      status: args.status,
      retryable: false,
      nextAction: 'Report this message (run with --verbose for the request log).',
      details: { route: `${args.method} ${args.route}`, location: to, cross_origin: false },
    },
  );
}
