import { OdError } from '../core/errors.js';
import type { GatewayClient, Deployment } from '../gateway/index.js';
import type { Reporter } from '../core/reporter.js';
import type { AuditLogger } from '../audit/index.js';
import { sleep } from '../core/sleep.js';
import { capitalise } from '../core/text.js';
import { diagnoseFailure } from '../diagnose/failure.js';
import { gatherFailureFacts, type FailureScope } from '../diagnose/failure-facts.js';
import { registerServiceValues } from '../gateway/service-secrets.js';

export const TERMINAL_STATUSES = new Set(['success', 'failed', 'cancelled', 'rolled_back']);

export interface WatchOptions {
  client: GatewayClient;
  reporter: Reporter;
  audit: AuditLogger;
  signal: AbortSignal;
  pollIntervalMs: number;
  /** Streams log lines while watching (SSE); turned off for quiet runs. */
  streamLogs: boolean;
}

export interface WatchResult {
  deployment: Deployment;
  lastPhase: string;
  durationSeconds: number;
  /** Log lines already shown while watching: the failure summary does not print them again. */
  shownLines: ReadonlySet<string>;
}

/**
 * Polls `GET /v1/deployments/:id` (the only supported poll; `/status` is a 404) until a terminal
 * status, showing status and percent changes, while the SSE stream shows log lines.
 */
/** Registers the env values of the deployment's service as secrets; never throws. */
async function hideServiceValues(client: GatewayClient, deploymentId: string, reporter: Reporter): Promise<void> {
  const deployment = await client.getDeployment(deploymentId).catch(() => undefined);
  if (!deployment?.project_id || !deployment.service_id) return;
  if (!(await registerServiceValues(client, deployment.project_id, deployment.service_id))) {
    reporter.warn("Could not read the service's variables to hide them; log lines may show their values.");
  }
}

export async function watchDeployment(deploymentId: string, options: WatchOptions): Promise<WatchResult> {
  const { client, reporter } = options;
  const started = Date.now();
  const streamAbort = new AbortController();
  const onAbort = (): void => streamAbort.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  // Every env value of the service is registered before the first log line is printed (and before
  // the failure diagnosis quotes lines): values set by another process are hidden too.
  const known = hideServiceValues(client, deploymentId, reporter);
  const shownLines = new Set<string>();
  const stream = options.streamLogs ? known.then(() => followLogs(client, deploymentId, reporter, streamAbort.signal, shownLines)) : Promise.resolve();

  let lastShown = '';
  let lastPhase = 'pending';
  try {
    for (;;) {
      const deployment = await client.getDeployment(deploymentId);
      const status = deployment.status;
      if (!TERMINAL_STATUSES.has(status)) lastPhase = status;
      const percent = deployment.progress_percent ?? deployment.progress ?? null;
      const shown = `${status}:${percent ?? ''}`;
      if (shown !== lastShown) {
        lastShown = shown;
        // The deployment's overall percent, the `progress` field of the JSON event: the line a person
        // reads and the event a program reads never disagree (the build step's own percent is not it).
        const label = `${capitalise(status)}${percent != null ? ` ${percent}%` : ''}`;
        reporter.progress('deploy.watch', label, { deployment_id: deploymentId, status, progress: percent });
      }
      if (TERMINAL_STATUSES.has(status)) {
        // Give the log stream a moment to deliver the last lines before we print the verdict.
        await Promise.race([stream, sleep(300)]).catch(() => undefined);
        await known;
        return { deployment, lastPhase, durationSeconds: Math.round((Date.now() - started) / 1000), shownLines };
      }
      await sleep(options.pollIntervalMs, options.signal);
    }
  } finally {
    streamAbort.abort();
    options.signal.removeEventListener('abort', onAbort);
    await stream.catch(() => undefined);
  }
}

async function followLogs(client: GatewayClient, deploymentId: string, reporter: Reporter, signal: AbortSignal, shown: Set<string>): Promise<void> {
  try {
    for await (const event of client.streamDeploymentLogs(deploymentId, { signal })) {
      if (event.event === 'end') return;
      if (event.event !== 'log' && event.event !== 'message') continue;
      const data = event.data as { timestamp?: string; level?: string; message?: string; source?: string } | string;
      if (typeof data === 'string') {
        shown.add(data);
        reporter.log({ message: data });
      } else if (data && typeof data.message === 'string') {
        shown.add(data.message);
        reporter.log({
          message: data.message,
          ...(data.timestamp ? { timestamp: data.timestamp } : {}),
          ...(data.level ? { level: data.level } : {}),
          ...(data.source ? { source: data.source } : {}),
        });
      }
    }
  } catch (error) {
    // Log streaming is a nicety: status polling decides the outcome, so a broken stream is not fatal.
    if (!signal.aborted) reporter.debug(`log stream ended: ${(error as Error).message}`);
  }
}

/**
 * Turns a terminal non-success deployment into the error the user sees: the last 300 log lines are
 * fetched and matched against the playbook with the same facts `opendeploy triage` gathers (the
 * service, the databases, the required variables the service lacks), so both name the same cause.
 */
export async function failureError(
  client: GatewayClient,
  result: WatchResult,
  scope?: FailureScope,
): Promise<{ error: OdError; rebindSource: boolean; evidence: string[] }> {
  const { deployment } = result;
  const logs = await client.getDeploymentLogs(deployment.id, { tail: 300 }).catch(() => ({ logs: [], total: 0 }));
  const lines = logs.logs.map((line) => line.message ?? '').filter((line) => line !== '');
  const facts = await gatherFailureFacts({
    client,
    deployment,
    lastPhase: result.lastPhase,
    durationSeconds: result.durationSeconds,
    ...(scope ?? {}),
  });
  const diagnosis = diagnoseFailure(facts, lines, { ...(scope?.targetFlags ? { targetFlags: scope.targetFlags } : {}) });
  const statusWord = deployment.status === 'rolled_back' ? 'was rolled back' : deployment.status;
  const error = new OdError(diagnosis.code, `Deployment ${deployment.id} ${statusWord}: ${diagnosis.summary}.`, {
    nextAction: diagnosis.nextAction,
    details: {
      deployment_id: deployment.id,
      status: deployment.status,
      progress: deployment.progress ?? null,
      cause_id: diagnosis.playbookId,
      cause: diagnosis.summary,
      evidence: diagnosis.evidence,
      fix_command: diagnosis.fixCommand,
      ...(facts.missingRequired && facts.missingRequired.length > 0 ? { missing_required_vars: facts.missingRequired } : {}),
    },
  });
  return { error, rebindSource: diagnosis.rebindSource, evidence: diagnosis.evidence };
}
