/**
 * The MCP tools: each one is a library operation (analyze, the deploy pipeline, src/ops/*) run in a
 * session that can never prompt. A tool returns the operation's result as structured content (and
 * the same JSON as text, for clients that read only text); a failure is a tool error carrying the
 * same fields as the CLI's JSON error (`error_code`, `message`, `next_action`, `retryable`).
 *
 * Destructive tools (env_unset, rollback, domain_rename) act only with `confirm: true`; without it
 * the operation runs up to its consent gate, which stops it before anything changes, and the tool
 * answers with what would change (names only) and the exact arguments that apply it. `deploy`
 * takes `confirm` too, as the CLI's `--yes`: it only allows minting a credential when none exists.
 */
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { OdError, toOdError } from '../core/errors.js';
import { redact, registerSecret, scrubText } from '../core/redact.js';
import { buildExecutionContext, noPrompter, type Session, type StartLocalGateway } from '../core/session.js';
import { normaliseGatewayUrl } from '../gateway/base-url.js';
import { resolveHome } from '../auth/index.js';
import { createAuditLogger } from '../audit/index.js';
import { lazyAuditSink } from '../audit/lazy.js';
import type { Analysis } from '../analyze/index.js';
import { analyzeFolder } from '../analyze/folder.js';
import { createDeployContext, runDeployPipeline } from '../deploy/pipeline.js';
import { LOCAL_GATEWAY_MARKER, readProjectState, writeAnalysisFile } from '../deploy/state.js';
import type { DeployInputs } from '../deploy/context.js';
import { validateSubdomain } from '../deploy/subdomain.js';
import { pollIntervalFor, resolveEnvironment, selectGateway, type OpsOptions } from '../ops/connect.js';
import { resolveOpsTarget, type OpsTarget } from '../ops/target.js';
import { collectStatus, serviceUrl } from '../ops/status.js';
import { listDeployments } from '../ops/deployments.js';
import { environmentSource, planDeploy } from '../ops/plan.js';
import { runRollback } from '../ops/rollback.js';
import { redeploy } from '../ops/redeploy.js';
import { runTriage } from '../ops/triage.js';
import { setPort, showPort } from '../ops/port.js';
import { parseSince, runLogs, DEFAULT_TAIL } from '../ops/logs.js';
import { applyEnvPlan, planEnvRequest, readEnv, readLiveEnv, targetService, type ReplaceOutcome } from '../ops/env.js';
import { compareLive, envSetResult, envUnsetResult, outcomeWarnings } from '../ops/env-result.js';
import { assertEnvKey, assertEnvValue } from '../ops/dotenv.js';
import { assertProductionForRename, checkDomain, renameDomain, validatePrefix } from '../ops/domain.js';
import { confirmAction } from '../core/consent.js';
import { shellQuote } from '../core/text.js';
import { targetFlags } from '../core/target-flags.js';
import { CapturingReporter, type CapturedOutput } from './reporter.js';

/** What the server gives every call: the process it runs in and the CLI's capabilities. */
export interface ToolDeps {
  env: NodeJS.ProcessEnv;
  /** The default project folder (the server's working directory). */
  cwd: string;
  /** Where human log lines go (never stdout: that is the protocol's). */
  stderr: { write(text: string): unknown };
  /** Starts or attaches to the embedded local gateway (supplied by the CLI). */
  startLocalGateway?: StartLocalGateway;
  /** Target arguments given to `opendeploy mcp` itself: every call's defaults. */
  defaults?: Omit<TargetArgs, 'path' | 'confirm'>;
}

/** The arguments every tool accepts (see TargetShape). */
export interface TargetArgs {
  path?: string | undefined;
  gateway?: string | undefined;
  auth_file?: string | undefined;
  project?: string | undefined;
  service?: string | undefined;
  env?: 'production' | 'staging' | undefined;
  local?: boolean | undefined;
  data_dir?: string | undefined;
  confirm?: boolean | undefined;
}

/** One tool call's session: never interactive, JSON-shaped, `--yes` only with `confirm: true`. */
export interface Call {
  tool: string;
  args: TargetArgs;
  root: string;
  options: OpsOptions;
  session: Session;
  reporter: CapturingReporter;
}

