/**
 * `opendeploy logs` on a real running app: a real (not simulated) local gateway builds and runs a
 * small Node server that prints a line for every request. With no deployment named, `logs` shows
 * the app's output; `--follow` keeps streaming it after the deployment finished (a request made
 * then shows up) until Ctrl-C, which exits 130 with a plain line saying nothing changed; `--build`
 * shows only the build lines of the latest deployment.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway, type LocalGateway } from '../../src/local-gateway/index.js';
import { BIN, errorOf, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const SERVER = `'use strict';
const http = require('node:http');
let count = 0;
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => {
    count += 1;
    console.log('request ' + count + ' ' + req.method + ' ' + req.url);
    res.end('ok\\n');
  })
  .listen(port, '127.0.0.1', () => console.log('logs-app listening on ' + port));
process.on('SIGTERM', () => process.exit(0));
`;

const SECRET = 'runtime-log-secret-5c1d9e77b2';

let gw: LocalGateway;
let token: string;
let app: string;
let home: string;
let url: string;
let deploymentId: string;
let serviceId: string;
let serviceName: string;
let projectId: string;

const env = (): Record<string, string> => ({ OD_GATEWAY: gw.url, OPENDEPLOY_TOKEN: token, OPENDEPLOY_HOME: home });
const cli = (args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliRun> => runCli(args, { cwd: app, env: env(), ...options });

async function api(route: string): Promise<any> {
  const res = await fetch(`${gw.url}${route}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, route).toBe(200);
  return res.json();
}

/** A request to the app through the gateway's proxy (`Host: <label>.localhost:<port>`). */
function hit(appUrl: string, urlPath: string): Promise<number> {
  const target = new URL(appUrl);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(target.port), path: urlPath, headers: { host: target.host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  const dataDir = await tempDir('od-lgw-logs-');
  gw = await startLocalGateway({ port: 0, dataDir, simulate: false, restore: 'none' });
  token = (JSON.parse(await readFile(gw.authFile!, 'utf8')) as { api_key: string }).api_key;
  home = await tempDir('od-home-');
  app = path.join(await tempDir('od-logs-app-'), 'logs-app');
  await mkdir(app);
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'logs-app', version: '1.0.0', private: true, main: 'server.js', scripts: { start: 'node server.js' } }, null, 2));
  await writeFile(path.join(app, 'server.js'), SERVER);
  // A variable whose value must never reach a log through the gateway (the app does not print it).
  const envFile = path.join(await tempDir('od-env-'), 'app.env');
  await writeFile(envFile, `API_SECRET=${SECRET}\n`);
  const deployed = await cli(['deploy', '--env-file', envFile, '--json'], { timeoutMs: 120_000 });
  expect(deployed.code, deployed.stderr).toBe(0);
  const result = lastEvent(deployed)!;
  url = String(result.url);
  deploymentId = String(result.deployment_id);
  const link = (await readProjectJson(app)) as { project_id: string; services: { service_id: string; name: string }[] };
  projectId = link.project_id;
  serviceId = link.services[0]!.service_id;
  serviceName = link.services[0]!.name;
}, 150_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('opendeploy logs on a running app', () => {
  it("with no deployment named: the app's own output, each line with its timestamp and source runtime", async () => {
    expect(await hit(url, '/one-shot')).toBe(200);
    const served = (await api(`/v1/projects/${projectId}/services/${serviceId}/logs?tail=100`)) as { logs: Array<{ timestamp: string; message: string }> };
    const run = await cli(['logs', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.events.filter((event) => event.type === 'log');
    expect(lines.map((line) => [line.timestamp, line.message])).toEqual(served.logs.map((line) => [line.timestamp, line.message]));
    expect(lines.every((line) => line.source === 'runtime')).toBe(true);
    const messages = lines.map((line) => String(line.message));
    expect(messages.some((message) => /^logs-app listening on \d+$/.test(message))).toBe(true);
    expect(messages.filter((message) => message.endsWith(' GET /one-shot'))).toHaveLength(1);
    expect(lastEvent(run)).toEqual({ type: 'result', service_id: serviceId, source: 'runtime', count: lines.length });
  });

  it('the gateway writes no variable value into the service log or the deployment log', async () => {
    const service = await api(`/v1/projects/${projectId}/services/${serviceId}/env`);
    expect(service.variables.API_SECRET).toBe(SECRET);
    const runtime = JSON.stringify(await api(`/v1/projects/${projectId}/services/${serviceId}/logs?tail=10000`));
    const deployment = JSON.stringify(await api(`/v1/deployments/${deploymentId}/logs?tail=10000`));
    expect(runtime).toContain('logs-app listening on');
    expect(runtime).not.toContain(SECRET);
    expect(deployment).not.toContain(SECRET);
  });

  it('--build: only the build lines of the latest deployment', async () => {
    const stored = (await api(`/v1/deployments/${deploymentId}/logs?tail=10000`)) as { logs: Array<{ message: string; source: string }> };
    const build = stored.logs.filter((line) => line.source === 'buildctl');
    expect(build.length).toBeGreaterThan(0);
    // The deployment's log has the app's lines too; --build leaves them out.
    expect(stored.logs.some((line) => line.source === 'runtime')).toBe(true);
    const run = await cli(['logs', '--build', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.events.filter((event) => event.type === 'log');
    expect(lines.map((line) => [line.source, line.message])).toEqual(build.slice(-100).map((line) => ['buildctl', line.message]));
    expect(lastEvent(run)).toEqual({ type: 'result', deployment_id: deploymentId, count: lines.length });
  });

  it('--follow --json streams a line the app printed after the deployment finished, until Ctrl-C (exit 130, interrupted)', { timeout: 60_000 }, async () => {
    const finished = Date.parse(String(((await api(`/v1/deployments/${deploymentId}`)) as { completed_at: string }).completed_at));
    const marker = `/after-deploy-${Date.now()}`;
    let requested = false;
    const run = await cli(['logs', '--follow', '--tail', '1', '--json'], {
      onEvent: (event, child) => {
        if (event.type !== 'log') return;
        // The tail arrived: the stream is open. Ask the app for something new.
        if (!requested) {
          requested = true;
          void hit(url, marker);
        }
        if (String(event.message).endsWith(` GET ${marker}`)) child.kill('SIGINT');
      },
    });
    expect(run.code, run.stderr).toBe(130);
    const lines = run.events.filter((event) => event.type === 'log');
    expect(lines).toHaveLength(2);
    const live = lines[1]!;
    expect(live).toMatchObject({ type: 'log', level: 'info', source: 'runtime' });
    expect(String(live.message)).toMatch(new RegExp(`^request \\d+ GET ${marker}$`));
    expect(Date.parse(String(live.timestamp))).toBeGreaterThan(finished);
    expect(errorOf(run)).toMatchObject({
      type: 'error',
      error_code: 'interrupted',
      message: `Stopped following the logs of ${serviceName}; nothing was changed.`,
      next_action: 'Run `opendeploy logs --follow` to follow again.',
    });
  });

  it('from another folder with --project/--service, the follow-again command carries them', { timeout: 60_000 }, async () => {
    const elsewhere = await tempDir('od-unlinked-');
    const run = await cli(['logs', '--follow', '--tail', '1', '--json', '--project', projectId, '--service', serviceId], {
      cwd: elsewhere,
      onEvent: (event, child) => {
        if (event.type === 'log') child.kill('SIGINT');
      },
    });
    expect(run.code, run.stderr).toBe(130);
    expect(errorOf(run)).toMatchObject({
      error_code: 'interrupted',
      next_action: `Run \`opendeploy logs --follow --project ${projectId} --service ${serviceId}\` to follow again.`,
    });
  });

  it('Ctrl-C on a person\'s logs --follow: the lines on stdout, then a plain line on stderr saying nothing changed (no error mark), exit 130', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [BIN, 'logs', '--follow', '--tail', '1'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1', ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const marker = `/person-${Date.now()}`;
    await new Promise<void>((resolve) => {
      let requested = false;
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (!requested && stdout.includes('\n')) {
          requested = true;
          void hit(url, marker);
        }
        if (stdout.includes(` GET ${marker}\n`)) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z  request \\d+ GET ${marker}$`));
    expect(stderr).toBe(`Stopped following the logs of ${serviceName}; nothing was changed.\n  Run \`opendeploy logs --follow\` to follow again.\n`);
  });
});
