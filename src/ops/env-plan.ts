/**
 * Env changes as plans. Given the variables a service holds now and what was asked for, a plan says
 * what would change (key names only), the question to ask first when the change removes or replaces
 * variables, and what follows it (a redeploy, or nothing until the next deploy). Building a plan is
 * pure — no gateway, no files — so it can be shown as a consent payload, tested by value, and then
 * handed unchanged to `applyEnvPlan` (src/ops/env.ts).
 */
import { OdError } from '../core/errors.js';
import { plural } from '../core/text.js';
import { diffEnv, diffLines, isEmptyDiff, type EnvDiff } from './env-diff.js';

/** Variables a managed database wrote into the service; removing them breaks the connection. */
export const DEPENDENCY_ENV_KEYS = new Set(['DATABASE_URL', 'REDIS_URL', 'MONGODB_URI', 'MYSQL_URL', 'POSTGRES_URL']);

/** What was asked for. Values arrive already read (argv, stdin, a file) and registered as secrets. */
export type EnvRequest =
  /** Merge these keys in; every other key stays. */
  | { kind: 'set'; updates: Record<string, string> }
  /** Remove these keys; each must exist. */
  | { kind: 'unset'; keys: string[] }
  /** The complete new set (keys not in it are removed); `source` names where it came from, for the question. */
  | { kind: 'replace'; variables: Record<string, string>; source: string; redeploy: boolean }
  /** One key set to a freshly generated secret. */
  | { kind: 'generate'; key: string; value: string; redeploy: boolean };

/** The audit name of each operation (the `operation` field of `env.replace` lines). */
export type EnvOperation = 'set' | 'unset' | 'rotate' | 'rotate.generate';

/** A yes/no question to ask before applying: one sentence and the names of what would change. */
export interface EnvConsent {
  action: string;
  changes: string[];
}

export interface EnvPlan {
  operation: EnvOperation;
  service: { id: string; name: string };
  /** The keys the request names, sorted (set: the keys given; unset: the keys removed; generate: the one key). */
  keys: string[];
  /** Key-level change from the current map to the next: names only. */
  diff: EnvDiff;
  /** Nothing would change: applying sends nothing and redeploys nothing. */
  unchanged: boolean;
  /** How many variables the service holds now. */
  countBefore: number;
  /** Asked before applying (removals, full replacements), or null when the change only adds or merges. */
  consent: EnvConsent | null;
  /**
   * What follows a change: `redeploy` deploys the current source so the running app gets the new
   * values; `none` leaves the running deployment on the old values until the next deploy.
   */
  then: 'redeploy' | 'none';
  /** The map held now and the complete map to send: values, for `applyEnvPlan` only, never shown. */
  before: Readonly<Record<string, string>>;
  next: Readonly<Record<string, string>>;
}

type Service = { id: string; name: string };

/** The plan for `request` against `before`, the service's current variables. */
export function planEnvChange(service: Service, before: Record<string, string>, request: EnvRequest): EnvPlan {
  switch (request.kind) {
    case 'set':
      return planSet(service, before, request.updates);
    case 'unset':
      return planUnset(service, before, request.keys);
    case 'replace':
    case 'generate':
      return planRotate(service, before, request);
  }
}

function plan(service: Service, before: Record<string, string>, next: Record<string, string>, fields: Pick<EnvPlan, 'operation' | 'keys' | 'consent' | 'then'>): EnvPlan {
  const diff = diffEnv(before, next);
  const unchanged = isEmptyDiff(diff);
  return {
    operation: fields.operation,
    service: { id: service.id, name: service.name },
    keys: fields.keys,
    diff,
    unchanged,
    countBefore: Object.keys(before).length,
    consent: unchanged ? null : fields.consent,
    then: unchanged ? 'none' : fields.then,
    before: { ...before },
    next,
  };
}

/** A merge only adds or changes keys, so it is not asked about; the running app keeps the old values until a redeploy. */
function planSet(service: Service, before: Record<string, string>, updates: Record<string, string>): EnvPlan {
  return plan(service, before, { ...before, ...updates }, { operation: 'set', keys: Object.keys(updates).sort(), consent: null, then: 'none' });
}

