/**
 * `opendeploy status` and the deployment look-ups the other day-2 commands share (the latest,
 * current, running or failed deployment of a service).
 */
import { OdError } from '../core/errors.js';
import { claimUrl, dashboardUrl } from '../auth/index.js';
import type { Deployment, Service } from '../gateway/index.js';
import { TERMINAL_STATUSES } from '../deploy/watch.js';
import { chooseAutoDomain, urlOf } from '../deploy/subdomain.js';
import type { OpsTarget } from './target.js';

// ----------------------------------------------------------------------------- deployment look-ups

function createdAt(deployment: Deployment): number {
  const t = Date.parse(deployment.created_at ?? '');
  return Number.isNaN(t) ? Number.NaN : t;
}

/** Newest first: by `created_at` when every row has one, else the gateway's order (newest first). */
function newestFirst(deployments: Deployment[]): Deployment[] {
  if (deployments.some((d) => Number.isNaN(createdAt(d)))) return [...deployments];
  return deployments
    .map((d, index) => ({ d, index }))
    .sort((a, b) => createdAt(b.d) - createdAt(a.d) || a.index - b.index)
    .map(({ d }) => d);
}

/** The deployments of one service in the target's environment, newest first. */
export async function serviceDeployments(target: OpsTarget, serviceId: string): Promise<Deployment[]> {
  const all = await target.client.listDeployments(target.projectId);
  return newestFirst(
    all.filter((d) => (!d.service_id || d.service_id === serviceId) && (!d.environment || d.environment === target.environment)),
  );
}

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** A loose field of a deployment row (`is_current`, `rollback_from`, …). */
export function field(deployment: Deployment, name: string): unknown {
  return (deployment as Record<string, unknown>)[name];
}

/** `GET /v1/deployments/:id`, with a 404 that names the id. */
export async function getDeploymentById(target: OpsTarget, id: string): Promise<Deployment> {
  try {
    return await target.client.getDeployment(id);
  } catch (error) {
    if (error instanceof OdError && error.code === 'not_found') {
      throw new OdError('not_found', `There is no deployment ${id} in this account (404).`, {
        status: 404,
        nextAction: 'Check the id; `opendeploy status` shows the latest deployment and `opendeploy logs` its logs.',
        details: { deployment_id: id },
      });
    }
    throw error;
  }
}

/** The service's auto-domain URL, or null when it has none yet. */
export async function serviceUrl(target: OpsTarget, serviceId: string): Promise<string | null> {
  const domains = await target.client.listServiceDomains(serviceId, { environment: target.environment, type: 'auto' });
  const domain = chooseAutoDomain(domains);
  return domain ? urlOf(domain) : null;
}

// ----------------------------------------------------------------------------- status

export interface StatusReport {
  project: { id: string; name: string };
  environment: string;
  services: {
    id: string;
    name: string;
    status: string | null;
    port: number | null;
    cpu: { request: string | null; limit: string | null };
    memory: { request: string | null; limit: string | null };
    replicas: number | null;
    url: string | null;
  }[];
  dependencies: { engine: string; id: string; status: string }[];
  latest_deployment: { id: string; service_id: string | null; status: string; progress: number | null; created_at: string | null } | null;
  bound: boolean;
  claim_url: string | null;
  /** null when no local gateway serves the project after this command (see `local_gateway`). */
  dashboard_url: string | null;
  /**
   * Only for a project on the local gateway that no gateway serves: the command read it through a
   * gateway of its own, which stops when it returns, so nothing serves the apps.
   */
  local_gateway?: { running: false; start_command: string };
}

