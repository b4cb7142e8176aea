import { spawn, type ChildProcess } from 'node:child_process';
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
  /** Called for each NDJSON event as it arrives; may kill the child. */
  onEvent?: (event: Record<string, unknown>, child: ChildProcess) => void;
  timeoutMs?: number;
}

/**
 * Runs the real CLI (`node bin/opendeploy.js`) as a child process with a clean environment: no
 * TTY, CI=true unless overridden, and only the variables a test passes plus PATH/HOME.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    CI: 'true',
    NO_COLOR: '1',
  };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const events: Record<string, unknown>[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        try {
          const event = JSON.parse(line) as Record<string, unknown>;
          if (event && typeof event === 'object' && !Array.isArray(event)) {
            events.push(event);
            options.onEvent?.(event, child);
          }
        } catch {
          // human text or a pretty-printed document: not an event
        }
      }
    });
    child.stderr.on('data', (chunk: string) => {
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
