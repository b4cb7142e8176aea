/**
 * What runs a deployment. The routes only create and read rows; everything that happens to a
 * deployment or a dependency after that goes through this interface, implemented twice: the
 * simulator (a scripted timeline, nothing runs) and the local runtime (real builds, processes,
 * databases and a proxy on this machine). Both write the same rows through records.ts, so every
 * API, the logs tail and the SSE stream read them the same way.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DependencyRow, DeploymentRow } from './store.js';

export interface DependencyAddress {
  host: string;
  port: number;
}

export interface Executor {
  /**
   * Once the gateway listens on `gatewayPort`: pick up what the previous run of this data folder
   * left half done (deployments, provisioning dependencies, auto domains, live releases).
   */
  resume(gatewayPort: number): void;
  /** Runs a just-created (or resumed) non-terminal deployment. */
  start(dep: DeploymentRow): void;
  /** Marks the deployment cancelled now (the API answers with it) and stops its work; the caller checked it is not terminal. */
  cancel(dep: DeploymentRow): void;
  /** Where a new dependency will listen; its connection variables are written from this before it starts. */
  dependencyAddress(name: string, projectId: string, defaultPort: number): Promise<DependencyAddress>;
  /** Brings a just-created `provisioning` dependency to `running` (or `failed`, with a message). */
  provisionDependency(row: DependencyRow): void;
  /** The production host name that serves the service whose auto-domain label is `label`. */
  domainFor(label: string): string;
  /** Answers a request addressed to a deployed app; false when the request is for the gateway itself. */
  proxyRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** The same for a protocol upgrade (WebSocket). */
  proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Stops everything this executor started. */
  close(): Promise<void>;
}
