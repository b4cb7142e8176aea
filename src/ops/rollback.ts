/**
 * `opendeploy rollback [deployment]`: roll the service back to an earlier successful deployment
 * (by default the most recent one before the current release), watch the rollback deployment to the
 * end, read it back and record it in project.json.
 */
import { OdError } from '../errors.js';
import { dashboardUrl } from '../auth/index.js';
import { confirmAction, shellQuote } from '../cli/confirm.js';
import type { ExecutionContext, GlobalOptions } from '../cli/context.js';
import type { Reporter } from '../cli/output/index.js';
import { pollIntervalFor } from '../cli/options.js';
import type { Deployment } from '../gateway/index.js';
import { followDeployment } from '../deploy/run-deployment.js';
import { failureScope } from './deploy-current.js';
import { writeProjectState } from '../deploy/state.js';
import type { OpsTarget } from './target.js';
import { field, getDeploymentById, serviceDeployments } from './status.js';

export interface RollbackInput {
  target: OpsTarget;
  exec: ExecutionContext;
  reporter: Reporter;
  options: GlobalOptions;
  /** The deployment to roll back to (default: the previous successful one). */
  deploymentId?: string | undefined;
  signal: AbortSignal;
}

export interface RollbackResult {
  status: 'success';
  rolled_back_to: string;
  deployment_id: string;
  previous: string | null;
  [key: string]: unknown;
}

/** The exact command that repeats an operation with consent (`--yes`), keeping the flags that matter. */
export function resumeCommand(command: string, args: string[], options: GlobalOptions, exec: ExecutionContext): string {
  const argv = ['opendeploy', command, ...args];
  if (options.project) argv.push('--project', options.project);
  if (options.service) argv.push('--service', options.service);
  if (options.env) argv.push('--env', options.env);
  if (options.gateway) argv.push('--gateway', options.gateway);
  if (options.local) argv.push('--local');
  if (exec.json) argv.push('--json');
  argv.push('--yes');
  return shellQuote(argv);
}

/**
 * The current release: the row the gateway marks `is_current`, else the newest success, else the
 * deployment project.json remembers.
 */
export function currentRelease(deployments: Deployment[], remembered?: string): Deployment | undefined {
  return (
    deployments.find((d) => field(d, 'is_current') === true) ??
    deployments.find((d) => d.status === 'success') ??
    (remembered ? deployments.find((d) => d.id === remembered) : undefined)
  );
}

/** The most recent success older than the current release that is not the release it already runs. */
export function rollbackCandidate(deployments: Deployment[], current: Deployment | undefined): Deployment | undefined {
  const start = current ? deployments.findIndex((d) => d.id === current.id) + 1 : 0;
  const runs = current ? field(current, 'rollback_from') : undefined;
  return deployments.slice(start).find((d) => d.status === 'success' && d.id !== current?.id && d.id !== runs);
}

/** The id of the deployment a rollback response started; `undefined` for a false success. */
export function rollbackDeploymentId(response: unknown, targetId: string): string | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const body = response as Record<string, unknown>;
  const explicit = body['deployment_id'];
  if (typeof explicit === 'string' && explicit.trim() !== '' && explicit !== targetId) return explicit;
  const id = body['id'];
  if (typeof id === 'string' && id.trim() !== '' && id !== targetId) return id;
  return undefined;
}

export async function runRollback(input: RollbackInput): Promise<RollbackResult> {
  const { target, exec, reporter, options, signal } = input;
  const service = target.service!;
  const { client, audit } = target;
  const linked = target.state?.project_id === target.projectId ? target.state : undefined;

  const deployments = await serviceDeployments(target, service.id);
  const current = currentRelease(deployments, linked?.last_deployment?.id);
  let rollbackTo: Deployment;
  if (input.deploymentId) {
    rollbackTo = await getDeploymentById(target, input.deploymentId);
  } else {
    const candidate = rollbackCandidate(deployments, current);
    if (!candidate) {
      throw new OdError(
        'not_found',
        `There is no earlier successful deployment of ${service.name} to roll back to${current ? ` (the current release is ${current.id})` : ''}.`,
        { nextAction: 'Name a deployment explicitly with `opendeploy rollback <deployment-id>`, or deploy a fix with `opendeploy`.', details: { service_id: service.id, current: current?.id ?? null } },
      );
    }
    rollbackTo = candidate;
  }
  const previous = current?.id ?? null;

  await confirmAction(exec, {
    action: `Roll back ${service.name} from deployment ${previous ?? '(none)'} to deployment ${rollbackTo.id}`,
    changes: [`${previous ?? '(none)'} → ${rollbackTo.id}`],
    resumeCommand: resumeCommand('rollback', [rollbackTo.id], options, exec),
  });

  reporter.stageStart('deploy.rollback', `Rolling back ${service.name} to ${rollbackTo.id}`);
  const response = await client.rollbackDeployment(rollbackTo.id);
  const newId = rollbackDeploymentId(response, rollbackTo.id);
  if (!newId) {
    audit.error('deploy.rollback', { project_id: target.projectId, service_id: service.id, rolled_back_to: rollbackTo.id, error_code: 'server_error', message: 'no deployment id in the rollback response' });
    const keys = response && typeof response === 'object' ? Object.keys(response as object) : [];
    throw new OdError('server_error', `The gateway accepted the rollback to ${rollbackTo.id} but returned no deployment id, so nothing was rolled out.`, {
      retryable: false,
      nextAction: `Check the service on the dashboard (${dashboardUrl(target.gatewayUrl, target.projectId)}) before trying again; the platform state may need repair.`,
      details: { rolled_back_to: rollbackTo.id, previous, response_keys: keys },
    });
  }
  const save = async (status: string): Promise<void> => {
    if (!linked) return;
    linked.last_deployment = { id: newId, service_id: service.id, status, created_at: new Date().toISOString() };
    await writeProjectState(target.root, linked);
  };
  await save('pending');
  audit.info('deploy.rollback', { project_id: target.projectId, service_id: service.id, deployment_id: newId, rolled_back_to: rollbackTo.id, previous });
  reporter.stageDone('deploy.rollback', `Rollback deployment ${newId} started`, { deployment_id: newId, rolled_back_to: rollbackTo.id, previous });

  let watched;
  try {
    watched = await followDeployment(
      { client, reporter, audit, signal, pollIntervalMs: pollIntervalFor(target.gatewayUrl), streamLogs: !exec.quiet, scope: await failureScope(target, service) },
      newId,
      service.id,
    );
  } catch (error) {
    const status = error instanceof OdError ? error.details.status : undefined;
    if (typeof status === 'string') await save(status);
    throw error;
  }
  await save(watched.deployment.status);
  // Read back: the rollback is reported only once the gateway shows it succeeded.
  const confirmed = await client.getDeployment(newId);
  if (confirmed.status !== 'success') {
    throw new OdError('server_error', `Rollback deployment ${newId} finished, but the gateway now reports it as ${confirmed.status}.`, {
      nextAction: 'Run `opendeploy status` in a moment to check again.',
      details: { deployment_id: newId, status: confirmed.status },
    });
  }
  return { status: 'success', rolled_back_to: rollbackTo.id, deployment_id: newId, previous };
}
