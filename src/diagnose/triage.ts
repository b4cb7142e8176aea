/**
 * Triage's diagnosis of one deployment: a pure function of the deployment row, its last log lines
 * and the facts gathered about its service, matched against the same playbook the deploy's failure
 * summary uses, so both name the same cause.
 */
import type { Deployment } from '../gateway/index.js';
import { commandWriter } from '../core/target-flags.js';
import { describeMatch, matchHealthyDeployment, matchPlaybook, type MatchOptions, type PlaybookFacts, type PlaybookMatch } from './playbook.js';

/** How many log lines triage reads. */
export const TRIAGE_TAIL = 300;
/** How many of them an unknown failure shows. */
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

export interface TriageDiagnosis {
  report: TriageReport;
  /** False when no playbook row explains a failure. */
  known: boolean;
}

const TERMINAL = new Set(['success', 'failed', 'cancelled', 'rolled_back']);

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

/**
 * `facts` may be undefined only for a deployment that is still running (nothing is matched then).
 * `targetFlags` are the flags that reached the deployment's service: every command of the report
 * carries them.
 */
export function diagnoseDeployment(deployment: Deployment, lines: string[], facts: PlaybookFacts | undefined, options: Pick<MatchOptions, 'targetFlags'> = {}): TriageDiagnosis {
  const od = commandWriter(options.targetFlags);
  const progress = deployment.progress_percent ?? deployment.progress ?? null;
  if (!TERMINAL.has(deployment.status) || facts === undefined) {
    return {
      known: true,
      report: {
        deployment_id: deployment.id,
        status: deployment.status,
        cause_id: null,
        cause: `the deployment is still ${deployment.status}${progress !== null ? ` (${progress}%)` : ''}; there is nothing to triage yet`,
        evidence: [],
        fix_command: null,
        next_action: `Follow it with \`${od(`logs ${deployment.id} --follow`)}\`, then triage it if it fails.`,
      },
    };
  }
  if (deployment.status === 'success' || deployment.status === 'rolled_back') {
    const unhealthy = matchHealthyDeployment(facts, lines, options);
    if (unhealthy) return { known: true, report: reportOf(deployment, unhealthy) };
    return {
      known: true,
      report: {
        deployment_id: deployment.id,
        status: deployment.status,
        cause_id: null,
        cause: deployment.status === 'success' ? 'the deployment is healthy: it succeeded and its logs show no known failure' : 'the deployment succeeded and was later replaced by a rollback',
        evidence: [],
        fix_command: null,
        next_action: `Nothing to fix; \`${od('status')}\` shows ${deployment.status === 'success' ? 'the live URL' : 'the current release'}.`,
      },
    };
  }
  const match = matchPlaybook(facts, lines, { unknownTail: UNKNOWN_TAIL, ...options });
  const known = match.id !== null || deployment.status === 'cancelled';
  const report = reportOf(deployment, match);
  if (!known) {
    report.cause = `unknown: ${match.cause}`;
    report.next_action = `No playbook row matches. Read the last ${Math.min(UNKNOWN_TAIL, lines.length)} log lines above; \`${od(`logs ${deployment.id} --tail 300`)}\` shows more.`;
  }
  return { known, report };
}