/** What a tool hands back before presentation: the structured result and any exact strings to keep. */
export interface ToolOutput {
  data: Record<string, unknown>;
  allowed?: string[];
}

export interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}


export function openCall(deps: ToolDeps, tool: string, given: TargetArgs, signal: AbortSignal, onProgress?: (progress: number, message: string) => void): Call {
  const args: TargetArgs = { ...deps.defaults, ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) };
  const options: OpsOptions = {
    json: true,
    yes: args.confirm === true,
    ...(args.gateway !== undefined ? { gateway: args.gateway } : {}),
    ...(args.auth_file !== undefined ? { authFile: path.resolve(deps.cwd, args.auth_file) } : {}),
    ...(args.project !== undefined ? { project: args.project } : {}),
    ...(args.service !== undefined ? { service: args.service } : {}),
    ...(args.env !== undefined ? { env: args.env } : {}),
    ...(args.local !== undefined ? { local: args.local } : {}),
    ...(args.data_dir !== undefined ? { dataDir: path.resolve(deps.cwd, args.data_dir) } : {}),
  };
  // No terminal on either end: an MCP client can never answer a question mid-call.
  const exec = buildExecutionContext(options, deps.env, { stdinIsTTY: false, stderrIsTTY: false }, deps.cwd);
  const reporter = new CapturingReporter(deps.stderr, tool, onProgress);
  const session: Session = {
    exec,
    reporter,
    prompter: noPrompter,
    audit: lazyAuditSink(() => resolveHome(deps.env)),
    signal,
    ...(deps.startLocalGateway ? { startLocalGateway: deps.startLocalGateway } : {}),
  };
  return { tool, args, root: path.resolve(deps.cwd, args.path ?? '.'), options, session, reporter };
}

// ------------------------------------------------------------------ presentation

/** Deep copy with every string scrubbed, except the exact strings an operation allowed (the claim URL). */
function scrubbed(value: unknown, allowed: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return allowed.has(value) ? value : scrubText(value);
  if (Array.isArray(value)) return value.map((item) => scrubbed(item, allowed));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, scrubbed(inner, allowed)]));
  }
  return value;
}

function success(data: Record<string, unknown>, allowed: string[], captured: CapturedOutput): ToolResult {
  const structured = scrubbed(data, new Set(allowed.filter((value) => value !== ''))) as Record<string, unknown>;
  const content: ToolResult['content'] = [{ type: 'text', text: JSON.stringify(structured) }];
  const warnings = captured.warnings.map((warning) => (warning.code ? `${warning.code}: ${warning.message}` : warning.message));
  if (warnings.length > 0) content.push({ type: 'text', text: `Warnings:\n${warnings.map((line) => `- ${line}`).join('\n')}` });
  return { content, structuredContent: structured };
}

/** The CLI's JSON error object, scrubbed (the claim URL in details is the one exception, as in the CLI). */
export function errorResult(thrown: unknown): ToolResult {
  const error = toOdError(thrown);
  const claim = typeof error.details.claim_url === 'string' ? [error.details.claim_url] : [];
  const body: Record<string, unknown> = {
    type: 'error',
    error_code: error.code,
    message: error.message,
    retryable: error.retryable,
    next_action: error.nextAction,
    ...(Object.keys(error.details).length > 0 ? { details: redact(error.details) } : {}),
  };
  return { content: [{ type: 'text', text: JSON.stringify(scrubbed(body, new Set(claim))) }], isError: true };
}

/**
 * Runs one tool body. For a gated tool, a consent_required error (the operation's own consent gate,
 * reached without `confirm`) becomes the consent answer; nothing was changed before the gate.
 */
