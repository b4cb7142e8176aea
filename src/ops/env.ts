/**
 * Runtime variables of one service: read, full-replace and verify, and the apply half of every env
 * change (the plan half, pure, is src/ops/env-plan.ts).
 *
 * The gateway has only GET and a full-replace PUT (`omitted keys are deleted`), so every change is
 * GET → compute the whole next map → PUT the whole map → GET again and compare. Values are
 * registered as secrets the moment they are read or produced, so no reporter or audit line can
 * show them; the audit log gets key names and counts only.
 */
import { randomBytes } from 'node:crypto';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import type { OpsTarget } from './target.js';
import { diffEnv, type EnvDiff } from './env-diff.js';
import { isAmbiguous } from '../deploy/run-deployment.js';
import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { deployCurrentSource, type DeployCurrentResult } from './deploy-current.js';
import { formatDotenv, keepOutOfArchive, writeSecretFileAtomic, type ArchiveProtection } from './dotenv.js';
import { planEnvChange, type EnvPlan, type EnvPullPlan, type EnvRequest } from './env-plan.js';
import { checkLiveSource, refuseChangeAfterRollback, type NextRedeploySource } from './live-source.js';
import { newerSourceAfterRollback } from './redeploy.js';
import { currentRelease } from './rollback.js';
import { field, serviceDeployments } from './status.js';
import type { Deployment } from '../gateway/index.js';

export { DEPENDENCY_ENV_KEYS } from './env-plan.js';

/** What JSON output shows instead of a value unless --show-secrets was given. */
export const REDACTED_JSON = '<redacted>';
/** What human output shows instead of a value. */
export const REDACTED_HUMAN = '••••••';

export function targetService(target: OpsTarget): { id: string; name: string } {
  if (!target.service) throw new OdError('internal', 'No service was resolved for an env operation.');
  return target.service;
}

/** GET the decrypted map; every value is registered as a secret before it is returned. */
export async function readEnv(target: OpsTarget): Promise<Record<string, string>> {
  const service = targetService(target);
  const variables = await target.client.getEnv(target.projectId, service.id);
  for (const value of Object.values(variables)) registerSecret(value);
  return variables;
}

export interface ReplaceOutcome {
  diff: EnvDiff;
  /** Number of variables the service holds afterwards (as read back). */
  count: number;
  /** Keys the read-back shows that were not in the map we sent (another writer). */
  unexpected: string[];
  /** false when the change was applied but could not be read back (`warning` says why). */
  verified: boolean;
  /** How many times this change was put again because another writer replaced it meanwhile. */
  reapplied: number;
  /** Something the user should know although the change succeeded (a failed read-back, a lost answer). */
  warning?: string;
}

/** Re-applications after another writer overwrote this change (each is GET → merge → PUT → GET). */
const MAX_REAPPLY = 6;
/**
 * Later looks after a verified change (ms after the previous look), so a writer that read before
 * our PUT and wrote after it is caught: one short look when nobody else was seen writing, a longer
 * watch when the read-back showed other writers at work.
 */
const SETTLE_QUIET_MS = [120];
const SETTLE_BUSY_MS = [150, 300, 600, 900];

/** Our change as a delta: keys set to a value, keys removed. */
interface EnvChange {
  set: Record<string, string>;
  removed: string[];
}

function applyChange(base: Record<string, string>, change: EnvChange): Record<string, string> {
  const next = { ...base, ...change.set };
  for (const key of change.removed) delete next[key];
  return next;
}

/** Keys of our change that the map does not show (set to another value, or still present). */
function lostKeys(map: Record<string, string>, change: EnvChange): string[] {
  return [...Object.keys(change.set).filter((key) => map[key] !== change.set[key]), ...change.removed.filter((key) => Object.hasOwn(map, key))].sort();
}

