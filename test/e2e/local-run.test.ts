/**
 * `--local` deployments that really run (issue 5): the real CLI, the real local gateway, real app
 * processes. Slow by nature (an `npm ci`, a PostgreSQL initdb), so the list is short: one foreground
 * `deploy --local`, four fixture apps on a separately running `opendeploy local-gateway`, three
 * failures and their triage, a zero-downtime redeploy, a restart of the gateway, and no process left
 * behind after each stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

const children: ChildProcess[] = [];
const gatewayDirs: string[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // As root, PostgreSQL keeps its data in the system temp folder (it refuses to run as root).
  for (const dir of gatewayDirs) {
    const state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8').catch(() => '{}')) as { dependencies?: Array<{ id: string }> };
    for (const dep of state.dependencies ?? []) await rm(path.join(os.tmpdir(), `opendeploy-pg-${dep.id}`), { recursive: true, force: true });
  }
  await cleanupTempDirs();
});

/** GET through the gateway's proxy: to 127.0.0.1:<port> with `Host: <label>.localhost:<port>`. */
function get(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string; type: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: Number(target.port), path: target.pathname, headers: { host: target.host }, agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every pid runtime.json lists right now (apps, databases). */
function recordedPids(dataDir: string): number[] {
  try {
    const file = JSON.parse(readFileSync(path.join(dataDir, 'runtime.json'), 'utf8')) as { processes: Array<{ pid: number }> };
    return file.processes.map((p) => p.pid);
  } catch {
    return [];
  }
}

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface GatewayProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
  stop(): Promise<number | null>;
}

