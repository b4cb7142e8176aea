import { matchPlaybook, type FailureCode } from '../ops/playbook.js';

/** What a failed deployment most likely died of, with the log lines that show it. */
export interface FailureDiagnosis {
  code: FailureCode;
  cause: string;
  nextAction: string;
  evidence: string[];
  /** True when the source must be uploaded and bound again before a retry can work. */
  rebindSource: boolean;
  /** The failure-playbook row (`E1`, `F1`, `D1`, …), or null when no row matched. */
  playbookId: string | null;
  /** The exact command that fixes it, when there is one. */
  fixCommand: string | null;
}

export interface FailedDeploymentFacts {
  status: string;
  progress?: number | null;
  error_msg?: string | null;
  /** The last non-terminal status seen while watching (building, deploying, ...). */
  lastPhase?: string;
  /** Seconds between creation and failure, when known. */
  durationSeconds?: number;
}

/**
 * The diagnosis shown right after a failed deploy. The signatures live in one table,
 * src/ops/playbook.ts, which `opendeploy triage` uses too (with more facts about the service).
 */
export function diagnoseFailure(facts: FailedDeploymentFacts, logLines: string[]): FailureDiagnosis {
  const match = matchPlaybook(facts, logLines);
  return {
    code: match.code,
    cause: match.cause,
    nextAction: match.nextAction,
    evidence: match.evidence,
    rebindSource: match.rebindSource,
    playbookId: match.id,
    fixCommand: match.fixCommand,
  };
}
