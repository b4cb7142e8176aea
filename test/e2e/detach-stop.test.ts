import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/**
 * `deploy --local --detach` leaves the app in a background local gateway: the result says how to
 * stop it (`stop_command`, and a `stop` line for people), naming the data folder the run named.
 */

const stopAfter: string[] = [];
afterAll(async () => {
  for (const dir of stopAfter) await runCli(['local-gateway', '--stop', '--data-dir', dir, '--json']);
  await cleanupTempDirs();
});

describe('deploy --local --detach', () => {
  it('the result carries the command that stops the background gateway, and it works', async () => {
    const dataDir = await tempDir('od-detach-stop-');
    stopAfter.push(dataDir);
    const home = await tempDir('od-home-');
    const app = await copyFixture('static-site');
    const run = await runCli(['deploy', app, '--local', '--detach', '--data-dir', dataDir, '--json'], { env: { OPENDEPLOY_HOME: home } });
    expect(run.code, run.stderr).toBe(0);
    const result = lastEvent(run)!;
    expect(result.type).toBe('result');
    expect(result.stop_command).toBe(`opendeploy local-gateway --stop --data-dir ${dataDir}`);

    // Run again for a person: the gateway is already running in the background, so the line is there too.
    const human = await runCli(['deploy', app, '--local', '--detach', '--data-dir', dataDir], { env: { OPENDEPLOY_HOME: home } });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split('\n')).toContain(`  stop        opendeploy local-gateway --stop --data-dir ${dataDir}  (the app keeps running in the background local gateway until then)`);

    const pid = (JSON.parse(readFileSync(path.join(dataDir, 'gateway.json'), 'utf8')) as { pid: number }).pid;
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ status: 'stopped', pid });
  }, 90_000);

  it('in the deployed folder, local-gateway --stop without --data-dir stops the gateway of the folder it remembers', async () => {
    const dataDir = await tempDir('od-detach-remembered-');
    stopAfter.push(dataDir);
    const home = await tempDir('od-home-');
    const app = await copyFixture('static-site');
    const run = await runCli(['deploy', '--local', '--detach', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home } });
    expect(run.code, run.stderr).toBe(0);
    const pid = (JSON.parse(readFileSync(path.join(dataDir, 'gateway.json'), 'utf8')) as { pid: number }).pid;
    const stop = await runCli(['local-gateway', '--stop', '--json'], { cwd: app });
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toEqual({ type: 'result', status: 'stopped', pid, data_dir: dataDir });
  }, 90_000);

  it('a deploy whose gateway lives only as long as the command has no stop command', async () => {
    const home = await tempDir('od-home-');
    const run = await runCli(['deploy', await copyFixture('static-site'), '--local', '--data-dir', await tempDir('od-fg-'), '--json'], {
      env: { OPENDEPLOY_HOME: home, OD_LOCAL_SIMULATE: '1' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(lastEvent(run)!.type).toBe('result');
    expect('stop_command' in lastEvent(run)!).toBe(false);
  }, 60_000);
});
