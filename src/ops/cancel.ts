/**
 * `opendeploy cancel [deployment]`: cancel a running deployment (by default the newest unfinished
 * one of the service), then read it back until the gateway reports it `cancelled` (bounded).
 */
import { OdError } from '../core/errors.js';
import { confirmAction } from '../core/consent.js';
import type { ExecutionContext, GlobalOptions, Prompter } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { pollIntervalFor } from './connect.js';
import type { Deployment } from '../gateway/index.js';
import { writeProjectState } from '../deploy/state.js';
import { sleep } from '../core/sleep.js';
import type { OpsTarget } from './target.js';
import { getDeploymentById, isTerminal, serviceDeployments } from './status.js';
import { resumeCommand } from './rollback.js';

/** How long the read-back waits for the gateway to show `cancelled`. */
const CANCEL_READBACK_MS = 30_000;

export interface CancelInput {
  target: OpsTarget;
  exec: ExecutionContext;
  reporter: Reporter;
  /** Asks for consent when a person is at the terminal. */
  prompter: Prompter;
  options: GlobalOptions & { dataDir?: string | undefined };
  deploymentId?: string | undefined;
  signal: AbortSignal;
  readbackMs?: number;
}

export interface CancelResult {
  status: 'cancelled';
  deployment_id: string;
  service_id: string | null;
  previous_status: string;
  progress: number | null;
  [key: string]: unknown;
}

function alreadyOver(deployment: Deployment): OdError {
  return new OdError('conflict', `Deployment ${deployment.id} is already ${deployment.status}; there is nothing to cancel.`, {
    retryable: false,
    nextAction: deployment.status === 'success' ? 'To undo it, run `opendeploy rollback`.' : 'Nothing to do; `opendeploy status` shows the service.',
    details: { deployment_id: deployment.id, status: deployment.status },
  });
}

/** One-shot: the result is the command's only JSON object, so no stage events are emitted. */
export async function runCancel(input: CancelInput): Promise<CancelResult> {
  const { target, exec, reporter, prompter, options, signal } = input;
  const { client, audit } = target;
  let deployment: Deployment;
  if (input.deploymentId) {
    deployment = await getDeploymentById(target, input.deploymentId);
  } else {
    const service = target.service!;
    const running = (await serviceDeployments(target, service.id)).find((d) => !isTerminal(d.status));
    if (!running) {
      throw new OdError('not_found', `Nothing is running: ${service.name} has no deployment in progress.`, {
        retryable: false,
        nextAction: 'Nothing to cancel; `opendeploy status` shows the latest deployment.',
        details: { service_id: service.id },
      });
    }
    deployment = running;
  }
  if (isTerminal(deployment.status)) throw alreadyOver(deployment);

  const progress = deployment.progress_percent ?? deployment.progress ?? null;
  await confirmAction({ exec, prompter }, {
    action: `Cancel deployment ${deployment.id} (${deployment.status}${progress !== null ? ` ${progress}%` : ''})`,
    changes: [deployment.id],
    resumeCommand: resumeCommand('cancel', [deployment.id], options, exec),
  });

  reporter.stageStart('deploy.cancel', `Cancelling ${deployment.id}`);
  try {
    await client.cancelDeployment(deployment.id);
  } catch (error) {
    if (error instanceof OdError && error.code === 'conflict') {
      // Finished between our read and the cancel: say what it finished as.
      const now = await client.getDeployment(deployment.id).catch(() => undefined);
      audit.warn('deploy.cancel', { deployment_id: deployment.id, error_code: 'conflict', status: now?.status ?? null });
      if (now && isTerminal(now.status)) throw alreadyOver(now);
    }
    throw error;
  }
  audit.info('deploy.cancel', { project_id: target.projectId, service_id: deployment.service_id ?? null, deployment_id: deployment.id, previous_status: deployment.status });

  // Read back until the gateway shows it cancelled (bounded).
  const deadline = Date.now() + (input.readbackMs ?? CANCEL_READBACK_MS);
  const interval = pollIntervalFor(target.gatewayUrl);
  let latest = await client.getDeployment(deployment.id);
  while (latest.status !== 'cancelled') {
    if (isTerminal(latest.status)) {
      throw new OdError('conflict', `Deployment ${deployment.id} finished as ${latest.status} before the cancel took effect.`, {
        retryable: false,
        nextAction: latest.status === 'success' ? 'To undo it, run `opendeploy rollback`.' : '`opendeploy triage` explains the failure.',
        details: { deployment_id: deployment.id, status: latest.status },
      });
    }
    if (Date.now() >= deadline) {
      throw new OdError('server_error', `The gateway accepted the cancel, but deployment ${deployment.id} is still ${latest.status} after ${Math.round((input.readbackMs ?? CANCEL_READBACK_MS) / 1000)} s.`, {
        retryable: true,
        nextAction: `Check again with \`opendeploy logs ${deployment.id}\` or \`opendeploy status\` in a minute.`,
        details: { deployment_id: deployment.id, status: latest.status },
      });
    }
    await sleep(interval, signal);
    latest = await client.getDeployment(deployment.id);
  }

  const linked = target.state?.project_id === target.projectId ? target.state : undefined;
  if (linked?.last_deployment?.id === deployment.id) {
    linked.last_deployment = { ...linked.last_deployment, status: 'cancelled' };
    await writeProjectState(target.root, linked);
  }
  return {
    status: 'cancelled',
    deployment_id: deployment.id,
    service_id: deployment.service_id ?? null,
    previous_status: deployment.status,
    progress,
  };
}
