/**
 * Scripted faults (`POST /__local/faults`): the next N requests matching `METHOD path` get a
 * canned failure instead of normal handling. This is how the client's no-silent-retry, timeout and
 * malformed-response handling is tested against real sockets.
 */

import { httpError } from './http-error.js';

export interface FaultSpec {
  /** `"POST /api/v1/projects/"`; `:id` segments match any one segment, method `*` matches any. */
  route: string;
  count: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delay_ms?: number;
  drop?: boolean;
  malformed?: boolean;
  /**
   * Ambiguous commit: the request is handled normally (the change is applied), then the answer is
   * replaced by `drop` (connection destroyed, no response) or by `status` (e.g. a 502). Also set by
   * the shorthand kinds `commit-then-drop` and `commit-then-502`.
   */
  commit?: boolean;
  /** Let this many matching requests through untouched before the fault applies (default 0). */
  skip?: number;
}

/** Shorthand fault kinds accepted as `{"kind": …}`: what a client sees when a request commits but the answer is lost. */
const COMMIT_KINDS: Record<string, Pick<FaultSpec, 'commit' | 'drop' | 'status'>> = {
  'commit-then-drop': { commit: true, drop: true },
  'commit-then-502': { commit: true, status: 502 },
};

interface ActiveFault extends FaultSpec {
  id: number;
  method: string;
  segments: string[];
  remaining: number;
  skipping: number;
}

/** What a matching request should experience. */
export interface FaultAction {
  id: number;
  route: string;
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
  delayMs: number;
  drop: boolean;
  malformed: boolean;
  commit: boolean;
}

/** The "not valid JSON for this route" body used when `malformed` has no explicit body. */
export const MALFORMED_BODY = '{"unexpected":true';

export class FaultQueue {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  /** Validates a control-endpoint body; throws a 400 HttpError describing the first problem. */
  static parse(input: Record<string, unknown>): FaultSpec {
    const kind = input['kind'];
    if (kind !== undefined && (typeof kind !== 'string' || !Object.hasOwn(COMMIT_KINDS, kind))) {
      throw httpError(400, `kind must be one of ${Object.keys(COMMIT_KINDS).join(', ')}`);
    }
    const body: Record<string, unknown> = kind === undefined ? input : { ...input, ...COMMIT_KINDS[kind as string] };
    const route = body['route'];
    if (typeof route !== 'string' || !/^[A-Za-z*]+ \/\S*$/.test(route.trim())) {
      throw httpError(400, 'route must look like "POST /api/v1/projects/"');
    }
    const count = body['count'] ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw httpError(400, 'count must be a positive integer');
    }
    const status = body['status'];
    if (status !== undefined && (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)) {
      throw httpError(400, 'status must be an HTTP status code');
    }
    const delay = body['delay_ms'];
    if (delay !== undefined && (typeof delay !== 'number' || delay < 0 || delay > 600_000)) {
      throw httpError(400, 'delay_ms must be between 0 and 600000');
    }
    const headers = body['headers'];
    if (
      headers !== undefined &&
      (typeof headers !== 'object' || headers === null || Array.isArray(headers) ||
        Object.values(headers).some((v) => typeof v !== 'string' && typeof v !== 'number'))
    ) {
      throw httpError(400, 'headers must be an object of strings');
    }
    const spec: FaultSpec = { route: route.trim(), count };
    if (status !== undefined) spec.status = status;
    if (body['body'] !== undefined) spec.body = body['body'];
    if (headers !== undefined) {
      // Lowercased so they merge with (and override) the default headers instead of duplicating them.
      spec.headers = Object.fromEntries(Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)]));
    }
    if (delay !== undefined) spec.delay_ms = delay;
    if (body['drop'] === true) spec.drop = true;
    if (body['malformed'] === true) spec.malformed = true;
    const skip = body['skip'];
    if (skip !== undefined) {
      if (typeof skip !== 'number' || !Number.isInteger(skip) || skip < 0) throw httpError(400, 'skip must be a non-negative integer');
      if (skip > 0) spec.skip = skip;
    }
    if (body['commit'] === true) {
      if (spec.malformed || (!spec.drop && spec.status === undefined)) {
        throw httpError(400, 'commit needs drop or status (what replaces the answer after the change is applied)');
      }
      spec.commit = true;
    }
    if (!spec.status && !spec.delay_ms && !spec.drop && !spec.malformed) {
      throw httpError(400, 'a fault needs at least one of status, delay_ms, drop, malformed');
    }
    return spec;
  }

  add(spec: FaultSpec): number {
    const [method = '', path = ''] = spec.route.split(' ');
    const id = this.nextId++;
    this.faults.push({ ...spec, id, method: method.toUpperCase(), segments: path.split('/'), remaining: spec.count, skipping: spec.skip ?? 0 });
    return id;
  }

  /** Consumes one use of the first fault matching this request, if any. */
  take(method: string, path: string): FaultAction | null {
    const segments = path.split('/');
    const fault = this.faults.find((f) => f.remaining > 0 && (f.method === '*' || f.method === method) && segmentsMatch(f.segments, segments));
    if (!fault) return null;
    if (fault.skipping > 0) {
      fault.skipping -= 1;
      return null;
    }
    fault.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    const action: FaultAction = {
      id: fault.id,
      route: fault.route,
      headers: fault.headers ?? {},
      delayMs: fault.delay_ms ?? 0,
      drop: fault.drop === true,
      malformed: fault.malformed === true,
      commit: fault.commit === true,
    };
    if (fault.status !== undefined) action.status = fault.status;
    if (fault.body !== undefined) action.body = fault.body;
    return action;
  }

  pending(): Array<FaultSpec & { id: number; remaining: number }> {
    return this.faults.map(({ id, route, count, remaining, status, body, headers, delay_ms, drop, malformed, commit, skip }) => ({
      id, route, count, remaining, status, body, headers, delay_ms, drop, malformed, commit, skip,
    }));
  }

  clear(): void {
    this.faults = [];
  }
}

function segmentsMatch(pattern: string[], actual: string[]): boolean {
  if (pattern.length !== actual.length) return false;
  return pattern.every((p, i) => p === actual[i] || (p.startsWith(':') && actual[i] !== '') || p === '*');
}
