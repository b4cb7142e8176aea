/**
 * The deployments of one service in the target environment, newest first, with the one the service
 * runs now marked live. Read-only: one list request.
 *
 * The gateway records no digest of a deployment's source. A deployment built from the archive this
 * folder uploaded last (same `temp_file_path` as the link file records) gets the digest the link file
 * keeps for that archive; any other row has none rather than a guess.
 */
import type { Deployment } from '../gateway/index.js';
import { field, serviceDeployments } from './status.js';
import { currentRelease } from './rollback.js';
import type { OpsTarget } from './target.js';
import { plural } from '../core/text.js';
import { OdError } from '../core/errors.js';

export const DEFAULT_DEPLOYMENTS_LIMIT = 20;

const MAX_LIMIT = 1000;

/** `--limit`: a whole number from 1 to 1000 (default 20). */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DEPLOYMENTS_LIMIT;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new OdError('invalid_input', `--limit is "${value}", but it takes a whole number from 1 to ${MAX_LIMIT}.`, {
      nextAction: `Pass --limit <n> with 1 ≤ n ≤ ${MAX_LIMIT} (default ${DEFAULT_DEPLOYMENTS_LIMIT}).`,
    });
  }
  return n;
}

export interface DeploymentRow {
  id: string;
  status: string;
  /** True for the release the service runs now. */
  live: boolean;
  /** How the source arrived (`zip`, `git`, …), as the gateway records it. */
  source: string | null;
  /** Digest of the uploaded archive, when known (see the header). */
  source_digest: string | null;
  progress: number | null;
  created_at: string | null;
  finished_at: string | null;
  /** For a rollback deployment: the deployment whose release it runs again. */
  rollback_from: string | null;
}

export interface DeploymentsReport {
  project_id: string;
  service_id: string;
  service_name: string;
  environment: string;
  live_deployment_id: string | null;
  /** The --status filter, or null. */
  status_filter: string | null;
  /** Rows after the status filter, before the limit. */
  total: number;
  deployments: DeploymentRow[];
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export async function listDeployments(target: OpsTarget, options: { status?: string | undefined; limit?: number | undefined } = {}): Promise<DeploymentsReport> {
  const service = target.service!;
  const all = await serviceDeployments(target, service.id);
  const linked = target.state?.project_id === target.projectId ? target.state : undefined;
  const live = currentRelease(all, linked?.last_deployment?.id);
  const digestOf = (d: Deployment): string | null => {
    const given = text(field(d, 'source_digest'));
    if (given) return given;
    const upload = linked?.last_temp_file_path;
    return upload && d.temp_file_path === upload ? (linked?.last_source_digest ?? null) : null;
  };
  const wanted = options.status === undefined ? all : all.filter((d) => d.status === options.status);
  return {
    project_id: target.projectId,
    service_id: service.id,
    service_name: service.name,
    environment: target.environment,
    live_deployment_id: live?.id ?? null,
    status_filter: options.status ?? null,
    total: wanted.length,
    deployments: wanted.slice(0, options.limit ?? DEFAULT_DEPLOYMENTS_LIMIT).map((d) => ({
      id: d.id,
      status: d.status,
      live: d.id === live?.id,
      source: text(d.source),
      source_digest: digestOf(d),
      progress: d.progress_percent ?? d.progress ?? null,
      created_at: text(d.created_at),
      finished_at: text(d.completed_at),
      rollback_from: text(field(d, 'rollback_from')),
    })),
  };
}

/** A table for a person: one row per deployment, the live one marked with `*`. */
export function humanDeployments(report: DeploymentsReport): string[] {
  const filter = report.status_filter ? ` with status ${report.status_filter}` : '';
  const shown = report.deployments.length;
  const head = `${plural(report.total, 'deployment')}${filter} of ${report.service_name} (${report.service_id}) in ${report.environment}${shown < report.total ? `, newest ${shown} shown` : ''}`;
  if (shown === 0) return [head];
  const rows = report.deployments.map((d) => [
    d.live ? '*' : ' ',
    d.id,
    d.status,
    d.created_at ?? '-',
    d.finished_at ?? '-',
    d.source ?? '-',
    d.source_digest ? d.source_digest.slice(0, 12) : '-',
    d.rollback_from ? `rollback of ${d.rollback_from}` : '',
  ]);
  const header = [' ', 'ID', 'STATUS', 'CREATED', 'FINISHED', 'SOURCE', 'DIGEST', ''];
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const format = (row: string[]): string => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [head, format(header), ...rows.map(format), report.live_deployment_id ? '* live' : 'no deployment is live'];
}
