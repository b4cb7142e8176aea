/**
 * `opendeploy rollback [deployment]`: roll the service back to an earlier successful deployment
 * (by default the most recent one before the current release), watch the rollback deployment to the
 * end, read it back and record it in project.json.
 */
import { OdError } from '../core/errors.js';
import { dashboardUrl } from '../auth/index.js';
import { confirmAction } from '../core/consent.js';
import { shellQuote } from '../core/text.js';
import { targetFlags } from '../core/target-flags.js';
import type { ExecutionContext, GlobalOptions, Prompter } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { pollIntervalFor } from './connect.js';
import type { Deployment } from '../gateway/index.js';
import { followDeployment, isAmbiguous } from '../deploy/run-deployment.js';
import { failureScope } from './deploy-current.js';
import { writeProjectState, type ProjectState } from '../deploy/state.js';
import type { OpsTarget } from './target.js';
import { field, getDeploymentById, serviceDeployments } from './status.js';
import { checkLiveSource, type NextRedeploySource } from './live-source.js';

export interface RollbackInput {
  target: OpsTarget;
  exec: ExecutionContext;
  reporter: Reporter;
  /** Asks for consent when a person is at the terminal. */
  prompter: Prompter;
  options: GlobalOptions & { dataDir?: string | undefined };
  /** The deployment to roll back to (default: the previous successful one). */
  deploymentId?: string | undefined;
  signal: AbortSignal;
}

export interface RollbackResult {
  status: 'success';
  rolled_back_to: string;
  deployment_id: string;
  previous: string | null;
  /** Which source the next `opendeploy redeploy` uses (null when the gateway could not be read back). */
  next_redeploy_source: NextRedeploySource | null;
  [key: string]: unknown;
}

/** The exact command that repeats an operation with consent (`--yes`), keeping the flags that matter. */
export function resumeCommand(command: string, args: string[], options: GlobalOptions & { dataDir?: string | undefined }, exec: ExecutionContext): string {
  const argv = ['opendeploy', command, ...args, ...targetFlags(options)];
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
function rollbackCandidate(deployments: Deployment[], current: Deployment | undefined): Deployment | undefined {
  const start = current ? deployments.findIndex((d) => d.id === current.id) + 1 : 0;
  const runs = current ? field(current, 'rollback_from') : undefined;
  return deployments.slice(start).find((d) => d.status === 'success' && d.id !== current?.id && d.id !== runs);
}

/** The id of the deployment a rollback response started; `undefined` for a false success. */
function rollbackDeploymentId(response: unknown, targetId: string): string | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const body = response as Record<string, unknown>;
  const explicit = body['deployment_id'];
  if (typeof explicit === 'string' && explicit.trim() !== '' && explicit !== targetId) return explicit;
  const id = body['id'];
  if (typeof id === 'string' && id.trim() !== '' && id !== targetId) return id;
  return undefined;
}

