/**
 * Which process serves which service: the live release of each service and environment, the
 * `<label>.localhost:<gateway port>` host names that reach it through the gateway's own port, and
 * the 502 text when nothing healthy serves a label.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { App } from '../app.js';
import { nowIso } from '../app.js';
import { ensureAutoDomain } from '../records.js';
import type { DeploymentRow, DomainRow } from '../store.js';
import type { Instance } from './instance.js';
import { localhostLabel, proxyHttp, proxyUpgrade, rejectUpgrade, sendBadGateway, type ProxyTarget } from './proxy.js';

/** `<label>.localhost:<port>`: the host the gateway's proxy routes to the service. */
function localDomain(label: string, gatewayPort: number): string {
  return `${label}.localhost:${gatewayPort}`;
}

function routeKey(serviceId: string, environment: string): string {
  return `${serviceId}\n${environment}`;
}

export class ProxyRoutes {
  private readonly live = new Map<string, Instance>();
  private gatewayPort = 0;

  constructor(private readonly app: App) {}

  /** The port changes between runs: every auto domain is pointed at this one. */
  listenOn(gatewayPort: number): void {
    this.gatewayPort = gatewayPort;
    let changed = false;
    for (const row of this.app.store.state.domains) {
      if (row.type !== 'auto' || !row.subdomain) continue;
      const domain = localDomain(row.subdomain, gatewayPort);
      if (row.domain !== domain || row.ssl_enabled) {
        row.domain = domain;
        row.ssl_enabled = false;
        changed = true;
      }
    }
    if (changed) this.app.store.changed();
  }

  domainFor(label: string): string {
    return localDomain(label, this.gatewayPort);
  }

  /** The service's auto domain (created on its first release), pointing at this gateway. */
  ensureDomain(dep: DeploymentRow): DomainRow {
    const row = ensureAutoDomain(this.app, dep.service_id, dep.project_id, dep.environment);
    const domain = localDomain(row.subdomain, this.gatewayPort);
    if (row.domain !== domain || row.ssl_enabled) {
      row.domain = domain;
      row.ssl_enabled = false;
      row.updated_at = nowIso();
      this.app.store.changed();
    }
    return row;
  }

  // ---- the live release of each service --------------------------------------------------

  get(dep: DeploymentRow): Instance | undefined {
    return this.live.get(routeKey(dep.service_id, dep.environment));
  }

  has(dep: DeploymentRow): boolean {
    return this.live.has(routeKey(dep.service_id, dep.environment));
  }

  set(dep: DeploymentRow, instance: Instance): void {
    this.live.set(routeKey(dep.service_id, dep.environment), instance);
  }

  delete(dep: DeploymentRow): void {
    this.live.delete(routeKey(dep.service_id, dep.environment));
  }

  clear(): void {
    this.live.clear();
  }

  // ---- proxying --------------------------------------------------------------------------

  /** Handles a request for `<label>.localhost`; false when the Host is not one (the API handles it). */
  proxyRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const label = localhostLabel(req.headers.host);
    if (!label) return false;
    const target = this.targetFor(label);
    if ('error' in target) sendBadGateway(res, target.error);
    else proxyHttp(req, res, target);
    return true;
  }

  proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const label = localhostLabel(req.headers.host);
    if (!label) return false;
    const target = this.targetFor(label);
    if ('error' in target) rejectUpgrade(socket, target.error);
    else proxyUpgrade(req, socket, head, target);
    return true;
  }

  private targetFor(label: string): ProxyTarget | { error: string } {
    const state = this.app.store.state;
    const domain = state.domains.find((d) => d.type === 'auto' && d.subdomain === label);
    if (!domain) return { error: `no app is deployed at ${label}.localhost` };
    const instance = this.live.get(routeKey(domain.service_id, domain.environment));
    if (!instance) {
      const service = state.services.find((s) => s.id === domain.service_id);
      return { error: `${service?.name ?? 'the service'} has no healthy process right now (status: ${service?.status ?? 'unknown'})` };
    }
    return {
      host: instance.host,
      port: instance.port,
      begin: () => {
        instance.inflight += 1;
      },
      end: () => {
        instance.inflight -= 1;
      },
    };
  }
}