/** The map shows keys or values this run did not send: another writer is at work. */
function othersWriting(map: Record<string, string>, sent: Record<string, string>): boolean {
  return Object.keys(map).some((key) => map[key] !== sent[key]) || Object.keys(sent).some((key) => !Object.hasOwn(map, key));
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * PUTs the full `next` map and proves it arrived: every key this change sets must read back with
 * exactly the value sent, and every key it removes must be gone. The gateway has no compare-and-
 * swap, so two runs doing GET → merge → PUT at once can overwrite each other: when the read-back
 * shows our change was lost, it is applied again on top of what the service now holds (bounded),
 * and the outcome says so. Values are compared, never shown: a mismatch names the keys only.
 */
export async function replaceEnv(target: OpsTarget, before: Record<string, string>, next: Record<string, string>, operation: string): Promise<ReplaceOutcome> {
  const service = targetService(target);
  for (const value of Object.values(next)) registerSecret(value);
  const diff = diffEnv(before, next);
  const names = {
    keys_added: diff.added,
    keys_removed: diff.removed,
    keys_changed: diff.changed,
  };
  const change: EnvChange = { set: Object.fromEntries([...diff.added, ...diff.changed].map((key) => [key, next[key]!])), removed: diff.removed };
  const ids = { project_id: target.projectId, service_id: service.id, operation };

  let sent = next;
  let reapplied = 0;
  let busy = false;
  let warning: string | undefined;
  for (;;) {
    try {
      await target.client.putEnv(target.projectId, service.id, sent);
    } catch (error) {
      if (error instanceof OdError) target.audit.error('env.replace', { ...ids, ...names, error_code: error.code, status: error.status ?? null });
      // The answer was lost, not refused: the change may be there. Read back before failing.
      if (!isAmbiguous(error)) throw error;
      const now = await readEnv(target).catch(() => undefined);
      if (!now || lostKeys(now, change).length > 0) throw error;
      warning = `The gateway's answer to the change was lost (${(error as OdError).message.replace(/\.$/, '')}), but reading back shows it was applied.`;
    }

    let readBack: Record<string, string>;
    try {
      readBack = await readEnv(target);
    } catch (error) {
      // The PUT was accepted: the change is applied, only its proof is missing.
      const reason = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
      target.audit.info('env.replace', { ...ids, ...names, count: Object.keys(sent).length, verified: false, reapplied });
      return {
        diff,
        count: Object.keys(sent).length,
        unexpected: [],
        verified: false,
        reapplied,
        warning: `The gateway accepted the change, but reading it back failed (${reason}); run \`opendeploy env list\` to check.`,
      };
    }
    let lost = lostKeys(readBack, change);
    if (othersWriting(readBack, sent)) busy = true;
    // Later looks: a concurrent writer that read before our PUT may land after it.
    for (let look = 0; lost.length === 0 && look < (busy ? SETTLE_BUSY_MS : SETTLE_QUIET_MS).length; look++) {
      await pause((busy ? SETTLE_BUSY_MS : SETTLE_QUIET_MS)[look]! + Math.floor(Math.random() * 50));
      const again = await readEnv(target).catch(() => undefined);
      if (!again) break; // the change was verified once; a failed later look proves nothing
      readBack = again;
      if (othersWriting(again, sent)) busy = true;
      lost = lostKeys(again, change);
    }
    if (lost.length === 0) {
      const unexpected = Object.keys(readBack).filter((key) => !Object.hasOwn(next, key)).sort();
      target.audit.info('env.replace', { ...ids, ...names, count: Object.keys(readBack).length, verified: true, reapplied });
      return { diff, count: Object.keys(readBack).length, unexpected, verified: true, reapplied, ...(warning ? { warning } : {}) };
    }
    if (reapplied >= MAX_REAPPLY) {
      const mismatched = Object.keys(change.set).filter((key) => readBack[key] !== change.set[key]).sort();
      const stillThere = change.removed.filter((key) => Object.hasOwn(readBack, key));
      target.audit.error('env.replace', { ...ids, ...names, verified: false, mismatched, still_present: stillThere, reapplied });
      const parts = [
        ...(mismatched.length ? [`${mismatched.join(', ')} did not read back with the value sent`] : []),
        ...(stillThere.length ? [`${stillThere.join(', ')} ${stillThere.length === 1 ? 'is' : 'are'} still present`] : []),
      ];
      throw new OdError('server_error', `The gateway accepted the new variables of service ${service.name}, but after ${reapplied + 1} attempts reading them back still shows that ${parts.join(' and ')} (another writer may be changing them at the same time).`, {
        retryable: true,
        nextAction: 'Run `opendeploy env list` to see the current names, then repeat the change once the other writer is done.',
        details: { service_id: service.id, mismatched, still_present: stillThere, reapplied },
      });
    }
    // Another writer replaced the whole map after our PUT: put our change again on top of theirs.
    reapplied += 1;
    target.audit.info('env.replace', { ...ids, ...names, reapplied, overwritten: lost });
    await pause(Math.floor(Math.random() * 60));
    const fresh = await readEnv(target);
    sent = applyChange(fresh, change);
  }
}

/** A strong random secret for `env rotate KEY --generate`: 32 random bytes, base64url (43 chars). */
export function generateSecret(): string {
  const value = randomBytes(32).toString('base64url');
  registerSecret(value);
  return value;
}

/** Sorted copy of a map with every value replaced by the redaction marker (or kept, when revealing). */
export function presentVariables(variables: Record<string, string>, reveal: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(variables).sort()) out[key] = reveal ? variables[key]! : REDACTED_JSON;
  return out;
}

