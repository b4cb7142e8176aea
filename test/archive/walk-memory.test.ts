/**
 * What the walk keeps less of must still give the same answers: absolute paths derived from the
 * root instead of kept per entry, a fresh ignore matcher every few hundred paths instead of one for the whole walk
 * (none when no pattern is in force), and the link tables built only when the tree has links.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { excludeSecretFiles, selectFiles, walkProject } from '../../src/archive/index.js';
import { IgnoreRules, MATCHER_PATHS } from '../../src/archive/gitignore.js';
import { entryPath } from '../../src/archive/walk.js';
import { testTrees, type TreeSpec } from './helpers.js';

const trees = testTrees();

/** A real temp tree; returns its real path (the temp folder may sit behind a link). */
function project(label: string, spec: TreeSpec): string {
  return realpathSync(trees.project(label, spec));
}

describe('absolute paths derived from the root', () => {
  it('gives every selected file its path under the real root, its exact size and mode, with no link in the tree', async () => {
    const root = project('paths', {
      'package.json': '{"name":"paths"}',
      'empty.txt': '',
      'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'src/deep/er/mod.js': 'export const x = 1;\n',
      'src/with space/ü.js': 'export default 2;\n',
    });
    const selection = await selectFiles(root);
    expect(selection.root).toBe(root);
    expect(selection.files.map((file) => [file.rel, file.abs, file.size, file.mode])).toEqual([
      ['bin/run.sh', path.join(root, 'bin', 'run.sh'), 18, 0o755],
      ['empty.txt', path.join(root, 'empty.txt'), 0, 0o644],
      ['package.json', path.join(root, 'package.json'), 16, 0o644],
      ['src/deep/er/mod.js', path.join(root, 'src', 'deep', 'er', 'mod.js'), 20, 0o644],
      ['src/with space/ü.js', path.join(root, 'src', 'with space', 'ü.js'), 18, 0o644],
    ]);
    expect(selection.totalBytes).toBe(18 + 0 + 16 + 20 + 18);
    // The path is read again each time it is asked for, and opens the file.
    const mod = selection.files[3];
    expect(mod?.abs).toBe(mod?.abs);
    expect(await readFile(mod?.abs as string, 'utf8')).toBe('export const x = 1;\n');
  });

  it('entryPath joins a root and a listing path the way path.join does, the filesystem root included', () => {
    expect(entryPath(path.join(path.sep, 'srv', 'app'), 'src/a.js')).toBe(path.join(path.sep, 'srv', 'app', 'src', 'a.js'));
    expect(entryPath(path.sep, 'etc/hosts')).toBe(path.join(path.sep, 'etc', 'hosts'));
    expect(entryPath(path.join(path.sep, 'srv', 'app') + path.sep, 'a.js')).toBe(path.join(path.sep, 'srv', 'app', 'a.js'));
  });

  it('still resolves links when the tree has them: a file link reads its target, secrets and ignored targets stay out', async () => {
    const root = project('links', {
      'real.js': 'module.exports = 1;\n',
      'alias.js': { symlink: 'real.js' },
      'nested/alias.js': { symlink: '../real.js' },
      '.env': 'TOKEN=x',
      'config': { symlink: '.env' },
      'node_modules/x.js': 'dependency',
      'lib.js': { symlink: 'node_modules/x.js' },
    });
    const selection = await selectFiles(root);
    expect(selection.files.map((file) => [file.rel, file.abs, file.size])).toEqual([
      ['alias.js', path.join(root, 'real.js'), 20],
      ['nested/alias.js', path.join(root, 'real.js'), 20],
      ['real.js', path.join(root, 'real.js'), 20],
    ]);
    expect(selection.excludedSecrets).toEqual(['.env', 'config']);
    // node_modules/ (one folder) and lib.js, whose target was not selected.
    expect(selection.ignoredCount).toBe(2);
    expect(selection.warnings).toEqual([]);
  });

  it('leaves out a secret file named by path, and the links to it, by the derived paths', async () => {
    const root = project('secret-file', {
      'app.js': 'x',
      'conf/prod.vars': 'API_KEY=1',
      'prod-link.vars': { symlink: 'conf/prod.vars' },
    });
    const selection = await excludeSecretFiles(await selectFiles(root), [path.join(root, 'conf', 'prod.vars')]);
    expect(selection.files.map((file) => file.rel)).toEqual(['app.js']);
    expect(selection.excludedSecrets).toEqual(['conf/prod.vars', 'prod-link.vars']);
    expect(selection.totalBytes).toBe(1);
  });

  it('lists entries without a path of their own: the listing root and entryPath give it; names come from rel', async () => {
    const root = project('listing', { 'src/a.js': 'a', 'b.txt': 'b', 'src/deeper/longer-name.test.js': 'c', '.env': 'X=1' });
    const listing = await walkProject(root);
    const entries = [...listing.dirs.values()].flat();
    expect(entries.map((entry) => [entry.rel, entry.name, entry.kind, entry.verdict, 'abs' in entry])).toEqual([
      ['.env', '.env', 'file', 'secret', false],
      ['b.txt', 'b.txt', 'file', 'keep', false],
      ['src', 'src', 'dir', 'keep', false],
      ['src/a.js', 'a.js', 'file', 'keep', false],
      ['src/deeper', 'deeper', 'dir', 'keep', false],
      ['src/deeper/longer-name.test.js', 'longer-name.test.js', 'file', 'keep', false],
    ]);
    expect(entries.map((entry) => entryPath(listing.root, entry.rel))).toEqual([
      path.join(root, '.env'),
      path.join(root, 'b.txt'),
      path.join(root, 'src'),
      path.join(root, 'src', 'a.js'),
      path.join(root, 'src', 'deeper'),
      path.join(root, 'src', 'deeper', 'longer-name.test.js'),
    ]);
    // Only an entry whose name is not valid UTF-8 carries rawName.
    expect(entries.filter((entry) => entry.rawName !== undefined)).toEqual([]);
  });

  it('keeps rawName on an entry whose name is not valid UTF-8, and its name cut from rel', async () => {
    const root = project('raw-name', { 'src/ok.js': 'ok' });
    writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'src', 'bad-')), Buffer.from([0xff]), Buffer.from('.js')]), 'x');
    const listing = await walkProject(root);
    expect(listing.dirs.get('src')?.map((entry) => [entry.rel, entry.name, entry.rawName])).toEqual([
      ['src/bad-\uFFFD.js', 'bad-\uFFFD.js', 'bad-\\xff.js'],
      ['src/ok.js', 'ok.js', undefined],
    ]);
  });
});

