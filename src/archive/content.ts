/**
 * Secret detection by content, for files whose name alone does not tell (§9.2, §11):
 * - `.npmrc` and `.yarnrc.yml` carrying an auth token (npmrc.ts, and `npmAuthToken` / `npmAuthIdent`
 *   below): kept when they only configure the registry, left out when they hold a credential;
 * - any `.json` file holding an opendeploy token (`od_…`, an `auth.json` copied into the project)
 *   or a `"private_key"` field (Google service-account keys under any name);
 * - any file, whatever its name, that starts with a PEM private key.
 *
 * Reads are bounded: the PEM check reads only the first PEM_SNIFF_BYTES of a file, and the
 * content checks read at most CONTENT_MAX_BYTES. A config file bigger than that cap is treated as
 * secret without reading it (nobody's `.npmrc` is 256 KiB); a bigger JSON file is checked on its
 * first CONTENT_MAX_BYTES only, since credential files are small and data dumps are not configs.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { npmrcHasAuth } from './npmrc.js';

/** Bytes read from the start of every file for the PEM private-key check. */
export const PEM_SNIFF_BYTES = 1024;

/** Largest slice of a config or JSON file read for the content checks. */
export const CONTENT_MAX_BYTES = 256 * 1024;

/**
 * A PEM private-key header at the start of a line: PKCS#1 (`RSA`, `EC`, `DSA`), PKCS#8 (plain or
 * `ENCRYPTED`), OpenSSH and PGP (`PGP PRIVATE KEY BLOCK`). Line start, not file start, because
 * `openssl pkcs12` writes `Bag Attributes` lines before the key.
 */
const PEM_PRIVATE_KEY = /(?:^|\n)\s*-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;

/** An opendeploy token (`od_` + kind letter + base62) as a whole word, not inside `method_…`. */
const OD_TOKEN = /\bod_[a-z][A-Za-z0-9]{16,}\b/;

/** A JSON key named private_key (service-account keys, JWK-like exports). */
const PRIVATE_KEY_FIELD = /"private_key"\s*:/;

/** yarn berry's credential keys with a literal value; a `${VAR}` reference carries no secret. */
const YARN_AUTH = /^\s*["']?(?:npmAuthToken|npmAuthIdent)["']?\s*:\s*(.*?)\s*$/gm;
const YARN_ENV_REFERENCE = /^(["']?)\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-[^}]*)?\}\1$/;

/** True when `.yarnrc.yml` text holds an npm auth token or ident with a literal value. */
export function yarnrcHasAuth(text: string): boolean {
  for (const match of text.matchAll(YARN_AUTH)) {
    const value = (match[1] ?? '').replace(/\s+#.*$/, '');
    if (value === '' || value === '""' || value === "''" || YARN_ENV_REFERENCE.test(value)) continue;
    return true;
  }
  return false;
}

/** True when JSON text holds an opendeploy token or a `"private_key"` field. */
export function jsonHasSecret(text: string): boolean {
  return OD_TOKEN.test(text) || PRIVATE_KEY_FIELD.test(text);
}

/** True when the first bytes of a file are (or lead into) a PEM private key. */
export function startsWithPrivateKey(head: string): boolean {
  return PEM_PRIVATE_KEY.test(head.replace(/^\uFEFF/, ''));
}

/** Which content check a file name calls for, beyond the PEM sniff every file gets. */
type ContentKind = 'npmrc' | 'yarnrc' | 'json' | 'none';

function contentKind(name: string): ContentKind {
  const lower = name.toLowerCase();
  if (lower === '.npmrc') return 'npmrc';
  if (lower === '.yarnrc.yml' || lower === '.yarnrc.yaml') return 'yarnrc';
  if (lower.endsWith('.json')) return 'json';
  return 'none';
}

/**
 * One buffer for every read: the checks run synchronously (see `isSecretByContentSync`), so no two
 * reads ever share it, and 20,000 files cost no 20,000 allocations.
 */
let scratch: Buffer | undefined;

/**
 * Called with a file's whole content when a check happened to read all of it (small files), so a
 * later reader need not open the file again. The buffer is reused: copy what you keep.
 */
export type WholeFileSink = (bytes: Buffer) => void;

/**
 * Reads at most `max` bytes from the start of an open file into the scratch buffer; returns them
 * (a view of the scratch buffer: valid until the next read). Throws what `read` throws.
 */
function readHeadBytesSync(fd: number, max: number, size: number, whole?: WholeFileSink): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(CONTENT_MAX_BYTES);
  const want = Math.min(max, CONTENT_MAX_BYTES);
  let filled = 0;
  while (filled < want) {
    const bytesRead = readSync(fd, scratch, filled, want - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  const head = scratch.subarray(0, filled);
  if (whole && filled === size) whole(head);
  return head;
}

/** Reads at most `max` bytes from the start of an open file, as text. Throws what `read` throws. */
function readHeadSync(fd: number, max: number, size: number, whole?: WholeFileSink): string {
  return readHeadBytesSync(fd, max, size, whole).toString('utf8');
}

/**
 * Every PEM header starts with these bytes. UTF-8 decoding never turns other bytes into ASCII, so
 * a head without them cannot match PEM_PRIVATE_KEY, and most files are ruled out without turning
 * their first KiB into a string (20,000 files, 20 MiB of strings made and dropped).
 */
const PEM_BEGIN = Buffer.from('-----BEGIN ');

/**
 * True when the content of the open file `fd` makes it a secret. `name` decides which check applies
 * (a symlink is checked under its own name, with its target's content); `size` is the file's size.
 * Synchronous on purpose: one small read of a cached file takes microseconds, while the same read
 * through fs/promises costs a thread-pool round trip and several promises — over 10,000 files that
 * overhead was most of the walk's time. Throws the read error of an unreadable file.
 */
export function isSecretByContentSync(fd: number, name: string, size: number, whole?: WholeFileSink): boolean {
  const kind = contentKind(name);
  if (kind === 'npmrc' || kind === 'yarnrc') {
    // A credential file this big is not a registry config: leave it out rather than read it all.
    if (size > CONTENT_MAX_BYTES) return true;
    const text = readHeadSync(fd, size, size, whole);
    if (startsWithPrivateKey(text.slice(0, PEM_SNIFF_BYTES))) return true;
    return kind === 'npmrc' ? npmrcHasAuth(text) : yarnrcHasAuth(text);
  }
  if (kind === 'json') return jsonHasSecret(readHeadSync(fd, Math.min(size, CONTENT_MAX_BYTES), size, whole));
  if (size === 0) return false;
  const head = readHeadBytesSync(fd, Math.min(size, PEM_SNIFF_BYTES), size, whole);
  return head.includes(PEM_BEGIN) && startsWithPrivateKey(head.toString('utf8'));
}

/** Opens a path for the checks above; O_NONBLOCK so a FIFO swapped in for a file cannot hang. */
export function openForCheck(abs: string): number {
  return openSync(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
}

/** `isSecretByContentSync` on a path (a symlink's target checked under the link's name). */
export function isSecretByContent(abs: string, name: string, size: number): boolean {
  const fd = openForCheck(abs);
  try {
    return isSecretByContentSync(fd, name, size);
  } finally {
    closeSync(fd);
  }
}
