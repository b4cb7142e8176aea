import { createInterface } from 'node:readline/promises';

/**
 * Asks one question on the terminal (stderr, so stdout stays clean). Only called when the
 * execution context says a person can answer; agents and CI never reach this.
 */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

export async function askYesNo(question: string): Promise<boolean> {
  const answer = (await ask(`${question} [y/N] `)).toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/** Numbered choice; returns the index picked, or undefined for an empty/invalid answer. */
export async function askChoice(question: string, choices: string[]): Promise<number | undefined> {
  const lines = choices.map((choice, index) => `  ${index + 1}) ${choice}`).join('\n');
  const answer = await ask(`${question}\n${lines}\n> `);
  const index = Number(answer) - 1;
  return Number.isInteger(index) && index >= 0 && index < choices.length ? index : undefined;
}
