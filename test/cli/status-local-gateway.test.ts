import { get } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, REPO_ROOT, runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/**
 * `status` of a folder deployed to the local gateway: while a gateway serves the data folder it
 * reports the live URL; once that gateway is stopped the command can still read the project (through
 * a gateway of its own), but nothing serves the app, so instead of a URL on a port that dies with the
 * command it says the gateway is not running and how to start it.
 */

let dataDir: string;
let home: string;
let app: string;
let deployed: Record<string, unknown>;

/** The one JSON document a one-shot command prints (a single line, or an indented object). */
/** Whether a result line is valid against the published JSON Schema of this command's result. */
async function matchesPublishedSchema(line: Record<string, unknown>): Promise<boolean> {
  const published = JSON.parse(await readFile(path.join(REPO_ROOT, 'schema', 'opendeploy-json.schema.json'), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addSchema(published, 'opendeploy');
  const validate = ajv.getSchema('opendeploy#/$defs/result.status')!;
  const valid = validate({ type: 'result', ...line }) === true;
  if (!valid) console.error(JSON.stringify(validate.errors));
  return valid;
}

function documentOf(run: CliRun): Record<string, unknown> {
  const text = run.stdout.trim();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return JSON.parse(text.split('\n').at(-1)!) as Record<string, unknown>;
  }
}

/** The HTTP status of a GET through the gateway's proxy (127.0.0.1 with the URL's Host); 0 when nothing answers. */
function statusOf(url: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port: Number(target.port), path: target.pathname, headers: { host: target.host }, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

beforeAll(async () => {
  dataDir = await tempDir('od-status-gw-');
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await runCli(['deploy', '--local', '--detach', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home }, timeoutMs: 90_000 });
  expect(run.code, run.stderr).toBe(0);
  deployed = lastEvent(run)!;
  expect(String(deployed.url)).toMatch(/^http:\/\/[a-z0-9-]+\.localhost:\d+$/);
}, 120_000);

afterAll(async () => {
  await runCli(['local-gateway', '--stop', '--data-dir', dataDir]);
  await cleanupTempDirs();
});

describe('status of a local project', () => {
  it('while its gateway runs: the live URL and the dashboard page', async () => {
    const run = await runCli(['status', '--local', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home } });
    expect(run.code, run.stderr).toBe(0);
    const report = documentOf(run);
    const services = report.services as { name: string; url: string | null }[];
    expect(services.map((s) => s.url)).toEqual([deployed.url]);
    expect(report.dashboard_url).toBe(deployed.dashboard_url);
    expect('local_gateway' in report).toBe(false);
    expect(await matchesPublishedSchema(report)).toBe(true);
    expect(await statusOf(String(deployed.url))).toBe(200);
    expect(await statusOf(String(deployed.dashboard_url))).toBe(200);
  });

  it('once its gateway is stopped: no dead URL, says the gateway is not running and how to start it', async () => {
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await statusOf(String(deployed.url))).toBe(0);

    const json = await runCli(['status', '--local', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home } });
    expect(json.code, json.stderr).toBe(0);
    const report = documentOf(json);
    const project = report.project as { id: string; name: string };
    expect(project.id).toBe(deployed.project_id);
    expect((report.services as { url: string | null }[]).map((s) => s.url)).toEqual([null]);
    expect(report.dashboard_url).toBeNull();
    expect(report.local_gateway).toEqual({ running: false, start_command: `opendeploy local-gateway --data-dir ${dataDir}` });
    expect(json.stdout).not.toMatch(/localhost:\d+/);
    expect(await matchesPublishedSchema(report)).toBe(true);

    // Without the flags: the folder's link remembers the data folder, and the command names it.
    const human = await runCli(['status'], { cwd: app, env: { OPENDEPLOY_HOME: home } });
    expect(human.code, human.stderr).toBe(0);
    const text = human.stdout + human.stderr;
    expect(text).not.toMatch(/localhost:\d+/);
    expect(text).not.toContain('dashboard ');
    expect(text).toContain('(not served: local gateway stopped)');
    expect(text).toContain(
      [
        "local gateway      not running: nothing serves this project's apps now",
        `  Start it with \`opendeploy local-gateway --data-dir ${dataDir}\` (it restarts the current releases and prints their URLs; Ctrl-C stops it).`,
      ].join('\n'),
    );
  });
});
