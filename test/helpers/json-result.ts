import { expect } from 'vitest';
import type { CliRun } from './cli.js';

/**
 * A one-shot `--json` command's answer: stdout is exactly one line, a `{"type":"result",...}`
 * object. Returns the result's fields without the envelope's `type`, so callers assert the data
 * exactly as the command produced it.
 */
export function resultOf(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.split('\n');
  expect(lines.at(-1), 'stdout ends with a newline').toBe('');
  expect(lines.length, `exactly one line on stdout:\n${run.stdout}`).toBe(2);
  const { type, ...data } = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(type).toBe('result');
  return data;
}