/** Every key must exist (nothing is removed otherwise); removing a database's variable says what it breaks. */
function planUnset(service: Service, before: Record<string, string>, keys: string[]): EnvPlan {
  const wanted = [...new Set(keys)].sort();
  const missing = wanted.filter((key) => !Object.hasOwn(before, key));
  if (missing.length > 0) {
    throw new OdError('not_found', `Service ${service.name} has no variable ${missing.join(', ')}; nothing was changed.`, {
      nextAction: 'Run `opendeploy env list` to see the names it has.',
      details: { service_id: service.id, missing },
    });
  }
  const dependencyKeys = wanted.filter((key) => DEPENDENCY_ENV_KEYS.has(key));
  const next = { ...before };
  for (const key of wanted) delete next[key];
  const connects = dependencyKeys.length ? ` (${dependencyKeys.join(', ')} connect${dependencyKeys.length === 1 ? 's' : ''} the app to its database)` : '';
  return plan(service, before, next, {
    operation: 'unset',
    keys: wanted,
    consent: { action: `Remove ${plural(wanted.length, 'variable')} from service ${service.name}${connects}`, changes: wanted },
    then: 'none',
  });
}

/** A full replacement or a generated secret: always asked about, and (unless declined) followed by a redeploy. */
function planRotate(service: Service, before: Record<string, string>, request: Extract<EnvRequest, { kind: 'replace' | 'generate' }>): EnvPlan {
  const then = request.redeploy ? 'redeploy' : 'none';
  const redeploySuffix = request.redeploy ? ', then redeploy it' : '';
  if (request.kind === 'replace') {
    const next = { ...request.variables };
    const action = `Replace all variables of service ${service.name} with the ${plural(Object.keys(next).length, 'variable')} in ${request.source}${redeploySuffix}`;
    const draft = plan(service, before, next, { operation: 'rotate', keys: Object.keys(next).sort(), consent: null, then });
    return { ...draft, consent: draft.unchanged ? null : { action, changes: diffLines(draft.diff) } };
  }
  const next = { ...before, [request.key]: request.value };
  const action = `${Object.hasOwn(before, request.key) ? 'Replace' : 'Set'} ${request.key} of service ${service.name} with a newly generated secret${redeploySuffix}`;
  const draft = plan(service, before, next, { operation: 'rotate.generate', keys: [request.key], consent: null, then });
  return { ...draft, consent: draft.unchanged ? null : { action, changes: diffLines(draft.diff) } };
}

/**
 * A full replacement with an empty set would remove every variable: refused before anything is
 * read or sent (an empty or comment-only file is far more likely a mistake than the intent).
 */
export function assertReplacementNotEmpty(variables: Record<string, string>, source: string): void {
  if (Object.keys(variables).length === 0) {
    throw new OdError('invalid_input', `${source} holds no variables; a full replacement with it would remove every variable of the service.`, {
      nextAction: 'Check the file. To remove variables, use `opendeploy env unset KEY…`.',
    });
  }
}

/** `env pull`'s plan: where the file goes, and the question to ask when it would overwrite one. */
export interface EnvPullPlan {
  /** Absolute path written. */
  file: string;
  /** The path as shown to the user (relative to the working folder when inside it). */
  shown: string;
  /** Asked when a file is already there; null otherwise. */
  consent: EnvConsent | null;
}

/** Pure: `existing` is what is at `file` now (nothing, a file, a folder). */
export function planEnvPull(file: string, shown: string, existing: 'none' | 'file' | 'folder'): EnvPullPlan {
  if (existing === 'folder') {
    throw new OdError('invalid_input', `${shown} is a folder.`, { nextAction: 'Give the path of a file to write, e.g. `opendeploy env pull .env.local`.' });
  }
  return { file, shown, consent: existing === 'file' ? { action: `Overwrite ${shown} with the service's variables`, changes: [shown] } : null };
}