// ------------------------------------------------------------------ operations

/** The service's variables (`env list`); values registered as secrets, never shown unless asked. */
export async function listEnv(target: OpsTarget): Promise<{ service: { id: string; name: string }; variables: Record<string, string> }> {
  const service = targetService(target);
  return { service, variables: await readEnv(target) };
}

/**
 * The variables a deployment was created with: its `runtime_variables` snapshot (a JSON string on
 * the contract's responses, a map on some builds). Undefined when the gateway shows none or an
 * unreadable one; every value is registered as a secret before it is returned.
 */
export function deploymentVariables(deployment: Deployment): Record<string, string> | undefined {
  let snapshot: unknown = field(deployment, 'runtime_variables');
  if (typeof snapshot === 'string') {
    if (snapshot.trim() === '') return undefined;
    try {
      snapshot = JSON.parse(snapshot);
    } catch {
      return undefined;
    }
  }
  if (snapshot === null || typeof snapshot !== 'object' || Array.isArray(snapshot)) return undefined;
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(snapshot)) {
    if (typeof value !== 'string') return undefined;
    registerSecret(value);
    variables[key] = value;
  }
  return variables;
}

/** The live (running) deployment of the service and the variables it was built with. */
export interface LiveEnv {
  /** null: the service has no live deployment. */
  deploymentId: string | null;
  /** The live deployment's variables; undefined when the gateway does not show them. */
  variables: Record<string, string> | undefined;
  /** When the live release is a rollback: the deployment whose release it runs, and what a plain redeploy would build. */
  rollback?: { runs: string; next: NextRedeploySource };
  /** Why the live deployment could not be read (the comparison is then unknown). */
  unreadable?: string;
}

/**
 * The live release (the row the gateway marks current, else the newest success) and its variables
 * snapshot, read with `GET /v1/deployments/:id` when the list does not carry it. Advice next to the
 * service's own variables, so a failed read is reported in `unreadable`, not thrown.
 */
export async function readLiveEnv(target: OpsTarget, flags: string[]): Promise<LiveEnv> {
  const service = targetService(target);
  try {
    const deployments = await serviceDeployments(target, service.id);
    const linked = target.state?.project_id === target.projectId ? target.state : undefined;
    const live = currentRelease(deployments, linked?.last_deployment?.id);
    if (!live || (live.status !== 'success' && field(live, 'is_current') !== true)) return { deploymentId: null, variables: undefined };
    const variables = deploymentVariables(live) ?? deploymentVariables(await target.client.getDeployment(live.id));
    const check = await checkLiveSource(target, deployments, live, flags);
    return { deploymentId: live.id, variables, ...(check ? { rollback: { runs: check.live.runs, next: check.next } } : {}) };
  } catch (error) {
    return { deploymentId: null, variables: undefined, unreadable: error instanceof Error ? error.message.replace(/\.$/, '') : String(error) };
  }
}

/** One variable (`env get`); `not_found` naming the key when the service has no such variable. */
export async function getEnvVariable(target: OpsTarget, key: string): Promise<{ service: { id: string; name: string }; value: string }> {
  const { service, variables } = await listEnv(target);
  if (!Object.hasOwn(variables, key)) {
    throw new OdError('not_found', `Service ${service.name} has no variable ${key}.`, {
      nextAction: 'Run `opendeploy env list` to see the names it has.',
      details: { service_id: service.id, key },
    });
  }
  return { service, value: variables[key]! };
}

