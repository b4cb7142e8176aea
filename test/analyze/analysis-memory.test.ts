/**
 * What analysis keeps less of must still give the same answers: the snapshot answers `has` from its
 * sorted file list and builds a folder's `list` when asked (no set of every path, no name list per
 * folder), and the source scan adds each file's hits to the result as it goes and marks the files it
 * scans in a byte array (no record per file, no array of candidate paths). And the modules' own text
 * stays one byte per character.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { walkProject, type ProjectListing } from '../../src/archive/walk.js';
import { DEFAULT_LIMITS, FsSnapshot, IGNORED_DIR_NAMES } from '../../src/analyze/fs-snapshot.js';
import { scanSources } from '../../src/analyze/scan.js';
import { Warnings } from '../../src/analyze/warnings.js';
import { tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

type Spec = Record<string, string | { symlink: string }>;

async function project(spec: Spec): Promise<string> {
  const { dir, cleanup } = await tempDir('memory');
  cleanups.push(cleanup);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(spec)) {
    const abs = path.join(dir, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    if (typeof content === 'string') await writeFile(abs, content);
    else await symlink(content.symlink, abs);
  }
  return dir;
}

/**
 * The names a folder's listing gives analysis, in the listing's own order: what a snapshot that
 * kept one name list per folder answered. Only for a snapshot no limit cut short.
 */
function listedNames(listing: ProjectListing, dir: string): string[] {
  const names: string[] = [];
  for (const entry of listing.dirs.get(dir) ?? []) {
    if (entry.rawName !== undefined || entry.verdict === 'ignored') continue;
    if (entry.verdict === 'secret' && (entry.ruleIgnored || entry.kind === 'dir')) continue;
    if (entry.kind === 'file') names.push(entry.name);
    else if (entry.kind === 'dir' && entry.verdict === 'keep' && !IGNORED_DIR_NAMES.has(entry.name)) names.push(`${entry.name}/`);
  }
  return names;
}

const MIXED: Spec = {
  'package.json': '{"name":"mixed"}',
  'a.js': 'a',
  'a/z.js': 'z',
  'a-b/x.js': 'x',
  'a0/y.js': 'y',
  'B.txt': 'b',
  'Z/w.py': 'w',
  '_u.js': 'u',
  'ü.js': 'ü',
  '.env': 'TOKEN=x',
  '.hidden/q.js': 'q',
  'node_modules/m.js': 'm',
  'dist/out.js': 'o',
  'link.js': { symlink: 'a.js' },
  'src/app/main.ts': 'm',
  'src/app/util/deep.ts': 'd',
  'src/app.ts': 'a',
  'src/app-old.ts': 'o',
};

