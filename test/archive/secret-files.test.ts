/**
 * Secret-bearing files beyond `.env` and keys (issue 11): credential files recognised by name, by
 * folder + name, and by content (a PEM private key under any name, JSON holding an `od_` token or a
 * `"private_key"`, `.yarnrc.yml` with a literal `npmAuthToken`). Each row is one file; the tree is
 * archived for real and read back with yauzl, and the exact excluded and included lists are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArchive, excludeSecretFiles, manifestOf, removeArchive, selectFiles, type ArchiveResult, type Selection } from '../../src/archive/index.js';
import { jsonHasSecret, startsWithPrivateKey, yarnrcHasAuth } from '../../src/archive/content.js';
import path from 'node:path';
import { readZip, removeTree, tempDir, writeTree, type ZipEntryInfo } from './helpers.js';

const CANARY = 'canary-4b1d7e9a0c3f52';
const OD_TOKEN = `od_k${'Z'.repeat(20)}Canary7`;
const PEM_HEAD = `-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA${CANARY}\n-----END RSA PRIVATE KEY-----\n`;

interface Row {
  path: string;
  content: string;
  /** true: left out and listed in excluded_secrets; false: archived. */
  secret: boolean;
  why: string;
}

const ROWS: Row[] = [
  // by folder (the whole folder is reported once, as `name/`)
  { path: '.kube/config', content: `users:\n- name: x\n  user:\n    token: ${CANARY}\n`, secret: true, why: 'kubectl config folder' },
  // by folder + name
  { path: '.docker/config.json', content: `{"auths":{"r.io":{"auth":"${CANARY}"}}}`, secret: true, why: 'docker registry auths' },
  { path: '.docker/nginx/default.conf', content: 'server { listen 80; }\n', secret: false, why: 'other .docker files are config' },
  { path: 'config/secrets.yml', content: `production:\n  secret_key_base: ${CANARY}\n`, secret: true, why: 'Rails secrets' },
  { path: 'spec/secrets.yml', content: 'test: 1\n', secret: false, why: 'secrets.yml outside config/ is not Rails secrets' },
  // by name
  { path: '.pgpass', content: `db:5432:app:u:${CANARY}\n`, secret: true, why: 'PostgreSQL password file' },
  { path: 'deploy/.htpasswd', content: `admin:$apr1$${CANARY}\n`, secret: true, why: 'basic-auth hashes' },
  { path: '.dev.vars', content: `API_KEY=${CANARY}\n`, secret: true, why: 'wrangler local secrets' },
  { path: 'infra/prod.tfvars', content: `db_password = "${CANARY}"\n`, secret: true, why: 'terraform variables' },
  { path: 'infra/terraform.tfvars.json', content: `{"db_password":"${CANARY}"}`, secret: true, why: 'terraform variables (JSON)' },
  { path: 'infra/main.tf', content: 'variable "db_password" {}\n', secret: false, why: 'terraform code is source' },
  { path: 'android/release.keystore', content: CANARY, secret: true, why: 'java key store' },
  { path: 'server.jks', content: CANARY, secret: true, why: 'java key store' },
  // by content
  { path: '.yarnrc.yml', content: `nodeLinker: node-modules\nnpmAuthToken: ${CANARY}\n`, secret: true, why: 'yarn token' },
  { path: 'packages/a/.yarnrc.yml', content: 'nodeLinker: node-modules\nnpmAuthToken: "${NPM_TOKEN}"\n', secret: false, why: 'env reference only' },
  { path: 'settings/auth-copy.json', content: `{"api_key":"${OD_TOKEN}"}`, secret: true, why: 'an opendeploy token' },
  { path: 'gcp/app-sa.json', content: `{"type":"service_account","private_key":"${CANARY}"}`, secret: true, why: 'a private_key field' },
  { path: 'src/methods.json', content: '{"method_abcdefghijklmnopqrstu":1}', secret: false, why: '`od_` inside a word is no token' },
  { path: 'tls/server-key.txt', content: PEM_HEAD, secret: true, why: 'PEM private key under any name' },
  { path: 'tls/bundle.crt', content: `Bag Attributes\n    localKeyID: 01\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n${CANARY}\n`, secret: true, why: 'openssl pkcs12 output' },
  { path: 'deploy_key', content: `-----BEGIN OPENSSH PRIVATE KEY-----\n${CANARY}\n`, secret: true, why: 'OpenSSH key without an id_ name' },
  { path: 'tls/ca.crt', content: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', secret: false, why: 'a certificate is public' },
  { path: 'docs/keys.md', content: `# Keys\n\n${'Text. '.repeat(300)}\n-----BEGIN PRIVATE KEY-----\n`, secret: false, why: 'a key header past the first KiB is not sniffed' },
  // env templates stay
  { path: '.env.example', content: 'API_KEY=\n', secret: false, why: 'template' },
  { path: '.env.production.example', content: 'API_KEY=\n', secret: false, why: 'template variant' },
  { path: '.env.example.local', content: 'API_KEY=\n', secret: false, why: 'template variant' },
  { path: 'src/index.js', content: 'console.log("hi");\n', secret: false, why: 'source' },
];

const EXPECTED_SECRETS = [
  '.dev.vars',
  '.docker/config.json',
  '.kube/',
  '.pgpass',
  '.yarnrc.yml',
  'android/release.keystore',
  'config/secrets.yml',
  'deploy/.htpasswd',
  'deploy_key',
  'gcp/app-sa.json',
  'infra/prod.tfvars',
  'infra/terraform.tfvars.json',
  'server.jks',
  'settings/auth-copy.json',
  'tls/bundle.crt',
  'tls/server-key.txt',
];

const EXPECTED_ENTRIES = [
  '.docker/nginx/default.conf',
  '.env.example',
  '.env.example.local',
  '.env.production.example',
  'docs/keys.md',
  'infra/main.tf',
  'packages/a/.yarnrc.yml',
  'spec/secrets.yml',
  'src/index.js',
  'src/methods.json',
  'tls/ca.crt',
];

describe('secret-bearing files are never uploaded', () => {
  let root: string;
  let selection: Selection;
  let archive: ArchiveResult;
  let entries: ZipEntryInfo[];

  beforeAll(async () => {
    root = tempDir('secret-files');
    writeTree(root, Object.fromEntries(ROWS.map((row) => [row.path, row.content])));
    selection = await selectFiles(root);
    archive = await buildArchive(root, { selection });
    entries = await readZip(archive.path);
  });

  afterAll(async () => {
    await removeArchive(archive);
    removeTree(root);
  });

  it('the table itself is consistent with the expected lists', () => {
    const secretRows = ROWS.filter((row) => row.secret).map((row) => (row.path.startsWith('.kube/') ? '.kube/' : row.path));
    expect([...secretRows].sort()).toEqual(EXPECTED_SECRETS);
    expect(ROWS.filter((row) => !row.secret).map((row) => row.path).sort()).toEqual(EXPECTED_ENTRIES);
  });

  it('lists exactly the secret files in the manifest, and nothing else is left out', () => {
    expect(manifestOf(selection).excluded_secrets).toEqual(EXPECTED_SECRETS);
    expect(selection.warnings).toEqual([]);
  });

  it('the zip holds exactly the non-secret files, and no entry carries a canary', () => {
    expect(entries.map((entry) => entry.name)).toEqual(EXPECTED_ENTRIES);
    for (const entry of entries) {
      expect(entry.content.toString('utf8'), entry.name).not.toContain(CANARY);
      expect(entry.content.toString('utf8'), entry.name).not.toContain(OD_TOKEN);
    }
  });

  it('a symlink cannot carry a secret out under an innocent name, nor an innocent file in under a secret name', async () => {
    const dir = tempDir('secret-links');
    try {
      writeTree(dir, {
        'key.txt': PEM_HEAD,
        'innocent.txt': { symlink: 'key.txt' },
        'registry.txt': `npmAuthToken: ${CANARY}\n`,
        '.yarnrc.yml': { symlink: 'registry.txt' },
      });
      const linked = await selectFiles(dir);
      expect(linked.excludedSecrets).toEqual(['.yarnrc.yml', 'innocent.txt', 'key.txt']);
      expect(linked.files.map((file) => file.rel)).toEqual(['registry.txt']);
    } finally {
      removeTree(dir);
    }
  });
});

describe('content checks', () => {
  it.each([
    ['npmAuthToken: abc123', true],
    ['npmScopes:\n  corp:\n    npmAuthToken: "abc123"', true],
    ['npmAuthIdent: "user:pass"', true],
    ['npmAuthToken: "${NPM_TOKEN}"', false],
    ['npmAuthToken: ${NPM_TOKEN-fallback}', false],
    ['npmAuthToken: ""', false],
    ['nodeLinker: pnp', false],
  ])('yarnrcHasAuth(%j) = %s', (text, expected) => {
    expect(yarnrcHasAuth(text)).toBe(expected);
  });

  it.each([
    [`{"t":"${OD_TOKEN}"}`, true],
    ['{"private_key" : "x"}', true],
    ['{"private_key_id_hint": 1}', false],
    ['{"lockfileVersion":3,"packages":{"node_modules/method_override_abcdefghij":{}}}', false],
  ])('jsonHasSecret(%j) = %s', (text, expected) => {
    expect(jsonHasSecret(text)).toBe(expected);
  });

  it.each([
    ['-----BEGIN PRIVATE KEY-----\n', true],
    ['\uFEFF  -----BEGIN EC PRIVATE KEY-----\n', true],
    ['-----BEGIN PGP PRIVATE KEY BLOCK-----\n', true],
    ['-----BEGIN PUBLIC KEY-----\n', false],
    ['-----BEGIN CERTIFICATE-----\n', false],
    ['see -----BEGIN PRIVATE KEY----- in the docs', false],
  ])('startsWithPrivateKey(%j) = %s', (text, expected) => {
    expect(startsWithPrivateKey(text)).toBe(expected);
  });
});

describe('files named by this run as secret (--env-file)', () => {
  it('leaves out the env file and a link to it, and lists both; a path outside the root changes nothing', async () => {
    const dir = tempDir('env-file');
    const outside = tempDir('env-file-outside');
    try {
      writeTree(dir, {
        'prod.vars': `API_KEY=${CANARY}\n`,
        'alias.vars': { symlink: 'prod.vars' },
        'index.js': 'console.log(1);\n',
      });
      writeTree(outside, { 'other.env': `API_KEY=${CANARY}\n` });
      const selection = await selectFiles(dir, { secretFiles: [path.join(dir, 'prod.vars'), path.join(outside, 'other.env'), path.join(dir, 'missing')] });
      expect(selection.files.map((file) => file.rel)).toEqual(['index.js']);
      expect(selection.excludedSecrets).toEqual(['alias.vars', 'prod.vars']);
      expect(selection.totalBytes).toBe('console.log(1);\n'.length);
      const again = await excludeSecretFiles(await selectFiles(dir), [path.join(outside, 'other.env')]);
      expect(again.files.map((file) => file.rel)).toEqual(['alias.vars', 'index.js', 'prod.vars']);
      const archive = await buildArchive(dir, { selection });
      try {
        const entries = await readZip(archive.path);
        expect(entries.map((entry) => entry.name)).toEqual(['index.js']);
        expect(entries.some((entry) => entry.content.toString('utf8').includes(CANARY))).toBe(false);
      } finally {
        await removeArchive(archive);
      }
    } finally {
      removeTree(dir);
      removeTree(outside);
    }
  });
});
