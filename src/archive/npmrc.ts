/**
 * `.npmrc` is kept when it only carries build configuration (registry, save-exact, engine-strict,
 * legacy-peer-deps): builds often break without it. It becomes a secret when
 * it carries auth material (§9.2), which is then never sent.
 */

/**
 * npm config keys that hold credentials, compared lower-case after any `//host/path:` scope.
 * `username` and `email` travel with `_password`; `key` can hold an inline client private key.
 */
const AUTH_KEYS: ReadonlySet<string> = new Set([
  '_authtoken',
  '_auth',
  '_password',
  'password',
  'username',
  'key',
  // yarn berry spells them this way; some projects copy them into .npmrc.
  'npmauthtoken',
  'npmauthident',
]);

/** A value that only names an environment variable (`${NPM_TOKEN}`) carries no secret itself. */
const ENV_REFERENCE = /^(["']?)\$\{[A-Za-z_][A-Za-z0-9_]*\}\1$/;

/** Granular/automation npm tokens are recognisable anywhere, even under an unusual key. */
const NPM_TOKEN = /\bnpm_[A-Za-z0-9]{36}\b/;

/** Largest `.npmrc` read for the check; a bigger one is treated as secret without reading it all. */
export const NPMRC_MAX_BYTES = 256 * 1024;

/**
 * True when `.npmrc` text carries auth material: a credential key with a literal value, or an npm
 * token anywhere. A credential key whose value is only `${ENV_VAR}` is kept: the file then holds no
 * secret and the build resolves the variable from its own environment.
 */
export function npmrcHasAuth(text: string): boolean {
  if (NPM_TOKEN.test(text)) return true;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    // Scoped keys look like `//registry.npmjs.org/:_authToken` or `//host:8080/path/:_auth`.
    if (key.startsWith('//')) key = key.slice(key.lastIndexOf(':') + 1);
    if (!AUTH_KEYS.has(key.toLowerCase())) continue;
    if (value === '' || ENV_REFERENCE.test(value)) continue;
    return true;
  }
  return false;
}
