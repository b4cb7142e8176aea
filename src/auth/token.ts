/** Token shapes and the URLs built from a credential (never printing the secret parts alone). */

export type TokenKind = 'pat' | 'agent' | 'unknown';

/** `od_k…` is a dashboard token (PAT), `od_a…` a local agent credential; the kind byte is index 3. */
export function tokenKind(token: string): TokenKind {
  if (token.startsWith('od_k')) return 'pat';
  if (token.startsWith('od_a')) return 'agent';
  return 'unknown';
}

/**
 * A safe hint of which token is in use: the kind prefix and the last 4 characters, e.g. `od_a…X9kQ`.
 * Short or foreign tokens reveal nothing but the prefix.
 */
export function describeToken(token: string): string {
  const prefix = token.startsWith('od_') && token.length >= 4 ? token.slice(0, 4) : '?';
  if (token.length < 16) return `${prefix}…`;
  return `${prefix}…${token.slice(-4)}`;
}

/** The dashboard host: the gateway base without trailing slashes and without its `/api` suffix. */
export function dashboardBase(gateway: string): string {
  let base = gateway.trim().replace(/\/+$/, '');
  if (base.endsWith('/api')) base = base.slice(0, -'/api'.length);
  return base.replace(/\/+$/, '');
}

/** Adds `https://` to a URL without a scheme (auto domains are often stored bare). */
function withScheme(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
}

/**
 * The claim (bind) URL, always derived locally: `<dashboard>/claim/<agent_id>?h=<bind_sig>`, plus
 * `&url=<percent-encoded app URL>` once the app is live. Never print bind_sig outside this URL.
 */
export function claimUrl(gateway: string, agentId: string, bindSig: string, appUrl?: string): string {
  let url = `${dashboardBase(gateway)}/claim/${encodeURIComponent(agentId)}?h=${encodeURIComponent(bindSig)}`;
  if (appUrl !== undefined && appUrl.trim() !== '') url += `&url=${encodeURIComponent(withScheme(appUrl.trim()))}`;
  return url;
}

/** The project page on the dashboard: `<dashboard>/projects/<id>`. */
export function dashboardUrl(gateway: string, projectId: string): string {
  return `${dashboardBase(gateway)}/projects/${encodeURIComponent(projectId)}`;
}

/** Where a user creates or rotates a dashboard token. */
export function apiKeysUrl(gateway: string): string {
  return `${dashboardBase(gateway)}/account/api-keys`;
}
