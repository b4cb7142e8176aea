import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { closest, editDistance, firstOperand } from '../../src/cli/suggest.js';

const work = mkdtempSync(path.join(tmpdir(), 'od-suggest-'));
mkdirSync(path.join(work, 'statsu'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: { CI: 'true', NO_COLOR: '1', HOME: work },
    cwd: work,
    streams: { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) } },
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

describe('suggestions for mistyped commands', () => {
  it('edit distance counts an adjacent swap as one edit', () => {
    expect(editDistance('stauts', 'status')).toBe(1);
    expect(editDistance('lgos', 'logs')).toBe(1);
    expect(editDistance('deploy', 'deploy')).toBe(0);
    expect(editDistance('rollbak', 'rollback')).toBe(1);
    expect(editDistance('xyz', 'status')).toBe(6);
  });

  it('suggests the closest command within a third of its length, and nothing for unrelated words', () => {
    const names = ['deploy', 'status', 'logs', 'env', 'redeploy', 'rollback'];
    expect(closest('stauts', names)).toBe('status');
    expect(closest('redeplyo', names)).toBe('redeploy');
    expect(closest('banana', names)).toBeUndefined();
  });

  it('skips options and the values of options that take one', () => {
    const values = new Set(['--name', '--gateway']);
    expect(firstOperand(['--json', '--name', 'shop', 'stauts'], values)).toBe('stauts');
    expect(firstOperand(['--name=shop', 'api'], values)).toBe('api');
    expect(firstOperand(['--', '--weird-folder'], values)).toBe('--weird-folder');
    expect(firstOperand(['--json'], values)).toBeUndefined();
  });

  it('a mistyped command is invalid_input with the suggestion, not "is not a folder"', async () => {
    const result = await run(['stauts', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: '"stauts" is neither a command nor a folder here.',
      retryable: false,
      next_action: 'Did you mean `opendeploy status`? To deploy a folder, pass its path (./stauts).',
    });
  });

  it('an existing folder whose name looks like a typo is still deployed (the folder wins)', async () => {
    // `statsu` exists here (empty), so deploy analyses it and stops there.
    const result = await run(['statsu', '--json']);
    expect(result.code).toBe(2);
    const last = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect([last.error_code, last.message]).toEqual(['analysis_incomplete', `Nothing to deploy in ${path.join(work, 'statsu')}: the folder is empty.`]);
  });

  it('a command group without its subcommand shows its help (human) and is a usage error', async () => {
    const human = await run(['db']);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain('Usage: opendeploy db [options] [command]');
    expect(human.stderr).toContain('add [options] <engine>');
    const json = await run(['domain', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ type: 'error', error_code: 'invalid_input', message: '`opendeploy domain` needs a subcommand: check, rename.' });
  });

  it("commander's own suggestions become one sentence and a next action", async () => {
    const result = await run(['db', 'ad', '--json']);
    expect(JSON.parse(result.stdout)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: 'Unknown command `db ad`.',
      retryable: false,
      next_action: 'Did you mean `opendeploy db add`?',
    });
  });
});
