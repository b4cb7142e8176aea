/**
 * The real executor (the gateway's non-simulated mode): deployments build and run on this machine,
 * databases run their real engines, and the gateway's own port proxies `<label>.localhost` to the
 * live release of each service. The work is split by job — releases (releases.ts), proxy routes
 * (proxy-routes.ts), database engines (databases.ts), processes (pidfile.ts) — and this class wires
 * them together behind the executor interface.
 *
 * State lives in the same store rows the simulator writes (through records.ts), so every API, the
 * logs tail and the SSE stream work unchanged. Everything started here is stopped by close().
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { App } from '../app.js';
import { bindAgent } from '../auth.js';
import type { DependencyAddress, Executor } from '../executor.js';
import type { DependencyRow, DeploymentRow } from '../store.js';
import type { RuntimeContext, RuntimeOptions } from './context.js';
import { Databases } from './databases.js';
import { ProcessTracker, stopLeftovers } from './pidfile.js';
import { ProxyRoutes } from './proxy-routes.js';
import { Releases } from './releases.js';


export class LocalRuntime implements Executor {
  private isClosed = false;
  private readonly ctx: RuntimeContext;
  private readonly tracker: ProcessTracker;
  private readonly routes: ProxyRoutes;
  private readonly databases: Databases;
  private readonly releases: Releases;

  constructor(
    private readonly app: App,
    options: RuntimeOptions,
  ) {
    this.ctx = { app, options, closed: () => this.isClosed };
    this.tracker = new ProcessTracker(app.dataDir);
    this.routes = new ProxyRoutes(app);
    this.databases = new Databases(this.ctx, this.tracker);
    this.releases = new Releases(this.ctx, this.routes, this.databases, this.tracker);
  }

  /** After the gateway listens: stop leftovers of a crashed run, re-point domains, restore. */
  resume(gatewayPort: number): void {
    const leftovers = stopLeftovers(this.app.dataDir);
    if (leftovers > 0) this.ctx.options.notify(`Stopped ${leftovers} process(es) a previous local gateway left running.`);
    this.tracker.write();
    this.routes.listenOn(gatewayPort);
    // Credentials registered while simulating were capped guests; a real local preview has no caps.
    for (const agent of this.app.store.state.agents) if (agent.state === 'pending') bindAgent(this.app, agent);
    this.databases.resume();
    this.releases.resume();
  }

  /** Stops every process this gateway started (apps, builds, databases) and forgets them. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.releases.abortAll();
    const engines = await this.databases.stopAll();
    await Promise.allSettled([...this.releases.stopAll(3000), ...engines, ...this.tracker.stopAll(3000)]);
    this.routes.clear();
    this.tracker.clear();
  }

  start(dep: DeploymentRow): void {
    this.releases.start(dep);
  }

  cancel(dep: DeploymentRow): void {
    this.releases.cancel(dep);
  }

  dependencyAddress(): Promise<DependencyAddress> {
    return this.databases.address();
  }

  provisionDependency(row: DependencyRow): void {
    this.databases.provision(row);
  }

  domainFor(label: string): string {
    return this.routes.domainFor(label);
  }

  proxyRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return this.routes.proxyRequest(req, res);
  }

  proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.routes.proxyUpgrade(req, socket, head);
  }
}