/** Reads project, services (with their URLs), databases and the latest deployment. Read-only. */
export async function collectStatus(target: OpsTarget, serviceFilter?: string): Promise<StatusReport> {
  const { client } = target;
  const [project, services, dependencies, deployments] = await Promise.all([
    client.getProject(target.projectId),
    client.listServices(target.projectId),
    client.getDependencyStatus(target.projectId),
    client.listDeployments(target.projectId),
  ]);
  const wanted: Service[] = serviceFilter ? services.filter((s) => s.id === serviceFilter || s.name === serviceFilter) : services;
  if (serviceFilter && wanted.length === 0) {
    throw new OdError('not_found', `Project ${target.projectId} has no service "${serviceFilter}".`, {
      nextAction: `Use one of: ${services.map((s) => `${s.name} (${s.id})`).join(', ') || '(none yet)'}.`,
    });
  }
  const wantedIds = new Set(wanted.map((s) => s.id));
  const rows = await Promise.all(
    wanted.map(async (service) => ({
      id: service.id,
      name: service.name,
      status: service.status ?? null,
      port: service.port ?? null,
      cpu: { request: service.cpu_request ?? null, limit: service.cpu_limit ?? null },
      memory: { request: service.memory_request ?? null, limit: service.memory_limit ?? null },
      replicas: service.replicas ?? null,
      url: await serviceUrl(target, service.id),
    })),
  );
  const inEnvironment = newestFirst(
    deployments.filter(
      (d) => (!d.environment || d.environment === target.environment) && (!serviceFilter || !d.service_id || wantedIds.has(d.service_id)),
    ),
  );
  const latest = inEnvironment[0];
  const credential = target.credential;
  const firstUrl = rows.find((row) => row.url)?.url ?? undefined;
  return {
    project: { id: project.id, name: project.name },
    environment: target.environment,
    services: rows,
    dependencies: dependencies.map((d) => ({ engine: d.dependency_id ?? d.name ?? d.type ?? 'database', id: d.id, status: d.status ?? 'unknown' })),
    latest_deployment: latest
      ? {
          id: latest.id,
          service_id: latest.service_id ?? null,
          status: latest.status,
          progress: latest.progress_percent ?? latest.progress ?? null,
          created_at: latest.created_at ?? null,
        }
      : null,
    bound: target.bound,
    claim_url: !target.bound && credential.agentId && credential.bindSig ? claimUrl(credential.gateway, credential.agentId, credential.bindSig, firstUrl) : null,
    dashboard_url: dashboardUrl(credential.gateway, target.projectId),
  };
}

/** `http://<label>.localhost:<port>`: an address the local gateway itself serves. */
const LOCAL_APP_URL = /^http:\/\/(?:[^/:]+\.)?localhost(?::\d+)?\/?$/i;

/**
 * The report of a project on the local gateway when no gateway keeps serving its data folder: the
 * command started one only to read it, so once it returns the app URLs (`*.localhost:<that port>`)
 * and the dashboard link name a port nothing listens on. They are left out, and the report says
 * how to start the gateway, which restarts the current release of every service.
 */
export function withLocalGatewayStopped(report: StatusReport, startCommand: string): StatusReport {
  return {
    ...report,
    services: report.services.map((service) => (service.url !== null && LOCAL_APP_URL.test(service.url) ? { ...service, url: null } : service)),
    dashboard_url: null,
    local_gateway: { running: false, start_command: startCommand },
  };
}

function pair(request: string | null, limit: string | null): string {
  if (!request && !limit) return '-';
  return `${request ?? '?'}/${limit ?? '?'}`;
}

/** A compact table for people. */
export function humanStatus(report: StatusReport): string[] {
  const lines = [`${report.project.name}  (${report.project.id})  ${report.environment}`];
  const table: string[][] = [['SERVICE', 'ID', 'PORT', 'CPU', 'MEMORY', 'REPLICAS', 'STATUS', 'URL']];
  for (const s of report.services) {
    const url = s.url ?? (report.local_gateway ? '(not served: local gateway stopped)' : '(no domain yet)');
    table.push([s.name, s.id, s.port === null ? '-' : String(s.port), pair(s.cpu.request, s.cpu.limit), pair(s.memory.request, s.memory.limit), s.replicas === null ? '-' : String(s.replicas), s.status ?? '-', url]);
  }
  lines.push(...formatTable(table));
  if (report.dependencies.length > 0) {
    lines.push('', ...formatTable([['DATABASE', 'ID', 'STATUS'], ...report.dependencies.map((d) => [d.engine, d.id, d.status])]));
  }
  lines.push('');
  const latest = report.latest_deployment;
  lines.push(`latest deployment  ${latest ? `${latest.id}  ${latest.status}${latest.progress !== null ? ` ${latest.progress}%` : ''}` : 'none yet'}`);
  lines.push(`credential         ${report.bound ? 'claimed' : 'unclaimed (pending)'}`);
  if (report.dashboard_url !== null) lines.push(`dashboard          ${report.dashboard_url}`);
  if (report.local_gateway) {
    lines.push(`local gateway      not running: nothing serves this project's apps now`);
    lines.push(`  Start it with \`${report.local_gateway.start_command}\` (it restarts the current releases and prints their URLs; Ctrl-C stops it).`);
  }
  if (report.claim_url) {
    lines.push(`claim              ${report.claim_url}`);
    lines.push('  Open the claim URL and sign in within 6 hours to keep this project.');
  }
  return lines;
}

function formatTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}
