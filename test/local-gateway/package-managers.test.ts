/**
 * The local runtime provides the package manager a project asks for (issue 10, runtime items 1, 6
 * and 8): which pnpm/Yarn/Bun version a project needs (pure, table-tested), the tool cache (real
 * installs from the npm registry, racing), the Node version notice, Yarn installing once, and real
 * deployments of the fixtures locked with pnpm 8 and 9, Yarn classic and berry and Bun through a
 * real (non-simulated) local gateway whose tool cache starts empty.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeSatisfies, nodeVersionNotice } from '../../src/local-gateway/runtime/node-version.js';
import { pinnedNodeOf, provideNodeTools, toolsUsedBy } from '../../src/local-gateway/runtime/node-tools.js';
import {
  chooseToolVersion,
  pnpmLockfileVersion,
  projectFactsOf,
  versionSatisfies,
  yarnLockFormat,
  type ProjectFacts,
  type ToolRequest,
} from '../../src/local-gateway/runtime/package-manager-version.js';
import { buildInstalls, planRun } from '../../src/local-gateway/runtime/plan.js';
import { missingCommandMessage } from '../../src/local-gateway/runtime/which.js';
import { ToolUnavailable, installEnv, installTool, npmFailureReason, toolCacheRoot, toolDir } from '../../src/local-gateway/runtime/toolcache.js';
import { describeMatch, matchPlaybook } from '../../src/diagnose/playbook.js';
import { BIN, REPO_ROOT, errorOf, runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'apps');
const read = (file: string): string => readFileSync(path.join(FIXTURES, file), 'utf8');

describe('which package manager version a project needs', () => {
  const cases: Array<[string, 'pnpm' | 'yarn' | 'bun', ProjectFacts, ToolRequest]> = [
    ['packageManager wins, its hash dropped', 'pnpm', { packageManager: 'pnpm@9.1.0+sha512.abc', engines: { pnpm: '>=8' }, pnpmLock: "lockfileVersion: '6.0'\n" },
      { tool: 'pnpm', package: 'pnpm', version: '9.1.0', evidence: 'package.json: packageManager "pnpm@9.1.0+sha512.abc"' }],
    ['engines before the lockfile', 'pnpm', { engines: { pnpm: '>=8.6 <9' }, pnpmLock: "lockfileVersion: '9.0'\n" },
      { tool: 'pnpm', package: 'pnpm', version: '>=8.6 <9', evidence: 'package.json: engines.pnpm ">=8.6 <9"' }],
    ['a packageManager for another tool does not count', 'pnpm', { packageManager: 'npm@10.2.0', pnpmLock: "lockfileVersion: '9.0'\n" },
      { tool: 'pnpm', package: 'pnpm', version: '9', evidence: 'pnpm-lock.yaml: lockfileVersion 9.0' }],
    ['lockfile 5.3 → pnpm 6', 'pnpm', { pnpmLock: 'lockfileVersion: 5.3\n' }, { tool: 'pnpm', package: 'pnpm', version: '6', evidence: 'pnpm-lock.yaml: lockfileVersion 5.3' }],
    ['lockfile 5.4 → pnpm 7', 'pnpm', { pnpmLock: 'lockfileVersion: 5.4\n' }, { tool: 'pnpm', package: 'pnpm', version: '7', evidence: 'pnpm-lock.yaml: lockfileVersion 5.4' }],
    ['lockfile 6.0 → pnpm 8', 'pnpm', { pnpmLock: read('pnpm8-app/pnpm-lock.yaml') }, { tool: 'pnpm', package: 'pnpm', version: '8', evidence: 'pnpm-lock.yaml: lockfileVersion 6.0' }],
    ['lockfile 6.1 → pnpm 8', 'pnpm', { pnpmLock: "lockfileVersion: '6.1'\n" }, { tool: 'pnpm', package: 'pnpm', version: '8', evidence: 'pnpm-lock.yaml: lockfileVersion 6.1' }],
    ['lockfile 9.0 → pnpm 9', 'pnpm', { pnpmLock: read('pnpm9-app/pnpm-lock.yaml') }, { tool: 'pnpm', package: 'pnpm', version: '9', evidence: 'pnpm-lock.yaml: lockfileVersion 9.0' }],
    ['an unknown lockfile → the latest pnpm', 'pnpm', { pnpmLock: "lockfileVersion: '42.0'\n" },
      { tool: 'pnpm', package: 'pnpm', version: 'latest', evidence: 'pnpm-lock.yaml: lockfileVersion 42.0 is unknown; the latest pnpm' }],
    ['no evidence → the latest pnpm', 'pnpm', {}, { tool: 'pnpm', package: 'pnpm', version: 'latest', evidence: 'no packageManager, engines.pnpm or pnpm-lock.yaml: the latest pnpm' }],
    ['yarn@4 is berry, from @yarnpkg/cli-dist', 'yarn', { packageManager: 'yarn@4.5.3', yarnLock: read('yarn-berry-app/yarn.lock'), yarnrcYml: true },
      { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '4.5.3', evidence: 'package.json: packageManager "yarn@4.5.3"' }],
    ['yarn@1 is classic', 'yarn', { packageManager: 'yarn@1.22.19' },
      { tool: 'yarn', flavor: 'classic', package: 'yarn', version: '1.22.19', evidence: 'package.json: packageManager "yarn@1.22.19"' }],
    ['engines.yarn ^1.22 is classic', 'yarn', { engines: { yarn: '^1.22.0' }, yarnLock: read('yarn-classic-app/yarn.lock') },
      { tool: 'yarn', flavor: 'classic', package: 'yarn', version: '^1.22.0', evidence: 'package.json: engines.yarn "^1.22.0"' }],
    ['engines.yarn >=3 is berry', 'yarn', { engines: { yarn: '>=3' } },
      { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '>=3', evidence: 'package.json: engines.yarn ">=3"' }],
    ['a classic range over a berry lockfile: the lockfile decides', 'yarn', { engines: { yarn: '>=1.22' }, yarnLock: '__metadata:\n  version: 6\n  cacheKey: 8\n' },
      { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '3', evidence: 'yarn.lock: __metadata version 6' }],
    ['yarn.lock v1 → classic', 'yarn', { yarnLock: read('yarn-classic-app/yarn.lock') }, { tool: 'yarn', flavor: 'classic', package: 'yarn', version: '1', evidence: 'yarn.lock: yarn lockfile v1' }],
    ['__metadata 8 → Yarn 4', 'yarn', { yarnLock: read('yarn-berry-app/yarn.lock') }, { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '4', evidence: 'yarn.lock: __metadata version 8' }],
    ['__metadata 4 → Yarn 2', 'yarn', { yarnLock: '# generated\n\n__metadata:\n  version: 4\n' }, { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '2', evidence: 'yarn.lock: __metadata version 4' }],
    ['.yarnrc.yml without a lockfile → berry', 'yarn', { yarnrcYml: true }, { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '4', evidence: '.yarnrc.yml exists: Yarn berry' }],
    ['no evidence → Yarn classic', 'yarn', {}, { tool: 'yarn', flavor: 'classic', package: 'yarn', version: '1', evidence: 'no packageManager, engines.yarn or yarn.lock: Yarn classic' }],
    ['bun packageManager', 'bun', { packageManager: 'bun@1.1.38', bunLock: 'bun.lock' }, { tool: 'bun', package: 'bun', version: '1.1.38', evidence: 'package.json: packageManager "bun@1.1.38"' }],
    ['engines.bun', 'bun', { engines: { bun: '>=1.1' }, bunLock: 'bun.lockb' }, { tool: 'bun', package: 'bun', version: '>=1.1', evidence: 'package.json: engines.bun ">=1.1"' }],
    ['bun.lock → the latest Bun 1.x', 'bun', { bunLock: 'bun.lock' }, { tool: 'bun', package: 'bun', version: '1', evidence: 'bun.lock: the latest Bun 1.x' }],
    ['an unobtainable version is still asked for (npm says it does not exist)', 'pnpm', { packageManager: 'pnpm@0.0.1-doesnotexist' },
      { tool: 'pnpm', package: 'pnpm', version: '0.0.1-doesnotexist', evidence: 'package.json: packageManager "pnpm@0.0.1-doesnotexist"' }],
  ];
  it.each(cases)('%s', (_name, tool, facts, expected) => {
    expect(chooseToolVersion(tool, facts)).toEqual(expected);
  });

  it('reads the lockfile formats of the fixtures', () => {
    expect(pnpmLockfileVersion(read('pnpm8-app/pnpm-lock.yaml'))).toBe('6.0');
    expect(pnpmLockfileVersion(read('pnpm9-app/pnpm-lock.yaml'))).toBe('9.0');
    expect(yarnLockFormat(read('yarn-classic-app/yarn.lock'))).toEqual({ flavor: 'classic' });
    expect(yarnLockFormat(read('yarn-berry-app/yarn.lock'))).toEqual({ flavor: 'berry', metadataVersion: 8 });
    expect(projectFactsOf(path.join(FIXTURES, 'bun-app-lock'))).toEqual({ bunLock: 'bun.lock' });
    expect(projectFactsOf(path.join(FIXTURES, 'yarn-berry-app'))).toMatchObject({ packageManager: 'yarn@4.5.3', yarnrcYml: true });
  });

  it('a workspace member takes the manager its root declares', async () => {
    const root = await tempDir('od-pm-ws-');
    await mkdir(path.join(root, 'apps', 'web'), { recursive: true });
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'mono', private: true, packageManager: 'pnpm@8.15.9' }));
    await writeFile(path.join(root, 'pnpm-lock.yaml'), "lockfileVersion: '6.0'\n");
    await writeFile(path.join(root, 'apps', 'web', 'package.json'), JSON.stringify({ name: 'web', scripts: { start: 'node server.js' } }));
    const facts = projectFactsOf(path.join(root, 'apps', 'web'), root);
    expect(chooseToolVersion('pnpm', facts)).toEqual({ tool: 'pnpm', package: 'pnpm', version: '8.15.9', evidence: 'package.json: packageManager "pnpm@8.15.9"' });
    // Never above the build folder.
    expect(projectFactsOf(path.join(root, 'apps', 'web'), path.join(root, 'apps', 'web'))).toEqual({});
  });

  it('decides whether an installed tool serves the request', () => {
    const table: Array<[string, Pick<ToolRequest, 'version' | 'flavor'>, boolean]> = [
      ['9.15.9', { version: '9' }, true],
      ['8.15.9', { version: '9' }, false],
      ['9.1.0', { version: '9.1.0' }, true],
      ['9.1.1', { version: '9.1.0' }, false],
      ['8.7.0', { version: '>=8.6 <9' }, true],
      ['1.22.22', { version: '1', flavor: 'classic' }, true],
      ['1.22.22', { version: 'latest', flavor: 'berry' }, false],
      ['4.5.3', { version: '4', flavor: 'berry' }, true],
      ['1.4.5', { version: 'latest' }, true],
      ['not a version', { version: 'latest' }, false],
    ];
    for (const [installed, request, expected] of table) expect(versionSatisfies(installed, request), `${installed} for ${JSON.stringify(request)}`).toBe(expected);
  });

  it('a tool a script runs on its own (outside the plan) is named with how to get it', () => {
    expect(missingCommandMessage('pnpm')).toBe(
      'pnpm: command not found on this machine — install pnpm (`npm i -g pnpm`, or plan it: "packageManager": "pnpm@<version>" in package.json) to preview this app locally',
    );
  });

  it('knows which of the planned commands need which tool', () => {
    expect(toolsUsedBy(['pnpm install --frozen-lockfile', 'pnpm start'])).toEqual(['pnpm']);
    expect(toolsUsedBy(['npm ci', 'FOO=1 yarn build && bunx serve dist'])).toEqual(['yarn', 'bun']);
    expect(toolsUsedBy(['npm ci && npm run build', 'node server.js'])).toEqual([]);
  });
});

describe('the Node version a project pins', () => {
  it('is judged against the machine with semver; exact pins by their major line', () => {
    const table: Array<[string, string, boolean | undefined]> = [
      ['18.x', '20.20.2', false],
      ['>=18', '20.20.2', true],
      ['^20.11.0', '20.20.2', true],
      ['22', '20.20.2', false],
      ['v20.11.1', '20.20.2', true],
      ['18.17.0', '20.20.2', false],
      ['lts/*', '20.20.2', true],
      ['lts/hydrogen', '20.20.2', false],
      ['lts/iron', '20.20.2', true],
      ['node', '20.20.2', true],
      ['banana', '20.20.2', undefined],
    ];
    for (const [pin, machine, expected] of table) expect(nodeSatisfies(pin, machine), pin).toBe(expected);
  });

  it('a mismatch is one line naming both versions and where the pin comes from', () => {
    expect(nodeVersionNotice('18.x', 'package.json: engines.node', '20.20.2')).toBe(
      'This project asks for Node 18.x (package.json: engines.node), and this machine has Node 20.20.2: building with it anyway; if the build or the app fails, install a matching Node (nvm, fnm or volta) and deploy again',
    );
    expect(nodeVersionNotice('>=18', 'package.json: engines.node', '20.20.2')).toBeNull();
  });

  it('comes from the analysis of a JavaScript service, with its evidence', () => {
    const analyze_config = {
      services: [
        { name: 'web', language: 'javascript', language_version: '18.x', evidence: [{ decision: 'language_version', value: '18.x', evidence: '.nvmrc' }] },
        { name: 'api', language: 'python', language_version: '3.12', evidence: [] },
      ],
    };
    expect(pinnedNodeOf({ analyze_config }, { name: 'web' })).toEqual({ pin: '18.x', evidence: '.nvmrc' });
    expect(pinnedNodeOf({ analyze_config }, { name: 'api' })).toBeNull();
    expect(pinnedNodeOf({ analyze_config: null }, { name: 'web' })).toBeNull();
  });
});

describe('yarn installs once', () => {
  it('a build that runs `yarn install` with flags already installs', () => {
    for (const build of ['yarn install --frozen-lockfile', 'yarn install --immutable && yarn build', 'yarn --frozen-lockfile', 'yarn', 'yarn install --check-files --network-timeout=600000 && yarn build']) {
      expect(buildInstalls(build, 'node'), build).toBe(true);
    }
    for (const build of ['yarn build', 'yarn run build', 'yarn workspace web build']) expect(buildInstalls(build, 'node'), build).toBe(false);
  });

  it('the yarn fixtures plan no install step of their own', () => {
    for (const [name, build] of [['yarn-classic-app', 'yarn install --frozen-lockfile'], ['yarn-berry-app', 'yarn install --immutable']] as const) {
      const plan = planRun({
        service: { type: 'web', framework: '', language: 'javascript', build_command: build, start_command: 'yarn start', source_path: '.' },
        buildDir: path.join(FIXTURES, name),
        pathEnv: process.env.PATH,
      });
      expect(plan.install, name).toEqual([]);
      expect(plan.build).toBe(build);
    }
  });
});

describe('the tool cache', () => {
  it('is OPENDEPLOY_TOOL_CACHE when set, else the user cache folder', () => {
    expect(toolCacheRoot({ OPENDEPLOY_TOOL_CACHE: '/srv/tools' })).toBe('/srv/tools');
    expect(toolCacheRoot({})).toMatch(/opendeploy[/\\]tools$/);
    expect(toolDir('/c', { tool: 'yarn', flavor: 'berry', package: '@yarnpkg/cli-dist', version: '4.5.3', evidence: '' })).toBe('/c/yarn-berry/4.5.3');
    expect(toolDir('/c', { tool: 'pnpm', package: 'pnpm', version: '>=8.6 <9', evidence: '' })).toBe('/c/pnpm/__8.6__9');
  });

  it("keeps npm's reason for a failed install in one line", () => {
    const stderr = [
      'npm error code ETARGET',
      'npm error notarget No matching version found for pnpm@0.0.1-doesnotexist.',
      "npm error notarget In most cases you or one of your dependencies are requesting a package version that doesn't exist.",
      'npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log',
    ].join('\n');
    expect(npmFailureReason(stderr, 'fallback')).toBe('No matching version found for pnpm@0.0.1-doesnotexist.');
    expect(npmFailureReason('', 'npm install exited with code 1')).toBe('npm install exited with code 1');
  });

  it('two installs of the same tool racing end with one copy, and no temporary folder left', async () => {
    const root = await tempDir('od-tools-race-');
    const request: ToolRequest = { tool: 'yarn', flavor: 'classic', package: 'yarn', version: '1', evidence: 'test' };
    const env = installEnv(process.env);
    // What a gateway killed mid-install leaves behind (pid 2147483646 is not running).
    await mkdir(path.join(root, 'yarn', '1.tmp-2147483646-deadbeef', 'node_modules'), { recursive: true });
    const [a, b] = await Promise.all([installTool(request, { root, env }), installTool(request, { root, env })]);
    expect(a.binDir).toBe(path.join(root, 'yarn', '1', 'node_modules', '.bin'));
    expect(b.binDir).toBe(a.binDir);
    expect(a.version).toMatch(/^1\.22\.\d+$/);
    expect(b.version).toBe(a.version);
    expect([a.installed, b.installed].filter(Boolean)).toHaveLength(1);
    expect(readdirSync(path.join(root, 'yarn'))).toEqual(['1']);
    expect(existsSync(path.join(a.binDir, 'yarn'))).toBe(true);
    // Already there: no install.
    expect(await installTool(request, { root, env })).toEqual({ binDir: a.binDir, version: a.version, installed: false });
    // A copy whose program was deleted by hand is installed again.
    await rm(path.join(root, 'yarn', '1', 'node_modules', 'yarn'), { recursive: true });
    expect(await installTool(request, { root, env })).toEqual({ binDir: a.binDir, version: a.version, installed: true });
    expect(existsSync(path.join(a.binDir, 'yarn'))).toBe(true);
  }, 120_000);

  it("a machine's own tool is used when it serves the request, and replaced on PATH when it does not", async () => {
    const root = await tempDir('od-tools-own-');
    // A real yarn 1 "installed on the machine": the tool cache's copy, put on PATH.
    const own = await installTool({ tool: 'yarn', flavor: 'classic', package: 'yarn', version: '1', evidence: 'test' }, { root: path.join(root, 'machine'), env: installEnv(process.env) });
    const source = { ...process.env, PATH: `${own.binDir}${path.delimiter}${process.env.PATH ?? ''}`, OPENDEPLOY_TOOL_CACHE: path.join(root, 'cache') };
    const project = async (name: string, files: Record<string, string>): Promise<string> => {
      const dir = path.join(root, name);
      await mkdir(dir, { recursive: true });
      for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
      return dir;
    };
    const classic = await project('classic', { 'package.json': '{"name":"classic"}', 'yarn.lock': read('yarn-classic-app/yarn.lock') });
    const lines: string[] = [];
    const log = (_level: string, message: string): void => void lines.push(message);
    expect(await provideNodeTools({ lines: ['yarn install --frozen-lockfile', 'yarn start'], workdir: classic, buildDir: classic, source, log })).toEqual([]);
    expect(lines).toEqual([`Using yarn ${own.version} from this machine (yarn.lock: yarn lockfile v1)`]);

    lines.length = 0;
    const berry = await project('berry', { 'package.json': '{"name":"berry","packageManager":"yarn@4.5.3"}', 'yarn.lock': read('yarn-berry-app/yarn.lock') });
    const dirs = await provideNodeTools({ lines: ['yarn install --immutable', 'yarn start'], workdir: berry, buildDir: berry, source, log });
    expect(dirs).toEqual([path.join(root, 'cache', 'yarn-berry', '4.5.3', 'node_modules', '.bin')]);
    expect(lines).toEqual([
      `Installing Yarn berry 4.5.3 from the npm registry into ${path.join(root, 'cache', 'yarn-berry', '4.5.3')}`,
      `Installed yarn 4.5.3 into the tool cache for Yarn berry 4.5.3 (package.json: packageManager "yarn@4.5.3"; this machine has yarn ${own.version})`,
    ]);
  }, 120_000);

  it('a version the registry does not have is a ToolUnavailable naming the tool, and the playbook names the cause', async () => {
    const root = await tempDir('od-tools-missing-');
    const request: ToolRequest = { tool: 'pnpm', package: 'pnpm', version: '0.0.1-doesnotexist', evidence: 'package.json: packageManager "pnpm@0.0.1-doesnotexist"' };
    const error = await installTool(request, { root, env: installEnv(process.env) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolUnavailable);
    const message = (error as ToolUnavailable).message;
    expect(message).toBe(
      'Could not install pnpm 0.0.1-doesnotexist (package.json: packageManager "pnpm@0.0.1-doesnotexist") from the npm registry: No matching version found for pnpm@0.0.1-doesnotexist.',
    );
    expect(readdirSync(path.join(root, 'pnpm'))).toEqual([]);
    const match = matchPlaybook({ status: 'failed', lastPhase: 'building' }, ['Building app in /tmp/x (javascript)', message]);
    expect(match).toMatchObject({ id: 'PM1', code: 'build_failed', fixCommand: 'opendeploy redeploy --source .' });
    expect(describeMatch(match)).toBe(
      'the package manager could not be installed: pnpm 0.0.1-doesnotexist (package.json: packageManager "pnpm@0.0.1-doesnotexist"): No matching version found for pnpm@0.0.1-doesnotexist',
    );
  }, 60_000);
});

// ------------------------------------------------------------------- real deployments

const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await cleanupTempDirs();
});

function get(url: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(target.port), path: target.pathname, headers: { host: target.host }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The deployment's own log lines (the failure summary's quoted evidence comes after, as source `evidence`). */
const logsOf = (run: CliRun): string[] =>
  run.events.filter((event) => event.type === 'log' && event.source !== 'evidence').map((event) => String(event.message));

