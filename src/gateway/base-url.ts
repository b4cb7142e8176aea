/**
 * The gateway base URL: validated and normalised once, so every comparison (auth.json's gateway,
 * project.json's link) and every request path is built from the same canonical form.
 *
 * Canonical form: `http(s)://host[:port]/path`, lower-case scheme and host, no credentials, query,
 * fragment or trailing slash. The API lives under `/api` on every gateway, so a bare origin
 * (`http://127.0.0.1:4000` or `…/`) means `<origin>/api`; joining `/v1/...` onto a bare `/` would
 * otherwise produce `//v1/...`, which URL parsing reads as the host `v1`.
 */
import { OdError } from '../core/errors.js';
import { scrubText } from '../core/redact.js';

const EXAMPLE = 'e.g. https://dashboard.dev.opendeploy.dev/api or http://127.0.0.1:4000/api';

function invalid(message: string, source: string): OdError {
  return new OdError('invalid_input', message, {
    nextAction: `Set ${source} to the gateway base URL, ${EXAMPLE}.`,
    details: { reason: 'invalid_gateway_url' },
  });
}

/** Shown in messages without any userinfo (a token pasted into the URL stays out of output). */
function shown(raw: string): string {
  return scrubText(raw.trim().replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1'));
}

/**
 * Parses and normalises a gateway base URL; an unusable one is `invalid_input` with one sentence.
 * `source` names where the value came from (`--gateway`, `OD_GATEWAY`, …) for the next action.
 */
export function parseGatewayUrl(raw: string, source = 'OD_GATEWAY (or --gateway)'): URL {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`The gateway URL "${shown(raw)}" is not a valid URL.`, source);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`The gateway URL "${shown(raw)}" must start with http:// or https://.`, source);
  }
  if (url.hostname === '') {
    throw invalid(`The gateway URL "${shown(raw)}" has no host.`, source);
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  url.search = '';
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path === '' ? '/api' : path;
  return url;
}

/** The canonical base URL string, e.g. `http://127.0.0.1:9` → `http://127.0.0.1:9/api`. */
export function normaliseGatewayUrl(raw: string, source?: string): string {
  const url = parseGatewayUrl(raw, source);
  return `${url.origin}${url.pathname}`;
}
