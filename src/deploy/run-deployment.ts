import { OdError } from '../core/errors.js';
import type { GatewayClient, Deployment, CreateDeploymentBody } from '../gateway/index.js';
import type { Reporter } from '../core/reporter.js';
import type { AuditLogger } from '../audit/index.js';
import { sleep } from '../core/sleep.js';
import { failureError, watchDeployment, type WatchResult } from './watch.js';
import type { FailureScope } from '../diagnose/failure-facts.js';

/**
 * Creating a deployment and following it to the end, shared by the first deploy, redeploys, env
 * changes and `db add`: one implementation of the extraction wait, the watch, the audit lines and
 * the failure diagnosis.
 */
export interface DeploymentRunner {
  client: GatewayClient;
  reporter: Reporter;
  audit: AuditLogger;
  signal: AbortSignal;
  pollIntervalMs: number;
  streamLogs: boolean;
  /** The project, the credential's claim state and the service's required variables: facts for the failure diagnosis. */
  scope?: FailureScope;
}

/** How long to wait out "source still extracting" (409 + Retry-After) before giving up. */
const EXTRACTION_WAIT_MS = 180_000;

/** Marks an error after which the bound source is unusable: the next run must upload and bind again. */
export function needsRebind(error: unknown): boolean {
  return error instanceof OdError && error.details.rebind_source === true;
}

/**
 * `POST /v1/deployments/` (never with `resources`). A 409 while the gateway is still extracting the
 * upload is waited out; a 422 means the archive could not be extracted and must be sent again.
 */
export async function startDeployment(run: DeploymentRunner, body: CreateDeploymentBody, label: string): Promise<Deployment> {
  const { client, reporter, audit } = run;
  reporter.stageStart('deploy.create', label);
  const deadline = Date.now() + EXTRACTION_WAIT_MS;
  // The service's deployments before the create: after a lost answer, anything new is ours.
  const known = new Set((await serviceDeployments(client, body)).map((d) => d.id));
  for (;;) {
    try {
      const created = await client.createDeployment(body);
      audit.info('deploy.create', { project_id: body.project_id, service_id: body.service_id, deployment_id: created.id });
      reporter.stageDone('deploy.create', `Deployment ${created.id} started`, { deployment_id: created.id, service_id: body.service_id });
      return created;
    } catch (error) {
      if (!(error instanceof OdError)) throw error;
      if (isAmbiguous(error)) {
        const adopted = await createdSince(client, body, known);
        if (adopted) {
          audit.info('deploy.create', { project_id: body.project_id, service_id: body.service_id, deployment_id: adopted.id, adopted_after: error.code });
          reporter.warn(`The answer to the deployment request was lost (${error.message.replace(/\.$/, '')}), but the gateway did start deployment ${adopted.id}; following it instead of starting another.`);
          reporter.stageDone('deploy.create', `Deployment ${adopted.id} started`, { deployment_id: adopted.id, service_id: body.service_id, adopted: true });
          return adopted;
        }
      }
      const retryAfter = Number(error.details.retry_after ?? 0);
      const extracting = error.code === 'conflict' && (error.details.source_status === 'extracting' || retryAfter > 0);
      if (extracting && Date.now() < deadline) {
        reporter.progress('deploy.create', 'The gateway is still extracting the source; waiting', { retry_after: retryAfter || 5 });
        await sleep(Math.max(1, retryAfter || 5) * 1000, run.signal);
        continue;
      }
      audit.error('deploy.create', { project_id: body.project_id, service_id: body.service_id, status: error.status ?? null, error_code: error.code, message: error.message });
      if (error.status === 422) {
        throw new OdError('deploy_failed', `The gateway could not extract the uploaded archive: ${error.message}`, {
          nextAction: 'Run `opendeploy` again to upload a fresh archive.',
          status: 422,
          details: { rebind_source: true },
        });
      }
      throw error;
    }
  }
}

/**
 * Errors after which the gateway may have applied a request: the answer was lost (connection
 * reset, timeout, 5xx, an unreadable 2xx body), not refused (4xx, 429).
 */
export function isAmbiguous(error: unknown): boolean {
  if (!(error instanceof OdError)) return false;
  if (error.code === 'gateway_unreachable') return true;
  if (error.code !== 'server_error') return false;
  const status = error.status;
  return status === undefined || status >= 500 || (status >= 200 && status < 300);
}

/** The service's deployments in the body's environment, newest first. */
async function serviceDeployments(client: GatewayClient, body: CreateDeploymentBody): Promise<Deployment[]> {
  const all = await client.listDeployments(body.project_id);
  return all
    .filter((d) => d.service_id === body.service_id && (!d.environment || !body.environment || d.environment === body.environment))
    .sort((a, b) => String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')));
}

/**
 * Reads back after a lost answer: the newest deployment of the service that was not there before
 * the create. Undefined when there is none (the request was not applied) or the read-back fails.
 */
async function createdSince(client: GatewayClient, body: CreateDeploymentBody, known: Set<string>): Promise<Deployment | undefined> {
  try {
    return (await serviceDeployments(client, body)).find((d) => !known.has(d.id));
  } catch {
    return undefined;
  }
}

/**
 * Watches a deployment to a terminal status. Success → one `deploy.terminal` stage line. Anything
 * else → the last 300 log lines are read, the cause is named with its evidence lines, and the
 * diagnosed OdError is thrown (`details.rebind_source` when the source was never bound).
 */
export async function followDeployment(run: DeploymentRunner, deploymentId: string, serviceId: string): Promise<WatchResult> {
  run.reporter.stageStart('deploy.watch', 'Building and deploying');
  const result = await watchDeployment(deploymentId, run);
  const status = result.deployment.status;
  run.audit[status === 'success' ? 'info' : 'error']('deploy.terminal', {
    deployment_id: deploymentId,
    service_id: serviceId,
    status,
    duration_seconds: result.durationSeconds,
  });
  if (status !== 'success') {
    const failure = await failureError(run.client, result, run.scope);
    // The evidence lines are usually among the lines the stream just showed: a line is shown once.
    for (const line of failure.evidence) if (!result.shownLines.has(line)) run.reporter.log({ message: line, source: 'evidence' });
    if (failure.rebindSource) failure.error.details.rebind_source = true;
    throw failure.error;
  }
  run.reporter.stageDone('deploy.terminal', `Deployment ${deploymentId} succeeded in ${result.durationSeconds} s`, {
    deployment_id: deploymentId,
    status,
    duration_seconds: result.durationSeconds,
  });
  return result;
}
