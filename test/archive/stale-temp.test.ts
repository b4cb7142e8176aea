/**
 * Temp archives left by killed runs are removed by the next archive, and only those: folders with
 * the archive prefix, owned by this user, holding nothing but `source.zip`, untouched for a day.
 */
import { mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildArchive, removeArchive } from '../../src/archive/index.js';
import { STALE_ARCHIVE_MS, sweepStaleArchives } from '../../src/archive/stale-temp.js';
import { removeTree, tempDir, writeTree } from './helpers.js';

const PREFIX = 'opendeploy-archive-';
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A folder under `root` holding `files`, its files and itself last touched `ageMs` ago. */
function folder(root: string, name: string, files: Record<string, string>, ageMs: number): void {
  const dir = path.join(root, name);
  mkdirSync(dir);
  const when = new Date(Date.now() - ageMs);
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, file), content);
    utimesSync(path.join(dir, file), when, when);
  }
  utimesSync(dir, when, when);
}

describe('stale temp archives', () => {
  it('removes only abandoned archive folders of ours', async () => {
    const tmpRoot = tempDir('sweep');
    cleanups.push(() => removeTree(tmpRoot));
    const old = STALE_ARCHIVE_MS + 60_000;
    folder(tmpRoot, `${PREFIX}killed`, { 'source.zip': 'zip bytes' }, old);
    folder(tmpRoot, `${PREFIX}empty`, {}, old);
    // Still being written or uploaded by a running deploy.
    folder(tmpRoot, `${PREFIX}fresh`, { 'source.zip': 'zip bytes' }, 60_000);
    // Old folder, but its zip was touched recently.
    folder(tmpRoot, `${PREFIX}busy`, { 'source.zip': 'zip bytes' }, old);
    utimesSync(path.join(tmpRoot, `${PREFIX}busy`, 'source.zip'), new Date(), new Date());
    // Not only our zip inside: not ours to delete.
    folder(tmpRoot, `${PREFIX}foreign`, { 'source.zip': 'x', 'notes.txt': 'keep me' }, old);
    // Another name, and a link with our prefix.
    folder(tmpRoot, 'someone-else', { 'source.zip': 'x' }, old);
    symlinkSync(path.join(tmpRoot, 'someone-else'), path.join(tmpRoot, `${PREFIX}link`));

    const removed = await sweepStaleArchives(tmpRoot, PREFIX);
    expect(removed.sort()).toEqual([`${PREFIX}empty`, `${PREFIX}killed`]);
    expect(readdirSync(tmpRoot).sort()).toEqual([`${PREFIX}busy`, `${PREFIX}foreign`, `${PREFIX}fresh`, `${PREFIX}link`, 'someone-else']);
    expect(readdirSync(path.join(tmpRoot, 'someone-else'))).toEqual(['source.zip']);
  });

  it('is done by the next archive before it writes its own', async () => {
    const tmpRoot = tempDir('sweep-build');
    const root = tempDir('sweep-src');
    cleanups.push(() => removeTree(tmpRoot), () => removeTree(root));
    writeTree(root, { 'index.js': 'console.log("hi")\n' });
    folder(tmpRoot, `${PREFIX}killed`, { 'source.zip': 'zip bytes' }, STALE_ARCHIVE_MS + 60_000);
    const result = await buildArchive(root, { tmpRoot });
    cleanups.push(() => removeArchive(result));
    expect(readdirSync(tmpRoot)).toEqual([path.basename(result.dir)]);
  });

  it('says nothing and removes nothing when the temp folder cannot be read', async () => {
    const parent = tempDir('sweep-missing');
    cleanups.push(() => removeTree(parent));
    expect(await sweepStaleArchives(path.join(parent, 'gone'), PREFIX)).toEqual([]);
  });
});
