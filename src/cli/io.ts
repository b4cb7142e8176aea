import type { Streams } from './output/json.js';

/** Everything a command reads from or writes to its process, injectable so tests run in-process. */
export interface RunIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  streams: Streams;
  /** Where prompts read their answers (default: this process's stdin). */
  stdin?: NodeJS.ReadableStream;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  /**
   * True when the CLI runs as its own process (the `opendeploy` command), false or absent when
   * embedded (tests, a program calling `main`): process-wide settings (heap.ts) are only made in a
   * process the CLI owns.
   */
  ownsProcess?: boolean;
}

export function defaultIo(): RunIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    streams: { stdout: process.stdout, stderr: process.stderr },
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ownsProcess: true,
  };
}
