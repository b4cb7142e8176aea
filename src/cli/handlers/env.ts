/**
 * `opendeploy env …`: parses flags, arguments and stdin into a request, asks for consent through
 * the session's consent gate, and renders. What would change (the plan) and how it is applied
 * (replace, read back, verify, redeploy) live in src/ops/env-plan.ts and src/ops/env.ts.
 */
import path from 'node:path';
import { lstat, readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { OdError } from '../../core/errors.js';
import { confirmAction } from '../../core/consent.js';
import { registerSecret } from '../../core/redact.js';
import { mayPrompt } from '../../core/session.js';
import { plural, shellQuote } from '../../core/text.js';
import { targetFlags } from '../../core/target-flags.js';
import { resolveOpsTarget, type OpsOptions, type OpsTarget } from '../../ops/target.js';
import { newerSourceAfterRollback } from '../../ops/redeploy.js';
import {
  REDACTED_HUMAN,
  REDACTED_JSON,
  applyEnvPlan,
  assertRedeployKeepsRollback,
  generateSecret,
  getEnvVariable,
  listEnv,
  planEnvRequest,
  pullEnv,
  readLiveEnv,
  type LiveEnv,
  type ReplaceOutcome,
} from '../../ops/env.js';
import { assertReplacementNotEmpty, planEnvPull, type EnvConsent, type EnvPlan, type EnvRequest } from '../../ops/env-plan.js';
import { describeDiff } from '../../ops/env-diff.js';
import { compareLive, envListResult, envPlanView, envRotateResult, envSetResult, envUnsetResult, outcomeWarnings } from '../../ops/env-result.js';
import { assertEnvKey, assertEnvValue, MAX_ENV_VALUE_BYTES, readDotenvFile } from '../../ops/dotenv.js';
import { withInterrupt } from '../interrupt.js';
import { runHandler, type CommandEnv } from '../run.js';
import type { Handler, Invocation } from '../lazy.js';
import { DEFAULT_PULL_FILE } from '../commands/env-defaults.js';

export interface EnvOptions extends OpsOptions {
  showSecrets?: boolean;
  fromFile?: string;
  /** The dotenv file values come from: `set` takes the named KEYs from it, `rotate` makes it the whole set. */
  varsFile?: string;
  /** `rotate --from`, the older name of `--vars-file`. */
  from?: string;
  generate?: boolean;
  /** commander's --no-redeploy sets this to false. */
  redeploy?: boolean;
  /** Show the plan and change nothing. */
  dryRun?: boolean;
}

/** The command environment plus where a value may arrive (stdin) and whether that is a terminal. */
type EnvCommandEnv = CommandEnv & { stdin: NodeJS.ReadableStream; stdinIsTTY: boolean };
type Action = (env: EnvCommandEnv, options: EnvOptions, command: Command) => Promise<number | void>;

function run(invocation: Invocation<EnvOptions>, action: Action): Promise<number> {
  const { options, io, command } = invocation;
  return runHandler(options, io, (env) => action({ ...env, stdin: io.stdin ?? process.stdin, stdinIsTTY: io.stdinIsTTY }, options, command));
}

export const list: Handler<EnvOptions> = (invocation) => run(invocation, (ctx, options) => envList(ctx, options));
export const get: Handler<EnvOptions> = (invocation) => run(invocation, (ctx, options) => envGet(ctx, options, invocation.args[0] as string));
export const set: Handler<EnvOptions> = (invocation) => run(invocation, (ctx, options) => envSet(ctx, options, invocation.args[0] as string[]));
export const unset: Handler<EnvOptions> = (invocation) => run(invocation, (ctx, options, cmd) => envUnset(ctx, options, invocation.args[0] as string[], cmd));
export const rotate: Handler<EnvOptions> = (invocation) => run(invocation, (ctx, options, cmd) => envRotate(ctx, options, invocation.args[0] as string | undefined, cmd));
export const pull: Handler<EnvOptions> = (invocation) => run(invocation, (ctx, options, cmd) => envPull(ctx, options, invocation.args[0] as string | undefined, cmd));

// ------------------------------------------------------------------ shared plumbing

async function withTarget<T>(ctx: CommandEnv, options: EnvOptions, fn: (target: OpsTarget) => Promise<T>): Promise<T> {
  const target = await resolveOpsTarget({ session: ctx.session, options, needService: true });
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

/** The exact command to re-run with consent: this invocation's arguments plus --yes. */
export function resumeCommand(command: Command): string {
  let root: Command = command;
  while (root.parent) root = root.parent;
  // commander keeps the argv it parsed (main passes the user arguments) but does not type it.
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv.slice(2);
  const args = raw.filter((arg) => arg !== '--yes' && arg !== '-y');
  return shellQuote(['opendeploy', ...args, '--yes']);
}

/** This invocation without its redeploy: the same arguments plus --no-redeploy. */
function withoutRedeployCommand(command: Command): string {
  let root: Command = command;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv.slice(2);
  return shellQuote(['opendeploy', ...raw, '--no-redeploy']);
}

/** The plan's question through the session's consent gate (--yes, a person at a TTY, or consent_required). */
function confirm(ctx: CommandEnv, consent: EnvConsent | null, command: Command): Promise<void> {
  if (consent === null) return Promise.resolve();
  return confirmAction(ctx.session, { ...consent, resumeCommand: resumeCommand(command) });
}

/**
 * A one-shot document whose `reveal` strings must survive scrubbing (env values with
 * --show-secrets, the claim URL). Everything else is still scrubbed by the reporter.
 */
export function emitDocument(ctx: CommandEnv, data: Record<string, unknown>, human: string[], reveal: string[] = []): void {
  ctx.reporter.document(data, human, allowedStrings(reveal));
}

/** A revealed value is allowed both raw (human lines) and JSON-escaped (inside the JSON document). */
function allowedStrings(reveal: string[]): string[] {
  return reveal.filter((value) => value !== '').flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]);
}

