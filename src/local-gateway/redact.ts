/**
 * What the control endpoints may show over HTTP. `/__local/state` and `/__local/requests` exist so
 * tests can assert shapes and counts; they never return a variable's value, a password, a bind
 * signature, a token or a token hash. Keys stay (tests assert which variables were sent), values
 * become `[redacted]`. In-process callers that own the gateway object use `inspect()` instead.
 */

import type { RecordedRequest } from './recorder.js';
import type { State } from './store.js';

export const REDACTED = '[redacted]';

/** Fields whose value is a map of variables: keep the names, hide the values. */
const VARIABLE_MAPS = new Set(['variables', 'runtime_variables', 'build_variables', 'env_vars', 'env']);
/** Fields that are secrets in themselves. */
const SECRET_FIELDS = new Set(['password', 'bind_sig', 'api_key', 'token', 'secret', 'token_sha256', 'key_sha256', 'claim_url']);
/** Values shorter than this are not searched for in log text (they would match everywhere). */
const MIN_SCRUB_LENGTH = 6;

function redactValue(key: string, value: unknown): unknown {
  if (SECRET_FIELDS.has(key)) return REDACTED;
  if (VARIABLE_MAPS.has(key)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.keys(value).map((name) => [name, REDACTED]));
    }
    // Deployments keep their variables as a JSON string.
    return typeof value === 'string' && value !== '' ? REDACTED : value;
  }
  // A git URL may carry a token as its user info (https://user:TOKEN@host/...).
  if (typeof value === 'string' && key.endsWith('url')) return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, `$1${REDACTED}@`);
  return redactTree(value);
}

/** A deep copy of `value` with every secret field and variable value replaced. */
export function redactTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => redactTree(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactValue(key, inner)]));
  }
  return value;
}

/** Every variable value the state holds (services, deployments, databases), for scrubbing text. */
function knownValues(state: State): string[] {
  const values = new Set<string>();
  const add = (map: unknown): void => {
    if (map === null || typeof map !== 'object') return;
    for (const value of Object.values(map)) if (typeof value === 'string' && value.length >= MIN_SCRUB_LENGTH) values.add(value);
  };
  for (const service of state.services) {
    add(service.runtime_variables);
    add(service.build_variables);
  }
  for (const dependency of state.dependencies) add(dependency.env_vars);
  // Longest first, so a value that contains another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

function scrub(text: string, values: string[]): string {
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/** The state as `/__local/state` shows it: no HMAC secret, no hashes, no values, no signatures. */
export function redactState(state: State): Record<string, unknown> {
  const { secret: _secret, logs, ...rest } = state;
  const values = knownValues(state);
  // App output may print a variable (a connection URL in a startup line): scrub known values.
  const scrubbedLogs = Object.fromEntries(
    Object.entries(logs).map(([id, lines]) => [id, lines.map((line) => ({ ...line, message: scrub(line.message, values) }))]),
  );
  const shown = redactTree(rest) as Record<string, unknown>;
  // Secret fields are dropped rather than shown as [redacted], as the dump always did for hashes.
  shown['agents'] = (shown['agents'] as Array<Record<string, unknown>>).map(({ token_sha256: _h, bind_sig: _s, ...agent }) => agent);
  const { key_sha256: _k, ...user } = shown['user'] as Record<string, unknown>;
  shown['user'] = user;
  return { ...shown, logs: scrubbedLogs };
}

/** The request journal as `/__local/requests` shows it: bodies keep their keys, not their secrets. */
export function redactRequests(entries: readonly RecordedRequest[]): RecordedRequest[] {
  return entries.map((entry) => (entry.json === undefined ? { ...entry } : { ...entry, json: redactTree(entry.json) }));
}
