/**
 * `opendeploy open` of a folder deployed to the local gateway: while a gateway serves the data
 * folder it gives the dashboard page (which answers) and the app URL; once that gateway is stopped
 * the command can still read the project (through a gateway of its own, which stops when it
 * returns), so instead of a link to a port nothing listens on it says no local gateway is running and
 * how to start one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { proxyStatus } from '../helpers/proxy-status.js';

let dataDir: string;
let home: string;
let app: string;
let deployed: Record<string, unknown>;

const run = (args: string[]): Promise<CliRun> => runCli(args, { cwd: app, env: { OPENDEPLOY_HOME: home } });

function oneLine(result: CliRun): Record<string, unknown> {
  const lines = result.stdout.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.length, result.stdout).toBe(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

beforeAll(async () => {
  dataDir = await tempDir('od-open-gw-');
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const deploy = await runCli(['deploy', '--local', '--detach', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home }, timeoutMs: 90_000 });
  expect(deploy.code, deploy.stderr).toBe(0);
  deployed = lastEvent(deploy)!;
  expect(String(deployed.url)).toMatch(/^http:\/\/[a-z0-9-]+\.localhost:\d+$/);
}, 120_000);

afterAll(async () => {
  await runCli(['local-gateway', '--stop', '--data-dir', dataDir]);
  await cleanupTempDirs();
});

describe('open of a local project', () => {
  it('while its gateway runs: the dashboard page, which answers, and the app URL', async () => {
    const dashboard = await run(['open', '--dashboard', '--local', '--data-dir', dataDir, '--json']);
    expect(dashboard.code, dashboard.stderr).toBe(0);
    expect(oneLine(dashboard)).toEqual({ type: 'result', url: deployed.dashboard_url, kind: 'dashboard', project_id: deployed.project_id, service_id: null, opened: false });
    expect(await proxyStatus(String(deployed.dashboard_url))).toBe(200);

    const appUrl = await run(['open', '--print']);
    expect(appUrl.code, appUrl.stderr).toBe(0);
    expect(appUrl.stdout).toBe(`${String(deployed.url)}\n`);
  });

  it('once its gateway is stopped: no dead link; says no gateway runs and how to start it', async () => {
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await proxyStatus(String(deployed.dashboard_url))).toBe(0);
    const start = `opendeploy local-gateway --data-dir ${dataDir}`;
    const projectId = String(deployed.project_id);

    const json = await run(['open', '--dashboard', '--local', '--data-dir', dataDir, '--json']);
    expect(json.code).toBe(6);
    expect(oneLine(json)).toEqual({
      type: 'error',
      error_code: 'gateway_unreachable',
      message: `No local gateway is running for project ${projectId}, so nothing serves the project's dashboard page; nothing was opened.`,
      retryable: false,
      next_action: `Start it with \`${start}\` (it restarts the current releases and prints their URLs; Ctrl-C stops it), then run \`opendeploy open --dashboard --local --data-dir ${dataDir}\` again.`,
      details: { project_id: projectId, service_id: null, local_gateway: { running: false, start_command: start } },
    });

    // Without flags: the folder's link remembers the data folder, and the command names it.
    const human = await run(['open', '--dashboard', '--no-color']);
    expect(human.code).toBe(6);
    expect(human.stdout).toBe('');
    expect(human.stderr).toBe(
      `✖ No local gateway is running for project ${projectId}, so nothing serves the project's dashboard page; nothing was opened.\n` +
        `  → Start it with \`${start}\` (it restarts the current releases and prints their URLs; Ctrl-C stops it), then run \`opendeploy open --dashboard\` again.\n`,
    );

    // The app URL is just as dead.
    const appUrl = await run(['open', '--print', '--json']);
    expect(appUrl.code).toBe(6);
    expect(oneLine(appUrl)).toMatchObject({
      error_code: 'gateway_unreachable',
      message: `No local gateway is running for project ${projectId}, so nothing serves the project's apps; nothing was opened.`,
      details: { project_id: projectId, service_id: deployed.service_id, local_gateway: { running: false, start_command: start } },
    });
    expect(json.stdout + human.stderr + appUrl.stdout).not.toMatch(/localhost:\d+/);
  });
});
