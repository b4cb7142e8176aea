/**
 * One walk for the archive and for analysis: `walkProject` lists the tree once with the archive's
 * ignore rules; `selectFiles` and `analyzeProject` given that listing decide exactly what they decide
 * when they walk on their own, and analysis sees the tree through the same ignore files.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/analyze/index.js';
import { manifestOf, selectFiles, walkProject } from '../../src/archive/index.js';
import { removeTree, tempDir, writeTree, type TreeSpec } from './helpers.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) removeTree(root);
});

function tree(spec: TreeSpec): string {
  const root = tempDir('listing');
  roots.push(root);
  writeTree(root, spec);
  return root;
}

const SERVER = "require('node:http').createServer((_q, r) => r.end('ok')).listen(process.env.PORT || 3000);\n";

/** A tree with something for every rule: secrets, links, nested ignore files, a virtualenv, build output. */
const MIXED: TreeSpec = {
  'package.json': JSON.stringify({ name: 'mixed', scripts: { start: 'node server.js', build: 'react-scripts build' } }),
  'server.js': SERVER,
  '.gitignore': '*.log\n',
  '.opendeployignore': 'scratch/\n',
  '.env': 'API_KEY=abc\n',
  '.npmrc': '//registry.npmjs.org/:_authToken=npm_abcdefghijklmnop\n',
  'notes.log': 'x',
  'build/index.html': '<html></html>',
  'scratch/tmp.js': 'process.env.SCRATCH',
  'tools/.gitignore': 'generated/\n',
  'tools/generated/out.js': 'process.env.GENERATED',
  'tools/run.js': 'process.env.TOOL_FLAG',
  'env/pyvenv.cfg': 'home = /usr/bin\n',
  'env/lib/site.py': 'x = 1\n',
  '.ssh/id_rsa': 'key',
  'node_modules/dep/index.js': 'module.exports = 1;',
  'link.js': { symlink: 'server.js' },
  'outside': { symlink: '/etc/hostname' },
};

describe('walkProject', () => {
  it('lists every folder the archive enters once, sorted, and never enters ignored ones', async () => {
    const root = tree(MIXED);
    const listing = await walkProject(root);
    expect([...listing.dirs.keys()].sort()).toEqual(['', 'tools']);
    expect(listing.dirs.get('')?.map((entry) => `${entry.name}:${entry.kind}:${entry.verdict}`)).toEqual([
      '.env:file:secret',
      '.gitignore:file:keep',
      '.npmrc:file:keep',
      '.opendeployignore:file:keep',
      '.ssh:dir:secret',
      'build:dir:ignored',
      'env:dir:ignored',
      'link.js:symlink:keep',
      'node_modules:dir:ignored',
      'notes.log:file:ignored',
      'outside:symlink:keep',
      'package.json:file:keep',
      'scratch:dir:ignored',
      'server.js:file:keep',
      'tools:dir:keep',
    ]);
    expect(listing.dirs.get('tools')?.map((entry) => `${entry.rel}:${entry.verdict}`)).toEqual([
      'tools/.gitignore:keep',
      'tools/generated:ignored',
      'tools/run.js:keep',
    ]);
    expect(listing.complete).toBe(true);
    expect(listing.warnings).toEqual([]);
  });
});

describe('selectFiles with a shared listing', () => {
  it('selects exactly what its own walk selects', async () => {
    const root = tree(MIXED);
    const alone = await selectFiles(root);
    const shared = await selectFiles(root, { listing: await walkProject(root) });
    expect(shared).toEqual(alone);
    expect(shared.files.map((file) => file.rel)).toEqual([
      '.gitignore',
      '.opendeployignore',
      'link.js',
      'package.json',
      'server.js',
      'tools/.gitignore',
      'tools/run.js',
    ]);
    expect(shared.excludedSecrets).toEqual(['.env', '.npmrc', '.ssh/']);
    expect(shared.skippedSymlinks).toEqual(['outside']);
    expect(shared.ignoredCount).toBe(6);
  });

  it('a listing walked with other extra patterns is not used: the folder is walked again', async () => {
    const root = tree({ 'a.js': '1', 'b.md': '2' });
    const listing = await walkProject(root);
    const selection = await selectFiles(root, { listing, extraIgnore: ['*.md'] });
    expect(selection.files.map((file) => file.rel)).toEqual(['a.js']);
    expect(selection.ignoredCount).toBe(1);
  });
});

describe('analyzeProject with a shared listing', () => {
  it('gives the same analysis as its own walk', async () => {
    const root = tree(MIXED);
    const listing = await walkProject(root);
    const archive = manifestOf(await selectFiles(root, { listing }));
    const alone = await analyzeProject(root, { cwd: root, archive });
    const shared = await analyzeProject(root, { cwd: root, archive, listing });
    expect(shared).toEqual(alone);
    expect(shared.archive).toEqual({ files: 7, bytes: archive.bytes, excluded_secrets: ['.env', '.npmrc', '.ssh/'] });
  });

  it('files the archive read whole are not opened again by analysis', async () => {
    const root = tree({
      'package.json': JSON.stringify({ name: 'once', scripts: { start: 'node server.js' } }),
      'server.js': SERVER,
      'lib/flags.js': 'module.exports = process.env.READ_ONCE;\n',
    });
    const listing = await walkProject(root);
    await selectFiles(root, { listing });
    // Gone from disk after the selection: only the listing still holds it.
    rmSync(path.join(root, 'lib/flags.js'));
    const analysis = await analyzeProject(root, { cwd: root, listing });
    expect(analysis.services[0]?.runtime_vars.map((variable) => variable.name)).toEqual(['PORT', 'READ_ONCE']);
    expect(analysis.warnings).toEqual([]);
  });

  it('analysis honours nested .gitignore files and .opendeployignore, like the archive', async () => {
    const root = tree(MIXED);
    const analysis = await analyzeProject(root, { cwd: root });
    // TOOL_FLAG is read in a kept file; GENERATED (tools/.gitignore) and SCRATCH (.opendeployignore) are not.
    expect(analysis.services.map((service) => service.runtime_vars.map((variable) => variable.name))).toEqual([['PORT', 'TOOL_FLAG']]);
  });

  it('a miner inside a folder only a nested .gitignore leaves out is not the project', async () => {
    const root = tree({
      'package.json': JSON.stringify({ name: 'clean', scripts: { start: 'node index.js' } }),
      'index.js': SERVER,
      'vendor-tools/.gitignore': 'cache/\n',
      'vendor-tools/cache/miner.js': "spawn('xmrig')\n",
    });
    const analysis = await analyzeProject(root, { cwd: root });
    expect(analysis.refusal).toEqual({ refused: false, reasons: [] });
  });
});