describe('the snapshot answers from its sorted file list', () => {
  it('lists a folder in the listing order: by bare name in code units, folders among files, only what analysis records', async () => {
    const root = await project(MIXED);
    const fs = await FsSnapshot.take(root);
    // A folder sorts by its bare name: `a/` before `a-b/` and `a.js` (a trailing `/` would sort it after `a.js`).
    expect(fs.list('')).toEqual(['.env', '.hidden/', 'B.txt', 'Z/', '_u.js', 'a/', 'a-b/', 'a.js', 'a0/', 'package.json', 'src/', 'ü.js']);
    expect(fs.list('src')).toEqual(['app/', 'app-old.ts', 'app.ts']);
    expect(fs.list('src/app')).toEqual(['main.ts', 'util/']);
    expect(fs.list('./src/app/')).toEqual(['main.ts', 'util/']);
    expect(fs.list('src/app/util')).toEqual(['deep.ts']);
    // Not recorded folders, files and missing paths list nothing.
    expect(fs.list('node_modules')).toEqual([]);
    expect(fs.list('dist')).toEqual([]);
    expect(fs.list('a.js')).toEqual([]);
    expect(fs.list('missing')).toEqual([]);
    // Asked again, the same answer.
    expect(fs.list('')).toBe(fs.list(''));
    expect(fs.files).toEqual([
      '.env',
      '.hidden/q.js',
      'B.txt',
      'Z/w.py',
      '_u.js',
      'a-b/x.js',
      'a.js',
      'a/z.js',
      'a0/y.js',
      'package.json',
      'src/app-old.ts',
      'src/app.ts',
      'src/app/main.ts',
      'src/app/util/deep.ts',
      'ü.js',
    ]);
  });

  it('lists every folder of a tree as its listing names it', async () => {
    const root = await project(MIXED);
    const listing = await walkProject(root);
    const fs = FsSnapshot.fromListing(root, listing, DEFAULT_LIMITS);
    const folders = ['', '.hidden', 'Z', 'a', 'a-b', 'a0', 'src', 'src/app', 'src/app/util'];
    for (const dir of folders) {
      expect(fs.hasDir(dir)).toBe(true);
      expect({ dir, names: fs.list(dir) }).toEqual({ dir, names: listedNames(listing, dir) });
    }
    expect(fs.hasDir('node_modules')).toBe(false);
    expect(fs.warnings()).toEqual(['did not follow 1 symbolic link(s): link.js']);
  });

  it('has() finds exactly the recorded files, whatever form the path is given in', async () => {
    const root = await project(MIXED);
    const fs = await FsSnapshot.take(root);
    for (const file of fs.files) expect(fs.has(file)).toBe(true);
    expect(fs.has('./a.js')).toBe(true);
    expect(fs.has('src\\app.ts')).toBe(true);
    expect(fs.has('a.js/')).toBe(true);
    expect(fs.has('a')).toBe(false);
    expect(fs.has('src')).toBe(false);
    expect(fs.has('')).toBe(false);
    expect(fs.has('a.j')).toBe(false);
    expect(fs.has('a.jsx')).toBe(false);
    expect(fs.has('0.js')).toBe(false);
    expect(fs.has('zzz.js')).toBe(false);
    expect(fs.has('link.js')).toBe(false);
    expect(fs.has('node_modules/m.js')).toBe(false);
    expect(fs.has('dist/out.js')).toBe(false);
    expect(fs.has('a/z.js')).toBe(true);
    expect((await fs.read('a/z.js'))?.text).toBe('z');
    expect(fs.readSyncUncached('ü.js')?.text).toBe('ü');
    expect(await fs.read('a')).toBeNull();
    expect(fs.readSyncUncached('link.js')).toBeNull();
  });

  it('a folder the entry cap stopped part way lists what was recorded before it; folders never entered list nothing', async () => {
    const root = await project({ 'a.js': '1', 'b/in.js': '2', 'c.js': '3', 'd/in.js': '4', 'e.js': '5', 'f/in.js': '6' });
    const fs = await FsSnapshot.take(root, { ...DEFAULT_LIMITS, maxFiles: 2 });
    expect(fs.files).toEqual(['a.js', 'c.js']);
    expect(fs.list('')).toEqual(['a.js', 'b/', 'c.js', 'd/']);
    expect(fs.list('b')).toEqual([]);
    expect(fs.list('f')).toEqual([]);
    expect(fs.hasDir('d')).toBe(true);
    expect(fs.hasDir('f')).toBe(false);
    expect(fs.has('e.js')).toBe(false);
    expect(fs.warnings()).toEqual(['stopped listing files after 2; the rest of the project was not analyzed']);
  });

  it('a folder past the depth limit is neither listed nor entered', async () => {
    const root = await project({ 'x/top.js': '1', 'x/y/deep.js': '2', 'x/yy.js': '3' });
    const fs = await FsSnapshot.take(root, { ...DEFAULT_LIMITS, maxDepth: 1 });
    expect(fs.list('')).toEqual(['x/']);
    expect(fs.list('x')).toEqual(['top.js', 'yy.js']);
    expect(fs.list('x/y')).toEqual([]);
    expect(fs.files).toEqual(['x/top.js', 'x/yy.js']);
    expect(fs.warnings()).toEqual(['did not enter 1 folder(s) deeper than 1 levels: x/y; files there were not analyzed']);
  });
});

