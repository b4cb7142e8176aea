/**
 * Temp archives a killed run left behind. A deploy removes its archive's temp folder when it ends,
 * fails or is interrupted, but a process that is killed outright (SIGKILL, a crash, a closed CI
 * runner) cannot: a 1 GiB deploy killed mid-upload leaves 1 GiB in the temp folder until the
 * machine is rebooted. So each archive first removes the ones that are clearly abandoned: folders
 * of ours (the name prefix, owned by this user, holding nothing but `source.zip`) untouched for a
 * day. No run keeps an archive that long (a re-run after a kill builds a new one and resumes by
 * digest), and anything that does not look exactly like ours is left alone.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** An archive folder untouched this long is abandoned. */
export const STALE_ARCHIVE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes abandoned archive folders named `<prefix>*` directly under `tmpRoot`; returns their
 * names. Never throws: cleaning up after another run must not stop this one.
 */
export async function sweepStaleArchives(tmpRoot: string, prefix: string, now: number = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(tmpRoot)).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const removed: string[] = [];
  for (const name of names) {
    const dir = path.join(tmpRoot, name);
    try {
      const st = await lstat(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || now - st.mtimeMs < STALE_ARCHIVE_MS) continue;
      const inside = await readdir(dir);
      if (inside.some((entry) => entry !== 'source.zip')) continue;
      if (inside.length === 1 && now - (await lstat(path.join(dir, 'source.zip'))).mtimeMs < STALE_ARCHIVE_MS) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to read: leave it.
    }
  }
  return removed;
}
