import { VERSION } from '../core/version.js';
import { GatewayClient } from './client.js';

/**
 * The product's client: its User-Agent, and a request log for --verbose (method, path, status, time —
 * never headers). `env` is the run's environment (not this process's), so an in-process run with an
 * injected environment behaves like a child process started with it.
 */
export function createGatewayClient(gateway: string, token: string | undefined, debug: (line: string) => void, env: NodeJS.ProcessEnv): GatewayClient {
  return new GatewayClient({
    baseUrl: gateway,
    ...(token === undefined ? {} : { token }),
    userAgent: `opendeploy/${VERSION} (${process.platform}; node ${process.versions.node})`,
    ...requestTimeout(env.OD_REQUEST_TIMEOUT_MS),
    onRequest: (info) => debug(`${info.method} ${info.path} → ${info.status ?? info.error ?? '?'} in ${Math.round(info.ms)} ms (attempt ${info.attempt})`),
  });
}

/**
 * OD_REQUEST_TIMEOUT_MS: how long one API request may wait for an answer (default 60 s). Lets tests
 * and slow links shorten or lengthen it; ignored unless it is a positive number.
 */
function requestTimeout(raw: string | undefined): { requestTimeoutMs?: number } {
  const ms = Number(raw);
  return raw && Number.isFinite(ms) && ms > 0 ? { requestTimeoutMs: Math.round(ms) } : {};
}
