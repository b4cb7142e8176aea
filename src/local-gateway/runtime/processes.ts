/**
 * Child processes of the local gateway (installs, builds, apps, database engines). Each one runs in
 * its own process group (`detached: true`) so stopping it stops everything it started (npm → sh →
 * node). Every live group is also kept in a process-wide set, and a synchronous `exit` hook kills
 * whatever is left if the gateway process ends without a clean close: nothing is left running.
 */

import { spawn, type SpawnOptions } from 'node:child_process';

export type StreamName = 'stdout' | 'stderr';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES on cwd, …). */
  error?: Error;
}

export interface SpawnGroupOptions {
  /** Run through `/bin/sh -c` (commands from the analysis are shell lines). */
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine?: (stream: StreamName, line: string) => void;
  /** Written to stdin, which is then closed (stdin is /dev/null otherwise). */
  input?: string;
  uid?: number;
  gid?: number;
  /** The signal a graceful stop sends first (default SIGTERM; PostgreSQL wants SIGINT). */
  stopSignal?: NodeJS.Signals;
}

export interface GroupProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<ExitInfo>;
  readonly hasExited: boolean;
  /** Graceful stop: `stopSignal` to the group, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** Immediate SIGKILL of the whole group. */
  kill(): void;
}

const MAX_LINE = 8 * 1024;

/** Process groups started by any gateway in this process and not yet reaped. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    liveGroups.clear();
  });
  // A closed terminal (SIGHUP) would end the process without 'exit' handlers: exit through them.
  process.once('SIGHUP', () => process.exit(129));
}

/** Signals the whole process group; false when it is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    try {
      // The group leader may have exited while its children live on: try the pid itself too.
      process.kill(pgid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Splits a stream into lines (CR/LF), capping runaway lines; flushes the tail on end. */
function lineSplitter(emit: (line: string) => void): { push(chunk: string): void; end(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk;
      let index = pending.search(/\r?\n|\r/);
      while (index >= 0) {
        const line = pending.slice(0, index);
        const sep = pending.startsWith('\r\n', index) ? 2 : 1;
        pending = pending.slice(index + sep);
        emit(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
        index = pending.search(/\r?\n|\r/);
      }
      if (pending.length > MAX_LINE) {
        emit(`${pending.slice(0, MAX_LINE)}…`);
        pending = '';
      }
    },
    end() {
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}

export function spawnGroup(options: SpawnGroupOptions): GroupProcess {
  installExitHook();
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  };
  if (options.uid !== undefined) spawnOptions.uid = options.uid;
  if (options.gid !== undefined) spawnOptions.gid = options.gid;
  const child = spawn('/bin/sh', ['-c', options.command], spawnOptions);
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);
  let exitedFlag = false;

  const streams: Array<Promise<void>> = [];
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = child[name];
    if (!stream) continue;
    stream.setEncoding('utf8');
    const splitter = lineSplitter((line) => options.onLine?.(name, line));
    stream.on('data', (chunk: string) => splitter.push(chunk));
    streams.push(
      new Promise<void>((resolve) => {
        stream.once('close', () => {
          splitter.end();
          resolve();
        });
        stream.once('error', () => resolve());
      }),
    );
  }
  if (options.input !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  }

  const exited = new Promise<ExitInfo>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
      if (pid === undefined) {
        exitedFlag = true;
        resolve({ code: null, signal: null, error });
      }
    });
    child.once('exit', (code, signal) => {
      // The leader is gone; its group may still hold children (a shell's background jobs): reap them.
      if (pid !== undefined) {
        killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      }
      // Output written just before exit is still in the pipes: deliver it before reporting the exit.
      const drained = Promise.race([Promise.all(streams), new Promise((r) => setTimeout(r, 500).unref())]);
      void drained.then(() => {
        exitedFlag = true;
        resolve({ code, signal, ...(spawnError ? { error: spawnError } : {}) });
      });
    });
  });

  const stopSignal = options.stopSignal ?? 'SIGTERM';
  return {
    pid,
    exited,
    get hasExited() {
      return exitedFlag;
    },
    async stop(graceMs = 5000) {
      if (pid === undefined || exitedFlag) return exited;
      killGroup(pid, stopSignal);
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    },
  };
}
