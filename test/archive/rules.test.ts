/** The pure pieces of the policy: secret names, the .npmrc token check, the build/ evidence. */
import { describe, expect, it } from 'vitest';
import { buildDirIsGeneratedOutput, isSecretFileName, npmrcHasAuth } from '../../src/archive/index.js';

describe('isSecretFileName', () => {
  const secret = [
    '.env',
    'apps/web/.env',
    '.env.local',
    '.env.production.local',
    '.ENV',
    '.envrc',
    'server.pem',
    'certs/TLS.KEY',
    'id_rsa',
    'id_rsa.pub',
    'id_ed25519',
    'id_ed25519.pub',
    'id_ecdsa',
    'id_ecdsa_sk.pub',
    'id_dsa',
    'store.p12',
    'store.pfx',
    '.pypirc',
    '.netrc',
    '.git-credentials',
    'credentials.json',
    'config/Credentials.json',
    'service-account.json',
    'service-account-prod.json',
    'kubeconfig',
    'ops/dev-kubeconfig.yaml',
    '.aws/credentials',
    '.aws/',
    'home/.ssh/config',
    '.gnupg/pubring.kbx',
    'a\\b\\.env',
  ];
  const harmless = [
    '.env.example',
    '.env.sample',
    '.env.template',
    'config/.env.example',
    '.env.production.example',
    '.env.local.sample',
    '.env.example.local',
    'apps/web/.env.development.template',
    'environment.ts',
    'src/env.ts',
    'env/index.js',
    '.npmrc',
    'keys.js',
    'monkey.json',
    'rsa.js',
    'id_rsa_tools/README.md',
    'service-account.yaml',
    'credentials.ts',
    'package.json',
    '',
  ];
  it.each(secret)('%s is secret', (rel) => expect(isSecretFileName(rel)).toBe(true));
  it.each(harmless)('%s is not', (rel) => expect(isSecretFileName(rel)).toBe(false));
});

describe('npmrcHasAuth', () => {
  it.each([
    ['//registry.npmjs.org/:_authToken=abc123def456', true],
    ['//npm.pkg.github.com/:_authToken = "ghp_x"', true],
    ['//host:8080/path/:_auth=dXNlcjpwYXNz', true],
    ['_auth=dXNlcjpwYXNz', true],
    ['//registry.example.com/:username=me\n//registry.example.com/:_password=cGFzcw==', true],
    ['username=me', true],
    ['email=me@example.com\n//r/:_password=cGFzcw==', true],
    ['key="-----BEGIN PRIVATE KEY-----\\nabc"', true],
    ['# a comment\nfoo=npm_abcdefghijklmnopqrstuvwxyz0123456789', true],
    ['save-exact=true\nregistry=https://registry.npmjs.org/\nlegacy-peer-deps=true', false],
    ['@scope:registry=https://npm.pkg.github.com', false],
    ['//registry.npmjs.org/:_authToken=${NPM_TOKEN}', false],
    ['//registry.npmjs.org/:_authToken="${NPM_TOKEN}"', false],
    ['# //registry.npmjs.org/:_authToken=abc123\n; _auth=xyz', false],
    ['always-auth=true\nengine-strict=true', false],
    ['//registry.npmjs.org/:_authToken=', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(npmrcHasAuth(text)).toBe(expected);
  });
});

describe('buildDirIsGeneratedOutput', () => {
  it.each([
    [{ scripts: { build: 'react-scripts build' } }, true],
    [{ scripts: { build: 'craco build' } }, true],
    [{ scripts: { build: 'react-app-rewired build' } }, true],
    [{ scripts: { build: 'docusaurus build' } }, true],
    [{ scripts: { build: 'remix build' } }, true],
    [{ scripts: { build: 'npm run gen && react-scripts build' } }, true],
    [{ scripts: { compile: 'tsc --outDir build' } }, true],
    [{ scripts: { compile: 'tsc --outDir=./build/' } }, true],
    [{ scripts: { compile: 'babel src -d build' } }, true],
    [{ scripts: { compile: 'babel src --out-dir build' } }, true],
    [{ scripts: { bundle: 'ncc build index.js -o build' } }, true],
    [{ scripts: { bundle: 'parcel build index.html --dist-dir build' } }, true],
    [{ devDependencies: { '@sveltejs/adapter-node': '^5.0.0' } }, true],
    [{ scripts: { build: 'vite build' } }, false],
    [{ scripts: { build: 'next build' } }, false],
    [{ scripts: { gen: 'node build/generate.js' } }, false],
    [{ scripts: { compile: 'tsc --outDir build-output' } }, false],
    [{ scripts: { build: 'webpack -o buildings' } }, false],
    [{ scripts: 'react-scripts build' }, false],
    [{ scripts: { build: 42 } }, false],
    [null, false],
    [undefined, false],
    ['react-scripts build', false],
  ])('%j → %s', (pkg, expected) => {
    expect(buildDirIsGeneratedOutput(pkg)).toBe(expected);
  });
});