/** A value as one human line: raw when it is plain, JSON-quoted when it has line breaks or edge spaces. */
function humanValue(value: string): string {
  return /[\u0000-\u001f\u007f]|^\s|\s$/.test(value) || value === '' ? JSON.stringify(value) : value;
}

/**
 * What to run so the running app gets the new values. After a rollback to an older upload a plain
 * `redeploy` refuses (it would build the newer source), so the hint names the command that deploys
 * the newer source instead of one that would fail. A failed check falls back to the plain hint: the
 * change itself already succeeded and must not be reported as a failure. The line is for people:
 * with --json it is not printed, so the deployments are not read for it.
 */
async function redeployHint(ctx: CommandEnv, target: OpsTarget, flags: string[]): Promise<string> {
  const newer = ctx.exec.json ? undefined : await newerSourceAfterRollback(target, flags).catch(() => undefined);
  if (newer) {
    return `The rolled-back release ${newer.live.deployment_id} keeps running with the old values, and \`opendeploy redeploy\` refuses after this rollback because the project's current source is newer; to deploy the newer source with these values, run \`${newer.next.command}\`.`;
  }
  return `The running deployment keeps the old values until the next deploy: run \`${shellQuote(['opendeploy', 'redeploy', ...flags])}\` to apply them.`;
}

/** `--dry-run`: the plan, names only, and nothing asked, sent or deployed. */
async function showPlan(ctx: CommandEnv, plan: EnvPlan, target: OpsTarget, flags: string[]): Promise<number> {
  const { service } = plan;
  // A rotate whose redeploy would undo a rollback is refused by the real run: the plan says so.
  const refusal = !plan.unchanged && plan.then === 'redeploy' ? await newerSourceAfterRollback(target, flags) : undefined;
  const human = plan.unchanged
    ? [`Service ${service.name} already has these values; nothing would change.`]
    : [
        `Would change service ${service.name}: ${describeDiff(plan.diff)}${plan.then === 'redeploy' ? ', then redeploy it' : ''}.`,
        ...(plan.consent ? ['This change asks for confirmation (or --yes) when run without --dry-run.'] : []),
        ...(refusal
          ? [`Without --dry-run this is refused: the live release is rollback deployment ${refusal.live.deployment_id} and its redeploy would build the newer source. Add --no-redeploy to change the variables only, or deploy the newer source with \`${refusal.next.command}\`.`]
          : []),
      ];
  ctx.reporter.document({ dry_run: true, ...envPlanView(plan), ...(refusal ? { refused: 'conflict', newer_source_command: refusal.next.command } : {}) }, [...human, 'Nothing was changed (--dry-run).']);
  return 0;
}