/** The machine's network settings (its proxy, its CA bundle) reach npm as they would from the user's shell. */
function networkEnv(): Record<string, string> {
  const names = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name] as string]] : [])));
}

describe('real deployments through the local gateway, none of the tools installed beforehand', () => {
  let dataDir: string;
  let home: string;
  let cache: string;
  let gateway: ChildProcess;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    dataDir = await tempDir('od-pm-gw-');
    home = await tempDir('od-pm-home-');
    cache = await tempDir('od-pm-tools-');
    gateway = spawn(process.execPath, [BIN, 'local-gateway', '--port', '0', '--data-dir', dataDir, '--json'], {
      // The gateway's tool cache starts empty: every tool below is installed from the npm registry.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1', ...networkEnv(), OPENDEPLOY_TOOL_CACHE: cache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(gateway);
    exited = new Promise((resolve) => gateway.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      gateway.stdout!.setEncoding('utf8');
      gateway.stdout!.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('"status":"listening"')) resolve();
      });
      void exited.then(() => reject(new Error(`local-gateway exited early: ${stdout}`)));
    });
  }, 30_000);

  afterAll(async () => {
    gateway.kill('SIGTERM');
    await exited;
  });

  const deploy = (app: string, extra: string[] = []): Promise<CliRun> =>
    runCli(['deploy', app, '--local', '--data-dir', dataDir, '--json', ...extra], { env: { OPENDEPLOY_HOME: home }, timeoutMs: 150_000 });

  const apps: Array<[string, RegExp, string, string]> = [
    ['pnpm9-app', /^Installed pnpm 9\.\d+\.\d+ into the tool cache for pnpm 9 \(pnpm-lock\.yaml: lockfileVersion 9\.0; pnpm is not on this machine\)$/, 'hello from pnpm9-app', 'pnpm'],
    ['pnpm8-app', /^Installed pnpm 8\.\d+\.\d+ into the tool cache for pnpm 8 \(pnpm-lock\.yaml: lockfileVersion 6\.0; pnpm is not on this machine\)$/, 'hello from pnpm8-app', 'pnpm'],
    ['yarn-classic-app', /^Installed yarn 1\.22\.\d+ into the tool cache for Yarn classic 1 \(yarn\.lock: yarn lockfile v1; yarn is not on this machine\)$/, 'hello from yarn-classic-app', 'yarn'],
    ['yarn-berry-app', /^Installed yarn 4\.5\.3 into the tool cache for Yarn berry 4\.5\.3 \(package\.json: packageManager "yarn@4\.5\.3"; yarn is not on this machine\)$/, 'hello from yarn-berry-app', 'yarn-berry'],
    ['bun-app-lock', /^Installed bun 1\.\d+\.\d+ into the tool cache for bun 1 \(bun\.lock: the latest Bun 1\.x; bun is not on this machine\)$/, 'hello from bun-app-lock on Bun 1.', 'bun'],
  ];

  it.each(apps)('%s installs its package manager, runs the planned install once and serves its page', async (name, installedLine, marker, folder) => {
    const run = await deploy(await copyFixture(name));
    const logs = logsOf(run);
    expect(run.code, `${run.stderr}\n${logs.join('\n')}`).toBe(0);
    expect(logs.filter((line) => installedLine.test(line)), logs.join('\n')).toHaveLength(1);
    const analysis = JSON.parse(read(`../expected/${name}.json`)) as { services: Array<{ scripts_build: string; scripts_start: string }> };
    const planned = analysis.services[0]!;
    // Exactly the plan: its build (which installs) once, no install of our own, then its start.
    const commands = logs.filter((line) => line.startsWith('$ '));
    expect(commands[0]).toBe(`$ ${planned.scripts_build}`);
    expect(commands[1]).toMatch(new RegExp(`^\\$ ${planned.scripts_start} {3}\\(PORT=\\d+\\)$`));
    expect(commands.filter((line) => /\binstall\b/.test(line))).toEqual([`$ ${planned.scripts_build}`]);
    const result = run.events.find((event) => event.type === 'result')!;
    const page = await get(String(result.url));
    expect(page.status).toBe(200);
    expect(page.body).toContain(marker);
    expect(readdirSync(cache)).toContain(folder);
  }, 160_000);

  it('a second deployment takes the tool from the cache', async () => {
    const run = await deploy(await copyFixture('pnpm9-app'), ['--name', 'pnpm9-app-again']);
    expect(run.code, run.stdout.split("\n").slice(-3).join("\n")).toBe(0);
    expect(logsOf(run).filter((line) => /^Using pnpm 9\.\d+\.\d+ from the tool cache for pnpm 9 \(pnpm-lock\.yaml: lockfileVersion 9\.0; pnpm is not on this machine\)$/.test(line))).toHaveLength(1);
  }, 160_000);

  it('a yarn install that fails runs once, and its error line is logged once', async () => {
    const app = await copyFixture('yarn-classic-app');
    // A dependency the lockfile does not have: `yarn install --frozen-lockfile` must refuse.
    const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies['left-pad'] = '^1.3.0';
    await writeFile(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    const run = await deploy(app, ['--name', 'yarn-stale-lockfile']);
    expect(run.code, run.stdout.split('\n').slice(-3).join('\n')).toBe(5);
    const logs = logsOf(run);
    expect(logs.filter((line) => line.startsWith('$ '))).toEqual(['$ yarn install --frozen-lockfile']);
    expect(logs.filter((line) => line === 'error Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`.')).toHaveLength(1);
    expect(logs.filter((line) => line === 'Build failed: `yarn install --frozen-lockfile` exited with code 1')).toHaveLength(1);
    expect(errorOf(run).error_code).toBe('build_failed');
  }, 160_000);

  it('an unobtainable package manager is one clear line and a failed deployment whose summary names it; a Node pin the machine misses is said before building', async () => {
    const app = path.join(await tempDir('od-pm-bad-'), 'badpm');
    await mkdir(app, { recursive: true });
    await writeFile(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'badpm', version: '1.0.0', private: true, packageManager: 'pnpm@0.0.1-doesnotexist', engines: { node: '16.x' }, scripts: { start: 'node server.js' }, dependencies: { ms: '^2.1.3' } }, null, 2),
    );
    await writeFile(path.join(app, 'server.js'), read('pnpm9-app/server.js'));
    await writeFile(path.join(app, 'pnpm-lock.yaml'), read('pnpm9-app/pnpm-lock.yaml'));
    const run = await deploy(app);
    expect(run.code, run.stdout.split("\n").slice(-3).join("\n")).toBe(5);
    const logs = logsOf(run);
    const missing = 'Could not install pnpm 0.0.1-doesnotexist (package.json: packageManager "pnpm@0.0.1-doesnotexist") from the npm registry: No matching version found for pnpm@0.0.1-doesnotexist.';
    expect(logs.filter((line) => line === missing)).toHaveLength(1);
    const notice = `This project asks for Node 16.x (package.json: engines.node), and this machine has Node ${process.versions.node}: building with it anyway; if the build or the app fails, install a matching Node (nvm, fnm or volta) and deploy again`;
    expect(logs.filter((line) => line === notice)).toHaveLength(1);
    expect(logs.indexOf(notice)).toBeLessThan(logs.indexOf(missing));
    expect(logs.some((line) => line.startsWith('$ '))).toBe(false);
    const error = errorOf(run);
    expect(error.error_code).toBe('build_failed');
    expect(JSON.stringify(error)).toContain('the package manager could not be installed');
  }, 160_000);
});
