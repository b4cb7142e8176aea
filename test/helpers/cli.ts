import { spawn, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO_ROOT, 'bin', 'opendeploy.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as NDJSON (lines that are not JSON are kept out). */
  events: Record<string, unknown>[];
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Called for each NDJSON event as it arrives; may kill the child. Only a child process has one: implies `spawn`. */
  onEvent?: (event: Record<string, unknown>, child: ChildProcess) => void;
  timeoutMs?: number;
  /** Run `node bin/opendeploy.js` as a child process even when the run could stay in-process. */
  spawn?: boolean;
  /** What the run reads on stdin (never a terminal); without it stdin is empty, like /dev/null. */
  stdin?: string;
}

/**
 * Variables that only take effect in a process of their own: Node's own options, and those the CLI
 * still reads from `process.env` (or through `os.homedir()` / env-paths) instead of the environment
 * it is given. In-process they would come from the test runner's environment, not from the run's,
 * so a run that sets one gets a child process.
 */
const PROCESS_WIDE_VARIABLES = [
  // Read by Node itself when the process starts (a heap limit, a loader).
  'NODE_OPTIONS',
  // os.homedir(): the default credential folder and `~/` in messages.
  'HOME',
  // env-paths: the embedded gateway's data folder and the tool cache.
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'OPENDEPLOY_TOOL_CACHE',
  // Read by an embedded local gateway's upload routes.
  'OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS',
  'OPENDEPLOY_LOCAL_EXTRACT_DELAY_MS',
];

/** The environment a run gets: PATH, HOME, CI=true, NO_COLOR=1 and the test's overrides; never the runner's own. */
function cleanEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    CI: 'true',
    NO_COLOR: '1',
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Why a run needs a child process of its own, or null when it can run in-process. */
export function spawnReason(args: string[], options: CliOptions = {}): string | null {
  if (options.spawn === true) return 'spawn: true';
  if (options.onEvent !== undefined) return 'onEvent (may signal the child)';
  // The embedded gateway runs real apps: process groups reaped on exit, SIGINT/SIGTERM handlers of a
  // foreground gateway, its data folder from env-paths; all process-wide.
  if (args.includes('--local') || args[0] === 'local-gateway') return 'embedded local gateway';
  for (const key of PROCESS_WIDE_VARIABLES) {
    if (options.env !== undefined && key in options.env && options.env[key] !== process.env[key]) return `sets ${key}`;
  }
  return null;
}

/**
 * Runs the real CLI with a clean environment: no TTY, CI=true unless overridden, and only the
 * variables a test passes plus PATH/HOME.
 *
 * By default the CLI runs in-process through `main(argv, io)` with that environment, captured
 * stdout/stderr and the same result shape as a child process (`signal` is always null); starting
 * Node and loading the CLI for each run is most of what a spawned run costs. A run gets a real
 * child process (`node bin/opendeploy.js`) when it must have one:
 * - signals and kills: `onEvent` (its callback gets the child), Ctrl-C, a killed mint;
 * - exit codes and output through the bin shim, closed pipes, a real terminal;
 * - process-wide state: `--local` / `local-gateway` (the embedded gateway), variables the CLI still
 *   reads from `process.env` (see PROCESS_WIDE_VARIABLES, HOME included), a test that relies on a
 *   fresh process;
 * - anything else a test marks with `spawn: true` (or calls `runCliProcess`).
 *
 * In-process runs share the module state of this worker: the redaction registry (secret values a
 * run registers) is emptied before and after each run, as a fresh process would start with none.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return spawnReason(args, options) === null ? runCliInProcess(args, options) : runCliProcess(args, options);
}

/** In-process runs under way; the registry is emptied only when none is (a concurrent run's secrets stay registered). */
let active = 0;

async function clearSecrets(): Promise<void> {
  const { clearRegisteredSecrets } = await import('../../src/core/redact.js');
  clearRegisteredSecrets();
}

/** `main(argv, io)` in this process with the clean environment; see runCli. */
export async function runCliInProcess(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const reason = spawnReason(args, { ...options, spawn: false });
  if (reason !== null) throw new Error(`this run needs a child process (${reason}): use runCli or runCliProcess`);
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  let pending = '';
  const events: Record<string, unknown>[] = [];
  const streams = {
    stdout: {
      write(chunk: string | Uint8Array): boolean {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        stdout += text;
        pending += text;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          collectEvent(pending.slice(0, newline), events);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
        return true;
      },
    },
    stderr: {
      write(chunk: string | Uint8Array): boolean {
        stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        return true;
      },
    },
  };
  const io = {
    env: cleanEnv(options.env),
    cwd: options.cwd ?? REPO_ROOT,
    streams,
    // Like a child's: the given text, or /dev/null where a read ends at once.
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdinIsTTY: false,
    stderrIsTTY: false,
  };
  if (active === 0) await clearSecrets();
  active += 1;
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`in-process run of \`opendeploy ${args.join(' ')}\` took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    let code: number;
    try {
      code = await Promise.race([main(args, io), timedOut]);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('in-process run of')) throw error;
      // What Node does with the bin shim's rejected promise: the stack on stderr, exit code 1.
      stderr += `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
      code = 1;
    }
    return { code, signal: null, stdout, stderr, events };
  } finally {
    clearTimeout(timer);
    active -= 1;
    if (active === 0) await clearSecrets();
  }
}

function collectEvent(line: string, events: Record<string, unknown>[], onEvent?: (event: Record<string, unknown>) => void): void {
  try {
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event && typeof event === 'object' && !Array.isArray(event)) {
      events.push(event);
      onEvent?.(event);
    }
  } catch {
    // human text or a pretty-printed document: not an event
  }
}

/** Runs `node bin/opendeploy.js` (the compiled CLI in dist/) as a child process with the clean environment. */
export function runCliProcess(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env = cleanEnv(options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.end(options.stdin);
    let stdout = '';
    let stderr = '';
    let pending = '';
    const events: Record<string, unknown>[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        collectEvent(pending.slice(0, newline), events, options.onEvent && ((event) => options.onEvent!(event, child)));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    });
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, events });
    });
  });
}

export function lastEvent(run: CliRun): Record<string, unknown> | undefined {
  return run.events[run.events.length - 1];
}

/** The final `{"type":"error"}` event of a failed `--json` run (asserts that it is one). */
export function errorOf(run: CliRun): Record<string, unknown> {
  const event = lastEvent(run);
  if (event?.type !== 'error') throw new Error(`expected an error event, got: ${JSON.stringify(event)}\nstderr: ${run.stderr}`);
  return event;
}