export async function runTool(
  call: Call,
  body: (call: Call) => Promise<ToolOutput>,
  gate?: { confirmArguments?: (details: Record<string, unknown>) => Record<string, unknown> },
): Promise<ToolResult> {
  try {
    const output = await body(call);
    const data = gate ? { applied: true, consent: null, result: output.data } : output.data;
    return success(data, [...(output.allowed ?? []), ...call.reporter.captured.allowed], call.reporter.captured);
  } catch (thrown) {
    if (gate && thrown instanceof OdError && thrown.code === 'consent_required' && call.args.confirm !== true) {
      const details = thrown.details;
      const changes = Array.isArray(details.changes) ? details.changes.map(String) : [];
      const consent = {
        action: thrown.message.replace(/, and this run cannot ask for it\.$/, '.').replace(/ needs confirmation\.$/, '.'),
        changes,
        confirm_arguments: { ...withoutConfirm(call.args), ...(gate.confirmArguments?.(details) ?? {}), confirm: true },
        cli_command: typeof details.resume_command === 'string' ? details.resume_command : null,
      };
      return success({ applied: false, consent, result: null }, [], call.reporter.captured);
    }
    return errorResult(thrown);
  } finally {
    await call.session.audit.flush();
  }
}

function withoutConfirm(args: TargetArgs): Record<string, unknown> {
  const { confirm: _confirm, ...rest } = args;
  return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
}

/** Resolves the target (linked folder or project/service arguments), runs `fn`, lets go of it. */
async function withTarget<T>(call: Call, needService: boolean, fn: (target: OpsTarget) => Promise<T>): Promise<T> {
  if (call.options.gateway !== undefined) normaliseGatewayUrl(call.options.gateway, 'gateway');
  const target = await resolveOpsTarget({ session: call.session, options: call.options, needService, root: call.root });
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

async function assertFolder(root: string): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new OdError('invalid_input', `${root} is not a folder.`, { nextAction: 'Pass the path of the project folder.' });
}

// ------------------------------------------------------------------ analyze / plan

/** The same analysis `opendeploy analyze --json` prints, saved to .opendeploy/analysis.json likewise. */
async function analysisOf(call: Call, save: boolean): Promise<Analysis> {
  const root = call.root;
  await assertFolder(root);
  // `root` in the analysis is relative to the server's working directory, as the CLI's is to its own.
  const { analysis } = await analyzeFolder(root, { cwd: call.session.exec.cwd });
  if (!save) return analysis;
  try {
    await writeAnalysisFile(root, analysis);
  } catch (error) {
    analysis.warnings.push(`.opendeploy/analysis.json could not be written (${(error as NodeJS.ErrnoException | undefined)?.code ?? 'error'}); the analysis is returned only`);
  }
  return analysis;
}

export async function analyzeTool(call: Call): Promise<ToolOutput> {
  return { data: (await analysisOf(call, true)) as unknown as Record<string, unknown> };
}

/**
 * What a deploy of the folder would do (ops/plan): no credential, no network, and nothing written.
 * Variable values are never included, only where each would come from.
 */
export async function planTool(call: Call): Promise<ToolOutput> {
  await assertFolder(call.root);
  const linked = await readProjectState(call.root);
  const exec = call.session.exec;
  const plan = await planDeploy({
    root: call.root,
    cwd: exec.cwd,
    environment: resolveEnvironment(call.options.env, exec.env, linked?.environment),
    environmentFrom: call.options.env !== undefined ? 'env argument' : environmentSource(undefined, exec.env),
  });
  return { data: plan as unknown as Record<string, unknown> };
}

// ------------------------------------------------------------------ deploy

export interface DeployArgs extends TargetArgs {
  name?: string | undefined;
  subdomain?: string | undefined;
  force?: boolean | undefined;
  no_wait?: boolean | undefined;
}

/**
 * The deploy pipeline, as `opendeploy deploy <path> --json` runs it (without a foreground local app).
 * `no_wait` is `--no-wait`: the result is `started` once the deployment exists. With `local`, the
 * server's own gateway keeps building and serving it after the call returns (see server.ts), so
 * `no_wait` needs no background gateway here, unlike the CLI's.
 */
