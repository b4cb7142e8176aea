/**
 * Who may talk to the local gateway over HTTP at all, decided before any routing.
 *
 * - Host: a web page can reach 127.0.0.1 through DNS rebinding (its own name re-resolved to the
 *   loopback address), but its requests still carry its own name in `Host`. Only loopback names
 *   with this gateway's port are answered: `127.0.0.1:<port>`, `localhost:<port>`, `[::1]:<port>`
 *   and `<name>.localhost:<port>` (deployed apps). Everything else gets a short 421.
 * - Origin: browsers send `Origin` on every cross-origin request (and on every POST). The API,
 *   the control endpoints and the claim pages answer only requests without an Origin (the CLI,
 *   curl, top-level navigations) or with the gateway's own origin. Proxied app traffic is left to
 *   the app, as it would be when hosted: the app decides its own CORS policy.
 */

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** One or more DNS labels in front of `.localhost` (what the proxy routes to an app). */
const LOCALHOST_SUBDOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+localhost$/;

/** Splits `name:port` (IPv6 in brackets); the port is null when absent. */
function splitHost(value: string): { name: string; port: number | null } | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match) return null;
  return { name: match[1] as string, port: match[2] === undefined ? null : Number(match[2]) };
}

/** True when a request with this `Host` header is meant for the gateway listening on `port`. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const parts = splitHost(host.trim().toLowerCase());
  if (!parts) return false;
  // Browsers omit the default port, so a gateway on port 80 is reached with a bare name.
  const portMatches = parts.port === port || (parts.port === null && port === 80);
  if (!portMatches) return false;
  return LOOPBACK_NAMES.has(parts.name) || LOCALHOST_SUBDOMAIN.test(parts.name);
}

/** The origins a browser shows for pages served by the gateway itself (claim pages). */
export function ownOrigins(port: number): Set<string> {
  const suffix = port === 80 ? '' : `:${port}`;
  return new Set([`http://127.0.0.1${suffix}`, `http://localhost${suffix}`, `http://[::1]${suffix}`]);
}

/** True when the request carries no Origin (not a cross-origin browser request) or our own. */
export function originAllowed(origin: string | string[] | undefined, port: number): boolean {
  if (origin === undefined) return true;
  if (Array.isArray(origin)) return false;
  return ownOrigins(port).has(origin.trim().toLowerCase());
}

export const FOREIGN_HOST_TEXT =
  '421 Misdirected Request: this local gateway answers only requests for 127.0.0.1, localhost or <name>.localhost on its own port.';

export const FOREIGN_ORIGIN_TEXT =
  '403 Forbidden: cross-origin requests to the local gateway are refused (the Origin is not this gateway).';
