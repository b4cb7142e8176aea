/**
 * One project tree holding every exclusion category, archived for real and read back with yauzl:
 * the exact entry list, the exact secret report and the exact ignored count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArchive, manifestOf, removeArchive, selectFiles, type ArchiveResult, type Selection } from '../../src/archive/index.js';
import { readZip, removeTree, tempDir, writeTree, type ZipEntryInfo } from './helpers.js';

const CANARY = 'od_canary_value_7f3a9c2e41b8d6';

const TREE = {
  // react-scripts writes build/: the top-level build/ goes, a nested one stays.
  'package.json': JSON.stringify({ name: 'app', scripts: { build: 'react-scripts build' } }),
  'build/index.html': '<html></html>',
  'packages/lib/build/tool.js': 'export const tool = 1;\n',
  'src/index.js': 'console.log("hi");\n',
  'src/util.py': 'X = 1\n',
  'src/env/index.js': '// an `env` folder without pyvenv.cfg is source\n',
  'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
  'notes.txt': 'root notes: sub/.gitignore must not affect me\n',
  // Python bytecode
  'src/__pycache__/util.cpython-311.pyc': 'bytecode',
  'src/legacy.pyc': 'bytecode',
  // .git as a folder and as a worktree pointer file
  '.git/HEAD': 'ref: refs/heads/main\n',
  '.git/config': '[core]\n',
  'packages/lib/.git': 'gitdir: ../../.git/modules/lib\n',
  'packages/lib/index.js': 'export default 1;\n',
  // dependencies, at any depth
  'node_modules/left-pad/index.js': 'module.exports = 1;\n',
  'packages/lib/node_modules/x/index.js': 'module.exports = 2;\n',
  // our own state
  '.opendeploy/project.json': '{}',
  // virtualenvs: by name (.venv) and by marker (venv, env)
  '.venv/lib/site.py': 'pass\n',
  'venv/pyvenv.cfg': 'home = /usr/bin\n',
  'venv/bin/python': 'elf',
  'env/pyvenv.cfg': 'home = /usr/bin\n',
  'env/lib/x.py': 'pass\n',
  '.tox/py311/log.txt': 'log',
  // build outputs and caches
  'dist/app.js': 'built',
  '.next/server.js': 'built',
  '.nuxt/app.js': 'built',
  '.output/server/index.mjs': 'built',
  '.svelte-kit/output.js': 'built',
  'target/release/app': 'built',
  'coverage/lcov.info': 'cov',
  '.turbo/cache.json': '{}',
  '.cache/x': 'cache',
  '.parcel-cache/x': 'cache',
  '.vercel/project.json': '{}',
  '.netlify/state.json': '{}',
  // local agent metadata
  '.agents/notes.md': 'agent',
  '.claude/settings.json': '{}',
  '.codex/config.toml': 'x = 1',
  '.gstack/state': 'x',
  // .gitignore: root rules, anchored rules, negation
  '.gitignore': '*.log\n!important.log\n/tmp/\ncache/\n',
  'app.log': 'noise',
  'important.log': 'kept by negation',
  'release.log': 'gitignored, re-included by .opendeployignore',
  'tmp/scratch.txt': 'anchored /tmp/ ignores this',
  'cache/data.json': '{}',
  // nested .gitignore: relative to sub/, re-includes a folder the root file ignores
  'sub/.gitignore': 'generated/\n*.txt\n!keep-me.txt\n!debug.log\n!cache/\n',
  'sub/generated/out.js': 'generated',
  'sub/notes.txt': 'ignored by sub/.gitignore',
  'sub/keep-me.txt': 'negated in sub/.gitignore',
  'sub/debug.log': 'root ignores *.log, sub re-includes it',
  'sub/cache/data.json': '{}',
  'sub/tmp/keep.js': '/tmp/ in the root file is anchored to the root',
  // .opendeployignore
  '.opendeployignore': 'docs/\n*.psd\n!release.log\n',
  'docs/guide.md': '# docs',
  'design.psd': 'psd',
  // env files
  '.env': `DATABASE_URL=postgres://u:p@h/db\nCANARY=${CANARY}\n`,
  '.env.local': `CANARY=${CANARY}\n`,
  '.env.production': 'X=1\n',
  '.env.example': 'DATABASE_URL=\n',
  '.env.sample': 'DATABASE_URL=\n',
  '.env.template': 'DATABASE_URL=\n',
  // keys and credential files
  'certs/server.pem': '-----BEGIN CERTIFICATE-----',
  'certs/server.key': '-----BEGIN PRIVATE KEY-----',
  id_rsa: '-----BEGIN OPENSSH PRIVATE KEY-----',
  'id_rsa.pub': 'ssh-rsa AAAA',
  id_ed25519: '-----BEGIN OPENSSH PRIVATE KEY-----',
  'id_ed25519.pub': 'ssh-ed25519 AAAA',
  id_ecdsa: '-----BEGIN OPENSSH PRIVATE KEY-----',
  'keystore.p12': 'p12',
  'cert.pfx': 'pfx',
  '.pypirc': '[pypi]\npassword = x\n',
  '.netrc': 'machine h login u password p\n',
  'credentials.json': '{}',
  'service-account-prod.json': '{}',
  'config/kubeconfig.yaml': 'apiVersion: v1\n',
  'config/app.json': '{}',
  '.aws/credentials': '[default]\n',
  '.ssh/id_rsa': 'key',
  // .npmrc: with a token (secret) and without (kept)
  '.npmrc': '//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n',
  'packages/lib/.npmrc': 'save-exact=true\nregistry=https://registry.npmjs.org/\n',
};

const EXPECTED_ENTRIES = [
  '.env.example',
  '.env.sample',
  '.env.template',
  '.gitignore',
  '.opendeployignore',
  'bin/run.sh',
  'config/app.json',
  'important.log',
  'notes.txt',
  'package.json',
  'packages/lib/.npmrc',
  'packages/lib/build/tool.js',
  'packages/lib/index.js',
  'release.log',
  'src/env/index.js',
  'src/index.js',
  'src/util.py',
  'sub/.gitignore',
  'sub/cache/data.json',
  'sub/debug.log',
  'sub/keep-me.txt',
  'sub/tmp/keep.js',
];

const EXPECTED_SECRETS = [
  '.aws/',
  '.env',
  '.env.local',
  '.env.production',
  '.netrc',
  '.npmrc',
  '.pypirc',
  '.ssh/',
  'cert.pfx',
  'certs/server.key',
  'certs/server.pem',
  'config/kubeconfig.yaml',
  'credentials.json',
  'id_ecdsa',
  'id_ed25519',
  'id_ed25519.pub',
  'id_rsa',
  'id_rsa.pub',
  'keystore.p12',
  'service-account-prod.json',
];

/**
 * One per skipped path, never per file inside a skipped folder: .git, packages/lib/.git,
 * node_modules, packages/lib/node_modules, .opendeploy, .venv, venv, env, .tox, src/__pycache__,
 * src/legacy.pyc, dist, .next, .nuxt, .output, .svelte-kit, target, coverage, .turbo, .cache,
 * .parcel-cache, .vercel, .netlify, build, .agents, .claude, .codex, .gstack, app.log, tmp, cache,
 * sub/generated, sub/notes.txt, docs, design.psd.
 */
