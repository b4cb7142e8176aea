/**
 * Managed dependencies in real local mode: each database row runs its real engine on the
 * 127.0.0.1 port written into its connection variables when it was created. An engine starts when
 * the dependency is created, when the gateway restarts (restore policy `all`) or when a deployment
 * of its project needs it; a crash marks the row failed.
 */

import path from 'node:path';
import { nowIso } from '../app.js';
import type { DependencyAddress } from '../executor.js';
import type { DependencyRow, DeploymentRow } from '../store.js';
import { errorText, type RuntimeContext } from './context.js';
import { startEngine, type RunningEngine } from './engines.js';
import { baseEnv, LOCAL_ID_VARIABLE } from './env.js';
import { describeExit } from './instance.js';
import type { ProcessTracker } from './pidfile.js';
import { freePort } from './ports.js';

/** Writes one line into a deployment's log (the engines a deployment starts are reported there). */
type DeploymentLog = (dep: DeploymentRow, level: 'info' | 'warn', message: string) => void;

export class Databases {
  private readonly engines = new Map<string, RunningEngine>();
  private readonly starts = new Map<string, Promise<boolean>>();
  readonly dir: string;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly tracker: ProcessTracker,
  ) {
    this.dir = path.join(ctx.app.dataDir, 'dependencies');
  }

  /** After a gateway restart: finish provisioning, and restart (or mark stopped) the databases that ran. */
  resume(): void {
    for (const row of this.ctx.app.store.state.dependencies) {
      if (row.status === 'provisioning') void this.start(row);
      else if (row.status === 'running' || row.status === 'stopped') {
        if (this.ctx.options.restore === 'all') void this.start(row, true);
        else this.setStatus(row, 'stopped', 'Stopped: it starts again with the next deployment of its project');
      }
    }
  }

  /** A free 127.0.0.1 port for a new dependency (its connection variables are written before it starts). */
  async address(): Promise<DependencyAddress> {
    return { host: '127.0.0.1', port: await freePort() };
  }

  /** Starts the engine of a just-created dependency; it ends `running` or `failed` with a message. */
  provision(row: DependencyRow): void {
    void this.start(row);
  }

  /** The project's databases a deployment needs, started if they are not running (once each). */
  async ensureFor(dep: DeploymentRow, log: DeploymentLog): Promise<void> {
    const rows = this.ctx.app.store.state.dependencies.filter(
      // A failed engine is tried again: it may have been installed since.
      (d) => d.project_id === dep.project_id && d.environment === dep.environment && ['running', 'stopped', 'provisioning', 'failed'].includes(d.status),
    );
    for (const row of rows) {
      if (this.engines.has(row.id)) continue;
      log(dep, 'info', `Starting ${row.dependency_id} ${row.name} on 127.0.0.1:${row.connection_info.port}`);
      const ok = await this.start(row);
      if (!ok) log(dep, 'warn', `${row.dependency_id} ${row.name} is not running: ${row.message ?? 'it failed to start'}`);
    }
  }

  /** Waits (up to 15 s) for engines still starting, then stops every engine. */
  async stopAll(): Promise<Array<Promise<unknown>>> {
    const starting = [...this.starts.values()];
    if (starting.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(starting), new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
      clearTimeout(timer);
    }
    const stops = [...this.engines.values()].map((engine) => engine.stop());
    this.engines.clear();
    return stops;
  }

  private setStatus(row: DependencyRow, status: string, message: string): void {
    row.status = status;
    row.message = message;
    row.updated_at = nowIso();
    this.ctx.app.store.changed();
  }

  private start(row: DependencyRow, announce = false): Promise<boolean> {
    if (this.engines.has(row.id)) return Promise.resolve(true);
    const pending = this.starts.get(row.id);
    if (pending) return pending;
    const { options } = this.ctx;
    const started = (async (): Promise<boolean> => {
      try {
        const engine = await startEngine({
          id: row.id,
          engine: row.dependency_id,
          port: row.connection_info.port,
          user: row.connection_info.username,
          password: passwordOf(row),
          database: row.connection_info.database,
          baseDir: this.dir,
          env: { ...baseEnv(options.sourceEnv), [LOCAL_ID_VARIABLE]: row.id },
        });
        if (this.ctx.closed()) {
          await engine.stop();
          return false;
        }
        this.engines.set(row.id, engine);
        const untrack = this.tracker.track(engine.process, { kind: 'engine', id: row.id, port: row.connection_info.port });
        void engine.process.exited.then((exit) => {
          untrack();
          if (this.ctx.closed() || this.engines.get(row.id) !== engine) return;
          this.engines.delete(row.id);
          this.setStatus(row, 'failed', `${row.dependency_id} stopped unexpectedly (${describeExit(exit)})`);
        });
        this.setStatus(row, 'running', `${row.dependency_id} running on 127.0.0.1:${row.connection_info.port}`);
        if (announce) options.notify(`Restarted ${row.dependency_id} ${row.name} on 127.0.0.1:${row.connection_info.port}`);
        return true;
      } catch (error) {
        this.setStatus(row, 'failed', errorText(error));
        if (announce) options.notify(`Could not restart ${row.dependency_id} ${row.name}: ${errorText(error)}`);
        return false;
      } finally {
        this.starts.delete(row.id);
      }
    })();
    this.starts.set(row.id, started);
    return started;
  }
}

/** The password of a dependency row, from its `*_PASSWORD` variable or its connection URL. */
function passwordOf(row: DependencyRow): string {
  for (const [key, value] of Object.entries(row.env_vars)) {
    if (key.endsWith('_PASSWORD') && value) return value;
  }
  for (const value of Object.values(row.env_vars)) {
    try {
      const url = new URL(value);
      if (url.password) return decodeURIComponent(url.password);
    } catch {
      // not a URL
    }
  }
  return '';
}