describe('short-lived ignore matchers', () => {
  const spec: TreeSpec = {
    '.gitignore': '*.log\n!keep.log\ngen\n/top-only.txt\n*.tmp\n.env.local\n',
    'a.log': 'x',
    'keep.log': 'x',
    'top-only.txt': 'x',
    'app.tmp': 'x',
    '.env.local': 'SECRET=1',
    '.env.production': 'SECRET=2',
    'gen/out.js': 'a folder matched by a pattern without a slash is not entered',
    'web/top-only.txt': 'anchored to the root: kept here',
    'web/a.log': 'x',
    'web/gen': 'a file called gen: ignored too',
    'web/.gitignore': '!*.log\nlocal/\n!*.tmp\n',
    'web/b.log': 'deeper negation wins',
    'web/c.tmp': 'deeper negation wins',
    'web/local/x.js': 'x',
    'web/deep/d.log': 'still re-included two levels down',
    'web/deep/.gitignore': '*.js\n!keep.js\n',
    'web/deep/a.js': 'x',
    'web/deep/keep.js': 'x',
    'web/deep/gen/inner.js': 'x',
    'web/deep/gen2/inner.js': 'x',
    'api/a.log': 'the web/ negation does not reach a sibling',
    'api/c.tmp': 'x',
    'api/deep/keep.log': 'x',
    'api/deep/z.js': 'the web/deep rules do not reach api/deep',
  };

  it('gives the verdicts of git: nested files, negations, anchors, excluded folders, sibling folders', async () => {
    const root = project('per-folder', spec);
    const listing = await walkProject(root);
    const verdicts = [...listing.dirs.values()]
      .flat()
      .map((entry) => `${entry.rel}${entry.kind === 'dir' ? '/' : ''} ${entry.verdict}${entry.ruleIgnored ? ' (rule)' : ''}`)
      .sort();
    expect(verdicts).toEqual([
      '.env.local secret (rule)',
      '.env.production secret',
      '.gitignore keep',
      'a.log ignored (rule)',
      'api/ keep',
      'api/a.log ignored (rule)',
      'api/c.tmp ignored (rule)',
      'api/deep/ keep',
      'api/deep/keep.log keep',
      'api/deep/z.js keep',
      'app.tmp ignored (rule)',
      'gen/ ignored (rule)',
      'keep.log keep',
      'top-only.txt ignored (rule)',
      'web/ keep',
      'web/.gitignore keep',
      'web/a.log keep',
      'web/b.log keep',
      'web/c.tmp keep',
      'web/deep/ keep',
      'web/deep/.gitignore keep',
      'web/deep/a.js ignored (rule)',
      'web/deep/d.log keep',
      'web/deep/gen/ ignored (rule)',
      'web/deep/gen2/ keep',
      'web/deep/gen2/inner.js ignored (rule)',
      'web/deep/keep.js keep',
      'web/gen ignored (rule)',
      'web/local/ ignored (rule)',
      'web/top-only.txt keep',
    ]);
    const selection = await selectFiles(root, { listing });
    expect(selection.files.map((file) => file.rel)).toEqual([
      '.gitignore',
      'api/deep/keep.log',
      'api/deep/z.js',
      'keep.log',
      'web/.gitignore',
      'web/a.log',
      'web/b.log',
      'web/c.tmp',
      'web/deep/.gitignore',
      'web/deep/d.log',
      'web/deep/keep.js',
      'web/top-only.txt',
    ]);
    expect(selection.excludedSecrets).toEqual(['.env.local', '.env.production']);
  });

  it('gives the same verdicts before and after a fresh matcher takes over, excluded parents included', () => {
    // The root's .gitignore, as the walk reads it.
    const rules = IgnoreRules.create('', [], []).withGitignore('', '*.log\n!keep.log\nbuild\n');
    const asked: string[] = [];
    // Four paths per folder, 3 * MATCHER_PATHS paths in all: several matchers serve them.
    for (let i = 0; i < (3 * MATCHER_PATHS) / 4; i += 1) {
      const dir = `d${i}`;
      asked.push(
        [
          rules.ignores(`${dir}/build`, true),
          rules.ignores(`${dir}/build/keep.log`, false),
          rules.ignores(`${dir}/keep.log`, false),
          rules.ignores(`${dir}/src/a.log`, false),
        ].join(','),
      );
      expect(rules.ignores(`${dir}/src/a.js`, false)).toBe(false);
    }
    expect(new Set(asked)).toEqual(new Set(['true,true,false,true']));
    expect(asked.length).toBe((3 * MATCHER_PATHS) / 4);
    // Rules from a nested .gitignore come after the parent's, as in git.
    const nested = rules.withGitignore('src', '!*.log\nkeep.log\n');
    expect(nested.ignores('src/keep.log', false)).toBe(true);
    expect(nested.ignores('src/a.log', false)).toBe(false);
    expect(nested.ignores('a.log', false)).toBe(true);
    // .opendeployignore patterns come after every .gitignore, the nested ones included.
    const deploy = IgnoreRules.create('', [], ['!keep.log\n']).withGitignore('', '*.log\n').withGitignore('src', 'keep.log\n');
    expect(deploy.ignores('src/keep.log', false)).toBe(false);
    expect(deploy.ignores('src/other.log', false)).toBe(true);
  });

  it('judges a folder of more files than one matcher serves exactly as git does', async () => {
    const spec: TreeSpec = {
      '.gitignore': '*.log\n!f1*.log\nskip/\n',
      'big/.gitignore': '!f2*.log\nf15*.log\n',
    };
    for (let i = 0; i < 300; i += 1) spec[`big/f${String(i).padStart(3, '0')}.log`] = 'x';
    spec['big/skip/f100.log'] = 'parent excluded';
    const root = project('wide', spec);
    const selection = await selectFiles(root);
    const kept = selection.files.map((file) => file.rel);
    const expected = ['.gitignore', 'big/.gitignore'];
    for (let i = 100; i < 300; i += 1) if (i < 150 || i >= 160) expected.push(`big/f${String(i).padStart(3, '0')}.log`);
    expect(kept).toEqual(expected);
    // 100 f0*.log, 10 f15*.log, and the skip/ folder.
    expect(selection.ignoredCount).toBe(111);
  });

  it('ignores nothing by rule when no pattern is in force (only comments and blank lines), built-in rules still apply', async () => {
    const root = project('no-patterns', {
      '.gitignore': '# nothing here\n\n   \n',
      '.opendeployignore': '# nor here\n',
      'a.log': 'x',
      '...': 'an odd but valid name',
      'node_modules/x.js': 'x',
      '.env': 'SECRET=1',
      'sub/.gitignore': '# still nothing\n',
      'sub/b.log': 'x',
    });
    const listing = await walkProject(root);
    const verdicts = [...listing.dirs.values()]
      .flat()
      .map((entry) => `${entry.rel} ${entry.verdict}${entry.ruleIgnored ? ' (rule)' : ''}`)
      .sort();
    expect(verdicts).toEqual([
      '... keep',
      '.env secret',
      '.gitignore keep',
      '.opendeployignore keep',
      'a.log keep',
      'node_modules ignored (rule)',
      'sub keep',
      'sub/.gitignore keep',
      'sub/b.log keep',
    ]);
    expect(IgnoreRules.create('', [], ['# only a comment\n']).ignores('a.log', false)).toBe(false);
  });
});

describe('PEM sniff on raw bytes', () => {
  it('finds a private key under any name exactly as on the decoded text, odd bytes before it included', async () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n';
    const root = project('pem', {
      'plain.txt': 'nothing to see\n',
      'bom.txt': `\uFEFF${key}`,
      'accent.txt': `clé\n${key}`,
      'cert.pem.txt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      'no-space.txt': '-----BEGINPRIVATE KEY-----\n',
      'mid-line.txt': `see ${key}`,
      'cut-at-1k.txt': `${'x'.repeat(1000)}\n${key}`,
    });
    // A byte that is not UTF-8 before the key: decoded as U+FFFD, the key still starts a line.
    writeFileSync(path.join(root, 'raw-byte.txt'), Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.from(key)]));
    const selection = await selectFiles(root);
    expect(selection.excludedSecrets).toEqual(['accent.txt', 'bom.txt', 'raw-byte.txt']);
    expect(selection.files.map((file) => file.rel)).toEqual(['cert.pem.txt', 'cut-at-1k.txt', 'mid-line.txt', 'no-space.txt', 'plain.txt']);
  });
});
