/**
 * The simulated executor (`--simulate`): moves each deployment through pending → building →
 * deploying → success (or a scripted failure) over `buildDurationMs`, writing realistic log lines
 * as it goes, and creates the service's auto domain shortly after the first success. Also finishes
 * dependency provisioning. Nothing runs on this machine.
 *
 * Every step is a precomputed row of a timeline and the row index is persisted, so a restarted
 * gateway resumes a half-finished build where it stopped instead of inventing a new story.
 */

import type { App } from './app.js';
import { nowIso } from './app.js';
import type { DependencyAddress, Executor } from './executor.js';
import { appendLog, ensureAutoDomain, markCurrent, setServiceStatus, updateDeployment } from './records.js';
import { NO_SOURCE_ERROR } from './scripts.js';
import { serviceLogs } from './service-logs.js';
import type { DependencyRow, DeploymentPlan, DeploymentRow, DeploymentStatus, FailurePhase, LogLine, ServiceRow } from './store.js';
import { TERMINAL_STATUSES } from './store.js';

type LogSpec = [source: LogLine['source'], level: LogLine['level'], message: string];

interface Step {
  /** Offset from the deployment start, in ms. */
  at: number;
  status: DeploymentStatus;
  progress: number;
  buildPercent: number;
  message: string;
  logs: LogSpec[];
  failure?: { phase: FailurePhase; error: string };
}

/** Auto domains appear this long after the success, so clients must poll for them. */
const AUTO_DOMAIN_DELAY_MS = 200;

const DEFAULT_ERRORS: Record<'build' | 'deploy' | 'runtime', string> = {
  build: 'Build failed: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1',
  deploy: 'Deployment failed: pod did not become ready (ImagePullBackOff)',
  runtime: 'Container crashed: CrashLoopBackOff (exit code 1)',
};

const DEFAULT_FAILURE_LINES: Record<'build' | 'deploy' | 'runtime', string[]> = {
  build: [
    'npm ERR! code ELIFECYCLE',
    'npm ERR! errno 1',
    'ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1',
  ],
  deploy: ['Failed to pull image: manifest unknown', 'Back-off pulling image'],
  runtime: ['Error: Cannot find module \'/app/server.js\'', 'Back-off restarting failed container'],
};

export class Simulator implements Executor {
  private readonly pending = new Map<string, NodeJS.Timeout | undefined>();

  constructor(private readonly app: App) {}

  // ---- deployments -----------------------------------------------------------------------

  /** Starts (or resumes) the timeline of a non-terminal deployment. */
  start(dep: DeploymentRow): void {
    if (TERMINAL_STATUSES.has(dep.status) || this.pending.has(dep.id)) return;
    const steps = this.timeline(dep);
    const previousAt = dep.sim_step > 0 ? (steps[dep.sim_step - 1]?.at ?? 0) : 0;
    this.scheduleStep(dep.id, steps, dep.sim_step, previousAt);
  }

  cancel(dep: DeploymentRow): void {
    this.app.timers.cancel(this.pending.get(dep.id));
    this.pending.delete(dep.id);
    appendLog(this.app, dep, 'runtime', 'warn', 'Deployment cancelled by user request');
    updateDeployment(this.app, dep, { status: 'cancelled', message: 'Deployment cancelled', completed_at: nowIso() });
  }

  /** After a restart: continue builds, provisioning and any auto domain not yet written (the port plays no part). */
  resume(): void {
    const state = this.app.store.state;
    for (const dep of state.deployments) {
      if (!TERMINAL_STATUSES.has(dep.status)) this.start(dep);
      else if (dep.status === 'success' && dep.is_current) this.scheduleAutoDomain(dep);
    }
    for (const dependency of state.dependencies) {
      if (dependency.status === 'provisioning') this.provisionDependency(dependency);
    }
  }

  /** Nothing runs: the pending steps are timers, which the gateway stops with all its others. */
  close(): Promise<void> {
    for (const handle of this.pending.values()) this.app.timers.cancel(handle);
    this.pending.clear();
    return Promise.resolve();
  }

