/**
 * `opendeploy domain check <prefix>` and `opendeploy domain rename <prefix>`: the service's
 * generated (auto) domain. Renames are production-only on the platform; an explicit rename never
 * picks a suffixed name by itself — a taken prefix is a `conflict`.
 */
import { OdError } from '../core/errors.js';
import type { Environment } from '../deploy/context.js';
import { writeProjectState } from '../deploy/state.js';
import { RESERVED_SUBDOMAINS, renameAutoDomain, urlOf, validateSubdomain, waitForAutoDomain } from '../deploy/subdomain.js';
import type { OpsTarget } from './target.js';

/** How long to look for the generated domain row (it appears shortly after the first success). */
const DOMAIN_WAIT_MS = 10_000;
const PRODUCTION_SUFFIX = 'opendeploy.run';

export interface DomainCheckResult {
  subdomain: string;
  domain: string;
  available: boolean;
  /** `taken` or `reserved` when not available. */
  reason: string | null;
  [key: string]: unknown;
}

export interface DomainRenameResult {
  status: 'success';
  project_id: string;
  service_id: string;
  domain_id: string;
  subdomain: string;
  url: string;
  previous_url: string;
  /** False when the domain already had this prefix (nothing was sent). */
  changed: boolean;
  [key: string]: unknown;
}

/**
 * Local check before anything is resolved or sent: 2–32 chars of a-z 0-9 -, no edge hyphen, not
 * reserved. For `check`, a reserved name is an answer ("reserved"), not an error.
 */
export function validatePrefix(prefix: string, options: { allowReserved: boolean }): void {
  if (options.allowReserved && RESERVED_SUBDOMAINS.has(prefix)) return;
  try {
    validateSubdomain(prefix);
  } catch (error) {
    if (!(error instanceof OdError)) throw error;
    throw new OdError(error.code, error.message, {
      nextAction: RESERVED_SUBDOMAINS.has(prefix) ? `Pick another prefix, e.g. ${prefix}-app.` : 'Pick another prefix, e.g. my-app.',
      details: { subdomain: prefix },
    });
  }
}

/** Renames are production-only on the backend (staging answers 400): refuse before any request. */
export function assertProductionForRename(environment: Environment, prefix: string): void {
  if (environment !== 'production') {
    throw new OdError('invalid_input', `Subdomain renames are production-only on OpenDeploy; this folder targets ${environment}, whose generated domain cannot be renamed (asked for "${prefix}").`, {
      nextAction: `Run it against production: opendeploy domain rename ${prefix} --env production`,
      details: { environment },
    });
  }
}

/** `<label>.localhost` or `<label>.localhost:<port>`: a name the local gateway serves an app under. */
const LOCAL_HOST = /^[a-z0-9-]+\.(localhost(?::\d+)?)$/i;

/**
 * The name a prefix stands for on the gateway the target uses: `<prefix>.opendeploy.run` on the
 * hosted one; on the local gateway `<prefix>.localhost:<port>`, as the local gateway serves its apps
 * (the port only when a gateway keeps running: one started for this command alone has a port that
 * dies with it). What the local gateway already serves decides: a simulated one keeps the hosted
 * names, so a local project whose domains are `*.opendeploy.run` keeps that suffix.
 */
async function suffixFor(target: OpsTarget): Promise<{ suffix: string; local: boolean }> {
  if (!target.embedded) return { suffix: PRODUCTION_SUFFIX, local: false };
  const services = await target.client.listServices(target.projectId);
  for (const service of services) {
    const domains = await target.client.listServiceDomains(service.id, { environment: 'production', type: 'auto' });
    const host = domains.map((d) => d.domain ?? '').find((name) => name !== '');
    if (host === undefined) continue;
    const local = LOCAL_HOST.exec(host);
    if (!local) return { suffix: PRODUCTION_SUFFIX, local: false };
    return { suffix: target.embedded.background === true ? local[1]! : 'localhost', local: true };
  }
  const port = new URL(target.gatewayUrl).port;
  return { suffix: target.embedded.background === true && port !== '' ? `localhost:${port}` : 'localhost', local: true };
}

