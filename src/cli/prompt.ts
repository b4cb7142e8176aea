import { createInterface } from 'node:readline/promises';
import type { Prompter } from '../core/session.js';

/**
 * The terminal prompter: reads the answer from the run's stdin (injected, so in-process tests can
 * answer) and writes the question to its stderr, so stdout stays clean. Only used when the
 * execution context says a person can answer; agents and CI never reach it.
 */
export function createPrompter(input: NodeJS.ReadableStream, output: { write(chunk: string): unknown }): Prompter {
  return {
    async ask(question: string): Promise<string> {
      const terminal = (input as { isTTY?: boolean }).isTTY === true;
      const rl = createInterface({ input, output: output as NodeJS.WritableStream, terminal });
      try {
        return (await rl.question(question)).trim();
      } finally {
        rl.close();
      }
    },
  };
}