/** Reads what the service holds now and plans `request` against it (nothing is sent). */
export async function planEnvRequest(target: OpsTarget, request: EnvRequest): Promise<EnvPlan> {
  const { service, variables } = await listEnv(target);
  return planEnvChange(service, variables, request);
}

/**
 * A plan followed by a redeploy, after a rollback to an older upload: that redeploy would build the
 * newer bound source and undo the rollback, so the change is refused before it is asked about or
 * sent (nothing is left half-done). `withoutRedeploy` is the command that makes the change alone.
 */
export async function assertRedeployKeepsRollback(target: OpsTarget, plan: EnvPlan, args: { targetFlags: string[]; withoutRedeploy: string }): Promise<void> {
  if (plan.unchanged || plan.then !== 'redeploy') return;
  const check = await newerSourceAfterRollback(target, args.targetFlags);
  if (!check) return;
  throw refuseChangeAfterRollback(check, { serviceName: plan.service.name, change: 'this variable change', withoutRedeploy: args.withoutRedeploy });
}

/** What applying a plan did: nothing (an unchanged plan), the verified replacement, and the redeploy when the plan has one. */
export interface EnvApplyResult {
  outcome: ReplaceOutcome | undefined;
  deployment: DeployCurrentResult | undefined;
}

export interface EnvApplyHooks {
  /** Called once the change is read back, before any redeploy starts (a progress line, say). */
  onReplaced?: (outcome: ReplaceOutcome) => void;
  /** Runs the redeploy with an abort signal (the CLI ties it to Ctrl-C); default: the session's signal. */
  interruptible?: <T>(run: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

/**
 * Applies a plan that was shown and agreed to: the full map is sent, read back and verified
 * (`replaceEnv`), then — when the plan says so — the current source is redeployed so the running
 * app gets the new values. An unchanged plan sends nothing.
 */
export async function applyEnvPlan(
  target: OpsTarget,
  plan: EnvPlan,
  session: { exec: ExecutionContext; reporter: Reporter; signal: AbortSignal },
  hooks: EnvApplyHooks = {},
): Promise<EnvApplyResult> {
  if (plan.unchanged) return { outcome: undefined, deployment: undefined };
  const outcome = await replaceEnv(target, { ...plan.before }, { ...plan.next }, plan.operation);
  hooks.onReplaced?.(outcome);
  if (plan.then !== 'redeploy') return { outcome, deployment: undefined };
  const redeploy = (signal: AbortSignal): Promise<DeployCurrentResult> => deployCurrentSource(target, session.exec, session.reporter, signal);
  const deployment = hooks.interruptible ? await hooks.interruptible(redeploy) : await redeploy(session.signal);
  return { outcome, deployment };
}

/** What `env pull` wrote. */
export interface EnvPullResult {
  service: { id: string; name: string };
  file: string;
  keys: string[];
  /** How the file is kept out of the next upload. */
  protection: ArchiveProtection;
}

/**
 * Writes the service's variables to `plan.file` as dotenv (mode 0600, atomically). Inside the
 * project folder the file would be uploaded by the next deploy, so it is kept out of the archive
 * first; the audit line has the key count only.
 */
export async function pullEnv(target: OpsTarget, plan: EnvPullPlan, now: Date = new Date()): Promise<EnvPullResult> {
  const { service, variables } = await listEnv(target);
  const text = formatDotenv(variables, [
    `Runtime variables of service ${service.name} (${service.id}), pulled by opendeploy ${now.toISOString()}.`,
    'Holds secrets: keep it out of version control.',
  ]);
  const protection = await keepOutOfArchive(plan.file, target.root);
  await writeSecretFileAtomic(plan.file, text).catch((error: NodeJS.ErrnoException) => {
    throw new OdError('invalid_input', `Could not write ${plan.shown} (${error.code ?? 'error'}).`, { nextAction: 'Check that the folder exists and is writable.' });
  });
  const keys = Object.keys(variables).sort();
  target.audit.info('env.pull', { project_id: target.projectId, service_id: service.id, file: plan.file, count: keys.length });
  return { service, file: plan.file, keys, protection };
}