export async function checkDomain(target: OpsTarget, prefix: string): Promise<DomainCheckResult> {
  const { suffix, local } = await suffixFor(target);
  const domain = `${prefix}.${suffix}`;
  // `local` tells people (and programs) that the name is one of this machine's, not opendeploy.run.
  const where = local ? { local: true } : {};
  if (RESERVED_SUBDOMAINS.has(prefix)) return { subdomain: prefix, domain, available: false, reason: 'reserved', ...where };
  const answer = await target.client.checkSubdomain(prefix);
  return {
    subdomain: prefix,
    domain,
    available: answer.available,
    reason: answer.available ? null : (answer.reason ?? 'taken'),
    ...where,
  };
}

export function humanCheck(result: DomainCheckResult): string[] {
  if (result.local === true) {
    // A name without a port belongs to a gateway that is not running: it gets its port when started.
    const name = result.domain.includes(':') ? result.domain : `${result.domain}:<port of the local gateway>`;
    if (result.available) return [`${name} is free on this machine's local gateway (claim it with \`opendeploy domain rename ${result.subdomain}\`).`];
    if (result.reason === 'reserved') return [`${name} is reserved for the platform, here too; pick another prefix.`];
    return [`${name} is ${result.reason ?? 'taken'} on this machine's local gateway; pick another prefix.`];
  }
  if (result.available) return [`${result.domain} is available (claim it with \`opendeploy domain rename ${result.subdomain}\`).`];
  if (result.reason === 'reserved') return [`${result.domain} is reserved by the platform; pick another prefix.`];
  return [`${result.domain} is ${result.reason ?? 'taken'}; pick another prefix.`];
}

export async function renameDomain(target: OpsTarget, prefix: string, signal: AbortSignal): Promise<DomainRenameResult> {
  const service = target.service;
  if (!service) throw new OdError('internal', 'domain rename needs a resolved service.');
  const ids = { project_id: target.projectId, service_id: service.id };
  const domain = await waitForAutoDomain(target.client, service.id, target.environment, DOMAIN_WAIT_MS, signal);
  if (!domain) {
    throw new OdError('not_found', `Service ${service.name} has no generated ${target.environment} domain yet.`, {
      nextAction: 'If it was deployed a moment ago, run the same command again in a minute; otherwise deploy it first with `opendeploy`.',
      details: { service_id: service.id },
    });
  }
  const previousUrl = urlOf(domain);
  if ((domain.domain ?? '').startsWith(`${prefix}.`)) {
    target.audit.info('domain.rename', { ...ids, domain_id: domain.id, subdomain: prefix, changed: false });
    return { status: 'success', ...ids, domain_id: domain.id, subdomain: prefix, url: previousUrl, previous_url: previousUrl, changed: false };
  }

  let renamed;
  try {
    renamed = await renameAutoDomain(target.client, domain, prefix, { strict: true });
  } catch (error) {
    if (error instanceof OdError) target.audit.error('domain.rename', { ...ids, domain_id: domain.id, subdomain: prefix, error_code: error.code, status: error.status ?? null });
    throw error;
  }
  const url = urlOf(renamed.domain);
  const linked = target.state?.project_id === target.projectId ? target.state : undefined;
  // project.json keeps one URL: the first linked service's.
  if (linked && (linked.services[0]?.service_id ?? service.id) === service.id) {
    linked.url = url;
    await writeProjectState(target.root, linked);
  }
  target.audit.info('domain.rename', { ...ids, domain_id: domain.id, subdomain: renamed.prefix, suffixed: false, changed: true });
  return { status: 'success', ...ids, domain_id: domain.id, subdomain: renamed.prefix, url, previous_url: previousUrl, changed: true };
}

export function humanRename(result: DomainRenameResult): string[] {
  if (!result.changed) return [`${result.url} already uses "${result.subdomain}"; nothing to change.`];
  return [`Renamed ${result.previous_url} → ${result.url}`, '  No redeploy needed: the ingress follows by itself.'];
}