function warnUnexpected(ctx: CommandEnv, outcome: ReplaceOutcome): void {
  for (const warning of outcomeWarnings(outcome)) ctx.reporter.warn(warning);
}

// ------------------------------------------------------------------ list / get

async function envList(ctx: CommandEnv, options: EnvOptions): Promise<number> {
  const reveal = options.showSecrets === true;
  return withTarget(ctx, options, async (target) => {
    const { service, variables } = await listEnv(target);
    const keys = Object.keys(variables).sort();
    const live = await readLiveEnv(target, targetFlags(options));
    if (live.unreadable) ctx.reporter.warn(`Could not read the live deployment to compare its variables (${live.unreadable}).`);
    const human = envListLines(service.name, variables, live, reveal, targetFlags(options));
    if (!reveal && keys.length > 0 && !ctx.exec.json) ctx.reporter.info('Values are hidden; add --show-secrets to print them.');
    emitDocument(
      ctx,
      envListResult(service.id, variables, reveal, live),
      human,
      reveal ? [...Object.values(variables), ...Object.values(live.variables ?? {})] : [],
    );
    return 0;
  });
}

/**
 * The variables, one per line; when the live deployment was built with other values, each line
 * says how the live deployment holds that key (another value, not set), the keys only the live
 * deployment still has follow, and a last line says which command deploys the service's values.
 */
function envListLines(name: string, variables: Record<string, string>, live: LiveEnv, reveal: boolean, flags: string[]): string[] {
  const keys = Object.keys(variables).sort();
  const comparison = live.variables ? compareLive(variables, live.variables) : undefined;
  const liveValues = comparison?.differs ? live.variables! : undefined;
  const show = (value: string): string => (reveal ? humanValue(value) : REDACTED_HUMAN);
  const rows: [key: string, value: string, note: string][] = keys.map((key) => {
    const status = liveValues ? comparison!.keys[key] : 'same';
    return [key, show(variables[key]!), status === 'different' ? `live: other value ${show(liveValues![key]!)}` : status === 'missing' ? 'live: not set' : ''];
  });
  if (liveValues) for (const key of comparison!.liveOnly) rows.push([key, '(not set)', `live: ${show(liveValues[key]!)}`]);
  rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const human = keys.length === 0 ? [`Service ${name} has no variables.`] : [`${name}: ${plural(keys.length, 'variable')}`];
  const keyWidth = Math.max(0, ...rows.map(([key]) => key.length));
  const valueWidth = Math.max(0, ...rows.map(([, value]) => value.length));
  for (const [key, value, note] of rows) human.push(`  ${key.padEnd(keyWidth)}  ${note ? `${value.padEnd(valueWidth)}  ${note}` : value}`);
  if (!liveValues) return human;
  const next = live.rollback?.next;
  human.push(
    next?.source === 'newer_source'
      ? `The live deployment ${live.deploymentId} (a rollback to deployment ${live.rollback!.runs}) runs with other values than these. \`opendeploy redeploy\` refuses after this rollback because the project's current source is newer; to deploy the newer source with these values, run \`${next.command}\`.`
      : `The live deployment ${live.deploymentId} runs with other values than these; \`${shellQuote(['opendeploy', 'redeploy', ...flags])}\` deploys them.`,
  );
  return human;
}

