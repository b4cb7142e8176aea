/** Symlink policy, special files and unreadable paths, on real links and real permissions. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildArchive, removeArchive, selectFiles } from '../../src/archive/index.js';
import { canBypassPermissions, readZip, removeTree, tempDir, writeTree } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A parent folder holding the project (`app/`) and a sibling folder outside it. */
function workspace(label: string): { parent: string; root: string } {
  const parent = tempDir(label);
  cleanups.push(() => removeTree(parent));
  const root = path.join(parent, 'app');
  mkdirSync(root);
  writeTree(parent, { 'outside/secret.txt': 'outside the project', 'outside/other.js': 'x' });
  return { parent, root };
}

describe('symlinks', () => {
  it('includes file links inside the root, skips and lists links outside, never hangs on loops', async () => {
    const { root } = workspace('links');
    writeTree(root, {
      'src/real.js': 'export const real = true;\n',
      '.env': 'TOKEN=abc\n',
      'node_modules/dep/index.js': 'module.exports = 1;\n',
      'self/file.txt': 'inside self',
      'exec.sh': { content: '#!/bin/sh\n', mode: 0o755 },
    });
    const links: Record<string, string> = {
      'link-to-file.js': 'src/real.js',
      'bin-link': 'exec.sh',
      'chain.js': 'link-to-file.js',
      'link-to-dir': 'src',
      'self/up': '..',
      passwd: '/etc/passwd',
      sibling: '../outside',
      'outside-file.txt': '../outside/secret.txt',
      'loop-a': 'loop-b',
      'loop-b': 'loop-a',
      broken: 'missing.js',
      'config.txt': '.env',
      'dep.js': 'node_modules/dep/index.js',
    };
    for (const [rel, target] of Object.entries(links)) symlinkSync(target, path.join(root, rel));

    const selection = await selectFiles(root);
    expect(selection.files.map((file) => file.rel)).toEqual([
      'bin-link',
      'chain.js',
      'exec.sh',
      'link-to-file.js',
      'self/file.txt',
      'src/real.js',
    ]);
    expect(selection.skippedSymlinks).toEqual(['outside-file.txt', 'passwd', 'sibling']);
    expect(selection.excludedSecrets).toEqual(['.env', 'config.txt']);
    // node_modules itself, and dep.js whose target lies inside it.
    expect(selection.ignoredCount).toBe(2);
    expect(selection.warnings).toEqual([
      'broken: broken symbolic link (ENOENT), skipped',
      'link-to-dir: symbolic link to folder src/ not followed (its files are archived at their real path)',
      'loop-a: symbolic link loop (ELOOP), skipped',
      'loop-b: symbolic link loop (ELOOP), skipped',
      'self/up: symbolic link to folder ./ not followed (its files are archived at their real path)',
    ]);

    const archive = await buildArchive(root, { selection });
    cleanups.push(() => removeArchive(archive));
    const entries = await readZip(archive.path);
    const byName = Object.fromEntries(entries.map((entry) => [entry.name, entry]));
    expect(Object.keys(byName)).toEqual(selection.files.map((file) => file.rel));
    // A link is stored as the file it points to, with the target's mode; never as a zip symlink.
    expect(byName['link-to-file.js']?.content.toString()).toBe('export const real = true;\n');
    expect(byName['chain.js']?.content.toString()).toBe('export const real = true;\n');
    expect(byName['link-to-file.js']?.mode).toBe(0o100644);
    expect(byName['bin-link']?.mode).toBe(0o100755);
    const raw = Buffer.concat(entries.map((entry) => entry.content)).toString();
    expect(raw).not.toContain('outside the project');
    expect(raw).not.toContain('TOKEN=abc');
  });

  it('follows nothing through a root that is itself reached by a symlink', async () => {
    const { parent, root } = workspace('rootlink');
    writeTree(root, { 'index.js': '1', 'inner.js': '2' });
    symlinkSync('inner.js', path.join(root, 'alias.js'));
    const viaLink = path.join(parent, 'app-link');
    symlinkSync(root, viaLink);
    const selection = await selectFiles(viaLink);
    expect(selection.files.map((file) => file.rel)).toEqual(['alias.js', 'index.js', 'inner.js']);
    expect(selection.skippedSymlinks).toEqual([]);
  });
});

describe('special and unreadable files', () => {
  it('skips a FIFO with a warning instead of blocking on it', async () => {
    const { root } = workspace('fifo');
    writeTree(root, { 'index.js': '1' });
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    symlinkSync('pipe', path.join(root, 'pipe-link'));
    const selection = await selectFiles(root);
    expect(selection.files.map((file) => file.rel)).toEqual(['index.js']);
    expect(selection.warnings).toEqual([
      'pipe-link: symbolic link to a special file, skipped',
      'pipe: not a regular file (socket, FIFO or device), skipped',
    ]);
    const archive = await buildArchive(root, { selection });
    cleanups.push(() => removeArchive(archive));
    expect((await readZip(archive.path)).map((entry) => entry.name)).toEqual(['index.js']);
  });

  // As root (or with CAP_DAC_OVERRIDE, common in containers) chmod 000 does not stop reads, so an
  // "unreadable" file would be read and the assertion would test nothing: skip it there.
  it.skipIf(canBypassPermissions())('skips unreadable files and folders with a warning', async () => {
    const { root } = workspace('unreadable');
    writeTree(root, { 'index.js': '1', 'locked.txt': 'no', 'private/inner.js': 'no' });
    symlinkSync('locked.txt', path.join(root, 'locked-link'));
    chmodSync(path.join(root, 'locked.txt'), 0o000);
    chmodSync(path.join(root, 'private'), 0o000);
    cleanups.push(() => {
      chmodSync(path.join(root, 'locked.txt'), 0o644);
      chmodSync(path.join(root, 'private'), 0o755);
    });
    const selection = await selectFiles(root);
    expect(selection.files.map((file) => file.rel)).toEqual(['index.js']);
    expect(selection.warnings).toEqual([
      'locked-link: symbolic link target unreadable, skipped',
      'locked.txt: unreadable (EACCES), skipped',
      'private/: unreadable folder (EACCES), skipped',
    ]);
    const archive = await buildArchive(root, { selection });
    cleanups.push(() => removeArchive(archive));
    expect((await readZip(archive.path)).map((entry) => entry.name)).toEqual(['index.js']);
  });

  it('skips a file that became unreadable between selection and archiving', async () => {
    const { root } = workspace('vanished');
    writeTree(root, { 'index.js': '1', 'gone.js': '2' });
    const selection = await selectFiles(root);
    const { rmSync } = await import('node:fs');
    rmSync(path.join(root, 'gone.js'));
    const archive = await buildArchive(root, { selection });
    cleanups.push(() => removeArchive(archive));
    expect(archive.files).toBe(1);
    expect(archive.warnings).toEqual(['gone.js: unreadable while archiving (ENOENT), skipped']);
    expect((await readZip(archive.path)).map((entry) => entry.name)).toEqual(['index.js']);
  });

  it('records a file that changed size while archiving', async () => {
    const { root } = workspace('changed');
    writeTree(root, { 'index.js': '1' });
    const selection = await selectFiles(root);
    writeFileSync(path.join(root, 'index.js'), '12345');
    const archive = await buildArchive(root, { selection });
    cleanups.push(() => removeArchive(archive));
    expect(archive.warnings).toEqual(['index.js: changed while archiving (1 bytes when selected, 5 archived)']);
    expect(archive.sourceBytes).toBe(5);
    expect((await readZip(archive.path)).map((entry) => entry.content.toString())).toEqual(['12345']);
  });
});