describe('the source scan adds hits as it goes', () => {
  it('keeps hits in file order, skips lockfiles and tests, and names a miner file at line 0', async () => {
    const root = await project({
      'package.json': '{"name":"scan"}',
      'package-lock.json': '{"x":"process.env.LOCKED"}',
      'src/b.js': 'const b = process.env.B_VAR;\napp.listen(4000);\n',
      'src/a.js': '\nconst a = process.env.A_VAR || "x";\n',
      'src/a.test.js': 'process.env.TEST_ONLY;\n',
      'tools/xmrig': 'binary-ish',
      'z.py': 'import os\nPORT = os.getenv("Z_PORT", "8000")\n',
    });
    const warnings = new Warnings();
    const scan = await scanSources(await FsSnapshot.take(root), '', warnings);
    expect(scan.envRefs.map((ref) => [ref.file, ref.line, ref.name, ref.fallback, ref.default])).toEqual([
      ['src/a.js', 2, 'A_VAR', 'default', 'x'],
      ['src/b.js', 1, 'B_VAR', 'none', ''],
      ['z.py', 2, 'Z_PORT', 'default', '8000'],
    ]);
    expect(scan.portHints.map((hint) => [hint.file, hint.line, hint.port])).toEqual([['src/b.js', 2, 4000]]);
    expect(scan.httpHits).toEqual([{ file: 'src/b.js', line: 2 }]);
    expect(scan.miningHits).toEqual([{ file: 'tools/xmrig', line: 0, marker: 'xmrig' }]);
    // package.json, src/a.js, src/a.test.js, src/b.js, z.py (the lockfile and the extensionless binary are not candidates).
    expect(scan.scannedFiles).toBe(5);
    expect(warnings.all()).toEqual([]);
  });

  it('finds mining markers whatever their case', async () => {
    const root = await project({
      'run.sh': '#!/bin/sh\n./XMRig --url STRATUM+TCP://pool.example:3333\n',
      'notes.txt': 'nothing to see\nEthMiner here\n',
      'dino.js': '// the T-Rex game\n',
    });
    const scan = await scanSources(await FsSnapshot.take(root), '', new Warnings());
    expect(scan.miningHits).toEqual([
      { file: 'notes.txt', line: 2, marker: 'ethminer' },
      { file: 'run.sh', line: 2, marker: 'xmrig' },
      { file: 'run.sh', line: 2, marker: 'stratum+tcp://' },
    ]);
  });

  it('scans the first files of the cap in path order and says how many candidates there were', async () => {
    const root = await project({
      'a.js': 'process.env.ONE;\n',
      'b.bin': 'not a candidate',
      'c.js': 'process.env.TWO;\n',
      'd.js': 'process.env.THREE;\n',
      'e.json': '{}',
    });
    const warnings = new Warnings();
    const scan = await scanSources(await FsSnapshot.take(root), '', warnings, { maxFiles: 2, maxBytes: 1024 });
    expect(scan.envRefs.map((ref) => ref.name)).toEqual(['ONE', 'TWO']);
    expect(scan.scannedFiles).toBe(2);
    expect(warnings.all()).toEqual([
      'scanned the first 2 of 4 source and config files; env references and refusal markers in the rest were not checked',
    ]);
  });

  it('stops after the file that goes over the byte budget, and names files read only in part', async () => {
    const big = `process.env.BIG_START;\n${'x'.repeat(300)}\nprocess.env.BIG_END;\n`;
    const root = await project({
      'a.js': 'process.env.FIRST;\n',
      'b.js': big,
      'c.js': 'process.env.AFTER;\n',
    });
    const warnings = new Warnings();
    const fs = await FsSnapshot.take(root, { ...DEFAULT_LIMITS, maxFileBytes: 100 });
    const scan = await scanSources(fs, '', warnings, { maxFiles: 100, maxBytes: 110 });
    // a.js (19 bytes) + b.js (100 of its bytes read) go over 110: c.js is not read; b.js's end was cut off.
    expect(scan.envRefs.map((ref) => [ref.file, ref.name])).toEqual([
      ['a.js', 'FIRST'],
      ['b.js', 'BIG_START'],
    ]);
    expect(scan.scannedFiles).toBe(2);
    expect(warnings.all()).toEqual([
      '1 file(s) larger than 100 bytes were only partly scanned: b.js',
      'stopped scanning source after 110 bytes; env references and refusal markers in the rest were not checked',
    ]);
  });
});

describe('the analysis modules’ own text', () => {
  it('is Latin-1 only, so V8 keeps each loaded module’s source one byte per character', async () => {
    // One character past U+00FF (an arrow in a comment) makes V8 hold the module's whole source as
    // a two-byte string for the life of the process: 0.26 MiB more for the analysis modules. A
    // message that needs such a character spells it as an escape (`\u2026`).
    const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/analyze');
    const offending: string[] = [];
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.join(entry.parentPath, entry.name);
      const text = await readFile(file, 'utf8');
      const at = text.search(/[^\u0000-\u00ff]/u);
      if (at !== -1) offending.push(`${path.relative(dir, file)}: ${JSON.stringify(text.slice(Math.max(0, at - 20), at + 1))}`);
    }
    expect(offending).toEqual([]);
  });
});
