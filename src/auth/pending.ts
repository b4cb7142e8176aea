/**
 * Leftover credential temp files (`auth.json.<pid>.<random>.tmp`).
 *
 * A mint writes the gateway's answer to a 0600 temp file (fsync-ed) before anything else and then
 * links it into place. A run killed in between leaves the only copy of a key the gateway will not
 * show again for 24 hours, so the next run recovers a complete one into auth.json. Incomplete or
 * superseded temp files whose writer is gone are removed: they may hold a token.
 */
import { link, lstat, open, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { AuthFileSchema, tempCredentialPattern } from './file.js';

/** A temp file younger than this whose writer is alive may be a mint in progress: left alone. */
const IN_FLIGHT_MS = 10 * 60 * 1000;
/** A credential file is a few hundred bytes; anything larger is not one of ours. */
const MAX_TEMP_BYTES = 64 * 1024;

export interface SweepResult {
  /** The temp file whose credential became auth.json, if any. */
  recovered?: string;
  /** Temp files removed (incomplete, or superseded by an existing auth.json). */
  removed: string[];
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errnoCode(err) === 'EPERM';
  }
}

/** A complete minted credential: what the register response gave, all of it. */
async function readCompleteCredential(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
    const buffer = Buffer.alloc(MAX_TEMP_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_TEMP_BYTES) return false;
    const parsed = AuthFileSchema.safeParse(JSON.parse(buffer.subarray(0, bytesRead).toString('utf8')));
    return parsed.success && (parsed.data.agent_id ?? parsed.data.guest_id) !== undefined && parsed.data.bind_sig !== undefined;
  } catch {
    return false;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function authFileExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (err: unknown) => errnoCode(err) !== 'ENOENT',
  );
}

/**
 * Recovers or removes abandoned temp files next to `path`. Never touches a temp file whose writer
 * is still running (unless it is older than any mint could take), and never replaces auth.json:
 * recovery is an atomic create-if-absent (link), so it cannot race a writer into a lost file.
 */
export async function sweepTempCredentials(path: string, now: number = Date.now()): Promise<SweepResult> {
  const result: SweepResult = { removed: [] };
  const dir = dirname(path);
  const pattern = tempCredentialPattern(path);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => pattern.test(name)).sort();
  } catch {
    return result;
  }
  for (const name of names) {
    const file = join(dir, name);
    const pid = Number(pattern.exec(name)?.[1]);
    let info;
    try {
      info = await lstat(file);
    } catch {
      continue;
    }
    if (!info.isFile()) continue;
    if (processAlive(pid) && now - info.mtimeMs < IN_FLIGHT_MS) continue;

    const complete = await readCompleteCredential(file);
    if (complete && result.recovered === undefined && !(await authFileExists(path))) {
      try {
        await link(file, path);
        result.recovered = file;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') continue; // keep it: a later run may be able to recover it
      }
    }
    await unlink(file).then(
      () => {
        if (result.recovered !== file) result.removed.push(file);
      },
      () => undefined,
    );
  }
  return result;
}
