/**
 * Ctrl-C handling for long-running commands: the first SIGINT/SIGTERM aborts the signal so the
 * pipeline stops at the next safe point (state is already saved) and exits 130; a second one
 * exits at once.
 */
export async function withInterrupt<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (): void => {
    count += 1;
    if (count > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