const EXPECTED_IGNORED = 35;

describe('archive exclusions', () => {
  let root: string;
  let selection: Selection;
  let archive: ArchiveResult;
  let entries: ZipEntryInfo[];

  beforeAll(async () => {
    root = tempDir('exclusions');
    writeTree(root, TREE);
    selection = await selectFiles(root);
    archive = await buildArchive(root, { selection });
    entries = await readZip(archive.path);
  });

  afterAll(async () => {
    await removeArchive(archive);
    removeTree(root);
  });

  it('selects exactly the expected files', () => {
    expect(selection.files.map((file) => file.rel)).toEqual(EXPECTED_ENTRIES);
    expect(selection.warnings).toEqual([]);
    expect(selection.skippedSymlinks).toEqual([]);
  });

  it('writes exactly those entries, in sorted order, with flat relative names', () => {
    expect(entries.map((entry) => entry.name)).toEqual(EXPECTED_ENTRIES);
    expect(archive.files).toBe(EXPECTED_ENTRIES.length);
  });

  it('reports secret-like exclusions by path, sorted, and counts the rest', () => {
    expect(selection.excludedSecrets).toEqual(EXPECTED_SECRETS);
    expect(archive.excludedSecrets).toEqual(EXPECTED_SECRETS);
    expect(selection.ignoredCount).toBe(EXPECTED_IGNORED);
  });

  it('stores each file with its exact content', () => {
    for (const entry of entries) {
      const spec = TREE[entry.name as keyof typeof TREE];
      const content = typeof spec === 'string' ? spec : (spec as { content: string }).content;
      expect(entry.content.toString('utf8'), entry.name).toBe(content);
    }
  });

  it('never lets the .env canary into the archive, raw or decompressed', async () => {
    const { readFile } = await import('node:fs/promises');
    const raw = await readFile(archive.path);
    expect(raw.includes(CANARY)).toBe(false);
    expect(entries.filter((entry) => entry.content.includes(CANARY)).map((entry) => entry.name)).toEqual([]);
  });

  it('summarises the selection for analysis.json', () => {
    const totalBytes = EXPECTED_ENTRIES.reduce((sum, rel) => {
      const spec = TREE[rel as keyof typeof TREE];
      return sum + Buffer.byteLength(typeof spec === 'string' ? spec : (spec as { content: string }).content);
    }, 0);
    expect(manifestOf(selection)).toEqual({ files: EXPECTED_ENTRIES.length, bytes: totalBytes, excluded_secrets: EXPECTED_SECRETS });
    expect(archive.sourceBytes).toBe(totalBytes);
  });
});