async function envGet(ctx: CommandEnv, options: EnvOptions, key: string): Promise<number> {
  assertEnvKey(key);
  const reveal = options.showSecrets === true;
  return withTarget(ctx, options, async (target) => {
    const { service, value } = await getEnvVariable(target, key);
    if (!reveal && !ctx.exec.json) ctx.reporter.info('The value is hidden; add --show-secrets to print it.');
    emitDocument(
      ctx,
      { service_id: service.id, key, value: reveal ? value : REDACTED_JSON, values_redacted: !reveal },
      // With --show-secrets a person gets the bare value, so `$(opendeploy env get KEY --show-secrets)` works.
      reveal ? [value] : [`${key}  ${REDACTED_HUMAN}`],
      reveal ? [value] : [],
    );
    return 0;
  });
}

// ------------------------------------------------------------------ set

/** Drops one trailing newline (`\n` or `\r\n`): what `echo` and editors add to a one-line value. */
function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

/** The raw text and the value (one trailing newline dropped), both registered as secrets before anything can print them. */
function secretValue(raw: string): string {
  registerSecret(raw);
  const value = stripOneNewline(raw);
  registerSecret(value);
  return value;
}

async function readValueFile(key: string, file: string, cwd: string): Promise<string> {
  const full = path.resolve(cwd, file);
  let raw: string;
  try {
    raw = await readFile(full, 'utf8');
  } catch (error) {
    throw new OdError('invalid_input', `Could not read ${full} for the value of ${key} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {
      nextAction: 'Check the path given to --from-file.',
    });
  }
  return secretValue(raw);
}

async function readValueFromStdin(key: string, stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    // Room for one trailing CRLF on top of the limit; anything bigger cannot be a valid value.
    if (size > MAX_ENV_VALUE_BYTES + 2) {
      throw new OdError('invalid_input', `The value of ${key} on stdin is larger than 32 KiB, the gateway's limit.`, {
        nextAction: 'Store large data elsewhere and keep only a reference in the variable.',
      });
    }
    chunks.push(buffer);
  }
  if (size === 0) {
    throw new OdError('invalid_input', `No value for ${key} arrived on stdin.`, {
      nextAction: `Pipe the value in (\`printf %s "$VALUE" | opendeploy env set ${key}\`), use --from-file, or pass ${key}=VALUE.`,
    });
  }
  return secretValue(Buffer.concat(chunks).toString('utf8'));
}

/** A person at a terminal types the value; it is never echoed, and is registered as a secret at once. */
async function askValue(ctx: CommandEnv, key: string): Promise<string> {
  const value = await ctx.session.prompter.askHidden(`Value of ${key} (input hidden): `);
  registerSecret(value);
  if (value === '') {
    throw new OdError('invalid_input', `No value given for ${key}; nothing was changed.`, {
      nextAction: `Type the value at the prompt, or pass ${key}= to set an empty value.`,
    });
  }
  return value;
}

/**
 * `env set KEY… --vars-file FILE`: each bare KEY takes its value from the dotenv file (the same
 * file format and flag name as `deploy --vars-file` and `env rotate --vars-file`); KEY=VALUE
 * arguments may sit beside them. Only the named keys are set: the rest of the file is left alone.
 */
async function takeFromVarsFile(
  ctx: EnvCommandEnv,
  varsFile: string,
  options: EnvOptions,
  bare: string[],
  updates: Record<string, string>,
  fromArgv: string[],
): Promise<{ updates: Record<string, string>; fromArgv: string[] }> {
  if (options.fromFile !== undefined) {
    throw new OdError('invalid_input', '--vars-file and --from-file both say where values come from; give one.', {
      nextAction: 'Use --from-file FILE for one KEY whose value is the whole file, or --vars-file FILE to take KEYs from a dotenv file.',
    });
  }
  if (bare.length === 0) {
    throw new OdError('invalid_input', '--vars-file gives the values of the KEYs named without a value, and none was named.', {
      nextAction: 'Name the keys to take from the file: `opendeploy env set API_KEY JWT_SECRET --vars-file .env.production`.',
    });
  }
  const named = new Set(Object.keys(updates));
  for (const key of bare) {
    assertEnvKey(key);
    if (named.has(key)) throw new OdError('invalid_input', `${key} is given twice.`, { nextAction: 'Give each variable once.' });
    named.add(key);
  }
  const file = path.resolve(ctx.exec.cwd, varsFile);
  const values = await readDotenvFile(file, '--vars-file');
  const missing = bare.filter((key) => !Object.hasOwn(values, key));
  if (missing.length > 0) {
    throw new OdError('invalid_input', `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in ${varsFile}; nothing was changed.`, {
      nextAction: 'Name keys the file defines, or give the value as KEY=VALUE.',
      details: { missing },
    });
  }
  for (const key of bare) updates[key] = values[key]!;
  for (const [key, value] of Object.entries(updates)) assertEnvValue(key, value);
  return { updates, fromArgv };
}

