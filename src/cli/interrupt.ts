/**
 * Ctrl-C handling for long-running commands: the first SIGINT/SIGTERM aborts the signal so the
 * pipeline stops at the next safe point (state is already saved) and exits 130; a second one
 * exits at once. A step that does not notice the abort (a slow read, a request without a signal)
 * must not keep the user waiting: after `graceMs` the process exits 130 by itself. Every id is
 * saved as soon as it exists, so nothing is lost by not waiting for that step.
 */
export const INTERRUPT_GRACE_MS = 900;

export async function withInterrupt<T>(
  run: (signal: AbortSignal) => Promise<T>,
  graceMs: number = INTERRUPT_GRACE_MS,
  /** The session's abort controller, so `session.signal` is the one Ctrl-C aborts. */
  controller: AbortController = new AbortController(),
): Promise<T> {
  let count = 0;
  let grace: NodeJS.Timeout | undefined;
  const onSignal = (): void => {
    count += 1;
    if (count > 1) process.exit(130);
    controller.abort();
    grace = setTimeout(() => {
      process.stderr.write('Interrupted.\n');
      process.exit(130);
    }, graceMs);
    grace.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    if (grace !== undefined) clearTimeout(grace);
    // Once interrupted, the listeners stay until the process exits: another Ctrl-C while the
    // command winds down must still exit 130, not kill the process by the signal's default action.
    if (count === 0) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
