import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { resultOf } from '../helpers/json-result.js';
import { proxyStatus } from '../helpers/proxy-status.js';
import { resultErrors } from '../helpers/published-schema.js';

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
    const report = resultOf(run);
    const services = report.services as { name: string; url: string | null }[];
    expect(services.map((s) => s.url)).toEqual([deployed.url]);
    expect(report.dashboard_url).toBe(deployed.dashboard_url);
    expect('local_gateway' in report).toBe(false);
    expect(resultErrors('result.status', report)).toBeNull();
    expect(await proxyStatus(String(deployed.url))).toBe(200);
    expect(await proxyStatus(String(deployed.dashboard_url))).toBe(200);
  });

  it('once its gateway is stopped: no dead URL, says the gateway is not running and how to start it', async () => {
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await proxyStatus(String(deployed.url))).toBe(0);

    const json = await runCli(['status', '--local', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home } });
    expect(json.code, json.stderr).toBe(0);
    const report = resultOf(json);
    const project = report.project as { id: string; name: string };
    expect(project.id).toBe(deployed.project_id);
    expect((report.services as { url: string | null }[]).map((s) => s.url)).toEqual([null]);
    expect(report.dashboard_url).toBeNull();
    expect(report.local_gateway).toEqual({ running: false, start_command: `opendeploy local-gateway --data-dir ${dataDir}` });
    expect(json.stdout).not.toMatch(/localhost:\d+/);
    expect(resultErrors('result.status', report)).toBeNull();

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