/** KEY=VALUE arguments, or one bare KEY whose value comes from --from-file, stdin, or a hidden prompt on a terminal. */
async function parseAssignments(ctx: EnvCommandEnv, options: EnvOptions, assignments: string[]): Promise<{ updates: Record<string, string>; fromArgv: string[] }> {
  const updates: Record<string, string> = {};
  const fromArgv: string[] = [];
  const bare: string[] = [];
  for (const arg of assignments) {
    const eq = arg.indexOf('=');
    if (eq < 0) {
      bare.push(arg);
      continue;
    }
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    registerSecret(value);
    assertEnvKey(key);
    if (Object.hasOwn(updates, key)) throw new OdError('invalid_input', `${key} is given twice.`, { nextAction: 'Give each variable once.' });
    updates[key] = value;
    fromArgv.push(key);
  }
  if (options.varsFile !== undefined) return takeFromVarsFile(ctx, options.varsFile, options, bare, updates, fromArgv);
  if (options.fromFile !== undefined && (bare.length !== 1 || assignments.length !== 1)) {
    throw new OdError('invalid_input', '--from-file sets exactly one variable: give its name alone (`opendeploy env set KEY --from-file FILE`).', {
      nextAction: 'Run one `env set KEY --from-file FILE` per variable, or use `env rotate --from <dotenv file>` for many.',
    });
  }
  if (bare.length > 0) {
    if (assignments.length !== 1) {
      throw new OdError('invalid_input', `${bare.join(', ')} ${bare.length === 1 ? 'has' : 'have'} no value: use KEY=VALUE, or give one KEY alone with its value on stdin or in --from-file.`, {
        nextAction: 'Example: `printf %s "$VALUE" | opendeploy env set KEY`.',
      });
    }
    const key = bare[0]!;
    assertEnvKey(key);
    if (options.fromFile !== undefined) updates[key] = await readValueFile(key, options.fromFile, ctx.exec.cwd);
    else if (!ctx.stdinIsTTY) updates[key] = await readValueFromStdin(key, ctx.stdin);
    else if (mayPrompt(ctx.exec)) updates[key] = await askValue(ctx, key);
    else {
      throw new OdError('invalid_input', `No value given for ${key}.`, {
        nextAction: `Pipe it in (\`printf %s "$VALUE" | opendeploy env set ${key}\`), use --from-file FILE, or pass ${key}=VALUE.`,
      });
    }
  }
  for (const [key, value] of Object.entries(updates)) assertEnvValue(key, value);
  return { updates, fromArgv };
}

