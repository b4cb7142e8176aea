import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { deployLinked, readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kAfterRollback${'A'.repeat(30)}`;

let gw: TestGateway;
let home: string;
let app: string;
let older: string;
let newer: string;
let rolledBack: string;
let redeployed: string;

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
}

const posts = (requests: RecordedRequest[], route: string) => requests.filter((r) => r.method === 'POST' && r.path === route);

interface Row {
  id: string;
  status: string;
  source_path: string;
  is_current: boolean;
}

async function rows(): Promise<Row[]> {
  return (await gw.state()).deployments as Row[];
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  older = String((await deployLinked(app, { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN })).deployment_id);
  // A changed folder: the second deploy uploads and binds a newer source.
  await writeFile(path.join(app, 'CHANGELOG.md'), '# newer\n');
  newer = String((await deployLinked(app, { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN })).deployment_id);
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('redeploy after a rollback to an older source', () => {
  it('rollback says the next plain redeploy refuses and gives the command for the newer source', async () => {
    const run = await cli(['rollback', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = lastEvent(run)!;
    rolledBack = String(result.deployment_id);
    expect(result).toEqual({
      type: 'result',
      status: 'success',
      rolled_back_to: older,
      deployment_id: rolledBack,
      previous: newer,
      next_redeploy_source: { source: 'newer_source', deployment_id: newer, command: `opendeploy redeploy --source ${app}` },
    });
    const state = await rows();
    expect(state.find((d) => d.id === rolledBack)?.source_path).toBe(state.find((d) => d.id === older)?.source_path);
    expect(state.find((d) => d.id === older)?.source_path).not.toBe(state.find((d) => d.id === newer)?.source_path);
  });

  it('a plain redeploy refuses (conflict, exit 1), names both releases and the command, and deploys nothing', async () => {
    await gw.clearRequests();
    const run = await cli(['redeploy', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('conflict');
    expect(error.message).toBe(
      `The live release of node-http is rollback deployment ${rolledBack}, which runs the source of deployment ${older}; the project's current source is newer (deployment ${newer}). A redeploy can only build the current source, so it would undo the rollback; nothing was deployed.`,
    );
    expect(error.next_action).toBe(`To deploy the newer source, run \`opendeploy redeploy --source ${app}\`; to keep the rolled-back release, leave it running.`);
    expect(error.details).toMatchObject({ live_deployment: rolledBack, live_runs: older, newer_deployment: newer, command: `opendeploy redeploy --source ${app}` });
    const requests = await gw.requests();
    expect(posts(requests, '/api/v1/deployments/')).toHaveLength(0);
    expect(requests.filter((r) => r.path.startsWith('/api/v1/upload/'))).toHaveLength(0);
    expect((await rows()).find((d) => d.is_current)?.id).toBe(rolledBack);
  });

  it('without a linked folder (--project/--service): the command names the folder to pass and keeps the target flags', async () => {
    const link = (await readProjectJson(app)) as { project_id: string; services: { service_id: string }[] };
    const serviceId = link.services[0]!.service_id;
    const elsewhere = await tempDir('od-unlinked-');
    const run = await runCli(['redeploy', '--project', link.project_id, '--service', serviceId, '--json'], {
      cwd: elsewhere,
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN },
    });
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('conflict');
    expect(error.details).toMatchObject({
      newer_deployment: newer,
      command: `opendeploy redeploy --source '<folder of the newer source>' --project ${link.project_id} --service ${serviceId}`,
    });
  });

  it('the printed command deploys the newer source (no re-upload: the folder is unchanged)', async () => {
    await gw.clearRequests();
    const run = await cli(['redeploy', '--source', app, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const requests = await gw.requests();
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/api/v1/deployments/']);
    const id = String(lastEvent(run)!.deployment_id);
    redeployed = id;
    const state = await rows();
    expect(state.find((d) => d.id === id)).toMatchObject({ status: 'success', is_current: true, source_path: state.find((d) => d.id === newer)!.source_path });
    expect((await readProjectJson(app)).last_deployment).toMatchObject({ id, status: 'success' });
  });

  it('people see the next redeploy in the rollback summary: the newest deployment of the current source', async () => {
    const run = await cli(['rollback', older, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const live = (await rows()).find((d) => d.is_current)!.id;
    expect(run.stdout).toContain(
      [
        `Rolled back node-http to deployment ${older}`,
        `  deployment  ${live}  success`,
        `  previous    ${redeployed}`,
        `  next redeploy  \`opendeploy redeploy\` refuses: the project's current source (deployment ${redeployed}) is newer than this release`,
        `                 to deploy the newer source: opendeploy redeploy --source ${app}`,
        '',
      ].join('\n'),
    );
  });
});

describe('redeploy after a rollback to the same source', () => {
  it('rollback says a plain redeploy rebuilds the live release, and it does', async () => {
    const same = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
    // Another project on the same account needs another name.
    const d = await runCli(['deploy', '--name', 'node-http-same', '--json'], { cwd: same, env });
    expect(d.code, d.stderr).toBe(0);
    const first = String(lastEvent(d)!.deployment_id);
    // A second release of the same bound source (a variable change would be redeployed this way).
    const again = await runCli(['redeploy', '--json'], { cwd: same, env });
    expect(again.code, again.stderr).toBe(0);
    const back = await runCli(['rollback', first, '--yes', '--json'], { cwd: same, env });
    expect(back.code, back.stderr).toBe(0);
    const live = String(lastEvent(back)!.deployment_id);
    expect(lastEvent(back)!.next_redeploy_source).toEqual({ source: 'live_release', deployment_id: live, command: 'opendeploy redeploy' });

    const run = await runCli(['redeploy', '--json'], { cwd: same, env });
    expect(run.code, run.stderr).toBe(0);
    const state = await rows();
    const rebuilt = state.find((d) => d.id === String(lastEvent(run)!.deployment_id))!;
    expect(rebuilt).toMatchObject({ status: 'success', is_current: true, source_path: state.find((d) => d.id === live)!.source_path });
  });
});
