/**
 * Readiness: a started app is healthy once its port answers HTTP — any status, any body — on
 * 127.0.0.1 (or ::1, for apps that bound `localhost` on an IPv6-first system). Bounded, abortable,
 * and it stops early when the process exits.
 */

import http from 'node:http';

export type Readiness =
  | { ok: true; host: string }
  | { ok: false; reason: 'timeout' | 'exited' | 'aborted' }
  /** The app listens, but only on other ports (seen for `wrongPortMs`). */
  | { ok: false; reason: 'wrong_port'; ports: number[] };

/** One HTTP probe; resolves true on any response. */
export function probeHttp(host: string, port: number, path = '/', timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ host, port, path, method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'opendeploy-local-gateway/readiness', connection: 'close' } }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface WaitOptions {
  port: number;
  path?: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Resolves when the process exits; the wait stops then. */
  exited?: Promise<unknown>;
  intervalMs?: number;
  /** The ports the app listens on right now (null: unknown). Enables the early wrong-port verdict. */
  listening?: () => number[] | null;
  /** How long the app must listen only elsewhere before the wait gives up early (default 5 s). */
  wrongPortMs?: number;
}

export async function waitForHttp(options: WaitOptions): Promise<Readiness> {
  const deadline = Date.now() + options.timeoutMs;
  let exited = false;
  void options.exited?.then(() => {
    exited = true;
  });
  const interval = options.intervalMs ?? 250;
  const wrongPortMs = options.wrongPortMs ?? 5000;
  let elsewhereSince: number | undefined;
  let lastCheck = 0;
  for (;;) {
    if (options.signal.aborted) return { ok: false, reason: 'aborted' };
    if (exited) return { ok: false, reason: 'exited' };
    for (const host of ['127.0.0.1', '::1']) {
      if (await probeHttp(host, options.port, options.path ?? '/', 2000)) {
        // An app that answered but died right after is not healthy.
        if (exited) return { ok: false, reason: 'exited' };
        return { ok: true, host };
      }
    }
    if (Date.now() >= deadline) return { ok: false, reason: 'timeout' };
    if (options.listening && Date.now() - lastCheck >= 1000) {
      lastCheck = Date.now();
      const ports = options.listening();
      if (ports && ports.length > 0 && !ports.includes(options.port)) {
        elsewhereSince ??= Date.now();
        if (Date.now() - elsewhereSince >= wrongPortMs) return { ok: false, reason: 'wrong_port', ports };
      } else {
        elsewhereSince = undefined;
      }
    }
    await new Promise<void>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        options.signal.removeEventListener('abort', onAbort);
        resolve();
      }, interval);
      options.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
