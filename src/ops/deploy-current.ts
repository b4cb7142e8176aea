/**
 * "Create a deployment of the source the service already has, and watch it to the end": what an env
 * change needs to reach the pods (a restart keeps stale env). No upload, no update-source: the
 * project's bound source is rebuilt. Same body and watch as the deploy pipeline's deployment stage.
 */
import { OdError } from '../core/errors.js';
import type { Deployment } from '../gateway/index.js';
import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { pollIntervalFor } from './connect.js';
import { followDeployment, needsRebind, startDeployment, type DeploymentRunner } from '../deploy/run-deployment.js';
import { writeProjectState, type ProjectState } from '../deploy/state.js';
import type { OpsTarget } from './target.js';
import type { FailureScope } from '../diagnose/failure-facts.js';
import { readRequiredVars } from '../deploy/required-vars.js';
import { TERMINAL_STATUSES } from '../deploy/watch.js';

export interface DeployCurrentResult {
  deployment: Deployment;
  durationSeconds: number;
  /** The live URL recorded in project.json, when the folder is linked to this project. */
  url: string | undefined;
}

export interface DeployCurrentOptions {
  /**
   * Finish with the deployment an earlier run started but never saw end (project.json still shows
   * it unfinished) instead of starting another. Only when nothing changed since (no new variables,
   * no new source): a redeploy re-run, or a `db add` re-run whose variables were already wired.
   */
  resume?: boolean;
  /** The source just uploaded and bound (`redeploy --source`), instead of the last one known. */
  tempFilePath?: string;
}

export async function deployCurrentSource(target: OpsTarget, exec: ExecutionContext, reporter: Reporter, signal: AbortSignal, options: DeployCurrentOptions = {}): Promise<DeployCurrentResult> {
  const service = target.service;
  if (!service) throw new OdError('internal', 'deployCurrentSource needs a resolved service.');
  const { client, audit } = target;
  const linked: ProjectState | undefined = target.state?.project_id === target.projectId ? target.state : undefined;

  const tempFilePath = options.tempFilePath ?? linked?.last_temp_file_path ?? (await lastSourcePath(target, service.id));
  if (!tempFilePath) {
    throw new OdError('invalid_input', `No uploaded source is known for service ${service.name}, so there is nothing to redeploy.`, {
      nextAction: 'Run `opendeploy` in the project folder to upload and deploy it.',
    });
  }
  const dependencies = linked ? linked.dependencies.map((dep) => dep.dependency_id) : (await client.getDependencyStatus(target.projectId)).map((dep) => dep.id);

  const runner: DeploymentRunner = {
    client,
    reporter,
    audit,
    signal,
    pollIntervalMs: pollIntervalFor(target.gatewayUrl),
    streamLogs: !exec.quiet,
    scope: await failureScope(target, service),
  };
  const unfinished = options.resume ? await unfinishedDeployment(target, linked, service.id) : undefined;
  if (unfinished) {
    reporter.stageSkip('deploy.create', `Following deployment ${unfinished.id}, started by an earlier run that did not see it end`, { deployment_id: unfinished.id });
  }
  const created =
    unfinished ??
    (await startDeployment(
      runner,
      { project_id: target.projectId, service_id: service.id, environment: target.environment, source: 'zip', temp_file_path: tempFilePath, dependencies },
      `Starting a new deployment of ${service.name}`,
    ));
  if (linked && !unfinished) {
    linked.last_deployment = { id: created.id, service_id: service.id, status: created.status, created_at: created.created_at ?? new Date().toISOString() };
    await writeProjectState(target.root, linked);
  }
  let result;
  try {
    result = await followDeployment(runner, created.id, service.id);
  } catch (error) {
    if (linked) {
      const status = (error as { details?: Record<string, unknown> }).details?.status;
      if (linked.last_deployment && typeof status === 'string') linked.last_deployment.status = status;
      if (needsRebind(error)) {
        // The bound source is unusable: the next deploy must upload and bind it again.
        delete linked.last_source_digest;
        delete linked.last_temp_file_path;
      }
      await writeProjectState(target.root, linked);
    }
    throw error;
  }
  if (linked) {
    linked.last_deployment = { id: created.id, service_id: service.id, status: 'success', created_at: linked.last_deployment?.created_at };
    await writeProjectState(target.root, linked);
  }
  return { deployment: result.deployment, durationSeconds: result.durationSeconds, url: linked?.url };
}

/**
 * The deployment project.json records as started but not seen to its end, when the gateway shows it
 * still running or succeeded (a failed one is not resumed: the user re-runs to try again).
 */
async function unfinishedDeployment(target: OpsTarget, linked: ProjectState | undefined, serviceId: string): Promise<Deployment | undefined> {
  const last = linked?.last_deployment;
  if (!last || last.service_id !== serviceId || TERMINAL_STATUSES.has(last.status)) return undefined;
  const current = await target.client.getDeployment(last.id).catch(() => undefined);
  if (!current || (TERMINAL_STATUSES.has(current.status) && current.status !== 'success')) return undefined;
  return current;
}

/** The archive path the service's latest deployment was built from (for --project without a linked folder). */
async function lastSourcePath(target: OpsTarget, serviceId: string): Promise<string | undefined> {
  const deployments = await target.client.listDeployments(target.projectId);
  const mine = deployments
    .filter((d) => d.service_id === serviceId && typeof d.temp_file_path === 'string' && d.temp_file_path !== '')
    .sort((a, b) => String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')));
  return mine[0]?.temp_file_path ?? undefined;
}

/** What the failure diagnosis needs besides the logs, the same facts `opendeploy triage` reads. */
export async function failureScope(target: OpsTarget, service: { id: string }): Promise<FailureScope> {
  const linked = target.state?.project_id === target.projectId ? target.state : undefined;
  const link = linked?.services.find((candidate) => candidate.service_id === service.id);
  const requiredVars = link ? await readRequiredVars(target.root, link.name) : undefined;
  return { projectId: target.projectId, bound: target.bound, ...(requiredVars ? { requiredVars } : {}), ...(target.targetFlags ? { targetFlags: target.targetFlags } : {}) };
}