export async function runRollback(input: RollbackInput): Promise<RollbackResult> {
  const { target, exec, reporter, prompter, options, signal } = input;
  const service = target.service!;
  const { client, audit } = target;
  const linked = target.state?.project_id === target.projectId ? target.state : undefined;

  const deployments = await serviceDeployments(target, service.id);
  // An earlier run asked for a rollback and lost track of it: finish that one, never a further one.
  const pending = linked?.pending_rollback?.service_id === service.id ? linked.pending_rollback : undefined;
  if (pending && input.deploymentId && input.deploymentId !== pending.to) {
    // The user names another target: the unfinished request is no longer what they want.
    await savePending(target, linked, undefined);
  }
  const resumed = pending && (!input.deploymentId || input.deploymentId === pending.to) ? pending : undefined;
  const adoptedEarlier = resumed ? startedRollback(deployments, resumed.to, new Set(resumed.known)) : undefined;

  const current = currentRelease(deployments, linked?.last_deployment?.id);
  let rollbackTo: Deployment;
  if (resumed) {
    rollbackTo = deployments.find((d) => d.id === resumed.to) ?? (await getDeploymentById(target, resumed.to));
  } else if (input.deploymentId) {
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
  const previous = resumed ? resumed.from : (current?.id ?? null);

  let newId: string;
  if (adoptedEarlier) {
    newId = adoptedEarlier.id;
    reporter.stageSkip('deploy.rollback', `Following rollback deployment ${newId} to ${rollbackTo.id}, started by an earlier run`, { deployment_id: newId, rolled_back_to: rollbackTo.id, previous });
  } else {
    await confirmAction({ exec, prompter }, {
      action: `Roll back ${service.name} from deployment ${previous ?? '(none)'} to deployment ${rollbackTo.id}`,
      changes: [`${previous ?? '(none)'} → ${rollbackTo.id}`],
      resumeCommand: resumeCommand('rollback', [rollbackTo.id], options, exec),
    });
    // Recorded before the request: if its answer is lost, the next run knows what was asked.
    const known = deployments.map((d) => d.id);
    await savePending(target, linked, { service_id: service.id, to: rollbackTo.id, from: previous, known });

    reporter.stageStart('deploy.rollback', `Rolling back ${service.name} to ${rollbackTo.id}`);
    let response: unknown;
    try {
      response = await client.rollbackDeployment(rollbackTo.id);
    } catch (error) {
      if (!isAmbiguous(error)) {
        await savePending(target, linked, undefined);
        throw error;
      }
      // The answer was lost, not refused: read back whether the gateway started it.
      const after = await serviceDeployments(target, service.id).catch(() => undefined);
      const started = after ? startedRollback(after, rollbackTo.id, new Set(known)) : undefined;
      if (!started) {
        if (after) await savePending(target, linked, undefined);
        throw error;
      }
      reporter.warn(`The answer to the rollback request was lost, but the gateway did start rollback deployment ${started.id}; following it.`);
      response = started;
    }
    const id = rollbackDeploymentId(response, rollbackTo.id);
    if (!id) {
      await savePending(target, linked, undefined);
      audit.error('deploy.rollback', { project_id: target.projectId, service_id: service.id, rolled_back_to: rollbackTo.id, error_code: 'server_error', message: 'no deployment id in the rollback response' });
      const keys = response && typeof response === 'object' ? Object.keys(response as object) : [];
      throw new OdError('server_error', `The gateway accepted the rollback to ${rollbackTo.id} but returned no deployment id, so nothing was rolled out.`, {
        retryable: false,
        nextAction: `Check the service on the dashboard (${dashboardUrl(target.gatewayUrl, target.projectId)}) before trying again; the platform state may need repair.`,
        details: { rolled_back_to: rollbackTo.id, previous, response_keys: keys },
      });
    }
    newId = id;
  }
  const save = async (status: string): Promise<void> => {
    if (!linked) return;
    linked.last_deployment = { id: newId, service_id: service.id, status, created_at: linked.last_deployment?.id === newId ? linked.last_deployment.created_at : new Date().toISOString() };
    await writeProjectState(target.root, linked);
  };
  await save('pending');
  audit.info('deploy.rollback', { project_id: target.projectId, service_id: service.id, deployment_id: newId, rolled_back_to: rollbackTo.id, previous, ...(adoptedEarlier ? { resumed: true } : {}) });
  if (!adoptedEarlier) reporter.stageDone('deploy.rollback', `Rollback deployment ${newId} started`, { deployment_id: newId, rolled_back_to: rollbackTo.id, previous });

  let watched;
  try {
    watched = await followDeployment(
      { client, reporter, audit, signal, pollIntervalMs: pollIntervalFor(target.gatewayUrl), streamLogs: !exec.quiet, scope: await failureScope(target, service) },
      newId,
      service.id,
    );
  } catch (error) {
    const status = error instanceof OdError ? error.details.status : undefined;
    if (typeof status === 'string') {
      // The rollback deployment itself ended (failed, cancelled): nothing is left to resume.
      if (linked) delete linked.pending_rollback;
      await save(status);
    }
    throw error;
  }
  if (linked) delete linked.pending_rollback;
  await save(watched.deployment.status);
  // Read back: the rollback is reported only once the gateway shows it succeeded. The watch already
  // saw success, so a failed read-back is a warning, not a failure.
  const confirmed = await client.getDeployment(newId).catch((error: unknown) => {
    reporter.warn(`Rollback deployment ${newId} succeeded, but reading it back failed (${error instanceof Error ? error.message.replace(/\.$/, '') : String(error)}); \`opendeploy status\` shows it.`);
    return undefined;
  });
  if (confirmed && confirmed.status !== 'success') {
    throw new OdError('server_error', `Rollback deployment ${newId} finished, but the gateway now reports it as ${confirmed.status}.`, {
      nextAction: 'Run `opendeploy status` in a moment to check again.',
      details: { deployment_id: newId, status: confirmed.status },
    });
  }
  return { status: 'success', rolled_back_to: rollbackTo.id, deployment_id: newId, previous, next_redeploy_source: await nextRedeploy(target, newId, options) };
}

/** What a redeploy after this rollback builds; reading it is advice, so a failed read is not an error. */
async function nextRedeploy(target: OpsTarget, liveId: string, options: GlobalOptions & { dataDir?: string | undefined }): Promise<NextRedeploySource | null> {
  try {
    const deployments = await serviceDeployments(target, target.service!.id);
    const live = deployments.find((d) => d.id === liveId) ?? (await target.client.getDeployment(liveId));
    return (await checkLiveSource(target, deployments, live, targetFlags(options)))?.next ?? null;
  } catch {
    return null;
  }
}

/** The human lines for the next redeploy after a rollback. */
export function humanNextRedeploy(next: NextRedeploySource | null): string[] {
  if (!next) return [];
  if (next.source === 'live_release') return [`  next redeploy  rebuilds this release's source: ${next.command}`];
  return [
    `  next redeploy  \`opendeploy redeploy\` refuses: the project's current source${next.deployment_id ? ` (deployment ${next.deployment_id})` : ''} is newer than this release`,
    `                 to deploy the newer source: ${next.command}`,
  ];
}

type PendingRollback = NonNullable<ProjectState['pending_rollback']>;

/** The rollback deployment to `to` that is not among `known` (i.e. started since), if any. */
function startedRollback(deployments: Deployment[], to: string, known: Set<string>): Deployment | undefined {
  return deployments.find((d) => !known.has(d.id) && field(d, 'rollback_from') === to);
}

async function savePending(target: OpsTarget, linked: ProjectState | undefined, pending: PendingRollback | undefined): Promise<void> {
  if (!linked) return;
  if (pending) linked.pending_rollback = pending;
  else if (linked.pending_rollback) delete linked.pending_rollback;
  else return;
  await writeProjectState(target.root, linked);
}