async function envSet(ctx: EnvCommandEnv, options: EnvOptions, assignments: string[]): Promise<number> {
  const { updates, fromArgv } = await parseAssignments(ctx, options, assignments);
  if (fromArgv.length > 0) {
    ctx.reporter.warn(
      `The value${fromArgv.length === 1 ? '' : 's'} of ${fromArgv.join(', ')} ${fromArgv.length === 1 ? 'was' : 'were'} passed on the command line, where ${fromArgv.length === 1 ? 'it lands' : 'they land'} in your shell history and in \`ps\` output; next time pipe the value on stdin or use --from-file.`,
    );
  }
  return withTarget(ctx, options, async (target) => {
    const plan = await planEnvRequest(target, { kind: 'set', updates });
    if (options.dryRun === true) return showPlan(ctx, plan, target, targetFlags(options));
    const { service, keys } = plan;
    const { outcome } = await applyEnvPlan(target, plan, ctx.session);
    if (!outcome) {
      ctx.reporter.document(envSetResult(plan, outcome), [`${keys.join(', ')} already ${keys.length === 1 ? 'has' : 'have'} that value on service ${service.name}; nothing changed.`]);
      return 0;
    }
    warnUnexpected(ctx, outcome);
    ctx.reporter.document(envSetResult(plan, outcome), [
      `Set ${keys.join(', ')} on service ${service.name} (${describeDiff(outcome.diff)}; read back and verified).`,
      await redeployHint(ctx, target, targetFlags(options)),
    ]);
    return 0;
  });
}

// ------------------------------------------------------------------ unset

async function envUnset(ctx: CommandEnv, options: EnvOptions, keys: string[], command: Command): Promise<number> {
  for (const key of keys) assertEnvKey(key);
  return withTarget(ctx, options, async (target) => {
    const plan = await planEnvRequest(target, { kind: 'unset', keys });
    if (options.dryRun === true) return showPlan(ctx, plan, target, targetFlags(options));
    await confirm(ctx, plan.consent, command);
    const { outcome } = await applyEnvPlan(target, plan, ctx.session);
    // Every key exists (the plan refuses otherwise), so removing them always changes something.
    if (!outcome) throw new OdError('internal', 'An unset plan changed nothing.');
    warnUnexpected(ctx, outcome);
    ctx.reporter.document(envUnsetResult(plan, outcome), [
      `Removed ${plan.keys.join(', ')} from service ${plan.service.name} (read back and verified).`,
      await redeployHint(ctx, target, targetFlags(options)),
    ]);
    return 0;
  });
}

// ------------------------------------------------------------------ rotate

/** `--vars-file FILE` (the complete new set; `--from` is its older name) or `KEY --generate`, checked and read before anything is contacted. */
async function rotateRequest(ctx: CommandEnv, options: EnvOptions, key: string | undefined): Promise<EnvRequest> {
  if (options.varsFile !== undefined && options.from !== undefined && options.varsFile !== options.from) {
    throw new OdError('invalid_input', '--vars-file and --from name the same option, but two different files were given.', {
      nextAction: 'Pass one file with --vars-file.',
    });
  }
  const flag = options.varsFile !== undefined ? '--vars-file' : '--from';
  const varsFile = options.varsFile ?? options.from;
  if (varsFile !== undefined && key !== undefined) {
    throw new OdError('invalid_input', '`env rotate` takes either --vars-file <dotenv file> or KEY --generate, not both.', {
      nextAction: 'Run them as two commands.',
    });
  }
  if (varsFile === undefined && key === undefined) {
    throw new OdError('invalid_input', '`env rotate` needs --vars-file <dotenv file> (replace every variable) or KEY --generate (a new random secret for one key).', {
      nextAction: 'Example: `opendeploy env rotate --vars-file .env.production` or `opendeploy env rotate SESSION_SECRET --generate`.',
    });
  }
  if (key !== undefined && options.generate !== true) {
    throw new OdError('invalid_input', `\`env rotate ${key}\` needs --generate: opendeploy only invents a secret when asked to.`, {
      nextAction: `Add --generate for a random value, or set your own with \`printf %s "$VALUE" | opendeploy env set ${key}\`.`,
    });
  }
  if (options.generate === true && key === undefined) {
    throw new OdError('invalid_input', '--generate needs the name of the variable to rotate.', { nextAction: 'Example: `opendeploy env rotate SESSION_SECRET --generate`.' });
  }
  const redeploy = options.redeploy !== false;
  if (key !== undefined) {
    assertEnvKey(key);
    return { kind: 'generate', key, value: generateSecret(), redeploy };
  }
  const file = path.resolve(ctx.exec.cwd, varsFile!);
  const variables = await readDotenvFile(file, flag);
  assertReplacementNotEmpty(variables, file);
  return { kind: 'replace', variables, source: path.relative(ctx.exec.cwd, file) || file, redeploy };
}

