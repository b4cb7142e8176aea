/**
 * The one place deployment rows, their log lines and auto domains change once a deployment was
 * created. The simulator and the local runtime both write through here, so a status change always
 * carries `updated_at` (and `completed_at` when it ends), and every status change and log line is
 * announced as a `deployment:<id>` event, which the SSE stream follows.
 */

import { randomUUID } from 'node:crypto';
import type { App } from './app.js';
import { nowIso } from './app.js';
import type { DeploymentRow, DeploymentStatus, DomainRow, LogLine } from './store.js';
import { TERMINAL_STATUSES } from './store.js';
import { randomLowerAlnum } from './tokens.js';

/** Change notifications for SSE subscribers, emitted as `deployment:<id>`. */
export type DeploymentEvent =
  | { type: 'log'; index: number; line: LogLine }
  | { type: 'status'; status: DeploymentStatus; progress: number };

/** A line a running app wrote, emitted as `runtime:log` for the person running the gateway. */
export interface RuntimeLogEvent {
  deployment_id: string;
  service_id: string;
  line: LogLine;
}

/** Lines kept per deployment; older lines of a finished deployment (a live app's output) are dropped in blocks. */
const MAX_LINES = 5000;
const TRIM_BLOCK = 1000;

export function updateDeployment(app: App, dep: DeploymentRow, patch: Partial<DeploymentRow>): void {
  const before = dep.status;
  Object.assign(dep, patch, { updated_at: nowIso() });
  if (TERMINAL_STATUSES.has(dep.status) && !TERMINAL_STATUSES.has(before) && patch.completed_at === undefined) dep.completed_at = nowIso();
  app.store.changed();
  if (dep.status !== before) {
    const event: DeploymentEvent = { type: 'status', status: dep.status, progress: dep.progress };
    app.events.emit(`deployment:${dep.id}`, event);
  }
}

export function appendLog(app: App, dep: DeploymentRow, source: LogLine['source'], level: LogLine['level'], message: string): LogLine {
  const logs = (app.store.state.logs[dep.id] ??= []);
  if (logs.length >= MAX_LINES && TERMINAL_STATUSES.has(dep.status)) logs.splice(0, TRIM_BLOCK);
  const line: LogLine = { timestamp: nowIso(), level, message, source };
  logs.push(line);
  app.store.changed();
  const event: DeploymentEvent = { type: 'log', index: logs.length - 1, line };
  app.events.emit(`deployment:${dep.id}`, event);
  return line;
}

/** The new release becomes current; a rollback retires the release it replaced, an ordinary deploy leaves it listed as success. */
export function markCurrent(app: App, dep: DeploymentRow): void {
  for (const other of app.store.state.deployments) {
    if (other.id === dep.id || other.service_id !== dep.service_id || other.environment !== dep.environment) continue;
    if (!other.is_current) continue;
    other.is_current = false;
    if (dep.is_rollback && other.status === 'success') {
      updateDeployment(app, other, { status: 'rolled_back', message: `Rolled back by deployment ${dep.id}` });
    }
  }
  dep.is_current = true;
  app.store.changed();
}

export function setServiceStatus(app: App, serviceId: string, status: string): void {
  const service = app.store.state.services.find((s) => s.id === serviceId);
  if (service && service.status !== status) {
    service.status = status;
    service.updated_at = nowIso();
    app.store.changed();
  }
}

/** One auto domain per service and environment, created on its first success (the hosted names; the local runtime re-points them). */
export function ensureAutoDomain(app: App, serviceId: string, projectId: string, environment: string): DomainRow {
  const state = app.store.state;
  const existing = state.domains.find((d) => d.service_id === serviceId && d.environment === environment && d.type === 'auto');
  if (existing) return existing;
  const suffix = environment === 'staging' ? 'dev.opendeploy.run' : 'opendeploy.run';
  let subdomain = randomLowerAlnum(8);
  while (state.domains.some((d) => d.subdomain === subdomain)) subdomain = randomLowerAlnum(8);
  const now = nowIso();
  const row: DomainRow = {
    id: randomUUID(),
    service_id: serviceId,
    project_id: projectId,
    domain: `${subdomain}.${suffix}`,
    subdomain,
    environment,
    type: 'auto',
    status: 'active',
    ssl_enabled: true,
    is_primary: true,
    cname_target: '',
    created_at: now,
    updated_at: now,
  };
  state.domains.push(row);
  app.store.changed();
  return row;
}
