/**
 * Secret scrubbing shared by the audit log, error messages and every reporter.
 *
 * Two layers: key names that always hold secrets are dropped, and any string shaped like an
 * opendeploy token (`od_` + kind byte + base62) is replaced wherever it appears. Values that are
 * known secrets at run time (the token in use, bind_sig, env values) can be registered so they are
 * scrubbed from free text too, even when they do not look like a token.
 */

/** `od_` + one kind letter + at least 16 base62 chars: real tokens carry 43. */
const TOKEN_PATTERN = /od_[a-z][A-Za-z0-9]{16,}/g;

const EXACT_SECRET_KEYS = new Set(['api_key', 'bind_sig', 'password', 'token', 'authorization', 'private_key']);

/** True for key names whose values must never be written anywhere. */
export function isSecretKey(key: string): boolean {
  const lower = key.toLowerCase();
  return EXACT_SECRET_KEYS.has(lower) || lower.includes('secret') || lower.includes('authorization');
}

const registered = new Set<string>();

/**
 * Values that are never secret but common in env maps: loopback hosts (a local database's HOST) and
 * environment names (NODE_ENV=production). Registering them would blank them out of every message.
 */
const NEVER_SECRET = new Set(['127.0.0.1', 'localhost', '0.0.0.0', '::1', '[::1]', 'production', 'staging', 'development']);

/**
 * Registers a value that must never be printed or logged (the token in use, bind_sig, env values).
 * Very short values are ignored: scrubbing "1" out of every message would destroy the text.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= 6 && !NEVER_SECRET.has(value)) registered.add(value);
}

/** For tests: forget registered values. */
export function clearRegisteredSecrets(): void {
  registered.clear();
}

/**
 * The userinfo part of a URL (`https://user:TOKEN@host/`, `https://TOKEN@host/`): git and database
 * URLs carry credentials there, and a token pasted into `--git` must never reach a log or a terminal.
 * The scheme and everything from the host on are kept; a `@` later in the path is not userinfo
 * because userinfo cannot contain `/`, `?`, `#` or whitespace.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;

/** Strips credentials from every URL in a text: `https://u:t@h/x` becomes `https://***@h/x`. */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1***@');
}

/**
 * Scrubs only what is secret by its shape (token-shaped strings, URL credentials). For JSON keys:
 * they are names, and scrubbing registered values out of them would turn `keys_changed` into
 * `keys_***` whenever some variable's value happens to be the word "changed".
 */
export function scrubTokens(text: string): string {
  return stripUrlCredentials(text).replace(TOKEN_PATTERN, (match) => `${match.slice(0, 4)}***`);
}

/** Scrubs token-shaped strings, URL credentials and registered secret values out of free text. */
export function scrubText(text: string): string {
  let out = scrubTokens(text);
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

/** Deep copy of a value with secret keys dropped and every string scrubbed. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[depth]';
  if (typeof value === 'string') return scrubText(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (isSecretKey(key)) continue;
      out[key] = redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

/** A short, scrubbed excerpt of a response body for error messages and the audit log. */
export function excerpt(body: string, max = 256): string {
  const clean = scrubText(body.replace(/\s+/g, ' ').trim());
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Like scrubText, but leaves the given exact strings intact. The claim URL is the one place where
 * bind_sig may be shown (inside the full URL, never alone), so the final report passes it here.
 */
export function scrubTextExcept(text: string, allowed: readonly string[]): string {
  const kept = allowed.filter((value) => value.length > 0 && text.includes(value));
  if (kept.length === 0) return scrubText(text);
  const placeholders = kept.map((_, index) => `\u0000ALLOWED${index}\u0000`);
  let masked = text;
  kept.forEach((value, index) => {
    masked = masked.split(value).join(placeholders[index]!);
  });
  let out = scrubText(masked);
  kept.forEach((value, index) => {
    out = out.split(placeholders[index]!).join(value);
  });
  return out;
}
