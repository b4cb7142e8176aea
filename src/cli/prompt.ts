import { createInterface } from 'node:readline/promises';
import { createInterface as createLineReader } from 'node:readline';
import { Writable } from 'node:stream';
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
    askHidden(question: string): Promise<string> {
      // readline echoes what is typed to its output: give it one that drops everything, so the
      // value never reaches the terminal (on a TTY it also puts the terminal in raw mode, so the
      // terminal itself does not echo either). Only the question goes to the real output.
      const terminal = (input as { isTTY?: boolean }).isTTY === true;
      output.write(question);
      const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
      const rl = createLineReader({ input, output: muted, terminal });
      return new Promise<string>((resolve) => {
        let answered = false;
        rl.once('line', (line) => {
          answered = true;
          rl.close();
          if (terminal) output.write('\n');
          resolve(line);
        });
        // End of input (Ctrl-D) before a line: an empty answer.
        rl.once('close', () => {
          if (answered) return;
          if (terminal) output.write('\n');
          resolve('');
        });
        // Raw mode turns Ctrl-C into a keypress: leave raw mode, then let the signal act as it would have.
        rl.once('SIGINT', () => {
          answered = true;
          rl.close();
          output.write('\n');
          process.kill(process.pid, 'SIGINT');
        });
      });
    },
  };
}
