import { OdError, type OdErrorOptions } from './errors.js';
import { askYesNo, mustFailFast, type ExecutionContext, type Prompter } from './session.js';

export interface ConfirmRequest {
  /** One sentence: what will happen ("Replace all 4 variables of service web"). */
  action: string;
  /** What would change, by name only (key names, deployment ids) — never values. */
  changes: string[];
  /** The exact command that resumes with consent (usually the same command plus --yes). */
  resumeCommand: string;
}

/**
 * The confirmation gate for destructive or full-replace actions: --yes passes; a person at a TTY
 * is asked; anyone else (an agent, CI) gets `consent_required` with the names of what would change
 * and the exact command to run once they agree. Nothing is changed before this returns.
 */
export async function confirmAction(session: { exec: ExecutionContext; prompter: Prompter }, request: ConfirmRequest): Promise<void> {
  const { exec } = session;
  if (exec.yes) return;
  if (mustFailFast(exec)) {
    throw new OdError('consent_required', `${request.action} needs confirmation, and this run cannot ask for it.`, {
      retryable: false,
      nextAction: `Review the changes, then run: ${request.resumeCommand}`,
      details: { changes: request.changes, resume_command: request.resumeCommand, values_redacted: true },
    });
  }
  const news = request.changes.filter((change) => !saidIn(request.action, change));
  const asked = `${request.action}${news.length ? ` (${news.join(', ')})` : ''}`;
  if (await askYesNo(session.prompter, `${asked}. Continue?`)) return;
  throw new DeclinedError(asked, {
    retryable: false,
    nextAction: `Run \`${request.resumeCommand}\` to do it without the question.`,
    details: { changes: request.changes, resume_command: request.resumeCommand },
  });
}

/**
 * Whether the question's sentence already names everything a change lists (its ids, names, paths),
 * so the question does not say them twice: "Cancel deployment d1 (building)" rather than
 * "Cancel deployment d1 (building) (d1)". The machine payload keeps every change.
 */
function saidIn(action: string, change: string): boolean {
  const words = new Set(action.split(/[\s(),]+/).map((word) => word.replace(/[.:;]+$/, '')).filter(Boolean));
  const parts = change
    .split(/\s+/)
    .map((part) => part.replace(/^\((.*)\)$/, '$1'))
    .filter((part) => part !== '' && part !== '->' && part !== '→');
  return parts.length > 0 && parts.every((part) => words.has(part));
}

/**
 * The person at the terminal answered no. Still `consent_required` (same exit code), but it is their
 * choice, not a failure: the human output says what was not done as a plain line, not an error.
 */
export class DeclinedError extends OdError {
  /** What was not done, as the question put it (the action and the names of its changes). */
  readonly notDone: string;

  constructor(notDone: string, options: OdErrorOptions) {
    super('consent_required', 'Not confirmed, so nothing was changed.', options);
    this.notDone = notDone;
  }
}
