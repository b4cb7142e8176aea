import { OdError } from './errors.js';

/** Waits `ms`, or rejects with `interrupted` as soon as the signal aborts (Ctrl-C). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(interruptedError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(interruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function interruptedError(): OdError {
  return new OdError('interrupted', 'Interrupted. Everything done so far is saved in .opendeploy/project.json.', {
    retryable: true,
    nextAction: 'Run the same command again to continue where it stopped.',
  });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw interruptedError();
}
