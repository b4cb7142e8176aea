/**
 * Releases in real local mode: a deployment builds the bound source on this machine, starts it on
 * a free port and, once that port answers HTTP, becomes the release the proxy routes
 * `<label>.localhost:<gateway port>` to. The previous release keeps serving until then and is
 * stopped after its in-flight requests finish (zero-downtime switch); a failed deployment leaves it
 * serving. Workers and one-shot programs have no port: they settle by running or exiting.
 */

import path from 'node:path';
import type { App } from '../app.js';
import { appendLog, markCurrent, setServiceStatus, updateDeployment, type RuntimeLogEvent } from '../records.js';
import { NO_SOURCE_ERROR } from '../scripts.js';
import type { DeploymentRow, LogLine } from '../store.js';
import { TERMINAL_STATUSES } from '../store.js';
import { buildRelease, buildDirOf, readRunSpec, type RunSpec } from './build.js';
import { errorText, type RuntimeContext } from './context.js';
import type { Databases } from './databases.js';
import { parseVariables } from './env.js';
import { DeployCancelled, DeployFailure } from './failure.js';
import { probeHttp, waitForHttp, type Readiness } from './health.js';
import { describeExit, launch, type Instance } from './instance.js';
import { findHardcodedPort, listeningPorts } from './listening.js';
import type { ProcessTracker } from './pidfile.js';
import type { ProxyRoutes } from './proxy-routes.js';

interface ActiveRun {
  controller: AbortController;
  instance?: Instance;
}

/** How long an old release may finish in-flight requests after traffic moved to the new one. */
const DRAIN_MS = 5000;

/** A worker that is still running after this long has started (a crash on start shows up sooner). */
const WORKER_SETTLE_MS = 3000;

/** The message of a deployment whose program ran to its end: it is not started again on a gateway restart. */
const COMPLETED_RUN = 'Deployment completed: the program ran and exited with code 0';

/** Web services answer HTTP; workers, cron jobs and one-shot programs have no port to check. */
function servesHttp(service: { type: string; port: number }): boolean {
  return service.type === 'web' || (service.type === '' && service.port > 0);
}

