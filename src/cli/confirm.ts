import { confirmAction as confirmWith, type ConfirmRequest } from '../core/consent.js';
import type { ExecutionContext, Prompter } from '../core/session.js';
import { createPrompter } from './prompt.js';

export type { ConfirmRequest };
export { shellQuote } from '../core/text.js';

/**
 * The consent gate (src/core/consent.ts) for callers that hold only the execution context: the
 * question goes to this process's terminal. Commands with a session pass its prompter instead.
 */
export async function confirmAction(exec: ExecutionContext, request: ConfirmRequest, prompter: Prompter = createPrompter(process.stdin, process.stderr)): Promise<void> {
  return confirmWith({ exec, prompter }, request);
}
