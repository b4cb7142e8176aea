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
  const interactive = terminal.stdinIsTTY && terminal.stderrIsTTY && !ci;
  return {
    json,
    yes: options.yes === true,
    quiet: options.quiet === true,
    verbose: options.verbose === true,
    color: colorEnabled(options, env, terminal.stderrIsTTY),
    interactive,
    spinner: terminal.stderrIsTTY && !ci && !json && options.quiet !== true,
    ci,
    env,
    cwd,
  };
}

/** `CI` set to anything non-empty other than "false" / "0". */
export function isCiEnv(env: NodeJS.ProcessEnv): boolean {
  const ci = env['CI'];
  if (ci === undefined) return false;
  const value = ci.trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}
