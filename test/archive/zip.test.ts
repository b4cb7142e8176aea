/** The zip itself: determinism, digest, temp file handling, modes, and failure cleanup. */
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OdError } from '../../src/core/errors.js';
import { buildArchive, removeArchive, selectFiles, type ArchiveResult } from '../../src/archive/index.js';
import { readZip, removeTree, tempDir, writeTree } from './helpers.js';

const TREE = {
  'package.json': '{"name":"demo","version":"1.0.0"}\n',
  'src/app.js': 'export const answer = 42;\n',
  'src/lib/util.js': 'export function add(a, b) { return a + b; }\n',
  'bin/start': { content: '#!/usr/bin/env node\nconsole.log("start");\n', mode: 0o755 },
  'scripts/private.sh': { content: '#!/bin/sh\n', mode: 0o700 },
  'README.md': '# demo\n'.repeat(200),
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function project(label: string): string {
  const root = tempDir(label);
  writeTree(root, TREE);
  cleanups.push(() => removeTree(root));
  return root;
}

async function build(root: string, tmpRoot?: string): Promise<ArchiveResult> {
  const result = await buildArchive(root, tmpRoot === undefined ? {} : { tmpRoot });
  cleanups.push(() => removeArchive(result));
  return result;
}

describe('buildArchive', () => {
  it('writes a private .zip in a fresh temp folder and removeArchive deletes it', async () => {
    const root = project('tempfile');
    const tmpRoot = tempDir('tmproot');
    cleanups.push(() => removeTree(tmpRoot));
    const result = await buildArchive(root, { tmpRoot });

    expect(result.path.endsWith('.zip')).toBe(true);
    expect(path.dirname(result.path)).toBe(result.dir);
    expect(path.dirname(result.dir)).toBe(tmpRoot);
    expect(statSync(result.path).mode & 0o777).toBe(0o600);
    expect(statSync(result.dir).mode & 0o777).toBe(0o700);
    expect(result.bytes).toBe(statSync(result.path).size);
    expect(readdirSync(tmpRoot)).toEqual([path.basename(result.dir)]);

    await removeArchive(result);
    expect(existsSync(result.dir)).toBe(false);
    expect(readdirSync(tmpRoot)).toEqual([]);
    // A second call (a retry after a crash, say) is harmless.
    await removeArchive(result);
  });

  it('defaults to the OS temp folder', async () => {
    const result = await build(project('ostmp'));
    expect(path.dirname(result.dir)).toBe(os.tmpdir());
  });

  it('refuses to delete a folder it did not create', async () => {
    const result = await build(project('refuse'));
    const forged = { ...result, dir: os.homedir(), path: path.join(os.homedir(), 'source.zip') };
    await expect(removeArchive(forged)).rejects.toBeInstanceOf(OdError);
    expect(existsSync(os.homedir())).toBe(true);
  });

  it('keeps the executable bit and normalises the other permission bits', async () => {
    const result = await build(project('modes'));
    const modes = Object.fromEntries((await readZip(result.path)).map((entry) => [entry.name, entry.mode]));
    expect(modes).toEqual({
      'README.md': 0o100644,
      'bin/start': 0o100755,
      'package.json': 0o100644,
      'scripts/private.sh': 0o100755,
      'src/app.js': 0o100644,
      'src/lib/util.js': 0o100644,
    });
  });

  it('gives byte-identical zips and equal digests for the same tree, whatever the mtimes', async () => {
    const root = project('determinism');
    const first = await build(root);
    // New mtimes must not matter: entries carry a fixed 1980-01-01 timestamp.
    const later = new Date(Date.UTC(2031, 5, 7, 12, 0, 0));
    utimesSync(path.join(root, 'src/app.js'), later, later);
    const second = await build(root);

    expect(second.digest).toBe(first.digest);
    expect((await readFile(second.path)).equals(await readFile(first.path))).toBe(true);
    expect(first.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(first.files).toBe(6);
  });

  it('gives the same digest for a copy of the tree in another folder', async () => {
    const a = await build(project('copy-a'));
    const b = await build(project('copy-b'));
    expect(b.digest).toBe(a.digest);
  });

  it('changes the digest when one byte changes', async () => {
    const root = project('onebyte');
    const before = await build(root);
    writeFileSync(path.join(root, 'src/app.js'), 'export const answer = 43;\n');
    const after = await build(root);
    expect(after.digest).not.toBe(before.digest);
    expect(after.sourceBytes).toBe(before.sourceBytes);
  });

  it('changes the digest when only the executable bit changes', async () => {
    const root = project('execbit');
    const before = await build(root);
    chmodSync(path.join(root, 'src/app.js'), 0o755);
    const after = await build(root);
    expect(after.digest).not.toBe(before.digest);
  });

  it('changes the digest when a file is renamed', async () => {
    const root = project('rename');
    const before = await build(root);
    const { renameSync } = await import('node:fs');
    renameSync(path.join(root, 'src/app.js'), path.join(root, 'src/app2.js'));
    const after = await build(root);
    expect(after.digest).not.toBe(before.digest);
  });

  it('streams files too big to read whole, with the same content and digest rules', async () => {
    const root = project('bigfile');
    const { randomBytes, createHash } = await import('node:crypto');
    const big = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(path.join(root, 'assets.bin'), big);
    const first = await build(root);
    const entries = await readZip(first.path);
    const entry = entries.find((candidate) => candidate.name === 'assets.bin');
    expect(entry?.content.equals(big)).toBe(true);
    expect(createHash('sha256').update(entry?.content ?? '').digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    const selection = await selectFiles(root);
    expect(selection.files.find((file) => file.rel === 'assets.bin')?.size).toBe(big.length);
    expect(first.sourceBytes).toBe(selection.totalBytes);
    expect(first.warnings).toEqual([]);
    const second = await build(root);
    expect(second.digest).toBe(first.digest);
    big[1_000_000] = (big[1_000_000] ?? 0) ^ 0xff;
    writeFileSync(path.join(root, 'assets.bin'), big);
    const third = await build(root);
    expect(third.digest).not.toBe(first.digest);
  });

  it('uses a selection it is given instead of walking again', async () => {
    const root = project('given');
    const selection = await selectFiles(root);
    const only = { ...selection, files: selection.files.filter((file) => file.rel === 'package.json') };
    const result = await build(root);
    const partial = await buildArchive(root, { selection: only });
    cleanups.push(() => removeArchive(partial));
    expect((await readZip(partial.path)).map((entry) => entry.name)).toEqual(['package.json']);
    expect(partial.digest).not.toBe(result.digest);
  });

  it('fails with invalid_input and leaves no temp folder when nothing is left to upload', async () => {
    const root = tempDir('empty');
    cleanups.push(() => removeTree(root));
    writeTree(root, { '.env': 'A=1\n', 'node_modules/x/index.js': '1' });
    const tmpRoot = tempDir('empty-tmp');
    cleanups.push(() => removeTree(tmpRoot));
    const error = await buildArchive(root, { tmpRoot }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OdError);
    expect((error as OdError).code).toBe('invalid_input');
    expect((error as OdError).details).toEqual({ ignored: 1, excluded_secrets: ['.env'] });
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('fails with invalid_input for a missing or non-folder source', async () => {
    const root = project('notdir');
    for (const bad of [path.join(root, 'missing'), path.join(root, 'package.json')]) {
      const error = await selectFiles(bad).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OdError);
      expect((error as OdError).code).toBe('invalid_input');
    }
  });

  it('wraps a temp-folder failure in an OdError', async () => {
    const root = project('badtmp');
    const error = await buildArchive(root, { tmpRoot: path.join(root, 'no', 'such', 'dir') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OdError);
    expect((error as OdError).code).toBe('internal');
    expect((error as OdError).details).toEqual({ code: 'ENOENT' });
    // mkdtemp fails before anything is written: nothing to clean up, and the source is untouched.
    expect(existsSync(path.join(root, 'no'))).toBe(false);
  });
});
