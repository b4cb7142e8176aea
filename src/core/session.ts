import type { Reporter } from './reporter.js';

/**
 * The execution context is computed once per run: who is on the other end (a person at a TTY, an
 * agent reading JSON, a CI job) decides whether we may prompt, animate or must fail fast.
 * Every such decision is a pure function of this object, so it can be table-tested.
 */

export interface GlobalOptions {
  json?: boolean;
  yes?: boolean;
  gateway?: string;
  authFile?: string;
  env?: string;
  project?: string;
  service?: string;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean; // commander's --no-color sets this to false
  local?: boolean;
}

export interface ExecutionContext {
  json: boolean;
  yes: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  /** stdin and stderr are terminals and this is not CI: we may ask questions and animate. */
  interactive: boolean;
  /** stderr is a terminal: spinners are allowed there (even if stdin is not). */
  spinner: boolean;
  ci: boolean;
  /**
   * A program, not a person, drives this run: it asked for JSON, or it feeds stdin through a pipe
   * outside CI (how coding agents run commands). Such a run is never asked anything.
   */
  agent: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface TerminalFacts {
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
}

export function colorEnabled(options: GlobalOptions, env: NodeJS.ProcessEnv, stderrIsTTY: boolean): boolean {
  if (options.color === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stderrIsTTY;
}

export function buildExecutionContext(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv,
  terminal: TerminalFacts,
  cwd: string,
): ExecutionContext {
  const ci = isCiEnv(env);
  const json = options.json === true;
  // A coding agent's terminal may be a real one: its variables still mean nobody will answer.
  const harness = agentHarness(env) !== undefined;
  const interactive = terminal.stdinIsTTY && terminal.stderrIsTTY && !ci && !harness;
  return {
    json,
    yes: options.yes === true,
    quiet: options.quiet === true,
    verbose: options.verbose === true,
    color: colorEnabled(options, env, terminal.stderrIsTTY),
    interactive,
    spinner: terminal.stderrIsTTY && !ci && !harness && !json && options.quiet !== true,
    ci,
    agent: !ci && (json || !terminal.stdinIsTTY || harness),
    env,
    cwd,
  };
}

/**
 * The coding agent running this command, from the variables agent harnesses set: the generic
 * `AI_AGENT` (its value names the agent), Claude Code (`CLAUDECODE`), Cursor's agent
 * (`CURSOR_AGENT`), Gemini CLI (`GEMINI_CLI`), OpenAI Codex (`CODEX_SANDBOX`, `CODEX_THREAD_ID`).
 * Undefined when none is set.
 */
export function agentHarness(env: NodeJS.ProcessEnv): string | undefined {
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '' && env[name] !== '0' && env[name]?.toLowerCase() !== 'false';
  if (set('AI_AGENT')) return env.AI_AGENT!.trim();
  if (set('CLAUDECODE')) return 'claude-code';
  if (set('CURSOR_AGENT')) return 'cursor';
  if (set('GEMINI_CLI')) return 'gemini-cli';
  if (set('CODEX_SANDBOX') || set('CODEX_THREAD_ID')) return 'codex';
  return undefined;
}

/** `CI` set to anything non-empty other than "false" / "0". */
export function isCiEnv(env: NodeJS.ProcessEnv): boolean {
  const ci = env['CI'];
  if (ci === undefined) return false;
  const value = ci.trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * A person can answer a question: a TTY on both ends, not CI, and stdout is not a JSON stream a
 * program is reading. Everyone else gets a structured error with the exact command to run instead.
 */
export function mayPrompt(exec: Pick<ExecutionContext, 'interactive' | 'json'>): boolean {
  return exec.interactive && !exec.json;
}

/**
 * A step that needs an answer must stop at once with a structured error (the exact command to run)
 * instead of waiting: nobody can answer and `--yes` did not answer for them.
 */
export function mustFailFast(exec: Pick<ExecutionContext, 'interactive' | 'json' | 'yes'>): boolean {
  return !exec.yes && !mayPrompt(exec);
}

/** Asks the person at the terminal. Only called when `mayPrompt` says someone can answer. */
export interface Prompter {
  /** One line of free text, trimmed. */
  ask(question: string): Promise<string>;
  /** One line typed without echo (a secret value), exactly as typed: nothing is trimmed or shown. */
  askHidden(question: string): Promise<string>;
}

/** `[y/N]`: anything but y/yes is no. */
export async function askYesNo(prompter: Prompter, question: string): Promise<boolean> {
  const answer = (await prompter.ask(`${question} [y/N] `)).toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/** Numbered choice; returns the index picked, or undefined for an empty/invalid answer. */
export async function askChoice(prompter: Prompter, question: string, choices: string[]): Promise<number | undefined> {
  const lines = choices.map((choice, index) => `  ${index + 1}) ${choice}`).join('\n');
  const answer = await prompter.ask(`${question}\n${lines}\n> `);
  const index = Number(answer) - 1;
  return Number.isInteger(index) && index >= 0 && index < choices.length ? index : undefined;
}

/** A prompter for runs nobody can answer: reaching it is a bug in a `mayPrompt` check. */
export const noPrompter: Prompter = {
  ask: async () => {
    throw new Error('internal: a question was asked in a run that cannot prompt');
  },
  askHidden: async () => {
    throw new Error('internal: a question was asked in a run that cannot prompt');
  },
};

/** The audit trail as the layers below the CLI see it (src/audit implements it). */
export interface AuditSink {
  info(step: string, fields?: Record<string, unknown>): void;
  warn(step: string, fields?: Record<string, unknown>): void;
  error(step: string, fields?: Record<string, unknown>): void;
  /** Path of the file the next line would go to (today's UTC date per the logger's clock). */
  readonly path: string;
  /** The last failure swallowed while writing (undefined when every write so far succeeded). */
  readonly lastError: unknown;
  /** Resolves once every line written so far is on disk. */
  flush(): Promise<void>;
}

/** A local gateway a command uses: its URL, its own credential file, and how to let go of it. */
export interface LocalGatewayLease {
  url: string;
  authFile: string;
  /** Stops it when this command started it in-process; leaves a gateway another process runs alone. */
  close(): Promise<void>;
  /** True when the gateway runs in a background process of its own, which outlives this command. */
  background?: boolean;
}

export interface LocalGatewayRequest {
  dataDir?: string;
  simulate?: boolean;
  detach?: boolean;
}

/** Starts (or attaches to) the local gateway: supplied by the CLI, which owns the embedded gateway. */
export type StartLocalGateway = (request: LocalGatewayRequest, env: NodeJS.ProcessEnv) => Promise<LocalGatewayLease>;

/** What the audit line of a failed command says: its step and the ids known when it failed. */
export interface FailureAudit {
  step: string;
  fields: Record<string, unknown>;
  /** Error facts added to `fields`: always `error_code`; `message` and `status` when listed. */
  include: Array<'message' | 'status'>;
}

/**
 * The session a command runs in, built once by the CLI: the execution facts, how to report and
 * ask, the audit trail, the abort signal and the capabilities only the CLI can supply.
 */
export interface Session {
  exec: ExecutionContext;
  reporter: Reporter;
  prompter: Prompter;
  audit: AuditSink;
  signal: AbortSignal;
  /** Absent where no local gateway can be started (library use without the CLI). */
  startLocalGateway?: StartLocalGateway;
  /**
   * Set by a command once it knows what it acts on: if it then fails, the one place errors become
   * exit codes writes this audit line (with the error code), so no command writes its own.
   */
  failureAudit?: FailureAudit;
}
