/**
 * The local user's key (real mode). A gateway that runs apps on this machine must not accept a
 * token just because it is well-formed: any process or other user could then read every env value
 * and deploy code that runs as the gateway's user. So on start it makes sure the credential file
 * that `--local` commands use (`<dataDir>/auth.json`) holds a credential it issued, minting a fresh
 * `od_k` for the local user when the file is missing. Only its sha256 is kept in the state.
 *
 * An existing file is never rewritten: a credential this gateway issued (its key, or an `od_a`
 * from its register endpoint) keeps working; anything else is reported, and the user decides.
 */

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { readAuthFile, writeAuthFile } from '../auth/file.js';
import type { Store } from './store.js';
import { hashToken, mintToken, tokenKind } from './tokens.js';

/** The credential file of the local gateway, inside its data folder. */
export const LOCAL_AUTH_FILE = 'auth.json';
/** The control secret (test-only `/__local/*` endpoints), inside the data folder. */
export const CONTROL_SECRET_FILE = 'control-secret';

export function localAuthFile(dataDir: string): string {
  return path.join(dataDir, LOCAL_AUTH_FILE);
}

/** True when `token` is a credential this gateway issued: its local key or a registered agent. */
export function issuedHere(store: Store, token: string): boolean {
  const kind = tokenKind(token);
  const hash = hashToken(token);
  if (kind === 'k') return store.state.user.key_sha256 === hash;
  if (kind === 'a') return store.state.agents.some((agent) => agent.token_sha256 === hash);
  return false;
}

export type LocalKeyOutcome =
  | { status: 'kept' }
  | { status: 'minted' }
  | { status: 'foreign' | 'unreadable'; message: string };

/**
 * Makes sure `<dataDir>/auth.json` holds a credential issued by this gateway. The key's hash is
 * saved before the file is written, so a crash in between only means a new key on the next start.
 */
export async function ensureLocalKey(store: Store, dataDir: string, gatewayUrl: string): Promise<LocalKeyOutcome> {
  const file = localAuthFile(dataDir);
  const check = async (): Promise<LocalKeyOutcome | null> => {
    let read;
    try {
      read = await readAuthFile(file);
    } catch (error) {
      return { status: 'unreadable', message: `${error instanceof Error ? error.message : String(error)} Commands with --local cannot authenticate until it is fixed or moved away and the gateway restarted.` };
    }
    if (read.status === 'missing') return null;
    if (issuedHere(store, read.data.api_key)) return { status: 'kept' };
    return {
      status: 'foreign',
      message: `${file} holds a credential this local gateway did not issue, so commands with --local will be refused (401). Move the file away and restart the gateway to get a new local key.`,
    };
  };

  const existing = await check();
  if (existing) return existing;
  const key = mintToken('k');
  // A lost file cannot be recovered (only the hash is kept): the previous key is replaced.
  store.state.user.key_sha256 = hashToken(key);
  store.changed();
  await store.flush();
  try {
    await writeAuthFile(file, { version: 1, api_key: key, gateway: gatewayUrl }, { overwrite: false });
  } catch (error) {
    // Created meanwhile (by the user or another run): keep theirs and judge it like any other.
    const again = await check();
    if (again) return again;
    throw error;
  }
  return { status: 'minted' };
}

/** A fresh control secret, written 0600 (atomically) to `<dataDir>/control-secret`. */
export async function writeControlSecret(dataDir: string): Promise<string> {
  const secret = randomBytes(32).toString('hex');
  const file = path.join(dataDir, CONTROL_SECRET_FILE);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // the umask may have changed the owner bits
    await handle.writeFile(`${secret}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  return secret;
}
