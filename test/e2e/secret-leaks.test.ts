/**
 * Issue 11, "Secrets": canary values must not reach the archive, the terminal, the audit log or
 * `.opendeploy/`, through the four paths that leaked them:
 * - an `--env-file` inside the project folder was uploaded with the source;
 * - a file `env pull` wrote inside the project was uploaded by the next upload;
 * - a token in a `--git` URL reached the audit log;
 * - app log lines printed values set by an earlier process (`env set`), which this process never saw.
 * Every upload is read back from the gateway's data folder with yauzl.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readZip } from '../archive/helpers.js';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A fresh gateway and home per test: an unclaimed credential may hold one project only. */
let gw: TestGateway;
let home: string;
beforeEach(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
});
afterEach(async () => {
  await gw.close();
});
afterAll(async () => {
  await cleanupTempDirs();
});

/** Every file below `dir` (latin1, so binary files can be searched for plain strings). */
async function readTree(dir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, text: await readFile(file, 'latin1') });
  }
  return out;
}

/** Archives the gateway received (its uploads folder; projects keep a copy of the bound one). */
async function storedZips(): Promise<string[]> {
  return (await readTree(path.join(gw.gateway.dataDir, 'uploads'))).map((entry) => entry.file).filter((file) => file.endsWith('.zip'));
}

/** Entry names and whether any entry holds `canary`, for every zip stored since `before`. */
async function newUploads(before: string[], canary: string): Promise<{ names: string[]; leaked: boolean }[]> {
  const out: { names: string[]; leaked: boolean }[] = [];
  for (const zip of (await storedZips()).filter((file) => !before.includes(file))) {
    const entries = await readZip(zip);
    out.push({ names: entries.map((entry) => entry.name), leaked: entries.some((entry) => entry.content.toString('latin1').includes(canary)) });
  }
  return out;
}

describe('--env-file inside the project', () => {
  it('is never uploaded, and is listed as a left-out secret', async () => {
    const app = await copyFixture('node-http');
    const canary = 'canary-envfile-inside-5d2c8e';
    await writeFile(path.join(app, 'prod.vars'), `API_SIGNING_KEY=${canary}\n`);
    const before = await storedZips();
    const run = await runCli(['deploy', app, '--yes', '--json', '--env-file', path.join(app, 'prod.vars')], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home },
    });
    expect(run.code, run.stderr).toBe(0);
    const uploads = await newUploads(before, canary);
    expect(uploads).toEqual([{ names: ['package.json', 'server.js'], leaked: false }]);
    const archived = run.events.find((event) => event.stage === 'archive' && event.type === 'stage');
    expect(archived?.excluded_secrets ?? (archived?.data as Record<string, unknown> | undefined)?.excluded_secrets).toEqual(['prod.vars']);
    // The value did reach the service: the test would notice a leak.
    expect(JSON.stringify(await gw.state())).toContain(canary);
    for (const surface of [run.stdout, run.stderr, ...(await readTree(path.join(home, 'logs'))).map((entry) => entry.text)]) {
      expect(surface).not.toContain(canary);
    }
  });
});

describe('env pull inside the project', () => {
  it('adds the file to .opendeployignore before writing it, so redeploy --source never uploads it', async () => {
    const app = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home };
    const canary = 'canary-pulled-3f9a1b7c';
    expect((await runCli(['deploy', '--yes', '--json'], { cwd: app, env })).code).toBe(0);
    expect((await runCli(['env', 'set', `PULLED_SECRET=${canary}`, '--json'], { cwd: app, env })).code).toBe(0);

    const pull = await runCli(['env', 'pull', 'config/prod-vars.txt', '--json'], { cwd: app, env });
    expect(pull.code, pull.stderr).toBe(0);
    expect(JSON.parse(pull.stdout).archive).toBe('added');
    expect(await readFile(path.join(app, '.opendeployignore'), 'utf8')).toBe(
      '# written by `opendeploy env pull`: holds secret values, never upload it\n/config/prod-vars.txt\n',
    );
    expect(await readFile(path.join(app, 'config', 'prod-vars.txt'), 'utf8')).toContain(canary);
    // Pulling again to the same path does not list it twice; the default file needs no entry.
    expect(JSON.parse((await runCli(['env', 'pull', 'config/prod-vars.txt', '--json', '--yes'], { cwd: app, env })).stdout).archive).toBe('listed');
    expect(JSON.parse((await runCli(['env', 'pull', '--json'], { cwd: app, env })).stdout).archive).toBe('secret_name');

    const before = await storedZips();
    const redeploy = await runCli(['redeploy', '--source', '.', '--force', '--json'], { cwd: app, env });
    expect(redeploy.code, redeploy.stderr).toBe(0);
    expect(await newUploads(before, canary)).toEqual([{ names: ['.opendeployignore', 'package.json', 'server.js'], leaked: false }]);
  });
});

describe('a token in a --git URL', () => {
  it('never reaches stdout, stderr, the audit log or .opendeploy/', async () => {
    const app = await copyFixture('node-http');
    const token = 'ghp_CanaryGitToken0123456789abcdef';
    const run = await runCli(['deploy', app, '--yes', '--json', '--git', `https://deployer:${token}@git.example.com/acme/app.git`], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home },
    });
    // The URL did reach the gateway (it needs it to clone): the test would notice a leak.
    expect(JSON.stringify(await gw.state())).toContain(token);
    const logs = await readTree(path.join(home, 'logs'));
    expect(logs.length).toBeGreaterThan(0);
    const surfaces = [{ file: 'stdout', text: run.stdout }, { file: 'stderr', text: run.stderr }, ...logs, ...(await readTree(path.join(app, '.opendeploy')))];
    for (const surface of surfaces) expect(surface.text, surface.file).not.toContain(token);
    // What is shown instead keeps the host and path, with the credentials masked.
    expect(logs.map((entry) => entry.text).join('')).toContain('https://***@git.example.com/acme/app.git');
  });
});

describe('app log lines', () => {
  it('hide a value set by an earlier process in redeploy, logs and deploy output', async () => {
    const app = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home };
    const canary = 'canary-applog-8e4f2a6d91';
    expect((await runCli(['deploy', '--yes', '--json'], { cwd: app, env })).code).toBe(0);
    // Process 2 sets the value; the processes below never had it in hand.
    expect((await runCli(['env', 'set', `WEBHOOK_SECRET=${canary}`, '--json'], { cwd: app, env })).code).toBe(0);

    const line = `boot: webhook secret is ${canary} (length ${canary.length})`;
    await gw.nextDeployment({ outcome: 'success', log_lines: [line], count: 2 });
    const redeploy = await runCli(['redeploy', '--json'], { cwd: app, env });
    expect(redeploy.code, redeploy.stderr).toBe(0);
    const logs = await runCli(['logs', '--json'], { cwd: app, env });
    expect(logs.code, logs.stderr).toBe(0);
    const deploy = await runCli(['deploy', '--yes', '--json', '--force'], { cwd: app, env });
    expect(deploy.code, deploy.stderr).toBe(0);

    const masked = `boot: webhook secret is *** (length ${canary.length})`;
    expect(logs.events.filter((event) => event.type === 'log').map((event) => event.message)).toContain(masked);
    for (const run of [redeploy, logs, deploy]) {
      expect(run.stdout).not.toContain(canary);
      expect(run.stderr).not.toContain(canary);
    }
    expect(redeploy.stdout + deploy.stdout).toContain(masked);
  });
});
