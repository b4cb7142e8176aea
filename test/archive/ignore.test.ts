/** .gitignore / .opendeployignore semantics and the top-level build/ rule, through selectFiles. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectFiles } from '../../src/archive/index.js';
import { rebasePattern } from '../../src/archive/gitignore.js';
import { tempDir, testTrees, writeTree, type TreeSpec } from './helpers.js';

const { project, track } = testTrees();

async function selected(root: string, extraIgnore?: string[]): Promise<string[]> {
  const selection = await selectFiles(root, extraIgnore === undefined ? {} : { extraIgnore });
  return selection.files.map((file) => file.rel);
}

describe('.gitignore semantics', () => {
  it('applies a nested .gitignore only below its own folder, relative to it', async () => {
    const root = project('nested', {
      'sub/.gitignore': 'out.txt\n/anchored.js\nlib/*.gen.js\n',
      'out.txt': 'root copy: untouched by sub/.gitignore',
      'anchored.js': 'root copy',
      'lib/a.gen.js': 'root copy',
      'sub/out.txt': 'ignored',
      'sub/deep/out.txt': 'unanchored pattern: ignored at any depth below sub/',
      'sub/anchored.js': 'ignored',
      'sub/deep/anchored.js': 'anchored to sub/: kept',
      'sub/lib/a.gen.js': 'ignored',
      'sub/deep/lib/a.gen.js': 'pattern with a slash is anchored: kept',
    });
    expect(await selected(root)).toEqual([
      'anchored.js',
      'lib/a.gen.js',
      'out.txt',
      'sub/.gitignore',
      'sub/deep/anchored.js',
      'sub/deep/lib/a.gen.js',
    ]);
  });

  it('lets deeper files and later lines win, and never re-includes inside an excluded folder', async () => {
    const root = project('negation', {
      '.gitignore': '*.log\n!keep.log\nlogs/\n!logs/important.log\nassets/\n',
      'a.log': 'x',
      'keep.log': 'x',
      'logs/important.log': 'parent folder excluded: git cannot re-include it',
      'assets/logo.svg': 'x',
      'web/.gitignore': '!*.log\nkeep.log\n!assets/\n',
      'web/a.log': 'deeper negation wins',
      'web/keep.log': 'deeper file re-ignores it',
      'web/assets/logo.svg': 'folder re-included by the deeper file',
    });
    expect(await selected(root)).toEqual([
      '.gitignore',
      'keep.log',
      'web/.gitignore',
      'web/a.log',
      'web/assets/logo.svg',
    ]);
  });

  it('matches folder-only patterns against folders only', async () => {
    const root = project('dironly', {
      '.gitignore': 'tmp/\n',
      tmp: 'a file called tmp is kept',
      'nested/tmp/x.js': 'a folder called tmp is ignored at any depth',
    });
    expect(await selected(root)).toEqual(['.gitignore', 'tmp']);
  });

  it('is case-sensitive, like git on the Linux builders', async () => {
    const root = project('case', { '.gitignore': 'Secret.md\n', 'Secret.md': 'x', 'secret.md': 'x' });
    expect(await selected(root)).toEqual(['.gitignore', 'secret.md']);
  });

  it('treats special characters in folder names literally', async () => {
    const root = project('special', {
      '[id]/.gitignore': '*.tmp\n',
      '[id]/page.tmp': 'ignored',
      '[id]/page.js': 'kept',
      'i/.gitignore': 'x\n',
      'd/page.tmp': 'the [id] rules must not leak to a folder matching the bracket class',
    });
    expect(await selected(root)).toEqual(['[id]/.gitignore', '[id]/page.js', 'd/page.tmp', 'i/.gitignore']);
  });

  it('copes with names that look like relative paths', async () => {
    const root = project('dots', { '....': 'a file named ....', '.../inner.js': 'x', '..x': 'x', '.gitignore': '*.tmp\n' });
    expect(await selected(root)).toEqual(['....', '.../inner.js', '..x', '.gitignore']);
  });

  it('applies .opendeployignore after .gitignore, so it can also re-include', async () => {
    const root = project('deployignore', {
      '.gitignore': 'generated/\n*.csv\n',
      '.opendeployignore': 'docs/\n!generated/\n/seed.sql\n',
      'generated/schema.js': 'gitignored, needed by the build',
      'data.csv': 'x',
      'docs/a.md': 'x',
      'seed.sql': 'x',
      'db/seed.sql': 'anchored pattern: kept',
    });
    expect(await selected(root)).toEqual(['.gitignore', '.opendeployignore', 'db/seed.sql', 'generated/schema.js']);
  });

  it('cannot re-include built-in exclusions or secrets', async () => {
    const root = project('floor', {
      '.opendeployignore': '!node_modules/\n!.env\n!dist/\n',
      'node_modules/x/index.js': 'x',
      'dist/app.js': 'x',
      '.env': 'A=1',
      'index.js': 'x',
    });
    const selection = await selectFiles(root);
    expect(selection.files.map((file) => file.rel)).toEqual(['.opendeployignore', 'index.js']);
    expect(selection.excludedSecrets).toEqual(['.env']);
  });

  it('takes extra patterns from the caller', async () => {
    const root = project('extra', { 'a.js': 'x', 'b.js': 'x', 'fixtures/big.bin': 'x' });
    expect(await selected(root, ['b.js', 'fixtures/'])).toEqual(['a.js']);
  });

  it('applies the .gitignore files between the repository root and a subfolder source', async () => {
    const repo = tempDir('monorepo');
    track(repo);
    mkdirSync(path.join(repo, '.git'));
    writeTree(repo, {
      '.gitignore': '*.log\n/apps/web/uploads/\n/apps/api/\n',
      'apps/.gitignore': 'tmp/\n',
      'apps/web/index.js': 'x',
      'apps/web/debug.log': 'ignored by the repository root',
      'apps/web/uploads/a.png': 'ignored by an anchored repository rule',
      'apps/web/tmp/x': 'ignored by apps/.gitignore',
      'apps/web/.gitignore': '!debug.log\n',
    });
    const selection = await selectFiles(path.join(repo, 'apps/web'));
    expect(selection.files.map((file) => file.rel)).toEqual(['.gitignore', 'debug.log', 'index.js']);
    expect(selection.warnings).toEqual([]);
  });

  it('ignores the outer .gitignore files when they exclude the source folder itself', async () => {
    const repo = tempDir('dotfiles');
    track(repo);
    mkdirSync(path.join(repo, '.git'));
    writeTree(repo, { '.gitignore': '*\n', 'project/index.js': 'x', 'project/a.log': 'x' });
    const selection = await selectFiles(path.join(repo, 'project'));
    expect(selection.files.map((file) => file.rel)).toEqual(['a.log', 'index.js']);
    expect(selection.warnings).toEqual([
      'the source folder is ignored by .gitignore files above it; those files were not applied',
    ]);
  });

  it('stops at a source root that is its own repository', async () => {
    const outer = tempDir('outer-repo');
    track(outer);
    mkdirSync(path.join(outer, '.git'));
    writeTree(outer, { '.gitignore': '*.js\n', 'inner/.git/HEAD': 'x', 'inner/index.js': 'x' });
    expect(await selected(path.join(outer, 'inner'))).toEqual(['index.js']);
  });
});

describe('top-level build/', () => {
  const cases: Array<[string, TreeSpec, string[]]> = [
    [
      'kept without evidence that it is output',
      { 'package.json': '{"scripts":{"build":"vite build"}}', 'build/gen.py': 'x' },
      ['build/gen.py', 'package.json'],
    ],
    ['kept in a non-JS project', { 'go.mod': 'module x', 'build/package/Dockerfile': 'FROM x' }, ['build/package/Dockerfile', 'go.mod']],
    [
      'excluded for react-scripts',
      { 'package.json': '{"scripts":{"build":"react-scripts build"}}', 'build/index.html': 'x' },
      ['package.json'],
    ],
    [
      'excluded for an explicit --outDir build',
      { 'package.json': '{"scripts":{"compile":"tsc -p . --outDir ./build"}}', 'build/index.js': 'x' },
      ['package.json'],
    ],
    [
      'excluded when listed in .gitignore',
      { '.gitignore': '/build\n', 'build/out.o': 'x', 'main.c': 'x' },
      ['.gitignore', 'main.c'],
    ],
    [
      'kept below the top level even for react-scripts',
      { 'package.json': '{"scripts":{"build":"react-scripts build"}}', 'tools/build/x.js': 'x' },
      ['package.json', 'tools/build/x.js'],
    ],
    [
      'kept when package.json is not valid JSON',
      { 'package.json': '{ nope', 'build/x.js': 'x' },
      ['build/x.js', 'package.json'],
    ],
  ];
  for (const [name, spec, expected] of cases) {
    it(name, async () => {
      expect(await selected(project('build', spec))).toEqual(expected);
    });
  }
});

describe('rebasePattern', () => {
  it.each([
    ['*.log', '', '*.log'],
    ['*.log', 'sub', '/sub/**/*.log'],
    ['/tmp/', 'sub', '/sub/tmp/'],
    ['logs/', 'a/b', '/a/b/**/logs/'],
    ['lib/*.js', 'sub', '/sub/lib/*.js'],
    ['**/x', 'sub', '/sub/**/x'],
    ['!keep.txt', 'sub', '!/sub/**/keep.txt'],
    ['!/only-here', 'sub', '!/sub/only-here'],
    ['*.tmp', '[id]', '/\\[id\\]/**/*.tmp'],
  ])('%s in %s', (line, base, expected) => {
    expect(rebasePattern(line, base)).toBe(expected);
  });

  it('drops comments and blank lines', () => {
    expect([rebasePattern('# c', 'sub'), rebasePattern('   ', 'sub'), rebasePattern('', '')]).toEqual([null, null, null]);
  });
});