export async function deployTool(call: Call & { args: DeployArgs }): Promise<ToolOutput> {
  const { args, options, session } = call;
  const { exec, reporter } = session;
  const root = call.root;
  await assertFolder(root);
  if (options.gateway !== undefined) normaliseGatewayUrl(options.gateway, 'gateway');
  if (args.subdomain) validateSubdomain(args.subdomain);
  const linked = await readProjectState(root);
  const environment = resolveEnvironment(options.env, exec.env, linked?.environment);
  const home = resolveHome(exec.env);
  const { useLocal, embedded, env: runEnv, flagGateway, flagAuthFile } = await selectGateway(options, exec.env, linked, session.startLocalGateway);
  try {
    const inputs: DeployInputs = {
      root,
      environment,
      userEnv: {},
      force: args.force === true,
      home,
      pollIntervalMs: pollIntervalFor(flagGateway ?? runEnv.OD_GATEWAY ?? (linked?.gateway !== LOCAL_GATEWAY_MARKER ? linked?.gateway : undefined)),
      domainWaitMs: 30_000,
      ...(args.name ? { name: args.name } : {}),
      ...(args.subdomain ? { subdomain: args.subdomain } : {}),
      ...(runEnv.OD_REGION_ID ? { regionId: runEnv.OD_REGION_ID } : {}),
      ...(flagAuthFile ? { flagAuthFile } : {}),
      ...(flagGateway ? { flagGateway } : {}),
      ...(embedded?.background ? { stopCommand: shellQuote(['opendeploy', 'local-gateway', '--stop', ...(options.dataDir !== undefined ? ['--data-dir', options.dataDir] : [])]) } : {}),
      ...(args.no_wait === true ? { noWait: true } : {}),
      // The follow and fix commands it prints reach this same target from a terminal.
      targetFlags: targetFlags(options),
    };
    const audit = createAuditLogger({ home });
    try {
      const ctx = await createDeployContext(inputs, {
        // The local gateway's own credential is minted without asking, as `deploy --local` does.
        exec: { ...exec, env: runEnv, yes: exec.yes || useLocal },
        reporter,
        audit,
        signal: session.signal,
        ...(useLocal ? { gatewayLabel: LOCAL_GATEWAY_MARKER } : {}),
      });
      await runDeployPipeline(ctx);
    } catch (error) {
      if (error instanceof OdError) audit.error('deploy', { error_code: error.code, message: error.message, status: error.status ?? null });
      throw error;
    } finally {
      await audit.flush();
    }
  } finally {
    await embedded?.close();
  }
  const result = call.reporter.captured.result;
  if (!result) throw new OdError('internal', 'The deploy finished without a result.');
  return { data: result };
}

// ------------------------------------------------------------------ status / deployments / logs

export async function statusTool(call: Call): Promise<ToolOutput> {
  return withTarget(call, false, async (target) => {
    const report = await collectStatus(target, call.options.service);
    return { data: report as unknown as Record<string, unknown>, allowed: report.claim_url ? [report.claim_url] : [] };
  });
}

export interface DeploymentsArgs extends TargetArgs {
  status?: string | undefined;
  limit?: number | undefined;
}

/** The service's deployments in the target environment, newest first, with the live one marked (ops/deployments). */
export async function deploymentsTool(call: Call & { args: DeploymentsArgs }): Promise<ToolOutput> {
  return withTarget(call, true, async (target) => ({
    data: (await listDeployments(target, { status: call.args.status, limit: call.args.limit })) as unknown as Record<string, unknown>,
  }));
}

export interface LogsArgs extends TargetArgs {
  deployment_id?: string | undefined;
  tail?: number | undefined;
  since?: string | undefined;
  build?: boolean | undefined;
  runtime?: boolean | undefined;
}

/**
 * The last lines of logs, one-shot (an MCP call returns once, it does not follow). As the CLI's
 * `logs`: with no deployment named and no `build`, what the running app prints (or, when nothing
 * runs, its latest deployment's logs: `source` says which); `runtime: false` reads the latest
 * deployment's logs instead.
 */
export async function logsTool(call: Call & { args: LogsArgs }): Promise<ToolOutput> {
  const { args, session } = call;
  const since = args.since !== undefined ? parseSince(args.since) : undefined;
  return withTarget(call, args.deployment_id === undefined, async (target) => {
    const result = await runLogs({
      target,
      exec: session.exec,
      reporter: session.reporter,
      deploymentId: args.deployment_id,
      tail: args.tail ?? DEFAULT_TAIL,
      since,
      build: args.build === true,
      follow: false,
      runtime: args.runtime !== false,
      signal: session.signal,
    });
    const lines = call.reporter.captured.logs.map((line) => ({
      timestamp: line.timestamp ?? null,
      level: line.level ?? null,
      source: line.source ?? null,
      message: line.message,
    }));
    const runtime = result.source === 'runtime';
    return {
      data: {
        source: runtime ? 'runtime' : 'deployment',
        deployment_id: runtime ? null : (result.deployment_id ?? null),
        service_id: result.service_id ?? target.service?.id ?? null,
        count: result.count,
        lines,
      },
    };
  });
}

