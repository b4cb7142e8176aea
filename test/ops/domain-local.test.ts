import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { resultOf } from '../helpers/json-result.js';
import { resultErrors } from '../helpers/published-schema.js';

/**
 * `domain check` against the local gateway speaks of the names it serves apps under,
 * `<prefix>.localhost:<port>`, never of opendeploy.run: with a gateway running, its port; with none
 * running (the command reads through a gateway of its own), the name without a port that would die.
 */

let dataDir: string;
let home: string;
let app: string;
let port: string;
let label: string;

function check(prefix: string, json: boolean): Promise<CliRun> {
  return runCli(['domain', 'check', prefix, '--local', '--data-dir', dataDir, ...(json ? ['--json'] : [])], { cwd: app, env: { OPENDEPLOY_HOME: home } });
}

beforeAll(async () => {
  dataDir = await tempDir('od-domain-gw-');
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await runCli(['deploy', '--local', '--detach', '--data-dir', dataDir, '--json'], { cwd: app, env: { OPENDEPLOY_HOME: home }, timeoutMs: 90_000 });
  expect(run.code, run.stderr).toBe(0);
  const url = new URL(String(lastEvent(run)!.url));
  port = url.port;
  label = url.hostname.split('.')[0]!;
}, 120_000);

afterAll(async () => {
  await runCli(['local-gateway', '--stop', '--data-dir', dataDir]);
  await cleanupTempDirs();
});

describe('domain check on the local gateway', () => {
  it('a free prefix: <prefix>.localhost:<port of the running gateway>', async () => {
    const json = await check('shop-local', true);
    expect(json.code, json.stderr).toBe(0);
    expect(resultOf(json)).toMatchObject({ subdomain: 'shop-local', domain: `shop-local.localhost:${port}`, available: true, reason: null, local: true });
    expect(resultErrors('result.domain_check', resultOf(json))).toBeNull();
    const human = await check('shop-local', false);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe(`shop-local.localhost:${port} is free on this machine's local gateway (claim it with \`opendeploy domain rename shop-local\`).\n`);
  });

  it("the deployed app's own name is taken; a reserved one is reserved; neither mentions opendeploy.run", async () => {
    const taken = await check(label, false);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toBe(`${label}.localhost:${port} is taken on this machine's local gateway; pick another prefix.\n`);
    const reserved = await check('api', false);
    expect(reserved.code, reserved.stderr).toBe(0);
    expect(reserved.stdout).toBe(`api.localhost:${port} is reserved for the platform, here too; pick another prefix.\n`);
    for (const run of [taken, reserved]) expect(run.stdout + run.stderr).not.toContain('opendeploy.run');
  });

  it('with no gateway running: the name, and no port that would die with the command', async () => {
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir]);
    expect(stop.code, stop.stderr).toBe(0);
    const json = await check('shop-local', true);
    expect(json.code, json.stderr).toBe(0);
    expect(resultOf(json)).toMatchObject({ subdomain: 'shop-local', domain: 'shop-local.localhost', available: true, local: true });
    const human = await check('shop-local', false);
    expect(human.stdout).toBe("shop-local.localhost:<port of the local gateway> is free on this machine's local gateway (claim it with `opendeploy domain rename shop-local`).\n");
  });
});
