import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { tempDir } from './tmp.js';

/**
 * Runs the CLI in-process as a person at a terminal would: stdin and stderr are TTYs (so the CLI
 * may ask), stdin holds no answer (a question would read end-of-input), from a fresh empty folder.
 */
export async function atTerminal(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end('');
  const code = await main(args, {
    env,
    cwd: await tempDir('od-cwd-'),
    streams: { stdout: { write: (chunk: string) => ((stdout += chunk), true) }, stderr: { write: (chunk: string) => ((stderr += chunk), true) } },
    stdin,
    stdinIsTTY: true,
    stderrIsTTY: true,
  });
  return { code, stdout, stderr };
}
