import { VERSION } from '../version.js';
import { GatewayClient } from './client.js';

/** The product's client: its User-Agent, and a request log for --verbose (method, path, status, time — never headers). */
export function createGatewayClient(gateway: string, token: string | undefined, debug: (line: string) => void): GatewayClient {
  return new GatewayClient({
    baseUrl: gateway,
    ...(token === undefined ? {} : { token }),
    userAgent: `opendeploy/${VERSION} (${process.platform}; node ${process.versions.node})`,
    onRequest: (info) => debug(`${info.method} ${info.path} → ${info.status ?? info.error ?? '?'} in ${Math.round(info.ms)} ms (attempt ${info.attempt})`),
  });
}
