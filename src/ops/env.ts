/**
 * Runtime variables of one service: read, full-replace and verify.
 *
 * The gateway has only GET and a full-replace PUT (`omitted keys are deleted`), so every change is
 * GET → compute the whole next map → PUT the whole map → GET again and compare. Values are
 * registered as secrets the moment they are read or produced, so no reporter or audit line can
 * show them; the audit log gets key names and counts only.
 */
import { randomBytes } from 'node:crypto';
import { OdError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { OpsTarget } from './target.js';
import { diffEnv, type EnvDiff } from './env-diff.js';

/** What JSON output shows instead of a value unless --show-secrets was given. */
export const REDACTED_JSON = '<redacted>';
/** What human output shows instead of a value. */
export const REDACTED_HUMAN = '••••••';

/** Variables a managed database wrote into the service; removing them breaks the connection. */
export const DEPENDENCY_ENV_KEYS = new Set(['DATABASE_URL', 'REDIS_URL', 'MONGODB_URI', 'MYSQL_URL', 'POSTGRES_URL']);

export function targetService(target: OpsTarget): { id: string; name: string } {
  if (!target.service) throw new OdError('internal', 'No service was resolved for an env operation.');
  return target.service;
}

/** GET the decrypted map; every value is registered as a secret before it is returned. */
export async function readEnv(target: OpsTarget): Promise<Record<string, string>> {
  const service = targetService(target);
  const variables = await target.client.getEnv(target.projectId, service.id);
  for (const value of Object.values(variables)) registerSecret(value);
  return variables;
}

export interface ReplaceOutcome {
  diff: EnvDiff;
  /** Number of variables the service holds afterwards (as read back). */
  count: number;
  /** Keys the read-back shows that were not in the map we sent (another writer). */
  unexpected: string[];
}

/**
 * PUTs the full `next` map and proves it arrived: every key of `next` must read back with exactly
 * the value sent, and every key removed must be gone. Values are compared, never shown: a
 * mismatch names the keys only.
 */
export async function replaceEnv(target: OpsTarget, before: Record<string, string>, next: Record<string, string>, operation: string): Promise<ReplaceOutcome> {
  const service = targetService(target);
  for (const value of Object.values(next)) registerSecret(value);
  const diff = diffEnv(before, next);
  const names = {
    keys_added: diff.added,
    keys_removed: diff.removed,
    keys_changed: diff.changed,
  };
  try {
    await target.client.putEnv(target.projectId, service.id, next);
  } catch (error) {
    if (error instanceof OdError) {
      target.audit.error('env.replace', { project_id: target.projectId, service_id: service.id, operation, ...names, error_code: error.code, status: error.status ?? null });
    }
    throw error;
  }

  const readBack = await readEnv(target);
  const mismatched = Object.keys(next).filter((key) => readBack[key] !== next[key]).sort();
  const stillThere = diff.removed.filter((key) => Object.hasOwn(readBack, key));
  const unexpected = Object.keys(readBack).filter((key) => !Object.hasOwn(next, key)).sort();
  if (mismatched.length > 0 || stillThere.length > 0) {
    target.audit.error('env.replace', { project_id: target.projectId, service_id: service.id, operation, ...names, verified: false, mismatched, still_present: stillThere });
    const parts = [
      ...(mismatched.length ? [`${mismatched.join(', ')} did not read back with the value sent`] : []),
      ...(stillThere.length ? [`${stillThere.join(', ')} ${stillThere.length === 1 ? 'is' : 'are'} still present`] : []),
    ];
    throw new OdError('server_error', `The gateway accepted the new variables of service ${service.name}, but reading them back shows that ${parts.join(' and ')}.`, {
      retryable: true,
      nextAction: 'Run `opendeploy env list` to see the current names, then repeat the change once.',
      details: { service_id: service.id, mismatched, still_present: stillThere },
    });
  }
  target.audit.info('env.replace', {
    project_id: target.projectId,
    service_id: service.id,
    operation,
    ...names,
    count: Object.keys(readBack).length,
    verified: true,
  });
  return { diff, count: Object.keys(readBack).length, unexpected };
}

/** A strong random secret for `env rotate KEY --generate`: 32 random bytes, base64url (43 chars). */
export function generateSecret(): string {
  const value = randomBytes(32).toString('base64url');
  registerSecret(value);
  return value;
}

/** Sorted copy of a map with every value replaced by the redaction marker (or kept, when revealing). */
export function presentVariables(variables: Record<string, string>, reveal: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(variables).sort()) out[key] = reveal ? variables[key]! : REDACTED_JSON;
  return out;
}
