/**
 * `opendeploy triage [deployment]`: read the status, error fields and last 300 log lines of a failed
 * deployment, match them against the failure playbook (src/diagnose/playbook.ts) with what is known about
 * the service and its databases, and name the cause, the evidence and the exact fix command.
 * Read-only: triage never changes anything.
 */
import { OdError } from '../core/errors.js';
import type { Deployment } from '../gateway/index.js';
import type { OpsTarget } from './target.js';
import { describeMatch, matchHealthyDeployment, matchPlaybook, type PlaybookFacts, type PlaybookMatch } from '../diagnose/playbook.js';
import { getDeploymentById, isTerminal, serviceDeployments } from './status.js';
import { failedPhase, gatherFailureFacts } from '../diagnose/failure-facts.js';
import { failureScope } from './deploy-current.js';

export const TRIAGE_TAIL = 300;
export const UNKNOWN_TAIL = 20;

export interface TriageReport {
  deployment_id: string;
  status: string;
  cause_id: string | null;
  cause: string;
  evidence: string[];
  fix_command: string | null;
  next_action: string;
  [key: string]: unknown;
}

export interface TriageOutcome {
  report: TriageReport;
  /** For the human block: the ids, the service, the audit log. */
  serviceId: string | null;
  serviceName: string | null;
  progress: number | null;
  known: boolean;
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

function reportOf(deployment: Deployment, match: PlaybookMatch): TriageReport {
  return {
    deployment_id: deployment.id,
    status: deployment.status,
    cause_id: match.id,
    cause: describeMatch(match),
    evidence: match.evidence,
    fix_command: match.fixCommand,
    next_action: match.nextAction,
  };
}

export async function runTriage(target: OpsTarget, deploymentId: string | undefined): Promise<TriageOutcome> {
  const deployment = await pickDeployment(target, deploymentId);
  const progress = deployment.progress_percent ?? deployment.progress ?? null;
  const base = {
    serviceId: deployment.service_id ?? target.service?.id ?? null,
    serviceName: target.service?.name ?? null,
    progress,
  };
  if (!isTerminal(deployment.status)) {
    return {
      ...base,
      known: true,
      report: {
        deployment_id: deployment.id,
        status: deployment.status,
        cause_id: null,
        cause: `the deployment is still ${deployment.status}${progress !== null ? ` (${progress}%)` : ''}; there is nothing to triage yet`,
        evidence: [],
        fix_command: null,
        next_action: `Follow it with \`opendeploy logs ${deployment.id} --follow\`, then triage it if it fails.`,
      },
    };
  }
  const logs = await target.client.getDeploymentLogs(deployment.id, { tail: TRIAGE_TAIL });
  const lines = logs.logs.map((line) => line.message ?? '').filter((line) => line !== '');
  const facts = await factsFor(target, deployment);

  if (deployment.status === 'success' || deployment.status === 'rolled_back') {
    const unhealthy = matchHealthyDeployment(facts, lines);
    if (unhealthy) return { ...base, known: true, report: reportOf(deployment, unhealthy) };
    return {
      ...base,
      known: true,
      report: {
        deployment_id: deployment.id,
        status: deployment.status,
        cause_id: null,
        cause: deployment.status === 'success' ? 'the deployment is healthy: it succeeded and its logs show no known failure' : 'the deployment succeeded and was later replaced by a rollback',
        evidence: [],
        fix_command: null,
        next_action: deployment.status === 'success' ? 'Nothing to fix; `opendeploy status` shows the live URL.' : 'Nothing to fix; `opendeploy status` shows the current release.',
      },
    };
  }
  const match = matchPlaybook(facts, lines, { unknownTail: UNKNOWN_TAIL });
  const known = match.id !== null || deployment.status === 'cancelled';
  const report = reportOf(deployment, match);
  if (!known) {
    report.cause = `unknown: ${match.cause}`;
    report.next_action = `No playbook row matches. Read the last ${Math.min(UNKNOWN_TAIL, lines.length)} log lines above; \`opendeploy logs ${deployment.id} --tail 300\` shows more.`;
  }
  return { ...base, known, report };
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
