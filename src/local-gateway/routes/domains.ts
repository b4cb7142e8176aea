/**
 * Service domains: availability check, list (served with and without the trailing slash, as the
 * older clients call it without), the production-only subdomain rename, and minimal custom domains for
 * bound callers.
 */

import { randomUUID } from 'node:crypto';
import { nowIso } from '../app.js';
import { bindRequired } from '../auth.js';
import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import type { DomainRow } from '../store.js';
import { randomLowerAlnum } from '../tokens.js';
import { environmentOf, optBool, optString } from '../validate.js';
import { domainView } from '../views.js';
import { ownedDomain, ownedProjectIds, ownedService } from './lookup.js';

/** 2–32 chars of [a-z0-9-], no leading or trailing hyphen. */
const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** Platform, auth, billing, DNS, system, observability and stage labels (§3.8), plus variants. */
export const RESERVED_SUBDOMAINS: ReadonlySet<string> = new Set([
  'www', 'api', 'admin', 'dashboard', 'console', 'billing', 'login', 'logout', 'auth', 'oauth', 'sso', 'status',
  'health', 'healthz', 'ingress', 'registry', 'monitor', 'monitoring', 'grafana', 'prometheus', 'loki', 'metrics',
  'alertmanager', 'tracing', 'jaeger', 'root', 'ns', 'ns1', 'ns2', 'ns3', 'ns4', 'mx', 'mail', 'smtp', 'imap',
  'pop', 'pop3', 'webmail', 'dns', 'system', 'internal', 'gateway', 'opendeploy', 'account', 'accounts',
  'signin', 'signup', 'register', 'payments', 'pay', 'checkout', 'support', 'help', 'docs', 'static', 'cdn',
  'assets', 'staging', 'stage', 'dev', 'prod', 'production', 'preview', 'test', 'qa', 'uat', 'www1', 'www2',
  'api1', 'api2', 'admin1', 'app-api', 'api-gateway',
]);

function invalidFormat(sub: string): Error {
  return httpError(400, `invalid subdomain format "${sub}": use 2-32 characters of a-z, 0-9 and hyphen, not starting or ending with a hyphen`);
}

/** Taken by any row other than `except` (label uniqueness across both environments). */
function isTaken(rows: DomainRow[], sub: string, except?: string): boolean {
  return rows.some((d) => d.subdomain === sub && d.id !== except);
}

function checkSubdomain(ctx: RequestContext): void {
  const sub = ctx.param('sub');
  if (sub.length < 2 || !SUBDOMAIN.test(sub)) throw invalidFormat(sub);
  if (RESERVED_SUBDOMAINS.has(sub)) return ctx.send(200, { available: false, reason: 'reserved', subdomain: sub });
  if (isTaken(ctx.app.store.state.domains, sub)) return ctx.send(200, { available: false, reason: 'taken', subdomain: sub });
  ctx.send(200, { available: true, subdomain: sub });
}

function listDomains(ctx: RequestContext): void {
  const owned = ownedProjectIds(ctx);
  const serviceId = ctx.query.get('service_id');
  const environment = ctx.query.get('environment');
  const type = ctx.query.get('type');
  const rows = ctx.app.store.state.domains.filter(
    (d) =>
      owned.has(d.project_id) &&
      (!serviceId || d.service_id === serviceId) &&
      (!environment || d.environment === environment) &&
      (!type || d.type === type),
  );
  ctx.send(200, rows.map(domainView));
}

function getDomain(ctx: RequestContext): void {
  ctx.send(200, domainView(ownedDomain(ctx, ctx.param('id'))));
}

async function renameSubdomain(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const row = ownedDomain(ctx, ctx.param('id'));
  const sub = optString(body, 'subdomain', 'UpdateSubdomainRequest') ?? '';
  if (sub.length < 2 || !SUBDOMAIN.test(sub)) throw invalidFormat(sub);
  if (row.type !== 'auto') throw httpError(400, 'only auto domains have a renameable subdomain');
  if (row.environment !== 'production') throw httpError(400, 'subdomain rename is only supported for production domains');
  if (RESERVED_SUBDOMAINS.has(sub)) throw httpError(400, `subdomain "${sub}" is reserved`);
  const domains = ctx.app.store.state.domains;
  if (isTaken(domains, sub, row.id)) throw httpError(409, `subdomain "${sub}" is already taken`);
  row.subdomain = sub;
  // Real local mode routes `<sub>.localhost:<port>` to the service (the proxy reads the row per request).
  row.domain = ctx.app.executor.domainFor(sub);
  row.updated_at = nowIso();
  ctx.app.store.changed();
  ctx.send(200, domainView(row));
}

/** Custom domains need an account: pending agents get bind_required, as from the hosted gateway. */
async function createCustomDomain(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  if (!ctx.caller.bound) throw bindRequired('Custom domains are only available after this agent is bound to an account.');
  const struct = 'CreateServiceDomainRequest';
  const serviceId = optString(body, 'service_id', struct) ?? '';
  const domain = (optString(body, 'domain', struct) ?? '').toLowerCase();
  const type = optString(body, 'type', struct) ?? '';
  const ssl = optBool(body, 'ssl_enabled', struct) ?? true;
  const primary = optBool(body, 'is_primary', struct) ?? false;
  const environment = environmentOf(body, struct);
  if (type !== 'custom') throw httpError(400, 'type must be "custom" for this endpoint');
  if (!/^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) throw httpError(400, 'Invalid domain format');
  const service = ownedService(ctx, serviceId);
  const rows = ctx.app.store.state.domains;
  if (rows.some((d) => d.domain === domain)) throw httpError(409, 'domain is already wired to a service');
  const now = nowIso();
  const row: DomainRow = {
    id: randomUUID(),
    service_id: service.id,
    project_id: service.project_id,
    domain,
    subdomain: '',
    environment,
    type: 'custom',
    status: 'pending',
    ssl_enabled: ssl,
    is_primary: primary,
    cname_target: `${randomLowerAlnum(10)}.cdn.opendeploy.run`,
    created_at: now,
    updated_at: now,
  };
  rows.push(row);
  ctx.app.store.changed();
  ctx.send(201, domainView(row));
}

export function registerDomainRoutes(api: Router): void {
  api.add('GET', '/api/v1/service-domains/check-subdomain/:sub', checkSubdomain);
  // Older clients call the list without the slash; both forms answer (no 301 for this GET).
  api.add('GET', '/api/v1/service-domains', listDomains);
  api.add('GET', '/api/v1/service-domains/', listDomains);
  api.add('POST', '/api/v1/service-domains/', createCustomDomain);
  api.add('GET', '/api/v1/service-domains/:id', getDomain);
  api.add('PUT', '/api/v1/service-domains/:id/subdomain', renameSubdomain);
}
