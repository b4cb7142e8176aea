/**
 * The local runtime runs the plan the way a builder would (issue 10, runtime items 2, 3, 4, 5, 7):
 * the real CLI deploys fixtures to a real, separately running `opendeploy local-gateway` (nothing
 * simulated) and each check reads the app's own output through the gateway's proxy or its logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

let gateway: ChildProcess | undefined;
let gatewayExited: Promise<number | null> | undefined;
let dataDir = '';
let home = '';

beforeAll(async () => {
  dataDir = await tempDir('od-conv-gw-');
  home = await tempDir('od-conv-home-');
  const child = spawn(process.execPath, [BIN, 'local-gateway', '--port', '0', '--data-dir', dataDir, '--json'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway = child;
  gatewayExited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('"listening"')) resolve();
    });
    void gatewayExited!.then(() => reject(new Error(`local-gateway exited early: ${stdout}`)));
  });
}, 30_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    gateway.kill('SIGTERM');
    await gatewayExited;
  }
  await cleanupTempDirs();
});

const deploy = (app: string, extra: string[] = [], timeoutMs = 120_000): Promise<CliRun> =>
  runCli(['deploy', app, '--local', '--data-dir', dataDir, '--json', ...extra], { env: { OPENDEPLOY_HOME: home }, timeoutMs });

function get(url: string, pathname = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(target.port), path: pathname, headers: { ...headers, host: target.host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
  });
}

function resultOf(run: CliRun): Record<string, unknown> {
  const result = run.events.find((event) => event.type === 'result');
  if (!result) throw new Error(`no result line (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return result;
}

const logsOf = (run: CliRun): string[] => run.events.filter((event) => event.type === 'log').map((event) => String(event.message));

async function deploymentRow(id: string): Promise<Record<string, unknown>> {
  const state = JSON.parse(await readFile(path.join(dataDir, 'state.json'), 'utf8')) as { deployments: Array<Record<string, unknown>> };
  return state.deployments.find((d) => d.id === id)!;
}

describe('runtime item 2: workspace members run from the workspace root', () => {
  it('an npm workspace whose member starts with `cd packages/api && node index.js` installs at the root and serves', async () => {
    const run = await deploy(await copyFixture('npm-workspace-cd'));
    expect(run.code, run.stderr).toBe(0);
    const logs = logsOf(run);
    expect(logs).toContain('$ npm ci');
    expect(logs.some((line) => /^Workspace member: installing in the workspace root \S+\/builds\/[\w-]+; build and start run where the plan wrote them$/.test(line))).toBe(true);
    expect(await get(String(resultOf(run).url))).toMatchObject({ status: 200, body: 'hello from npm-workspace-cd (greeting package)\n' });
  }, 120_000);

  it("a turborepo member's build uses the root's devDependencies (turbo, typescript) and `npm run start -w api` runs at the root", async () => {
    const run = await deploy(await copyFixture('turborepo-root-devdeps'), [], 180_000);
    expect(run.code, run.stderr).toBe(0);
    const logs = logsOf(run);
    expect(logs).toContain('$ npm ci && npx turbo run build --filter=api');
    expect(logs.some((line) => line.startsWith('$ npm run start -w api'))).toBe(true);
    expect(await get(String(resultOf(run).url))).toMatchObject({ status: 200, body: 'hello from turborepo-root-devdeps (compiled by the root typescript)\n' });
  }, 190_000);
});

describe('runtime item 3: static sites', () => {
  it("a site with its own 404.html serves it with status 404 for unknown paths, also to browsers", async () => {
    const run = await deploy(await copyFixture('static-404'));
    expect(run.code, run.stderr).toBe(0);
    expect(logsOf(run)).toContain("Unknown paths are answered with 404 (the site's own 404.html when it has one)");
    const url = String(resultOf(run).url);
    expect((await get(url)).body).toContain('<h1>static-404 field notes</h1>');
    for (const headers of [{ accept: 'text/html,application/xhtml+xml' }, {}] as Array<Record<string, string>>) {
      const missing = await get(url, '/no-such-page', headers);
      expect(missing.status).toBe(404);
      expect(missing.body).toContain('<h1>static-404: this page does not exist</h1>');
    }
  }, 60_000);

  it('a single-page app with a client router answers its routes with index.html', async () => {
    const run = await deploy(await copyFixture('spa-router'), [], 150_000);
    expect(run.code, run.stderr).toBe(0);
    expect(logsOf(run)).toContain('Single-page app (package.json: dependencies.page): unknown paths are answered with index.html');
    const url = String(resultOf(run).url);
    for (const headers of [{ accept: 'text/html' }, {}] as Array<Record<string, string>>) {
      const route = await get(url, '/trails/ridge', headers);
      expect(route.status).toBe(200);
      expect(route.body).toContain('<h1>spa-router trail log</h1>');
    }
    expect((await get(url, '/assets/missing.js')).status).toBe(404);
  }, 160_000);
});

describe('runtime item 4: a program that runs and exits 0', () => {
  it('ends as a completed deployment whose logs show its output', async () => {
    const run = await deploy(await copyFixture('oneshot-script'));
    expect(run.code, run.stderr).toBe(0);
    const result = resultOf(run);
    const logs = logsOf(run);
    expect(logs).toContain('oneshot-script: report done, 56 records');
    expect(logs).toContain('Deployment completed: the program ran and exited with code 0 (its output is above)');
    const row = await deploymentRow(String(result.deployment_id));
    expect(row).toMatchObject({ status: 'success', message: 'Deployment completed: the program ran and exited with code 0', error_msg: '' });
  }, 60_000);

  it('a worker that exits 1 fails with the line it printed', async () => {
    const dir = path.join(await tempDir('od-conv-crash-'), 'crash-job');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'crash-job', private: true, scripts: { start: 'node job.js' } }));
    await writeFile(path.join(dir, 'job.js'), "console.error('Error: job marker - the queue is unreachable');\nprocess.exit(1);\n");
    const run = await deploy(dir);
    expect(run.code).toBe(5);
    expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: 'runtime_crash' });
    const row = await deploymentRow(String((lastEvent(run)!.details as Record<string, unknown>).deployment_id));
    expect(row).toMatchObject({ status: 'failed', error_msg: 'Process exited with code 1: Error: job marker - the queue is unreachable' });
  }, 60_000);
});

describe('runtime item 5: an app that ignores PORT', () => {
  it('is routed to the port it listens on, with a warning naming the line to change', async () => {
    const run = await deploy(await copyFixture('hardcoded-port'));
    expect(run.code, run.stderr).toBe(0);
    const warning = logsOf(run).find((line) => line.startsWith('The app ignores PORT='));
    expect(warning).toMatch(
      /^The app ignores PORT=\d+ and listens on port 5055: routed to 5055 for this local preview; change server\.js:11 \(`server\.listen\(5055, \(\) => console\.log\('status page on http:\/\/localhost:5055'\)\);`\) to listen on process\.env\.PORT — a hosted deploy sends traffic only to PORT$/,
    );
    expect(await get(String(resultOf(run).url))).toMatchObject({ status: 200, body: 'hello from hardcoded-port on 5055\n' });
  }, 60_000);
});

describe('runtime item 7: databases', () => {
  it('a DATABASE_URL passed with --env-file means no PostgreSQL is provisioned', async () => {
    const app = await copyFixture('express-app');
    const envFile = path.join(await tempDir('od-conv-env-'), 'own-db.env');
    await writeFile(envFile, 'SESSION_SECRET=local-preview-secret-value\nDATABASE_URL=postgresql://app:secret@127.0.0.1:1/app\n');
    const run = await deploy(app, ['--env-file', envFile], 150_000);
    expect(run.code, run.stderr).toBe(0);
    const skipped = run.events.find((event) => event.stage === 'dependency.create');
    expect(skipped).toMatchObject({ message: 'Not provisioning postgres: the app connects with the DATABASE_URL you passed', engine: 'postgres', variable: 'DATABASE_URL' });
    const state = JSON.parse(await readFile(path.join(dataDir, 'state.json'), 'utf8')) as { dependencies: Array<{ project_id: string }>; deployments: Array<{ id: string; project_id: string }> };
    const projectId = state.deployments.find((d) => d.id === resultOf(run).deployment_id)!.project_id;
    expect(state.dependencies.filter((d) => d.project_id === projectId)).toEqual([]);
    expect(await get(String(resultOf(run).url))).toMatchObject({ status: 200, body: 'hello from express-app\n' });
  }, 160_000);
});

describe('runtime item 7: an engine that is not installed', () => {
  const redisInstalled = (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, 'redis-server')));
  it.skipIf(redisInstalled)('says how to install it on this machine or how to pass a connection string, never "open the dashboard"', async () => {
    const run = await deploy(await copyFixture('go-echo'));
    expect(run.code).toBe(5);
    const error = lastEvent(run)!;
    expect(error).toMatchObject({ type: 'error', error_code: 'deploy_failed' });
    expect(String(error.message)).toMatch(
      /^The managed redis database failed to provision\. redis-server: not found on this machine — install Redis (with `(sudo )?[a-z-]+ (install|add|-S) redis(-server)?`|\(the redis-server package on Debian\/Ubuntu, redis with Homebrew\)) to preview this app with its cache locally\. Use a server of yours instead: put REDIS_URL=redis:\/\/host:6379 in a file and deploy with `--vars-file <file>` \(no redis is provisioned then\)\.$/,
    );
    expect(error.next_action).toBe('Do what the message says — install the engine, or pass your own connection string with --vars-file — then run the same command again.');
    expect(JSON.stringify(run.events)).not.toMatch(/dashboard/i);
  }, 60_000);
});
