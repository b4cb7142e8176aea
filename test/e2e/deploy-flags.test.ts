import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { readProjectJson } from '../helpers/linked-app.js';

/**
 * Deploy flags for programs: `--no-wait` returns once the deployment exists (and a re-run follows
 * it), `--output url` makes stdout the URL alone, and `--local --json` with no terminal attached
 * detaches instead of serving the app in the foreground until killed.
 */

let gw: TestGateway;
// One credential for every run against the test gateway: it mints one key per machine.
let home: string;
const stopAfter: string[] = [];

beforeAll(async () => {
  // Builds slow enough that a --no-wait run returns while the deployment is still pending.
  gw = await startTestGateway({ buildDurationMs: 1500 });
  home = await tempDir('od-home-');
});

afterAll(async () => {
  await gw.close();
  for (const dir of stopAfter) await runCli(['local-gateway', '--stop', '--data-dir', dir, '--json']);
  await cleanupTempDirs();
});

async function projectJson(app: string): Promise<Record<string, unknown>> {
  return readProjectJson(app);
}

/** Claims the shared credential, so each later test may create its own project. */
let bound = false;
async function claimCredential(): Promise<void> {
  if (bound) return;
  const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as { agent_id: string; bind_sig: string };
  await gw.bindAgent(auth.agent_id, auth.bind_sig);
  bound = true;
}

const deploymentPosts = async (): Promise<number> => (await gw.requests()).filter((r) => r.method === 'POST' && r.path.endsWith('/v1/deployments/')).length;

describe('deploy --no-wait', () => {
  it('returns once the deployment is created, saves it, and the next run follows it instead of starting another', async () => {
    const app = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home };
    await gw.clearRequests();
    const run = await runCli(['deploy', app, '--yes', '--no-wait', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const result = lastEvent(run)!;
    expect(Object.keys(result).sort()).toEqual(
      ['claim_url', 'dashboard_url', 'deployment_id', 'deployment_status', 'follow_command', 'missing_required_vars', 'project_id', 'service_id', 'status', 'type'].sort(),
    );
    const id = String(result.deployment_id);
    expect(result.status).toBe('started');
    expect(result.deployment_status).toBe('pending');
    expect(result.follow_command).toBe(`opendeploy logs ${id} --follow`);
    expect(result.dashboard_url).toBe(`${gw.origin}/projects/${String(result.project_id)}`);
    expect(result.missing_required_vars).toEqual([]);
    // Nothing was followed: no watch stage, no domain read.
    const stages = run.events.filter((event) => event.type === 'stage').map((event) => event.stage);
    expect(stages).not.toContain('deploy.watch');
    expect(stages).not.toContain('deploy.terminal');
    expect(await deploymentPosts()).toBe(1);
    const saved = (await projectJson(app)).last_deployment as Record<string, unknown>;
    expect(saved.id).toBe(id);
    expect(saved.status).toBe('pending');
    expect(saved.service_id).toBe(result.service_id);

    // The same folder again: the running deployment is followed to its end, none is created.
    const again = await runCli(['deploy', app, '--yes', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const followed = lastEvent(again)!;
    expect(followed.status).toBe('success');
    expect(followed.deployment_id).toBe(id);
    expect(again.events.find((event) => event.stage === 'deploy.create')).toMatchObject({ type: 'stage', status: 'skipped', deployment_id: id });
    expect(await deploymentPosts()).toBe(1);
  }, 60_000);

  it("a person's run prints the follow command with the run's target flags", async () => {
    await claimCredential();
    const app = await copyFixture('static-site');
    const run = await runCli(['deploy', app, '--yes', '--no-wait', '--env', 'staging'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code, run.stderr).toBe(0);
    const id = String(((await projectJson(app)).last_deployment as Record<string, unknown>).id);
    const lines = run.stdout.split('\n');
    expect(lines).toContain(`  deployment  ${id}  pending`);
    expect(lines).toContain(`  follow      opendeploy logs ${id} --follow --env staging`);
    expect(lines).toContain('  Running `opendeploy` again on the unchanged folder also follows it instead of starting another deployment.');
  }, 60_000);

  it('--local without a background gateway is refused: the in-process gateway would stop with the command', async () => {
    const run = await runCli(['deploy', await copyFixture('static-site'), '--local', '--no-wait', '--data-dir', await tempDir('od-nw-'), '--json'], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-'), OD_LOCAL_SIMULATE: '1' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(lastEvent(run)).toMatchObject({
      type: 'error',
      error_code: 'invalid_input',
      message: '--no-wait returns before the deployment ends, but this local gateway stops when the command does.',
      next_action: 'Add --detach to run the app in a background local gateway.',
    });
  }, 60_000);
});

describe('deploy --output url', () => {
  it('prints the live URL alone on stdout; the report goes to stderr', async () => {
    await claimCredential();
    const app = await copyFixture('static-site');
    const run = await runCli(['deploy', app, '--yes', '--name', 'url-only', '--output', 'url'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code, run.stderr).toBe(0);
    const url = String((await projectJson(app)).url);
    expect(url).toMatch(/^https:\/\/[a-z0-9]{8}\.opendeploy\.run$/);
    expect(run.stdout).toBe(`${url}\n`);
    expect(run.stderr.split('\n')).toContain(`Deployed url-only → ${url}`);
  }, 60_000);

  it.each([
    [['--json'], '--output url and --json both claim stdout.', 'Drop --output url: the JSON result carries the URL in its "url" field.'],
    [['--json', '--no-wait'], '--output url and --json both claim stdout.', 'Drop --output url: the JSON result carries the URL in its "url" field.'],
    [['--no-wait', '--json', '--output', 'html'], '--output accepts "url", not "html".', 'Pass --output url, or drop --output.'],
  ])('is refused with %j before anything runs', async (extra, message, nextAction) => {
    const run = await runCli(['deploy', await copyFixture('static-site'), '--output', 'url', ...extra], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(2);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: 'invalid_input', message, next_action: nextAction });
  });

  it('with --no-wait (no live URL to wait for) it is a usage error', async () => {
    const run = await runCli(['deploy', await copyFixture('static-site'), '--output', 'url', '--no-wait'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--output url prints the live URL, which --no-wait does not wait for.');
  });
});

describe('deploy --local --json with no terminal attached', () => {
  it('detaches into a background local gateway and says so, with the command that stops it', async () => {
    const dataDir = await tempDir('od-auto-detach-');
    stopAfter.push(dataDir);
    // runCli runs --local in a child process whose stdin and stderr are pipes: no terminal.
    const run = await runCli(['deploy', await copyFixture('static-site'), '--local', '--data-dir', dataDir, '--json'], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-') },
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const result = lastEvent(run)!;
    expect(result).toMatchObject({ type: 'result', status: 'success', detached: true, stop_command: `opendeploy local-gateway --stop --data-dir ${dataDir}` });
    const pid = (JSON.parse(await readFile(path.join(dataDir, 'gateway.json'), 'utf8')) as { pid: number }).pid;
    // The app answers after the command returned: the background gateway serves it.
    const target = new URL(String(result.url));
    const page = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: Number(target.port), path: '/', headers: { host: target.host }, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    expect(page).toContain('hello from static-site');
    const stop = await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ status: 'stopped', pid });
  }, 90_000);
});