  private scheduleStep(id: string, steps: Step[], index: number, previousAt: number): void {
    const step = steps[index];
    if (!step) {
      this.pending.delete(id);
      return;
    }
    const handle = this.app.timers.after(step.at - previousAt, () => {
      const dep = this.app.store.state.deployments.find((d) => d.id === id);
      if (!dep || TERMINAL_STATUSES.has(dep.status)) {
        this.pending.delete(id);
        return;
      }
      this.apply(dep, step, index);
      this.scheduleStep(id, steps, index + 1, step.at);
    });
    this.pending.set(id, handle);
  }

  private apply(dep: DeploymentRow, step: Step, index: number): void {
    for (const [source, level, message] of step.logs) appendLog(this.app, dep, source, level, message);
    const patch: Partial<DeploymentRow> = {
      status: step.status,
      progress: step.progress,
      build_percent: step.buildPercent,
      message: step.message,
      sim_step: index + 1,
    };
    if (step.failure) {
      patch.error_msg = step.failure.error;
      patch.error_context = { phase: step.failure.phase, progress: step.progress };
    }
    if (TERMINAL_STATUSES.has(step.status)) patch.completed_at = nowIso();
    updateDeployment(this.app, dep, patch);
    setServiceStatus(this.app, dep.service_id, step.status === 'success' ? 'running' : step.status === 'failed' ? 'failed' : 'deploying');
    if (step.status === 'success') {
      markCurrent(this.app, dep);
      this.scheduleAutoDomain(dep);
      this.startContainer(dep);
    }
  }

  /** What a started container prints, in the service's runtime log (nothing runs, so nothing more follows). */
  private startContainer(dep: DeploymentRow): void {
    const service = this.app.store.state.services.find((s) => s.id === dep.service_id);
    const logs = serviceLogs(this.app);
    const port = service?.port || 8080;
    logs.append(dep.service_id, dep.id, 'info', `> ${service?.start_command || 'image default entrypoint'}`);
    logs.append(dep.service_id, dep.id, 'info', `listening on :${port}`);
    const extra = dep.plan.outcome === 'success' ? (dep.plan.log_lines ?? []) : [];
    for (const line of extra) logs.append(dep.service_id, dep.id, 'info', line);
  }

  // ---- domains and proxying --------------------------------------------------------------

  private scheduleAutoDomain(dep: DeploymentRow): void {
    this.app.timers.after(AUTO_DOMAIN_DELAY_MS, () => ensureAutoDomain(this.app, dep.service_id, dep.project_id, dep.environment));
  }

  domainFor(label: string): string {
    return `${label}.opendeploy.run`;
  }

  /** No app runs, so no request is ever one for an app. */
  proxyRequest(): boolean {
    return false;
  }

  proxyUpgrade(): boolean {
    return false;
  }

  // ---- dependencies ----------------------------------------------------------------------

  /** The in-cluster address a hosted dependency gets. */
  dependencyAddress(name: string, projectId: string, defaultPort: number): Promise<DependencyAddress> {
    return Promise.resolve({ host: `${name}.${projectId.slice(0, 8)}.svc.cluster.local`, port: defaultPort });
  }

  provisionDependency(row: DependencyRow): void {
    const id = row.id;
    this.app.timers.after(this.app.settings.dependencyProvisionMs, () => {
      const found = this.app.store.state.dependencies.find((d) => d.id === id);
      if (!found || found.status !== 'provisioning') return;
      found.status = 'running';
      found.updated_at = nowIso();
      this.app.store.changed();
    });
  }

  // ---- timelines -------------------------------------------------------------------------

  private timeline(dep: DeploymentRow): Step[] {
    const total = Math.max(10, this.app.settings.buildDurationMs);
    const service = this.app.store.state.services.find((s) => s.id === dep.service_id);
    if (dep.plan.phase === 'source') return sourceFailureTimeline(total);
    if (dep.is_rollback) return rollbackTimeline(total, dep, service);
    return buildTimeline(total, dep, service);
  }
}

