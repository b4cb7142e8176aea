/**
 * `opendeploy triage [deployment]`: read the status, error fields and last 300 log lines of a failed
 * deployment and what is known about the service and its databases; the diagnosis (src/diagnose/triage.ts)
 * names the cause, the evidence and the exact fix command.
 * Read-only: triage never changes anything.
 */
import { OdError } from '../core/errors.js';
import type { Deployment } from '../gateway/index.js';
import type { OpsTarget } from './target.js';
import type { PlaybookFacts } from '../diagnose/playbook.js';
import { diagnoseDeployment, TRIAGE_TAIL, UNKNOWN_TAIL, type TriageDiagnosis, type TriageReport } from '../diagnose/triage.js';
import { getDeploymentById, isTerminal, serviceDeployments } from './status.js';
import { failedPhase, gatherFailureFacts } from '../diagnose/failure-facts.js';
import { failureScope } from './deploy-current.js';

export { TRIAGE_TAIL, UNKNOWN_TAIL, type TriageReport };

export interface TriageOutcome extends TriageDiagnosis {
  /** For the human block: the ids, the service, the audit log. */
  serviceId: string | null;
  serviceName: string | null;
  progress: number | null;
}

const FAILED = new Set(['failed']);

export { failedPhase };

async function pickDeployment(target: OpsTarget, id: string | undefined): Promise<Deployment> {
  if (id) return getDeploymentById(target, id);
  const service = target.service!;
  const deployments = await serviceDeployments(target, service.id);
  const latest = deployments[0];
  // A service whose latest deployment succeeded is healthy: that is the answer, not an older failure.
  if (latest && latest.status === 'success') return latest;
  const failed = deployments.find((d) => FAILED.has(d.status));
  if (!failed) {
    throw new OdError('not_found', `There is no failed deployment of ${service.name} to triage${latest ? ` (the latest, ${latest.id}, is ${latest.status})` : ''}.`, {
      retryable: false,
      nextAction: latest ? `Follow it with \`opendeploy logs ${latest.id} --follow\`.` : 'Run `opendeploy` to deploy it first.',
      details: { service_id: service.id, latest: latest?.id ?? null },
    });
  }
  return failed;
}

/**
 * The same facts the deploy pipeline gathers right after a failure, plus the required variables of
 * the folder's last analysis (when this folder is linked to the deployment's service), so triage and
 * the deploy's failure summary name the same cause.
 */
async function factsFor(target: OpsTarget, deployment: Deployment): Promise<PlaybookFacts> {
  const serviceId = deployment.service_id ?? target.service?.id;
  const scope = serviceId ? await failureScope(target, { id: serviceId }) : { projectId: target.projectId, bound: target.bound };
  return gatherFailureFacts({ client: target.client, deployment, ...scope, ...(serviceId ? { serviceId } : {}) });
}

export async function runTriage(target: OpsTarget, deploymentId: string | undefined): Promise<TriageOutcome> {
  const deployment = await pickDeployment(target, deploymentId);
  const progress = deployment.progress_percent ?? deployment.progress ?? null;
  const base = {
    serviceId: deployment.service_id ?? target.service?.id ?? null,
    serviceName: target.service?.name ?? null,
    progress,
  };
  const options = target.targetFlags ? { targetFlags: target.targetFlags } : {};
  if (!isTerminal(deployment.status)) return { ...base, ...diagnoseDeployment(deployment, [], undefined, options) };
  const logs = await target.client.getDeploymentLogs(deployment.id, { tail: TRIAGE_TAIL });
  const lines = logs.logs.map((line) => line.message ?? '').filter((line) => line !== '');
  const facts = await factsFor(target, deployment);
  return { ...base, ...diagnoseDeployment(deployment, lines, facts, options) };
}

/** The report for people: cause, evidence, the fix, and where to get help. */
export function humanTriage(outcome: TriageOutcome, context: { projectId: string; auditLog: string }): string[] {
  const { report } = outcome;
  const lines = [`Deployment ${report.deployment_id}: ${report.status}${outcome.progress !== null ? ` at ${outcome.progress}%` : ''}`];
  lines.push(`Cause${report.cause_id ? ` (${report.cause_id})` : ''}: ${report.cause}`);
  if (report.evidence.length > 0) {
    lines.push(outcome.known ? 'Evidence:' : `Last ${report.evidence.length} log lines:`);
    for (const line of report.evidence) lines.push(`  ${line}`);
  }
  if (report.fix_command) lines.push('Fix:', `  ${report.fix_command}`);
  lines.push(report.next_action);
  if (report.status === 'failed' || report.status === 'cancelled') {
    lines.push(
      '',
      'Need help? Email hi@opendeploy.dev with:',
      `  Project ID     ${context.projectId}`,
      `  Service        ${outcome.serviceName ?? 'n/a'}`,
      `  Service ID     ${outcome.serviceId ?? 'n/a'}`,
      `  Deployment ID  ${report.deployment_id}`,
      `  Status         ${report.status}`,
      `  Log file       ${context.auditLog}`,
    );
  }
  return lines;
}
