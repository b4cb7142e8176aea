import { randomInt } from 'node:crypto';
import { OdError } from '../core/errors.js';
import type { GatewayClient, ServiceDomain } from '../gateway/index.js';
import { sleep } from '../core/sleep.js';

/** Labels the platform keeps for itself; the gateway rejects them too, this just fails faster. */
export const RESERVED_SUBDOMAINS = new Set([
  'www', 'api', 'admin', 'dashboard', 'console', 'billing', 'login', 'auth', 'status', 'health',
  'ingress', 'registry', 'monitor', 'grafana', 'root', 'ns1', 'ns2', 'mx', 'mail', 'smtp',
  'staging', 'dev', 'prod', 'production', 'internal', 'system', 'metrics', 'prometheus', 'logs',
]);

const SUBDOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** Local validation of an auto-domain prefix: 2–32 chars of [a-z0-9-], no edge hyphens, not reserved. */
export function validateSubdomain(prefix: string): void {
  if (prefix.length < 2 || prefix.length > 32 || !SUBDOMAIN_PATTERN.test(prefix)) {
    throw new OdError('invalid_input', `"${prefix}" is not a valid subdomain: use 2–32 lowercase letters, digits or hyphens, not starting or ending with a hyphen.`, {
      nextAction: 'Pick another --subdomain, e.g. my-app.',
    });
  }
  if (RESERVED_SUBDOMAINS.has(prefix)) {
    throw new OdError('invalid_input', `"${prefix}" is reserved by the platform.`, { nextAction: `Pick another --subdomain, e.g. ${prefix}-app.` });
  }
}

const STATUS_RANK: Record<string, number> = { active: 0, verified: 1, pending: 2 };

/** The service's auto domain; several rows → the non-failed one, active > verified > pending. */
export function chooseAutoDomain(domains: ServiceDomain[]): ServiceDomain | undefined {
  return domains
    .filter((domain) => (domain.type ?? 'auto') === 'auto' && domain.status !== 'failed')
    .sort((a, b) => (STATUS_RANK[a.status ?? ''] ?? 9) - (STATUS_RANK[b.status ?? ''] ?? 9))[0];
}

/** The auto row is written shortly after a deployment succeeds, so poll for it (bounded). */
export async function waitForAutoDomain(
  client: GatewayClient,
  serviceId: string,
  environment: string,
  waitMs: number,
  signal: AbortSignal,
): Promise<ServiceDomain | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const domain = chooseAutoDomain(await client.listServiceDomains(serviceId, { environment, type: 'auto' }));
    if (domain) return domain;
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(1000, Math.max(100, waitMs / 30)), signal);
  }
}

/** The URL of a domain row: an explicit scheme is kept; `*.localhost` (the local gateway) is plain http. */
export function urlOf(domain: ServiceDomain): string {
  const host = domain.domain ?? domain.url ?? '';
  if (/^https?:\/\//.test(host)) return host;
  return /^(?:[^/:]+\.)?localhost(?::\d+)?$/i.test(host) ? `http://${host}` : `https://${host}`;
}

function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 4; i += 1) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A taken prefix gets a 4-char suffix, trimmed so the result still fits in 32 chars. */
export function withSuffix(prefix: string, suffix = randomSuffix()): string {
  return `${prefix.slice(0, 27).replace(/-+$/, '')}-${suffix}`;
}

export interface RenameOptions {
  /**
   * An explicit rename (`opendeploy domain rename`): a taken prefix is a `conflict` error instead of
   * being retried with a 4-char suffix.
   */
  strict?: boolean;
}

/**
 * Checks, renames, and on a collision (409 or "taken") tries once more with a 4-char suffix (unless
 * `strict`). Returns the renamed row as read back from the gateway.
 */
export async function renameAutoDomain(
  client: GatewayClient,
  domain: ServiceDomain,
  prefix: string,
  options: RenameOptions = {},
): Promise<{ domain: ServiceDomain; prefix: string; suffixed: boolean }> {
  validateSubdomain(prefix);
  const attempt = async (candidate: string): Promise<ServiceDomain | 'taken'> => {
    const check = await client.checkSubdomain(candidate);
    if (!check.available) {
      if (check.reason === 'reserved') {
        throw new OdError('invalid_input', `"${candidate}" is reserved by the platform.`, { nextAction: 'Pick another subdomain.' });
      }
      return 'taken';
    }
    try {
      return await client.renameSubdomain(domain.id, candidate);
    } catch (error) {
      if (error instanceof OdError && error.code === 'conflict') return 'taken';
      throw error;
    }
  };
  let candidate = prefix;
  let renamed = await attempt(candidate);
  let suffixed = false;
  if (renamed === 'taken' && options.strict) {
    throw new OdError('conflict', `The subdomain "${prefix}" is already taken.`, {
      nextAction: 'Pick another prefix (check it first with `opendeploy domain check <prefix>`).',
      details: { subdomain: prefix },
    });
  }
  if (renamed === 'taken') {
    candidate = withSuffix(prefix);
    suffixed = true;
    renamed = await attempt(candidate);
    if (renamed === 'taken') {
      throw new OdError('conflict', `The subdomains "${prefix}" and "${candidate}" are both taken.`, {
        nextAction: 'Pick another subdomain with `opendeploy domain rename <prefix>`.',
      });
    }
  }
  // Read back: the rename is only reported once the gateway shows it.
  const rows = await client.listServiceDomains(domain.service_id ?? '', {});
  const confirmed = rows.find((row) => row.id === domain.id) ?? renamed;
  const host = confirmed.domain ?? '';
  if (!host.startsWith(`${candidate}.`)) {
    throw new OdError('server_error', `The gateway accepted the rename to "${candidate}" but still reports ${host}.`, {
      nextAction: 'Run `opendeploy status` in a minute to check again.',
    });
  }
  return { domain: confirmed, prefix: candidate, suffixed };
}
