/**
 * Ctrl-C twice: the first aborts the command, which winds down; a second one that arrives after the
 * command's work has returned (the process is still finishing) must exit 130 like any second Ctrl-C,
 * not kill the process by the signal's default action (exit status "killed by SIGINT").
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const INTERRUPT = pathToFileURL(path.join(REPO_ROOT, 'dist', 'cli', 'interrupt.js')).href;

describe('withInterrupt', () => {
  it('a second Ctrl-C after the interrupted work returned still exits 130', () => {
    const script = `
      const { withInterrupt } = await import(${JSON.stringify(INTERRUPT)});
      setInterval(() => undefined, 1000); // keeps the process alive while signals are delivered
      const outcome = await withInterrupt((signal) => new Promise((resolve) => {
        signal.addEventListener('abort', () => resolve('aborted'));
        setTimeout(() => process.kill(process.pid, 'SIGINT'), 20);
      }), 60_000);
      process.stdout.write(outcome + '\\n');
      process.kill(process.pid, 'SIGINT');
      setTimeout(() => process.exit(0), 500);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stdout).toBe('aborted\n');
    expect([run.status, run.signal]).toEqual([130, null]);
  });

  it('an uninterrupted run leaves no signal listener behind', () => {
    const script = `
      const { withInterrupt } = await import(${JSON.stringify(INTERRUPT)});
      const before = process.listenerCount('SIGINT');
      await withInterrupt(async () => 'done');
      process.stdout.write(String(process.listenerCount('SIGINT') - before) + '\\n');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stdout).toBe('0\n');
    expect(run.status).toBe(0);
  });
});
