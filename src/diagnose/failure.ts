import { describeMatch, matchPlaybook, type FailureCode, type MatchOptions, type PlaybookFacts } from './playbook.js';

/** What a failed deployment most likely died of, with the log lines that show it. */
export interface FailureDiagnosis {
  code: FailureCode;
  cause: string;
  /** The cause with what the evidence adds — the same sentence `opendeploy triage` prints. */
  summary: string;
  nextAction: string;
  evidence: string[];
  /** True when the source must be uploaded and bound again before a retry can work. */
  rebindSource: boolean;
  /** The playbook row (`E1`, `F1`, `D1`, …), or null when no row matched. */
  playbookId: string | null;
  /** The exact command that fixes it, when there is one. */
  fixCommand: string | null;
}

/** The facts of a failed deployment: at least its status; the more, the more exact the fix. */
export type FailedDeploymentFacts = PlaybookFacts;

/**
 * The diagnosis shown right after a failed deploy. The signatures live in one table (playbook.ts),
 * which `opendeploy triage` uses too, with the same facts (failure-facts.ts), so both name the same
 * cause. `targetFlags` are the flags that reached the service: its commands carry them.
 */
export function diagnoseFailure(facts: FailedDeploymentFacts, logLines: string[], options: Pick<MatchOptions, 'targetFlags'> = {}): FailureDiagnosis {
  const match = matchPlaybook(facts, logLines, options);
  return {
    code: match.code,
    cause: match.cause,
    summary: describeMatch(match),
    nextAction: match.nextAction,
    evidence: match.evidence,
    rebindSource: match.rebindSource,
    playbookId: match.id,
    fixCommand: match.fixCommand,
  };
}