function sourceFailureTimeline(total: number): Step[] {
  // Hosted signature: progress jumps to 10, the workflow finds an empty source_path and fails
  // within ~1 s without writing a single log line (logs: null, total: 0).
  return [
    { at: Math.min(total * 0.05, 500), status: 'pending', progress: 10, buildPercent: 10, message: 'Starting deployment workflow', logs: [] },
    {
      at: Math.min(total * 0.1, 1000),
      status: 'failed',
      progress: 10,
      buildPercent: 10,
      message: NO_SOURCE_ERROR,
      logs: [],
      failure: { phase: 'source', error: NO_SOURCE_ERROR },
    },
  ];
}

function baseImage(language: string): string {
  const lang = language.toLowerCase();
  if (lang.includes('python')) return 'docker.io/library/python:3.12-slim';
  if (lang === 'go' || lang.includes('golang')) return 'docker.io/library/golang:1.22-alpine';
  if (lang.includes('ruby')) return 'docker.io/library/ruby:3.3-slim';
  if (lang.includes('java')) return 'docker.io/library/eclipse-temurin:21-jre';
  if (lang.includes('php')) return 'docker.io/library/php:8.3-apache';
  return 'docker.io/library/node:20-alpine';
}

function installCommand(language: string): string {
  const lang = language.toLowerCase();
  if (lang.includes('python')) return 'pip install -r requirements.txt';
  if (lang === 'go' || lang.includes('golang')) return 'go mod download';
  if (lang.includes('ruby')) return 'bundle install';
  if (lang.includes('php')) return 'composer install --no-dev';
  return 'npm ci';
}

