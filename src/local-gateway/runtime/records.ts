/**
 * State changes a real deployment makes, in the same shapes the simulator writes: status/progress
 * updates (with the `deployment:<id>` events the SSE stream follows), log lines through the
 * simulator's appendLog (so logs tail and SSE see them), the `is_current` switch on success, and
 * auto domains that point at `<label>.localhost:<gateway port>`.
 */

import type { App } from '../app.js';
import { nowIso } from '../app.js';
import type { DeploymentEvent } from '../simulator.js';
import type { DeploymentRow, DomainRow, LogLine } from '../store.js';
import { TERMINAL_STATUSES } from '../store.js';

/** Lines kept per deployment; older runtime lines are dropped in blocks once a release is live. */
const MAX_LINES = 5000;
const TRIM_BLOCK = 1000;

export function updateDeployment(app: App, dep: DeploymentRow, patch: Partial<DeploymentRow>): void {
  const before = dep.status;
  Object.assign(dep, patch, { updated_at: nowIso() });
  if (TERMINAL_STATUSES.has(dep.status) && !TERMINAL_STATUSES.has(before)) dep.completed_at = nowIso();
  app.store.changed();
  if (dep.status !== before) {
    const event: DeploymentEvent = { type: 'status', status: dep.status, progress: dep.progress };
    app.events.emit(`deployment:${dep.id}`, event);
  }
}

export interface RuntimeLogEvent {
  deployment_id: string;
  service_id: string;
  line: LogLine;
}

export function appendLog(app: App, dep: DeploymentRow, source: LogLine['source'], level: LogLine['level'], message: string): void {
  const logs = app.store.state.logs[dep.id];
  if (logs && logs.length >= MAX_LINES && TERMINAL_STATUSES.has(dep.status)) logs.splice(0, TRIM_BLOCK);
  app.simulator.appendLog(dep, source, level, message);
  if (source === 'runtime') {
    const line = app.store.state.logs[dep.id]?.at(-1);
    if (line) app.events.emit('runtime:log', { deployment_id: dep.id, service_id: dep.service_id, line } satisfies RuntimeLogEvent);
  }
}

/** `<label>.localhost:<port>`: the host the gateway's proxy routes to the service. */
export function localDomain(label: string, gatewayPort: number): string {
  return `${label}.localhost:${gatewayPort}`;
}

/** Points every auto domain at this gateway (its port changes between runs). */
export function localizeDomains(app: App, gatewayPort: number): void {
  let changed = false;
  for (const row of app.store.state.domains) {
    if (row.type !== 'auto' || !row.subdomain) continue;
    const domain = localDomain(row.subdomain, gatewayPort);
    if (row.domain !== domain || row.ssl_enabled) {
      row.domain = domain;
      row.ssl_enabled = false;
      changed = true;
    }
  }
  if (changed) app.store.changed();
}

export function ensureLocalAutoDomain(app: App, dep: DeploymentRow, gatewayPort: number): DomainRow {
  const row = app.simulator.ensureAutoDomain(dep.service_id, dep.project_id, dep.environment);
  const domain = localDomain(row.subdomain, gatewayPort);
  if (row.domain !== domain || row.ssl_enabled) {
    row.domain = domain;
    row.ssl_enabled = false;
    row.updated_at = nowIso();
    app.store.changed();
  }
  return row;
}

/** The new release becomes current; a rollback retires the release it replaced (as the simulator does). */
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
