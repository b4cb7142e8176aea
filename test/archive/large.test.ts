/**
 * A generated tree of 5,000 source files beside a 20,000-file node_modules. Timing is not asserted
 * (machines differ); what is asserted is that the walk never entered node_modules: it holds traps
 * (a FIFO, a symlink loop, a broken link, an unreadable-looking .gitignore) that would each leave a
 * warning if listed, and the ignored count is one per skipped folder, not one per file inside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArchive, removeArchive, selectFiles, type ArchiveResult, type Selection } from '../../src/archive/index.js';
import { readZip, removeTree, tempDir } from './helpers.js';

const SOURCE_DIRS = 50;
const FILES_PER_SOURCE_DIR = 100; // 5,000 source files
const MODULES = 400;
const FILES_PER_MODULE = 50; // 20,000 files under node_modules

describe('large tree', () => {
  let root: string;
  let selection: Selection;
  let archive: ArchiveResult;

  beforeAll(async () => {
    root = tempDir('large');
    for (let d = 0; d < SOURCE_DIRS; d += 1) {
      const dir = path.join(root, 'src', `mod${String(d).padStart(2, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < FILES_PER_SOURCE_DIR; f += 1) {
        writeFileSync(path.join(dir, `f${String(f).padStart(3, '0')}.js`), `export const v = ${d * 1000 + f};\n`);
      }
    }
    for (let m = 0; m < MODULES; m += 1) {
      const dir = path.join(root, 'node_modules', `pkg${m}`, 'lib');
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < FILES_PER_MODULE; f += 1) writeFileSync(path.join(dir, `${f}.js`), 'module.exports = 0;\n');
    }
    const traps = path.join(root, 'node_modules', '.traps');
    mkdirSync(traps);
    execFileSync('mkfifo', [path.join(traps, 'fifo')]);
    symlinkSync('loop', path.join(traps, 'loop'));
    symlinkSync('/nonexistent/target', path.join(traps, 'broken'));
    symlinkSync('/etc/passwd', path.join(traps, 'passwd'));
    writeFileSync(path.join(root, 'node_modules', '.gitignore'), '!*\n');
    mkdirSync(path.join(root, '.git', 'objects'), { recursive: true });
    writeFileSync(path.join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(path.join(root, 'package.json'), '{"name":"large"}\n');

    selection = await selectFiles(root);
    archive = await buildArchive(root, { selection });
    // Writing 25,000 files on a busy CI runner can take a while: a generous limit, not a timing assertion.
  }, 180_000);

  afterAll(async () => {
    await removeArchive(archive);
    removeTree(root);
  });

  it('selects every source file and nothing from node_modules or .git', () => {
    expect(selection.files.length).toBe(SOURCE_DIRS * FILES_PER_SOURCE_DIR + 1);
    expect(selection.files.filter((file) => !file.rel.startsWith('src/') && file.rel !== 'package.json')).toEqual([]);
    expect(selection.files[0]?.rel).toBe('package.json');
    expect(selection.files[1]?.rel).toBe('src/mod00/f000.js');
    expect(selection.files.at(-1)?.rel).toBe('src/mod49/f099.js');
  });

  it('never entered node_modules: one ignored path per folder, no trap triggered', () => {
    expect(selection.ignoredCount).toBe(2);
    expect(selection.warnings).toEqual([]);
    expect(selection.skippedSymlinks).toEqual([]);
  });

  it('archives exactly the selection', async () => {
    const entries = await readZip(archive.path);
    expect(entries.map((entry) => entry.name)).toEqual(selection.files.map((file) => file.rel));
    expect(archive.files).toBe(selection.files.length);
    expect(archive.sourceBytes).toBe(selection.totalBytes);
  });
});