// ------------------------------------------------------------------ env

/**
 * Names only: an MCP result never carries a value. Next to them, how the live deployment's variables
 * compare (values compared here, never returned), as `env list` shows people.
 */
export async function envListTool(call: Call): Promise<ToolOutput> {
  return withTarget(call, true, async (target) => {
    const service = targetService(target);
    const variables = await readEnv(target);
    const keys = Object.keys(variables).sort();
    const live = await readLiveEnv(target, target.targetFlags ?? []);
    const comparison = live.variables ? compareLive(variables, live.variables) : undefined;
    const next = live.rollback?.next;
    return {
      data: {
        service_id: service.id,
        keys,
        count: keys.length,
        values_redacted: true,
        live_deployment_id: live.deploymentId,
        live_differs: comparison?.differs ?? null,
        live: comparison?.keys ?? null,
        live_only: comparison?.liveOnly ?? null,
        // What deploys the current values: a plain redeploy, or after a rollback to an older upload
        // (where redeploy refuses) the command that deploys the newer source.
        deploy_current_values: comparison?.differs ? (next?.source === 'newer_source' ? next.command : shellQuote(['opendeploy', 'redeploy', ...(target.targetFlags ?? [])])) : null,
      },
    };
  });
}

export interface EnvSetArgs extends TargetArgs {
  variables: Record<string, string>;
}

/** Merges the given variables into the service's (full-replace PUT, read back and verified). */
export async function envSetTool(call: Call & { args: EnvSetArgs }): Promise<ToolOutput> {
  const updates = call.args.variables;
  const keys = Object.keys(updates).sort();
  if (keys.length === 0) throw new OdError('invalid_input', 'No variables were given.', { nextAction: 'Pass variables as {"KEY": "value"}.' });
  for (const key of keys) {
    registerSecret(updates[key]);
    assertEnvKey(key);
    assertEnvValue(key, updates[key]!);
  }
  return withTarget(call, true, async (target) => {
    const plan = await planEnvRequest(target, { kind: 'set', updates });
    const { outcome } = await applyEnvPlan(target, plan, call.session);
    reportOutcome(call, outcome);
    return { data: envSetResult(plan, outcome) };
  });
}

/** What the CLI warns about after a change, as warnings of the tool result. */
function reportOutcome(call: Call, outcome: ReplaceOutcome | undefined): void {
  for (const warning of outcome ? outcomeWarnings(outcome) : []) call.reporter.warn(warning);
}

export interface EnvUnsetArgs extends TargetArgs {
  keys: string[];
}

/** Removes variables: the plan's consent question is the consent answer until `confirm: true`. */
export async function envUnsetTool(call: Call & { args: EnvUnsetArgs }): Promise<ToolOutput> {
  for (const key of call.args.keys) assertEnvKey(key);
  return withTarget(call, true, async (target) => {
    const plan = await planEnvRequest(target, { kind: 'unset', keys: call.args.keys });
    if (plan.consent) {
      await confirmAction(call.session, { ...plan.consent, resumeCommand: cliCommand(['env', 'unset', ...plan.keys], call) });
    }
    const { outcome } = await applyEnvPlan(target, plan, call.session);
    reportOutcome(call, outcome);
    // An unset always removes keys that exist (the plan refuses others), so there is an outcome.
    if (!outcome) throw new OdError('internal', 'env unset applied nothing.');
    return { data: envUnsetResult(plan, outcome) };
  });
}

/**
 * The terminal command for the same action with consent (`--yes`), with the target flags the CLI
 * writes (the same ones as the fix commands; paths absolute, as the call resolved them).
 */
