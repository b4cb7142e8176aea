/**
 * The runtime log of each service: what its running releases wrote (stdout/stderr, and the
 * gateway's own lines about starting and stopping them), kept in memory as a bounded ring per
 * service — as a hosted log store keeps container output for a few hours only. Deployment logs
 * (records.ts) keep the same lines per deployment; this one outlives a redeploy, so `logs --follow`
 * on a service keeps streaming across releases.
 *
 * The real runtime's lines arrive as `runtime:log` events; the simulator appends its own. Every new
 * line is announced as `service-log:<service id>` with its sequence number (the SSE event id).
 */

import type { App } from './app.js';
import { nowIso } from './app.js';
import type { RuntimeLogEvent } from './records.js';
import type { LogLine } from './store.js';

/** Lines kept per service; the oldest go first. */
export const SERVICE_LOG_LIMIT = 10_000;

export interface ServiceLogLine extends LogLine {
  source: 'runtime';
  /** The release that wrote it (two overlap during a zero-downtime switch). */
  deployment_id: string;
}

export interface ServiceLogEntry {
  /** Increases by one per line of this service, from 0; never reused while the gateway runs. */
  seq: number;
  line: ServiceLogLine;
}

/**
 * The last SERVICE_LOG_LIMIT entries. Dropping the oldest moves a start index; the array is
 * compacted once that many were dropped, so a chatty app costs O(1) per line, not a shift of the
 * whole buffer.
 */
class Ring {
  private entries: ServiceLogEntry[] = [];
  private start = 0;
  private next = 0;

  push(line: ServiceLogLine): ServiceLogEntry {
    const entry = { seq: this.next++, line };
    this.entries.push(entry);
    if (this.entries.length - this.start > SERVICE_LOG_LIMIT) this.start += 1;
    if (this.start >= SERVICE_LOG_LIMIT) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    return entry;
  }

  all(): readonly ServiceLogEntry[] {
    return this.start === 0 ? this.entries : this.entries.slice(this.start);
  }
}

export class ServiceLogs {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly app: App) {}

  append(serviceId: string, deploymentId: string, level: LogLine['level'], message: string, timestamp: string = nowIso()): ServiceLogEntry {
    let ring = this.rings.get(serviceId);
    if (!ring) {
      ring = new Ring();
      this.rings.set(serviceId, ring);
    }
    const entry = ring.push({ timestamp, level, message, source: 'runtime', deployment_id: deploymentId });
    this.app.events.emit(`service-log:${serviceId}`, entry);
    return entry;
  }

  entries(serviceId: string): readonly ServiceLogEntry[] {
    return this.rings.get(serviceId)?.all() ?? [];
  }
}

const byApp = new WeakMap<App, ServiceLogs>();

/** The service logs of this gateway; the first call starts collecting the runtime's lines. */
export function serviceLogs(app: App): ServiceLogs {
  let logs = byApp.get(app);
  if (!logs) {
    const created = new ServiceLogs(app);
    logs = created;
    byApp.set(app, created);
    app.events.on('runtime:log', (event: RuntimeLogEvent) => {
      created.append(event.service_id, event.deployment_id, event.line.level, event.line.message, event.line.timestamp);
    });
  }
  return logs;
}

/**
 * The entries a read asks for: from `since` (RFC3339) on, then the last `tail` of them.
 * `tail` undefined means all that are kept; 0 means none.
 */
export function selectEntries(entries: readonly ServiceLogEntry[], since: number | undefined, tail: number | undefined): ServiceLogEntry[] {
  let selected = since === undefined ? [...entries] : entries.filter((e) => Date.parse(e.line.timestamp) >= since);
  if (tail !== undefined) selected = tail === 0 ? [] : selected.slice(-tail);
  return selected;
}
