/**
 * The shared services every route handler reaches through `ctx.app`. One object per running
 * gateway, so two gateways in one process (parallel tests) never share state.
 */

import type { EventEmitter } from 'node:events';
import type { Executor } from './executor.js';
import type { FaultQueue } from './faults.js';
import type { RequestRecorder } from './recorder.js';
import type { DeploymentScripts } from './scripts.js';
import type { SseStream } from './sse.js';
import type { Store } from './store.js';

/** Who is calling. Ownership is a single string so "same owner" checks are one comparison. */
export interface Principal {
  kind: 'user' | 'agent';
  /** The local user id, or `agent:<id>` for a pending agent. */
  ownerId: string;
  /** False only for a pending (unclaimed) agent: the capped guest tier. */
  bound: boolean;
  agentId: string | null;
}

export interface GatewaySettings {
  simulate: boolean;
  buildDurationMs: number;
  /** Simulated databases stay `provisioning` this long before `running`. */
  dependencyProvisionMs: number;
  registerLimitPerHour: number;
}

export interface App {
  store: Store;
  settings: GatewaySettings;
  /** `http://127.0.0.1:<port>` (the dashboard host: claim pages live here). */
  origin: string;
  /** `http://127.0.0.1:<port>/api` (the gateway base clients use). */
  url: string;
  dataDir: string;
  uploadsDir: string;
  projectsDir: string;
  /** Per-deployment change notifications (`deployment:<id>`), consumed by the SSE stream. */
  events: EventEmitter;
  timers: Timers;
  /** Scripted outcomes for the next deployments (the control endpoints fill it). */
  scripts: DeploymentScripts;
  /** Runs deployments and dependencies: the simulator, or real builds, processes and databases on this machine. */
  executor: Executor;
  faults: FaultQueue;
  recorder: RequestRecorder;
  /** Open SSE responses, closed explicitly on shutdown. */
  streams: Set<SseStream>;
  log: (line: string) => void;
}

export function pendingOwner(agentId: string): string {
  return `agent:${agentId}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * Every delayed action (simulated builds, provisioning, auto domains) goes through here so
 * `close()` can stop them all: a closed gateway must not keep the process alive or write state.
 */
export class Timers {
  private readonly active = new Set<NodeJS.Timeout>();
  private stopped = false;

  after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const handle = setTimeout(() => {
      this.active.delete(handle);
      fn();
    }, Math.max(0, ms));
    this.active.add(handle);
    return handle;
  }

  cancel(handle: NodeJS.Timeout | undefined): void {
    if (!handle) return;
    clearTimeout(handle);
    this.active.delete(handle);
  }

  stopAll(): void {
    this.stopped = true;
    for (const handle of this.active) clearTimeout(handle);
    this.active.clear();
  }
}