function buildTimeline(total: number, dep: DeploymentRow, service: ServiceRow | undefined): Step[] {
  const at = (fraction: number): number => Math.round(total * fraction);
  const name = service?.name ?? 'service';
  const language = service?.language ?? '';
  const image = `registry.opendeploy.local/${dep.project_id.slice(0, 8)}/${name}:${dep.id.slice(0, 8)}`;
  const dockerfile = service?.builder === 'dockerfile';
  const buildCmd = service?.build_command || (language.toLowerCase().includes('python') ? '' : 'npm run build');
  const port = service?.port || 8080;
  const namespace = dep.environment === 'staging' ? 'staging' : 'production';
  const plan = dep.plan;
  const failPhase = plan.outcome === 'failed' ? plan.phase : undefined;

  const steps: Step[] = [
    { at: at(0.05), status: 'pending', progress: 10, buildPercent: 10, message: 'Starting deployment workflow', logs: [] },
    {
      at: at(0.1), status: 'building', progress: 20, buildPercent: 0, message: 'Building image',
      logs: dockerfile
        ? [['buildctl', 'info', `#1 [internal] load build definition from ${service?.dockerfile_path || 'Dockerfile'}`], ['buildctl', 'info', '#1 transferring dockerfile: 612B done']]
        : [['buildctl', 'info', `railpack: detected ${language || 'node'} application`], ['buildctl', 'info', '#1 [internal] load build definition from railpack-plan.json']],
    },
    { at: at(0.2), status: 'building', progress: 30, buildPercent: 20, message: 'Building image', logs: [['buildctl', 'info', `#2 [internal] load metadata for ${baseImage(language)}`]] },
    { at: at(0.3), status: 'building', progress: 40, buildPercent: 40, message: 'Building image', logs: [['buildctl', 'info', '#5 [2/5] COPY . .'], ['buildctl', 'info', `#6 [3/5] RUN ${installCommand(language)}`]] },
    { at: at(0.4), status: 'building', progress: 50, buildPercent: 60, message: 'Building image', logs: [['buildctl', 'info', '#6 DONE 3.2s']] },
  ];
  if (failPhase === 'build') return [...steps, failureStep(at(0.45), 50, 60, 'build', plan, 'buildctl')];
  steps.push(
    { at: at(0.5), status: 'building', progress: 60, buildPercent: 80, message: 'Building image', logs: buildCmd ? [['buildctl', 'info', `#7 [4/5] RUN ${buildCmd}`]] : [['buildctl', 'info', '#7 [4/5] RUN true']] },
    { at: at(0.6), status: 'building', progress: 70, buildPercent: 100, message: 'Pushing image', logs: [['buildctl', 'info', '#8 exporting to image'], ['buildctl', 'info', `#8 pushing ${image} done`]] },
    { at: at(0.7), status: 'deploying', progress: 80, buildPercent: 100, message: 'Deploying', logs: [['runtime', 'info', `Applying manifests for ${name} in namespace ${namespace}`]] },
    { at: at(0.78), status: 'deploying', progress: 85, buildPercent: 100, message: 'Deploying', logs: [['runtime', 'info', `Scheduling ${service?.replicas ?? 1} replica(s): cpu_limit=${service?.cpu_limit ?? '1'} memory_limit=${service?.memory_limit ?? '1Gi'}`]] },
  );
  if (failPhase === 'deploy') return [...steps, failureStep(at(0.82), 85, 100, 'deploy', plan, 'runtime')];
  steps.push(
    { at: at(0.86), status: 'deploying', progress: 90, buildPercent: 100, message: 'Starting containers', logs: [['runtime', 'info', `Container started: ${service?.start_command || 'image default entrypoint'}`], ['runtime', 'info', `Listening on port ${port}`]] },
  );
  if (failPhase === 'runtime') return [...steps, failureStep(at(0.93), 90, 100, 'runtime', plan, 'runtime')];
  const extra: LogSpec[] = (plan.outcome === 'success' ? (plan.log_lines ?? []) : []).map((l) => ['runtime', 'info', l]);
  steps.push(
    { at: at(0.93), status: 'deploying', progress: 95, buildPercent: 100, message: 'Waiting for readiness', logs: [['runtime', 'info', `Readiness probe passed on ${service?.readiness_path || service?.health_check_path || '/'}`], ...extra] },
    { at: total, status: 'success', progress: 100, buildPercent: 100, message: 'Deployment completed successfully', logs: [['runtime', 'info', 'Deployment completed successfully']] },
  );
  return steps;
}

function failureStep(
  at: number,
  progress: number,
  buildPercent: number,
  phase: 'build' | 'deploy' | 'runtime',
  plan: DeploymentPlan,
  source: LogLine['source'],
): Step {
  const error = plan.error_msg ?? DEFAULT_ERRORS[phase];
  const lines = plan.log_lines ?? DEFAULT_FAILURE_LINES[phase];
  return {
    at,
    status: 'failed',
    progress,
    buildPercent,
    message: error,
    logs: lines.map((l): LogSpec => [source, 'error', l]),
    failure: { phase, error },
  };
}

function rollbackTimeline(total: number, dep: DeploymentRow, service: ServiceRow | undefined): Step[] {
  const at = (fraction: number): number => Math.round(total * fraction);
  return [
    { at: at(0.1), status: 'deploying', progress: 80, buildPercent: 100, message: 'Rolling back', logs: [['runtime', 'info', `Rolling back ${service?.name ?? 'service'} to the image of deployment ${dep.rollback_from ?? ''}`]] },
    { at: at(0.5), status: 'deploying', progress: 90, buildPercent: 100, message: 'Starting containers', logs: [['runtime', 'info', 'Container started']] },
    { at: at(0.8), status: 'deploying', progress: 95, buildPercent: 100, message: 'Waiting for readiness', logs: [['runtime', 'info', 'Readiness probe passed']] },
    { at: total, status: 'success', progress: 100, buildPercent: 100, message: 'Rollback completed successfully', logs: [['runtime', 'info', 'Rollback completed successfully']] },
  ];
}