function cliCommand(words: string[], call: Call): string {
  return shellQuote(['opendeploy', ...words, ...targetFlags(call.options), '--yes']);
}

// ------------------------------------------------------------------ redeploy / rollback / triage

export interface RedeployArgs extends TargetArgs {
  source?: string | undefined;
}

export async function redeployTool(call: Call & { args: RedeployArgs }): Promise<ToolOutput> {
  const { session } = call;
  return withTarget(call, true, async (target) => {
    const result = await redeploy(target, {
      exec: session.exec,
      reporter: session.reporter,
      signal: session.signal,
      ...(call.args.source !== undefined ? { source: path.resolve(call.root, call.args.source) } : {}),
      afterRollback: { targetFlags: targetFlags(call.options) },
    });
    return { data: result };
  });
}

export interface RollbackArgs extends TargetArgs {
  deployment_id?: string | undefined;
}

export async function rollbackTool(call: Call & { args: RollbackArgs }): Promise<ToolOutput> {
  const { session } = call;
  return withTarget(call, true, async (target) => {
    const result = await runRollback({
      target,
      exec: session.exec,
      reporter: session.reporter,
      prompter: session.prompter,
      options: call.options,
      deploymentId: call.args.deployment_id,
      signal: session.signal,
    });
    return { data: result };
  });
}

/** The rollback the consent answer describes, pinned: confirming applies exactly that one. */
export function rollbackConfirmArguments(details: Record<string, unknown>): Record<string, unknown> {
  const change = Array.isArray(details.changes) ? String(details.changes[0] ?? '') : '';
  const to = change.split(' → ')[1];
  return to ? { deployment_id: to } : {};
}

export interface TriageArgs extends TargetArgs {
  deployment_id?: string | undefined;
}

export async function triageTool(call: Call & { args: TriageArgs }): Promise<ToolOutput> {
  return withTarget(call, call.args.deployment_id === undefined, async (target) => {
    const outcome = await runTriage(target, call.args.deployment_id);
    return { data: outcome.report };
  });
}

// ------------------------------------------------------------------ domains

export interface PortArgs extends TargetArgs {
  port?: number | undefined;
  redeploy?: boolean | undefined;
}

/**
 * The service's port: read it (and, for a linked folder, what the analysis finds), or set it with
 * the same update-and-read-back as a deploy's reconcile; `redeploy` applies it at once.
 */
export async function portTool(call: Call & { args: PortArgs }): Promise<ToolOutput> {
  const { session } = call;
  const { port, redeploy: andRedeploy } = call.args;
  if (port === undefined && andRedeploy) {
    throw new OdError('invalid_input', 'redeploy applies a new port: give port too.', { nextAction: 'Call port with {"port": 8080, "redeploy": true}.' });
  }
  return withTarget(call, true, async (target) => ({
    data:
      port === undefined
        ? await showPort(target)
        : await setPort(target, port, andRedeploy ? { redeploy: { exec: session.exec, reporter: session.reporter, signal: session.signal } } : {}),
  }));
}

export interface DomainArgs extends TargetArgs {
  prefix: string;
}

export async function domainCheckTool(call: Call & { args: DomainArgs }): Promise<ToolOutput> {
  validatePrefix(call.args.prefix, { allowReserved: true });
  return withTarget(call, false, async (target) => ({ data: await checkDomain(target, call.args.prefix) }));
}

/** Renames the service's generated domain, behind the consent gate (the old URL stops answering). */
export async function domainRenameTool(call: Call & { args: DomainArgs }): Promise<ToolOutput> {
  const { prefix } = call.args;
  validatePrefix(prefix, { allowReserved: false });
  return withTarget(call, true, async (target) => {
    assertProductionForRename(target.environment, prefix);
    const service = targetService(target);
    const current = await serviceUrl(target, service.id);
    await confirmAction(call.session, {
      action: `Rename the generated domain of service ${service.name} to ${prefix}.opendeploy.run`,
      changes: [`${current ?? '(no generated domain yet)'} → ${prefix}`],
      resumeCommand: cliCommand(['domain', 'rename', prefix], call),
    });
    return { data: await renameDomain(target, prefix, call.session.signal) };
  });
}