export class Releases {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly instances = new Set<Instance>();
  private readonly app: App;
  readonly buildsDir: string;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly routes: ProxyRoutes,
    private readonly databases: Databases,
    private readonly tracker: ProcessTracker,
  ) {
    this.app = ctx.app;
    this.buildsDir = path.join(ctx.app.dataDir, 'builds');
  }

  /**
   * After a gateway restart: a build the gateway was running when it stopped is run again from the
   * start; the current release of each service is started again (restore policy `all`) or marked stopped.
   */
  resume(): void {
    const state = this.app.store.state;
    for (const dep of state.deployments) {
      if (TERMINAL_STATUSES.has(dep.status)) continue;
      this.log(dep, 'buildctl', 'warn', 'The local gateway restarted during this deployment; running it again');
      updateDeployment(this.app, dep, { status: 'pending', progress: 0, build_percent: 0, message: 'Restarted' });
      this.start(dep);
    }
    const current = state.deployments.filter((d) => d.is_current && d.status === 'success' && d.message !== COMPLETED_RUN);
    for (const dep of current) {
      if (this.ctx.options.restore === 'all') {
        this.restoreRelease(dep).catch((error: unknown) => this.ctx.options.notify(`Could not restart deployment ${dep.id}: ${errorText(error)}`));
      }
      else setServiceStatus(this.app, dep.service_id, 'stopped');
    }
  }

  /** Aborts every build and start in flight (the gateway is closing). */
  abortAll(): void {
    for (const run of this.runs.values()) run.controller.abort();
  }

  /** Stops every running app process or static server. */
  stopAll(graceMs: number): Array<Promise<unknown>> {
    const stops = [...this.instances].map((instance) => instance.stop(graceMs));
    this.instances.clear();
    return stops;
  }

  // ---- deployments -----------------------------------------------------------------------

  start(dep: DeploymentRow): void {
    if (this.ctx.closed() || this.runs.has(dep.id)) return;
    // run() turns every error into a failed deployment; this catch only guards the gateway itself.
    this.run(dep).catch((error: unknown) => this.app.log(`local-gateway: deployment ${dep.id}: ${errorText(error)}`));
  }

  /** Marks the deployment cancelled now (the API answers with it) and stops its build or start. */
  cancel(dep: DeploymentRow): void {
    this.log(dep, 'runtime', 'warn', 'Deployment cancelled by user request');
    updateDeployment(this.app, dep, { status: 'cancelled', message: 'Deployment cancelled' });
    this.runs.get(dep.id)?.controller.abort();
  }

  /** A line of the deployment's log; an app's own output is also shown to the person running the gateway. */
  private log(dep: DeploymentRow, source: LogLine['source'], level: LogLine['level'], message: string): void {
    const line = appendLog(this.app, dep, source, level, message);
    if (source === 'runtime') this.app.events.emit('runtime:log', { deployment_id: dep.id, service_id: dep.service_id, line } satisfies RuntimeLogEvent);
  }

  private async run(dep: DeploymentRow): Promise<void> {
    const active: ActiveRun = { controller: new AbortController() };
    this.runs.set(dep.id, active);
    const serviceBefore = this.app.store.state.services.find((s) => s.id === dep.service_id)?.status;
    // While nothing serves it, the service is deploying (a live release keeps it `running`).
    if (!this.routes.has(dep)) setServiceStatus(this.app, dep.service_id, 'deploying');
    try {
      await this.execute(dep, active);
    } catch (error) {
      const instance = active.instance;
      if (instance && this.routes.get(dep) !== instance) {
        await instance.stop(3000);
        this.instances.delete(instance);
      }
      // Cancelled by the user, or the gateway is stopping (the next start runs it again).
      if (dep.status === 'cancelled' || this.ctx.closed() || error instanceof DeployCancelled) {
        if (!this.ctx.closed() && !this.routes.has(dep) && serviceBefore) setServiceStatus(this.app, dep.service_id, serviceBefore);
        return;
      }
      this.fail(dep, error instanceof DeployFailure ? error : new DeployFailure('deploy', `Local gateway error: ${errorText(error)}`));
    } finally {
      this.runs.delete(dep.id);
    }
  }

  private checkCancelled(dep: DeploymentRow, active: ActiveRun): void {
    if (dep.status === 'cancelled' || active.controller.signal.aborted || this.ctx.closed()) throw new DeployCancelled();
  }

  private async execute(dep: DeploymentRow, active: ActiveRun): Promise<void> {
    const state = this.app.store.state;
    const project = state.projects.find((p) => p.id === dep.project_id);
    const service = state.services.find((s) => s.id === dep.service_id);
    if (!project || !service) throw new DeployFailure('deploy', NO_SOURCE_ERROR);
    updateDeployment(this.app, dep, { status: 'pending', progress: 10, build_percent: 10, message: 'Starting deployment workflow' });
    if (!dep.source_path && !dep.is_rollback) {
      // The hosted signature of a deploy with no bound source: fails at progress 10 without a log line.
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new DeployFailure('source', NO_SOURCE_ERROR);
    }
    await this.databases.ensureFor(dep, (d, level, message) => this.log(d, 'buildctl', level, message));
    this.checkCancelled(dep, active);

    let spec: RunSpec;
    if (dep.is_rollback) {
      const buildId = this.buildIdOf(dep);
      updateDeployment(this.app, dep, { status: 'deploying', progress: 80, build_percent: 100, message: 'Rolling back' });
      this.log(dep, 'runtime', 'info', `Rolling back ${service.name} to the build of deployment ${buildId}`);
      const found = await readRunSpec(this.buildsDir, buildId);
      if (!found) {
        const message = `The build of deployment ${buildId} is no longer on disk (${buildDirOf(this.buildsDir, buildId)}); deploy again instead`;
        this.log(dep, 'runtime', 'error', message);
        throw new DeployFailure('deploy', message);
      }
      spec = found;
    } else {
      updateDeployment(this.app, dep, { status: 'building', progress: 20, build_percent: 0, message: 'Building' });
      spec = await buildRelease({
        dep,
        service,
        project,
        buildsDir: this.buildsDir,
        signal: active.controller.signal,
        log: (source, level, message) => this.log(dep, source, level, message),
        progress: (progress, buildPercent, message) => {
          if (dep.status === 'building') updateDeployment(this.app, dep, { progress, build_percent: Math.min(100, buildPercent), message });
        },
        track: (child) => this.tracker.track(child, { kind: 'build', id: dep.id, service_id: dep.service_id }),
        ...(this.ctx.options.sourceEnv ? { sourceEnv: this.ctx.options.sourceEnv } : {}),
      });
    }
    this.checkCancelled(dep, active);
    updateDeployment(this.app, dep, { status: 'deploying', progress: 80, build_percent: 100, message: 'Starting' });
    const instance = await this.launchInstance(dep, spec);
    active.instance = instance;
    this.checkCancelled(dep, active);

    if (instance.kind === 'process' && !servesHttp(service)) {
      await this.settleWorker(dep, active, instance);
      return;
    }
    const what = instance.kind === 'static' ? 'the static file server' : `port ${instance.port}`;
    updateDeployment(this.app, dep, { progress: 90, message: `Waiting for ${what} to answer HTTP` });
    const waitStarted = Date.now();
    const readiness = await this.reroute(dep, instance, await waitForHttp({
      port: instance.port,
      timeoutMs: this.ctx.options.readyTimeoutMs,
      signal: active.controller.signal,
      exited: instance.exited,
      ...(instance.pid !== undefined ? { listening: () => listeningPorts(instance.pid) } : {}),
    }), spec);
    this.checkCancelled(dep, active);
    if (!readiness.ok) {
      if (readiness.reason === 'exited') {
        const exit = await instance.exited;
        const summary = describeExit(exit);
        this.log(dep, 'runtime', 'error', summary);
        const last = crashLine(instance.stderrTail);
        if (exit.code === 0 && !exit.signal) {
          // Exit 0 from a web service is no crash: it ran to its end without ever serving.
          const output = last ?? instance.outputTail.at(-1);
          const message = `The program exited with code 0 before it answered HTTP on PORT=${instance.port}: a web service must keep running and listen on PORT${output ? ` (its last output: ${output})` : ''}`;
          this.log(dep, 'runtime', 'error', message);
          throw new DeployFailure('runtime', message);
        }
        throw new DeployFailure('runtime', last ? `${summary}: ${last}` : summary);
      }
      const seconds = Math.round((Date.now() - waitStarted) / 1000);
      const ports = readiness.reason === 'wrong_port' ? readiness.ports : (listeningPorts(instance.pid) ?? []);
      const message = `No process listening on port ${instance.port} after ${seconds} s (the app may listen on a different port)`;
      this.log(dep, 'runtime', 'error', message);
      // Last, so diagnosis that reads "listens on <port>" lines finds the app's real port here.
      if (ports.length > 0) this.log(dep, 'runtime', 'error', `The app listens on port ${ports.join(', ')} instead of PORT=${instance.port}`);
      throw new DeployFailure('runtime', ports.length > 0 ? `${message}: it listens on ${ports.join(', ')}` : message);
    }
    instance.host = readiness.host;
    this.promote(dep, instance);
  }

  /**
   * An app that ignores PORT but answers HTTP on a port of its own is routed there for this local
   * preview, with a warning naming the line to change (a hosted deploy routes only to PORT).
   */
  private async reroute(dep: DeploymentRow, instance: Instance, readiness: Readiness, spec: RunSpec): Promise<Readiness> {
    if (readiness.ok || readiness.reason !== 'wrong_port') return readiness;
    for (const port of readiness.ports) {
      for (const host of ['127.0.0.1', '::1']) {
        if (!(await probeHttp(host, port, '/', 2000))) continue;
        const assigned = instance.port;
        instance.port = port;
        const found = findHardcodedPort(spec.workdir, port);
        const fix = found
          ? `change ${found.file}:${found.line} (\`${found.text}\`) to listen on ${found.expression}`
          : 'listen on process.env.PORT (the PORT variable)';
        this.log(
          dep,
          'runtime',
          'warn',
          `The app ignores PORT=${assigned} and listens on port ${port}: routed to ${port} for this local preview; ${fix} — a hosted deploy sends traffic only to PORT`,
        );
        return { ok: true, host };
      }
    }
    return readiness;
  }

  /**
   * A worker or one-shot program: no port to wait for. Exit 0 is a completed run (its output is in
   * the logs); another exit within the first seconds is a failure; still running after them, it is
   * the live release.
   */
  private async settleWorker(dep: DeploymentRow, active: ActiveRun, instance: Instance): Promise<void> {
    updateDeployment(this.app, dep, { progress: 90, message: 'Starting the worker (no HTTP port to check)' });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      instance.exited,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), WORKER_SETTLE_MS);
        active.controller.signal.addEventListener('abort', () => resolve(undefined), { once: true });
      }),
    ]);
    clearTimeout(timer);
    this.checkCancelled(dep, active);
    if (!exit) {
      this.log(dep, 'runtime', 'info', `Worker running${instance.pid ? ` (pid ${instance.pid})` : ''}: it serves no HTTP, so there is no URL to open`);
      this.promote(dep, instance);
      return;
    }
    const summary = describeExit(exit);
    if (exit.code !== 0 || exit.signal) {
      this.log(dep, 'runtime', 'error', summary);
      const last = crashLine(instance.stderrTail);
      throw new DeployFailure('runtime', last ? `${summary}: ${last}` : summary);
    }
    this.instances.delete(instance);
    // The completed run is the current release: a previous one still running is stopped.
    const old = this.routes.get(dep);
    if (old) {
      this.routes.delete(dep);
      this.retire(old, dep.id).catch(() => old.process?.kill());
    }
    markCurrent(this.app, dep);
    this.routes.ensureDomain(dep);
    setServiceStatus(this.app, dep.service_id, 'stopped');
    const done = COMPLETED_RUN;
    this.log(dep, 'runtime', 'info', `${done} (its output is above)`);
    updateDeployment(this.app, dep, { status: 'success', progress: 100, build_percent: 100, message: done, error_msg: '', error_context: null });
  }

  private async launchInstance(dep: DeploymentRow, spec: RunSpec): Promise<Instance> {
    const instance = await launch({
      spec,
      deploymentId: dep.id,
      serviceId: dep.service_id,
      environment: dep.environment,
      variables: parseVariables(dep.runtime_variables),
      log: (source, level, message) => this.log(dep, source, level, message),
      ...(this.ctx.options.sourceEnv ? { sourceEnv: this.ctx.options.sourceEnv } : {}),
    });
    this.instances.add(instance);
    if (instance.process) {
      const untrack = this.tracker.track(instance.process, { kind: 'app', id: dep.id, service_id: dep.service_id, port: instance.port });
      void instance.exited.then(untrack);
    }
    return instance;
  }

  /** Traffic moves to the healthy new release; the old one drains and stops. */
  private promote(dep: DeploymentRow, instance: Instance): void {
    const old = this.routes.get(dep);
    this.routes.set(dep, instance);
    this.watchCrash(dep, instance);
    markCurrent(this.app, dep);
    const domain = this.routes.ensureDomain(dep);
    setServiceStatus(this.app, dep.service_id, 'running');
    if (instance.kind === 'static' || !this.isWorker(dep)) {
      this.log(dep, 'runtime', 'info', `Serving http://${domain.domain}/ (${instance.host}:${instance.port}${instance.pid ? `, pid ${instance.pid}` : ''})`);
    }
    const done = dep.is_rollback ? 'Rollback completed successfully' : 'Deployment completed successfully';
    this.log(dep, 'runtime', 'info', done);
    updateDeployment(this.app, dep, { status: 'success', progress: 100, build_percent: 100, message: done, error_msg: '', error_context: null });
    if (old && old !== instance) this.retire(old, dep.id).catch(() => old.process?.kill());
  }

  private async retire(old: Instance, replacedBy: string): Promise<void> {
    const deadline = Date.now() + DRAIN_MS;
    while (old.inflight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await old.stop();
    this.instances.delete(old);
    const dep = this.app.store.state.deployments.find((d) => d.id === old.deploymentId);
    if (dep) this.log(dep, 'runtime', 'info', `Stopped: traffic moved to deployment ${replacedBy}`);
  }

  private isWorker(dep: DeploymentRow): boolean {
    const service = this.app.store.state.services.find((s) => s.id === dep.service_id);
    return service !== undefined && !servesHttp(service);
  }

  /** A live release whose process exits is taken out of routing (502) and its service marked failed. */
  private watchCrash(dep: DeploymentRow, instance: Instance): void {
    void instance.exited.then((exit) => {
      if (instance.stopped || this.ctx.closed()) return;
      this.instances.delete(instance);
      if (this.routes.get(dep) !== instance) return;
      this.routes.delete(dep);
      if (exit.code === 0 && !exit.signal) {
        // A worker that finished its work: done, not crashed.
        this.log(dep, 'runtime', 'info', 'The program finished (exit code 0); it is not restarted automatically (deploy again to run it again)');
        setServiceStatus(this.app, dep.service_id, 'stopped');
        return;
      }
      this.log(dep, 'runtime', 'error', `${describeExit(exit)} while serving; it is not restarted automatically (deploy again)`);
      setServiceStatus(this.app, dep.service_id, 'failed');
    });
  }

  private fail(dep: DeploymentRow, failure: DeployFailure): void {
    updateDeployment(this.app, dep, {
      status: 'failed',
      message: failure.message,
      error_msg: failure.message,
      error_context: { phase: failure.phase, progress: dep.progress },
    });
    // A failed new release leaves the previous one serving.
    const serving = this.routes.has(dep);
    setServiceStatus(this.app, dep.service_id, serving ? 'running' : 'failed');
  }

  /** The deployment whose build a release runs: a rollback runs its target's (recursively). */
  private buildIdOf(dep: DeploymentRow): string {
    const deployments = this.app.store.state.deployments;
    let current = dep;
    const seen = new Set<string>();
    while (current.is_rollback && current.rollback_from && !seen.has(current.id)) {
      seen.add(current.id);
      const next = deployments.find((d) => d.id === current.rollback_from);
      if (!next) return current.rollback_from;
      current = next;
    }
    return current.id;
  }

  /** After a gateway restart: start the current release again from its build on disk. */
  private async restoreRelease(dep: DeploymentRow): Promise<void> {
    const service = this.app.store.state.services.find((s) => s.id === dep.service_id);
    const name = service?.name ?? dep.service_id;
    const giveUp = (reason: string): void => {
      this.log(dep, 'runtime', 'warn', `Not restarted after the local gateway restarted: ${reason}`);
      setServiceStatus(this.app, dep.service_id, 'stopped');
      this.ctx.options.notify(`Could not restart ${name}: ${reason} (marked stopped; deploy again)`);
    };
    await this.databases.ensureFor(dep, (d, level, message) => this.log(d, 'buildctl', level, message));
    const buildId = this.buildIdOf(dep);
    const spec = await readRunSpec(this.buildsDir, buildId);
    if (!spec) return giveUp(`the build of deployment ${buildId} is not on disk`);
    if (this.ctx.closed()) return;
    let instance: Instance;
    try {
      instance = await this.launchInstance(dep, spec);
    } catch (error) {
      return giveUp(errorText(error));
    }
    const controller = new AbortController();
    const readiness =
      instance.kind === 'process' && this.isWorker(dep)
        ? // A worker has no port: running is all there is to check.
          await Promise.race([instance.exited.then((): Readiness => ({ ok: false, reason: 'exited' })), new Promise<Readiness>((resolve) => setTimeout(() => resolve({ ok: true, host: instance.host }), WORKER_SETTLE_MS))])
        : await this.reroute(
            dep,
            instance,
            await waitForHttp({
              port: instance.port,
              timeoutMs: this.ctx.options.readyTimeoutMs,
              signal: controller.signal,
              exited: instance.exited,
              ...(instance.pid !== undefined ? { listening: () => listeningPorts(instance.pid) } : {}),
            }),
            spec,
          );
    if (this.ctx.closed()) return;
    if (!readiness.ok) {
      await instance.stop(3000);
      this.instances.delete(instance);
      return giveUp(readiness.reason === 'exited' ? describeExit(await instance.exited) : `no answer on port ${instance.port}`);
    }
    instance.host = readiness.host;
    if (this.routes.has(dep)) {
      // A new deployment went live meanwhile: it wins.
      await instance.stop();
      this.instances.delete(instance);
      return;
    }
    this.routes.set(dep, instance);
    this.watchCrash(dep, instance);
    const domain = this.routes.ensureDomain(dep);
    setServiceStatus(this.app, dep.service_id, 'running');
    this.log(dep, 'runtime', 'info', `Restarted after the local gateway restarted: serving http://${domain.domain}/`);
    this.ctx.options.notify(`Restarted ${name} → http://${domain.domain}/`);
  }
}

/**
 * The stderr line that says why a process died: the last error-looking line, skipping stack frames
 * and runtime footers ("Node.js v20…"); else the last non-empty one.
 */
export function crashLine(stderr: string[]): string | undefined {
  const meaningful = stderr
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !/^\s+at\s/.test(line) && !/^Node\.js v\d/.test(line) && !/^\s*\^+\s*$/.test(line));
  return [...meaningful].reverse().find((line) => /error|exception|fatal|panic|traceback|cannot|failed/i.test(line)) ?? meaningful.at(-1);
}