async function envRotate(ctx: CommandEnv, options: EnvOptions, key: string | undefined, command: Command): Promise<number> {
  const request = await rotateRequest(ctx, options, key);
  const generated = request.kind === 'generate' ? request.value : undefined;
  const revealed = generated !== undefined && options.showSecrets === true ? [generated] : [];

  return withTarget(ctx, options, async (target) => {
    const plan = await planEnvRequest(target, request);
    if (options.dryRun === true) return showPlan(ctx, plan, target, targetFlags(options));
    const { service } = plan;
    if (plan.unchanged) {
      ctx.reporter.document(envRotateResult(plan, undefined), [`Service ${service.name} already has exactly these variables; nothing changed and nothing was redeployed.`]);
      return 0;
    }
    // Refused before the question when the redeploy would undo a rollback: nothing is changed.
    await assertRedeployKeepsRollback(target, plan, { targetFlags: targetFlags(options), withoutRedeploy: withoutRedeployCommand(command) });
    ctx.reporter.info(`Changes to service ${service.name}: ${describeDiff(plan.diff)}${plan.then === 'redeploy' ? ', then a redeploy' : ''}.`);
    await confirm(ctx, plan.consent, command);

    const replacedLine = (outcome: ReplaceOutcome): string => `Variables of service ${service.name} replaced: ${describeDiff(outcome.diff)} (read back and verified).`;
    const { outcome, deployment } = await applyEnvPlan(target, plan, ctx.session, {
      onReplaced: (done) => {
        warnUnexpected(ctx, done);
        if (plan.then === 'redeploy') {
          ctx.reporter.stageDone('env.replace', replacedLine(done), { service_id: service.id, keys_added: done.diff.added, keys_removed: done.diff.removed, keys_changed: done.diff.changed, count: done.count });
        }
      },
      interruptible: withInterrupt,
    });
    if (!outcome) throw new OdError('internal', 'A changing rotate plan sent nothing.');
    const summary = { ...envRotateResult(plan, outcome), ...(revealed.length ? { value: generated } : {}) };
    const valueLines = revealed.length ? [`${key}=${generated}`] : [];
    if (!deployment) {
      emitDocument(ctx, { ...summary, deployment_id: null, redeploy_needed: true }, [replacedLine(outcome), ...valueLines, await redeployHint(ctx, target, targetFlags(options))], revealed);
      return 0;
    }
    ctx.reporter.result(
      { status: 'success', ...summary, deployment_id: deployment.deployment.id, url: deployment.url ?? null },
      [replacedLine(outcome), ...valueLines, `Deployment ${deployment.deployment.id} succeeded${deployment.url ? `: ${deployment.url}` : ''}; the new values are live.`],
      allowedStrings(revealed),
    );
    return 0;
  });
}

// ------------------------------------------------------------------ pull

async function envPull(ctx: CommandEnv, options: EnvOptions, file: string | undefined, command: Command): Promise<number> {
  const target = path.resolve(ctx.exec.cwd, file ?? DEFAULT_PULL_FILE);
  const existing = await lstat(target).catch(() => undefined);
  const plan = planEnvPull(target, path.relative(ctx.exec.cwd, target) || target, existing === undefined ? 'none' : existing.isDirectory() ? 'folder' : 'file');
  await confirm(ctx, plan.consent, command);
  return withTarget(ctx, options, async (ops) => {
    const { service, keys, protection } = await pullEnv(ops, plan);
    ctx.reporter.document(
      { service_id: service.id, file: plan.file, count: keys.length, keys, mode: '0600', archive: protection },
      [
        `Wrote ${plural(keys.length, 'variable')} of service ${service.name} to ${plan.shown} (mode 0600). It holds secrets: keep it out of version control.`,
        ...(protection === 'added' ? [`Added ${plan.shown} to .opendeployignore so it is never uploaded.`] : []),
      ],
    );
    return 0;
  });
}
