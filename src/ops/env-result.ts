/**
 * What an applied env change reports, as data: the result object every front end prints (the CLI's
 * `--json` document, an MCP tool result) and the warnings an outcome carries. Pure functions of the
 * plan and the outcome, key names and counts only — never a value.
 */
import type { EnvPlan } from './env-plan.js';
import { REDACTED_JSON, type LiveEnv, type ReplaceOutcome } from './env.js';

/** `env set`: which of the named keys were added, changed or already had that value. */
export function envSetResult(plan: EnvPlan, outcome: ReplaceOutcome | undefined): Record<string, unknown> {
  const base = { service_id: plan.service.id, keys_set: plan.keys };
  if (!outcome) {
    return { ...base, keys_added: [], keys_changed: [], keys_unchanged: plan.keys, count: plan.countBefore, changed: false, verified: true, redeploy_needed: false };
  }
  return {
    ...base,
    keys_added: outcome.diff.added,
    keys_changed: outcome.diff.changed,
    keys_unchanged: plan.keys.filter((key) => outcome.diff.unchanged.includes(key)),
    count: outcome.count,
    changed: true,
    verified: outcome.verified,
    redeploy_needed: true,
  };
}

/** `env unset`: the keys removed and how many remain. */
export function envUnsetResult(plan: EnvPlan, outcome: ReplaceOutcome): Record<string, unknown> {
  return { service_id: plan.service.id, keys_removed: outcome.diff.removed, count: outcome.count, verified: outcome.verified, redeploy_needed: true };
}

/** `env rotate`: the key-level change (the redeploy's fields are added by whoever ran it). */
export function envRotateResult(plan: EnvPlan, outcome: ReplaceOutcome | undefined): Record<string, unknown> {
  if (!outcome) {
    return { service_id: plan.service.id, keys_added: [], keys_removed: [], keys_changed: [], count: plan.countBefore, changed: false, verified: true, deployment_id: null };
  }
  return {
    service_id: plan.service.id,
    keys_added: outcome.diff.added,
    keys_removed: outcome.diff.removed,
    keys_changed: outcome.diff.changed,
    count: outcome.count,
    changed: true,
    verified: outcome.verified,
  };
}

/** What the user should know although the change succeeded: another writer, a lost answer, an unverified read-back. */
export function outcomeWarnings(outcome: ReplaceOutcome): string[] {
  const warnings: string[] = [];
  if (outcome.reapplied > 0) {
    warnings.push(
      `Another change to these variables was written at the same time and replaced this one; opendeploy applied it again on top (${outcome.reapplied} time${outcome.reapplied === 1 ? '' : 's'}) and read it back.`,
    );
  }
  if (outcome.warning) warnings.push(outcome.warning);
  if (outcome.unexpected.length > 0) {
    warnings.push(`The service also holds ${outcome.unexpected.join(', ')}, which this change did not send: another change may have happened at the same time.`);
  }
  return warnings;
}

/** A plan as shown before (or instead of) applying it: names, the question it would ask, what would follow. */
export function envPlanView(plan: EnvPlan): Record<string, unknown> {
  return {
    operation: plan.operation,
    service_id: plan.service.id,
    keys_added: plan.diff.added,
    keys_removed: plan.diff.removed,
    keys_changed: plan.diff.changed,
    count_before: plan.countBefore,
    count_after: Object.keys(plan.next).length,
    changed: !plan.unchanged,
    needs_consent: plan.consent !== null,
    then: plan.then,
  };
}

/** How the live deployment holds one of the service's variables. */
export type LiveKeyStatus = 'same' | 'different' | 'missing';

/** The service's current variables against the ones the live deployment was built with (values compared, never shown). */
export interface LiveComparison {
  /** Every key of the service's current set: the live deployment has it with the same value, another value, or not at all. */
  keys: Record<string, LiveKeyStatus>;
  /** Keys the live deployment has that the service no longer has, sorted. */
  liveOnly: string[];
  /** Any key differs, is missing, or is only in the live deployment. */
  differs: boolean;
}

export function compareLive(current: Record<string, string>, live: Record<string, string>): LiveComparison {
  const keys: Record<string, LiveKeyStatus> = {};
  for (const key of Object.keys(current).sort()) keys[key] = !Object.hasOwn(live, key) ? 'missing' : live[key] === current[key] ? 'same' : 'different';
  const liveOnly = Object.keys(live).filter((key) => !Object.hasOwn(current, key)).sort();
  return { keys, liveOnly, differs: liveOnly.length > 0 || Object.values(keys).some((status) => status !== 'same') };
}

/**
 * `env list`: the service's variables and, next to them, how the live deployment's differ. The
 * `live_*` fields are null when there is no live deployment or the gateway does not show its
 * variables. `live_variables` holds the live deployment's values of the keys that differ or only
 * it has, redacted like `variables` unless revealing.
 */
export function envListResult(serviceId: string, variables: Record<string, string>, reveal: boolean, live: LiveEnv): Record<string, unknown> {
  const keys = Object.keys(variables).sort();
  const shown = (map: Record<string, string>, names: string[]): Record<string, string> => Object.fromEntries(names.map((key) => [key, reveal ? map[key]! : REDACTED_JSON]));
  const base = { service_id: serviceId, variables: shown(variables, keys), count: keys.length, values_redacted: !reveal, live_deployment_id: live.deploymentId };
  if (live.variables === undefined) return { ...base, live_differs: null, live: null, live_only: null, live_variables: null };
  const comparison = compareLive(variables, live.variables);
  const differing = [...keys.filter((key) => comparison.keys[key] === 'different'), ...comparison.liveOnly].sort();
  return { ...base, live_differs: comparison.differs, live: comparison.keys, live_only: comparison.liveOnly, live_variables: shown(live.variables, differing) };
}
