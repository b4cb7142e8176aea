import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { deployLinked, readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kAfterRollbackChanges${'C'.repeat(23)}`;

let gw: TestGateway;
let home: string;
let app: string;
let older: string;
let newer: string;
let rolledBack: string;

function env(): Record<string, string> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
}

function cli(args: string[], cwd = app): Promise<CliRun> {
  return runCli(args, { cwd, env: env() });
}

/** The one JSON document a one-shot command prints (the last line), without its `type`. */
function doc(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  const { type: _type, ...rest } = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  return rest;
}

interface Row {
  id: string;
  status: string;
  source_path: string;
  is_current: boolean;
}

async function rows(): Promise<Row[]> {
  return (await gw.state()).deployments as Row[];
}

/** The live deployment of the first project (the one `app` is linked to). */
async function liveId(): Promise<string> {
  const linked = (await readProjectJson(app)) as { services: { service_id: string }[] };
  return ((await rows()) as (Row & { service_id: string })[]).find((d) => d.is_current && d.service_id === linked.services[0]!.service_id)!.id;
}

/** Requests that change something: env PUTs, database creates, deployments. */
async function changes(): Promise<string[]> {
  return ((await gw.requests()) as RecordedRequest[])
    .filter((r) => r.method !== 'GET' && (r.path.endsWith('/env') || r.path === '/api/v1/dependencies/create' || r.path.startsWith('/api/v1/deployments/')))
    .map((r) => `${r.method} ${r.path.endsWith('/env') ? 'env' : r.path}`);
}

async function variableNames(): Promise<string[]> {
  return Object.keys(doc(await cli(['env', 'list', '--json'])).variables as Record<string, string>).sort();
}

function refusal(change: string): string {
  return `The live release of node-http is rollback deployment ${rolledBack}, which runs the source of deployment ${older}; the project's current source is newer (deployment ${newer}). The redeploy after ${change} could only build the current source, so it would undo the rollback; nothing was changed or deployed.`;
}