async function startGatewayProcess(dataDir: string): Promise<GatewayProcess> {
  gatewayDirs.push(dataDir);
  const child = spawn(process.execPath, [BIN, 'local-gateway', '--port', '0', '--data-dir', dataDir, '--json'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then(() => reject(new Error(`local-gateway exited early: ${stdout}${stderr}`)));
  });
  return {
    child,
    url: String(ready.url),
    port: Number(ready.port),
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `<label>.localhost:<port>` of a deploy result, re-pointed at another gateway port. */
function onPort(url: string, port: number): string {
  const target = new URL(url);
  target.port = String(port);
  return target.toString();
}

function resultOf(run: CliRun): Record<string, unknown> {
  const result = run.events.find((event) => event.type === 'result');
  if (!result) throw new Error(`no result line (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return result;
}

function postgresInstalled(): boolean {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, 'initdb')));
  return onPath || existsSync('/usr/lib/postgresql');
}

describe('opendeploy deploy --local (in-process gateway, foreground)', () => {
  it('prints the result once the app answers, serves it until Ctrl-C, then stops it and exits 0', async () => {
    const dataDir = await tempDir('od-fg-');
    const app = await copyFixture('node-http');
    const child = spawn(process.execPath, [BIN, 'deploy', app, '--local', '--data-dir', dataDir, '--json', '--foreground'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1', OPENDEPLOY_HOME: await tempDir('od-home-') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        const line = stdout.split('\n').find((candidate) => candidate.includes('"type":"result"'));
        if (line) resolve(JSON.parse(line) as Record<string, unknown>);
      });
      void exited.then((code) => reject(new Error(`deploy exited (${code}) before its result:\n${stdout}\n${stderr}`)));
    });
    expect(result).toMatchObject({ type: 'result', status: 'success' });
    expect(String(result.url)).toMatch(/^http:\/\/[a-z0-9]+\.localhost:\d+$/);
    const page = await get(String(result.url));
    expect(page).toMatchObject({ status: 200, body: 'hello from node-http\n' });

    const pids = recordedPids(dataDir);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every(alive)).toBe(true);
    // Still serving while in the foreground.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await get(String(result.url))).status).toBe(200);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(stderr).toContain('press Ctrl-C to stop it');
    // stdout ends with the result line: app output went to stderr.
    expect(stdout.trim().split('\n').at(-1)).toContain('"type":"result"');
  }, 60_000);

  it('--detach returns once the app is live and leaves it to a background gateway until --stop', async () => {
    const dataDir = await tempDir('od-detach-');
    const run = await runCli(['deploy', await copyFixture('static-site'), '--local', '--detach', '--data-dir', dataDir, '--json'], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-') },
    });
    expect(run.code, run.stderr).toBe(0);
    const url = String(resultOf(run).url);
    expect((await get(url)).body).toContain('hello from static-site');
    const gatewayPid = (JSON.parse(readFileSync(path.join(dataDir, 'gateway.json'), 'utf8')) as { pid: number }).pid;
    expect(alive(gatewayPid)).toBe(true);
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ status: 'stopped', pid: gatewayPid });
    expect(alive(gatewayPid)).toBe(false);
    expect(await get(url).catch(() => 'refused')).toBe('refused');
  }, 60_000);
});

describe('a separately running opendeploy local-gateway', () => {
  let gw: GatewayProcess;
  let dataDir: string;
  let home: string;
  const urls: Record<string, string> = {};
  const seenPids = new Set<number>();
  const deploy = async (app: string, extra: string[] = [], timeoutMs = 60_000): Promise<CliRun> => {
    const run = await runCli(['deploy', app, '--local', '--data-dir', dataDir, '--json', ...extra], { env: { OPENDEPLOY_HOME: home }, timeoutMs });
    for (const pid of recordedPids(dataDir)) seenPids.add(pid);
    return run;
  };

  it('starts, and deploy --local uses it and returns once the app is live', async () => {
    dataDir = await tempDir('od-lgw-real-');
    home = await tempDir('od-home-');
    gw = await startGatewayProcess(dataDir);
    const run = await deploy(await copyFixture('python-http'));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Using the running local gateway');
    const result = resultOf(run);
    // A real local preview has no account to claim.
    expect(result.claim_url).toBeNull();
    urls['python-http'] = String(result.url);
    expect(await get(urls['python-http'])).toMatchObject({ status: 200, body: 'hello from python-http\n' });
  }, 60_000);

  it('serves a static site with the built-in file server (content types, no traversal)', async () => {
    const run = await deploy(await copyFixture('static-site'));
    expect(run.code).toBe(0);
    const url = (urls['static-site'] = String(resultOf(run).url));
    const index = await get(url);
    expect(index.status).toBe(200);
    expect(index.type).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('<h1>hello from static-site</h1>');
    expect((await get(`${url}/style.css`)).type).toBe('text/css; charset=utf-8');
    expect((await get(`${url}/..%2f..%2fstate.json`)).status).toBe(404);
  }, 60_000);

  it('runs npm ci and the app of express-app, with its PostgreSQL when one is installed', async () => {
    const app = await copyFixture('express-app');
    const envFile = path.join(await tempDir('od-env-'), 'express.env');
    await writeFile(envFile, 'SESSION_SECRET=local-preview-secret-value\n');
    const run = await deploy(app, ['--env-file', envFile], 150_000);
    if (!postgresInstalled()) {
      // Never a pretend database: without PostgreSQL the dependency fails and says why.
      expect(run.code).toBe(5);
      expect(JSON.stringify(lastEvent(run))).toContain('postgres');
      return;
    }
    expect(run.code).toBe(0);
    const url = (urls['express-app'] = String(resultOf(run).url));
    expect(await get(url)).toMatchObject({ status: 200, body: 'hello from express-app\n' });
    // /healthz runs SELECT 1 against the real database.
    expect(await get(`${url}/healthz`)).toMatchObject({ status: 200, body: '{"status":"ok"}' });
  }, 160_000);

  it('a build failure, a crash on start and a wrong port fail with the real cause, and triage names it', async () => {
    const root = await tempDir('od-broken-');
    const write = async (name: string, files: Record<string, string>): Promise<string> => {
      const dir = path.join(root, name);
      await mkdir(dir, { recursive: true });
      for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
      return dir;
    };
    const pkg = (name: string, scripts: Record<string, string>): string => JSON.stringify({ name, version: '1.0.0', private: true, scripts });
    const server = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT || 3000));\n";
    const apps = {
      buildfail: await write('buildfail', {
        'package.json': pkg('buildfail', { build: 'node build.js', start: 'node server.js' }),
        'build.js': "console.error('Error: build marker - the build is broken on purpose');\nprocess.exit(1);\n",
        'server.js': server,
      }),
      crash: await write('crash', {
        'package.json': pkg('crash', { start: 'node server.js' }),
        'server.js': "const port = Number(process.env.PORT || 3000);\nconsole.log('starting on ' + port);\nthrow new Error('crash marker: cannot start');\n",
      }),
      // Listens elsewhere and never answers HTTP there (an app answering HTTP on its own port is routed to it instead).
      wrongport: await write('wrongport', {
        'package.json': pkg('wrongport', { start: 'node server.js' }),
        'server.js':
          // Port 0: a free port the system picks (PORT + 1 could be taken, which made this test flaky).
          "const port = Number(process.env.PORT || 3000);\nconst s = require('node:net').createServer(() => undefined);\ns.listen(0, '127.0.0.1', () => console.log('listening on port ' + s.address().port + ', not ' + port));\n",
      }),
    };
    const runs = {
      buildfail: await deploy(apps.buildfail),
      crash: await deploy(apps.crash),
      wrongport: await deploy(apps.wrongport),
    };
    const expectations = {
      buildfail: { code: 'build_failed', log: 'Error: build marker - the build is broken on purpose', error: 'Build failed: `npm run build` exited with code 1', triage: ['E1'] },
      crash: { code: 'runtime_crash', log: 'Error: crash marker: cannot start', error: 'Process exited with code 1: Error: crash marker: cannot start', triage: ['F6'] },
      wrongport: { code: 'runtime_crash', log: 'No process listening on port', error: 'No process listening on port', triage: ['F1', 'F3', 'F4'] },
    } as const;
    for (const name of ['buildfail', 'crash', 'wrongport'] as const) {
      const run = runs[name];
      const want = expectations[name];
      expect(run.code, `${name}: ${run.stderr}`).toBe(5);
      expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: want.code });
      // The real output arrived as log lines while watching.
      const logs = run.events.filter((event) => event.type === 'log').map((event) => String(event.message));
      expect(logs.some((line) => line.includes(want.log)), `${name} logs:\n${logs.join('\n')}`).toBe(true);
      const deploymentId = String((lastEvent(run)!.details as Record<string, unknown>).deployment_id);
      const state = JSON.parse(await readFile(path.join(dataDir, 'state.json'), 'utf8')) as { deployments: Array<Record<string, unknown>> };
      const row = state.deployments.find((d) => d.id === deploymentId)!;
      expect(row.status).toBe('failed');
      expect(String(row.error_msg)).toContain(want.error);

      const triage = await runCli(['triage', '--local', '--data-dir', dataDir, '--json'], { cwd: apps[name], env: { OPENDEPLOY_HOME: home } });
      expect(triage.code, triage.stderr).toBe(0);
      const report = JSON.parse(triage.stdout) as Record<string, unknown>;
      expect(report.deployment_id).toBe(deploymentId);
      expect(want.triage).toContain(report.cause_id);
    }
    // The wrong-port verdict names the port the app really listens on.
    const wrongLogs = runs.wrongport.events.filter((event) => event.type === 'log').map((event) => String(event.message));
    expect(wrongLogs.some((line) => /^The app listens on port \d+ instead of PORT=\d+$/.test(line))).toBe(true);
  }, 120_000);

  it('a redeploy switches the content with no failed request in between', async () => {
    const app = await copyFixture('node-http');
    const first = await deploy(app);
    expect(first.code).toBe(0);
    const url = (urls['node-http'] = String(resultOf(first).url));
    expect((await get(url)).body).toBe('hello from node-http\n');

    const serverJs = path.join(app, 'server.js');
    await writeFile(serverJs, (await readFile(serverJs, 'utf8')).replace('hello from node-http', 'hello again from node-http v2'));
    const responses: Array<{ status: number; body: string }> = [];
    let done = false;
    const load = (async () => {
      while (!done) {
        responses.push(await get(url).catch((error: Error) => ({ status: 0, body: error.message })));
      }
    })();
    const second = await deploy(app);
    // Keep going while the old release drains and stops.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    done = true;
    await load;
    expect(second.code).toBe(0);
    expect(resultOf(second).url).toBe(url);
    expect(responses.length).toBeGreaterThan(10);
    const bad = responses.filter((r) => r.status !== 200 || !['hello from node-http\n', 'hello again from node-http v2\n'].includes(r.body));
    expect(bad).toEqual([]);
    expect(responses.at(-1)!.body).toBe('hello again from node-http v2\n');
    expect(responses.some((r) => r.body === 'hello from node-http\n')).toBe(true);

    // Renaming the subdomain changes the routed host name.
    const rename = await runCli(['domain', 'rename', 'node-preview', '--local', '--data-dir', dataDir, '--yes', '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home } });
    expect(rename.code, rename.stdout + rename.stderr).toBe(0);
    const renamed = `http://node-preview.localhost:${gw.port}`;
    expect(await get(renamed)).toMatchObject({ status: 200, body: 'hello again from node-http v2\n' });
    expect((await get(url)).status).toBe(502);
    urls['node-http'] = renamed;
  }, 90_000);

  it('stops everything it ran on SIGTERM, restarts the live releases on the next start, and stops them again', async () => {
    for (const pid of recordedPids(dataDir)) seenPids.add(pid);
    expect(seenPids.size).toBeGreaterThanOrEqual(3);
    expect(await gw.stop()).toBe(0);
    expect([...seenPids].filter(alive)).toEqual([]);
    expect(await get(onPort(urls['node-http']!, gw.port)).catch(() => 'refused')).toBe('refused');

    gw = await startGatewayProcess(dataDir);
    await waitFor(() => (gw.stderr().includes('Restarted node-http') ? true : undefined), 60_000, 'the restart notice');
    expect((await get(onPort(urls['node-http']!, gw.port))).body).toBe('hello again from node-http v2\n');
    // Every live release comes back (express-app with its database, when PostgreSQL is installed).
    const live = ['node-http', 'python-http', 'static-site', ...(urls['express-app'] ? ['express-app'] : [])];
    await waitFor(() => (live.every((name) => gw.stderr().includes(`Restarted ${name} → `)) ? true : undefined), 60_000, `restarts:\n${gw.stderr()}`);
    expect((await get(onPort(urls['python-http']!, gw.port))).body).toBe('hello from python-http\n');
    expect((await get(onPort(urls['static-site']!, gw.port))).body).toContain('hello from static-site');
    if (urls['express-app']) expect((await get(`${onPort(urls['express-app'], gw.port)}healthz`)).body).toBe('{"status":"ok"}');
    // An unknown host is a 502 with a short text body.
    const unknown = await get(`http://nothing-here.localhost:${gw.port}/`);
    expect(unknown.status).toBe(502);
    expect(unknown.body).toMatch(/^502 Bad Gateway: /);

    const restarted = recordedPids(dataDir);
    expect(restarted.length).toBeGreaterThan(0);
    expect(await gw.stop()).toBe(0);
    expect(restarted.filter(alive)).toEqual([]);
  }, 120_000);
});