beforeAll(async () => {
  gw = await startTestGateway({ dependencyProvisionMs: 100 });
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  older = String((await deployLinked(app, env())).deployment_id);
  // A changed folder: the second deploy uploads and binds a newer source.
  await writeFile(path.join(app, 'CHANGELOG.md'), '# newer\n');
  newer = String((await deployLinked(app, env())).deployment_id);
  const back = await cli(['rollback', older, '--yes', '--json']);
  expect(back.code, back.stderr).toBe(0);
  rolledBack = String(lastEvent(back)!.deployment_id);
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('after a rollback to an older upload', () => {
  it('env rotate refuses before asking or changing anything (conflict, exit 1) and prints the command that changes the variables alone', async () => {
    const before = await variableNames();
    await gw.clearRequests();
    const run = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('conflict');
    expect(error.message).toBe(refusal('this variable change'));
    const changeCommand = 'opendeploy env rotate SESSION_SECRET --generate --yes --json --no-redeploy';
    expect(error.next_action).toBe(
      `To make the change without the redeploy, run \`${changeCommand}\` (the rolled-back release keeps running with its current values); to deploy the newer source with it, then run \`opendeploy redeploy --source ${app}\`.`,
    );
    expect(error.details).toEqual({ live_deployment: rolledBack, live_runs: older, newer_deployment: newer, command: `opendeploy redeploy --source ${app}`, change_command: changeCommand });
    expect(await changes()).toEqual([]);
    expect(await variableNames()).toEqual(before);
    expect(await liveId()).toBe(rolledBack);

    // Without --yes and without a terminal the refusal still comes first: not a consent question (exit 7) it would then refuse.
    const asked = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--json']);
    expect(asked.code).toBe(1);
    expect(errorOf(asked).error_code).toBe('conflict');
  });

  it('the printed command changes the variables without a deployment; env list then says a plain redeploy refuses and how to deploy the newer source', async () => {
    await gw.clearRequests();
    const run = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--yes', '--json', '--no-redeploy']);
    expect(run.code, run.stderr).toBe(0);
    expect(doc(run)).toMatchObject({ keys_added: ['SESSION_SECRET'], deployment_id: null, redeploy_needed: true });
    expect(await changes()).toEqual(['PUT env']);
    expect(await liveId()).toBe(rolledBack);

    const list = await cli(['env', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe(
      [
        'node-http: 2 variables',
        '  PORT            ••••••',
        '  SESSION_SECRET  ••••••  live: not set',
        `The live deployment ${rolledBack} (a rollback to deployment ${older}) runs with other values than these. \`opendeploy redeploy\` refuses after this rollback because the project's current source is newer; to deploy the newer source with these values, run \`opendeploy redeploy --source ${app}\`.`,
        '',
      ].join('\n'),
    );
    const listed = await cli(['env', 'list', '--json']);
    expect(doc(listed)).toMatchObject({ live_deployment_id: rolledBack, live_differs: true, live: { PORT: 'same', SESSION_SECRET: 'missing' }, live_only: [] });
    // The generated value is never printed without --show-secrets.
    const secret = (await cli(['env', 'get', 'SESSION_SECRET', '--show-secrets'])).stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const output of [run, list, listed]) expect(output.stdout + output.stderr).not.toContain(secret);
  });

  it('db add refuses before creating the database (nothing created, merged or deployed) and prints the command that adds it without the redeploy', async () => {
    await gw.clearRequests();
    const run = await cli(['db', 'add', 'postgres', '--json']);
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('conflict');
    expect(error.message).toBe(refusal('adding the postgres database'));
    expect(error.next_action).toBe(
      `To make the change without the redeploy, run \`opendeploy db add postgres --no-redeploy\` (the rolled-back release keeps running with its current values); to deploy the newer source with it, then run \`opendeploy redeploy --source ${app}\`.`,
    );
    expect(error.details).toMatchObject({ change_command: 'opendeploy db add postgres --no-redeploy', command: `opendeploy redeploy --source ${app}` });
    expect(await changes()).toEqual([]);
    expect((await gw.state()).dependencies).toEqual([]);
    expect((await readProjectJson(app)).dependencies).toEqual([]);

    const overwrite = await cli(['db', 'add', 'postgres', '--overwrite', '--json']);
    expect(errorOf(overwrite).details).toMatchObject({ change_command: 'opendeploy db add postgres --overwrite --no-redeploy' });
  });

  it('with --project/--service from another folder the printed commands keep the target flags', async () => {
    const link = (await readProjectJson(app)) as { project_id: string; services: { service_id: string }[] };
    const serviceId = link.services[0]!.service_id;
    const run = await cli(['db', 'add', 'redis', '--project', link.project_id, '--service', serviceId, '--json'], await tempDir('od-unlinked-'));
    expect(run.code).toBe(1);
    expect(errorOf(run).details).toMatchObject({
      change_command: `opendeploy db add redis --no-redeploy --project ${link.project_id} --service ${serviceId}`,
      command: `opendeploy redeploy --source '<folder of the newer source>' --project ${link.project_id} --service ${serviceId}`,
    });
  });

  it('db add --no-redeploy adds the database and its variables and leaves the rolled-back release running', async () => {
    await gw.clearRequests();
    const run = await cli(['db', 'add', 'postgres', '--no-redeploy', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(lastEvent(run)).toMatchObject({ status: 'success', engine: 'postgres', redeployed: false, deployment_id: null });
    expect(await changes()).toEqual(['POST /api/v1/dependencies/create', 'PUT env']);
    expect(await liveId()).toBe(rolledBack);
  });
});

describe('after a rollback to an older upload, the changes that do not redeploy', () => {
  it('env set and unset point at redeploy --source (a plain redeploy would refuse); rotate --dry-run says the real run is refused', async () => {
    const hint = `The rolled-back release ${rolledBack} keeps running with the old values, and \`opendeploy redeploy\` refuses after this rollback because the project's current source is newer; to deploy the newer source with these values, run \`opendeploy redeploy --source ${app}\`.`;
    const set = await cli(['env', 'set', 'FEATURE_FLAG=on-7c1e2a']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout.trim().split('\n').pop()).toBe(hint);
    const unset = await cli(['env', 'unset', 'FEATURE_FLAG', '--yes']);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stdout.trim().split('\n').pop()).toBe(hint);
    expect(set.stdout + set.stderr + unset.stdout + unset.stderr).not.toContain('on-7c1e2a');

    await gw.clearRequests();
    const plan = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(doc(plan)).toMatchObject({ dry_run: true, then: 'redeploy', refused: 'conflict', newer_source_command: `opendeploy redeploy --source ${app}` });
    expect(await changes()).toEqual([]);
    const human = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--dry-run']);
    expect(human.stdout).toContain(
      `Without --dry-run this is refused: the live release is rollback deployment ${rolledBack} and its redeploy would build the newer source. Add --no-redeploy to change the variables only, or deploy the newer source with \`opendeploy redeploy --source ${app}\`.`,
    );
  });
});

describe('after a rollback to an older upload, port without --redeploy', () => {
  it('sets the port and names the command that deploys the newer source, not a redeploy that refuses', async () => {
    const run = await cli(['port', '8181', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(doc(run)).toMatchObject({ action: 'set', port: 8181, changed: true, redeployed: false, newer_source_command: `opendeploy redeploy --source ${app}` });
    const human = await cli(['port', '8182']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.trim().split('\n').pop()).toBe(
      `  The running release is a rollback and keeps its port; \`opendeploy redeploy\` refuses after that rollback (the project's current source is newer): to deploy the newer source with this port, run \`opendeploy redeploy --source ${app}\`.`,
    );
    expect(await liveId()).toBe(rolledBack);
  });
});

describe('after a rollback to a release of the same source', () => {
  it('env rotate and db add rebuild the live release with the new variables', async () => {
    const same = await copyFixture('node-http');
    const first = String(lastEvent(await deployNamed(same))!.deployment_id);
    // A second release of the same bound source, then back to the first.
    expect((await cli(['redeploy', '--json'], same)).code).toBe(0);
    const back = await cli(['rollback', first, '--yes', '--json'], same);
    expect(back.code, back.stderr).toBe(0);
    const live = String(lastEvent(back)!.deployment_id);
    const sourceOf = async (id: string): Promise<string> => (await rows()).find((d) => d.id === id)!.source_path;
    const isLive = async (id: string): Promise<boolean> => (await rows()).find((d) => d.id === id)!.is_current;
    const liveSource = await sourceOf(live);

    const rotated = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--yes', '--json'], same);
    expect(rotated.code, rotated.stderr).toBe(0);
    const rebuilt = String(lastEvent(rotated)!.deployment_id);
    expect(await isLive(rebuilt)).toBe(true);
    expect(await sourceOf(rebuilt)).toBe(liveSource);

    // The next one is not a rollback any more; roll back again so db add meets one too.
    const again = await cli(['rollback', live, '--yes', '--json'], same);
    expect(again.code, again.stderr).toBe(0);
    const added = await cli(['db', 'add', 'redis', '--json'], same);
    expect(added.code, added.stderr).toBe(0);
    expect(lastEvent(added)).toMatchObject({ status: 'success', engine: 'redis', redeployed: true });
    const redeployed = String(lastEvent(added)!.deployment_id);
    expect(await isLive(redeployed)).toBe(true);
    expect(await sourceOf(redeployed)).toBe(liveSource);
  });
});

async function deployNamed(folder: string): Promise<CliRun> {
  // Another project on the same account needs another name.
  const run = await cli(['deploy', '--name', 'node-http-same', '--json'], folder);
  expect(run.code, run.stderr).toBe(0);
  return run;
}
