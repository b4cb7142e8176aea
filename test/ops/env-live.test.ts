import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deployLinked } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { deploymentVariables } from '../../src/ops/env.js';
import { compareLive } from '../../src/ops/env-result.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kEnvLive${'L'.repeat(36)}`;

/** A value that must never show up anywhere but --show-secrets stdout and the gateway. */
function canary(label: string): string {
  return `canary-${label}-${randomBytes(9).toString('hex')}`;
}

const A1 = canary('a1');
const A2 = canary('a2');
const B = canary('b');
const OLD = canary('old');
const CANARIES = [A1, A2, B, OLD];

let gw: TestGateway;
let home: string;
let app: string;
let port: string;
/** The deployment built with A=A1 and OLD. */
let withA1: string;

function env(): Record<string, string> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
}

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: app, env: env() });
}

async function ok(args: string[]): Promise<CliRun> {
  const run = await cli(args);
  expect(run.code, run.stderr).toBe(0);
  return run;
}

/** The one JSON document a one-shot command prints (the last line: a future `type` envelope keeps it last). */
function doc(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  const { type: _type, ...rest } = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  return rest;
}

function expectNoCanaries(run: CliRun, options: { stdout?: boolean } = {}): void {
  for (const value of CANARIES) {
    expect(run.stderr).not.toContain(value);
    if (options.stdout !== false) expect(run.stdout).not.toContain(value);
  }
}

/** The live deployment as the gateway marks it. */
async function liveId(): Promise<string> {
  return ((await gw.state()).deployments as { id: string; is_current: boolean }[]).find((d) => d.is_current)!.id;
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  await deployLinked(app, env());
  port = (doc(await ok(['env', 'list', '--show-secrets', '--json'])).variables as Record<string, string>).PORT!;
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('env list against the live deployment', () => {
  it('after a redeploy the live deployment has the same values: no live column, live_differs false', async () => {
    await ok(['env', 'set', `A=${A1}`, `OLD=${OLD}`, '--json']);
    withA1 = String(lastEvent(await ok(['redeploy', '--json']))!.deployment_id);

    const list = await ok(['env', 'list', '--json']);
    expect(doc(list)).toEqual({
      service_id: expect.any(String),
      variables: { A: '<redacted>', OLD: '<redacted>', PORT: '<redacted>' },
      count: 3,
      values_redacted: true,
      live_deployment_id: withA1,
      live_differs: false,
      live: { A: 'same', OLD: 'same', PORT: 'same' },
      live_only: [],
      live_variables: {},
    });
    const human = await ok(['env', 'list']);
    expect(human.stdout).toBe(['node-http: 3 variables', '  A     ••••••', '  OLD   ••••••', '  PORT  ••••••', ''].join('\n'));
    expectNoCanaries(list);
    expectNoCanaries(human);
  });

  it('a changed, an added and a removed variable not yet redeployed: each key says how the live deployment has it', async () => {
    await ok(['env', 'set', `A=${A2}`, `B=${B}`, '--json']);
    await ok(['env', 'unset', 'OLD', '--yes', '--json']);

    const list = await ok(['env', 'list', '--json']);
    expect(doc(list)).toEqual({
      service_id: expect.any(String),
      variables: { A: '<redacted>', B: '<redacted>', PORT: '<redacted>' },
      count: 3,
      values_redacted: true,
      live_deployment_id: withA1,
      live_differs: true,
      live: { A: 'different', B: 'missing', PORT: 'same' },
      live_only: ['OLD'],
      live_variables: { A: '<redacted>', OLD: '<redacted>' },
    });
    expectNoCanaries(list);

    const human = await ok(['env', 'list']);
    expect(human.stdout).toBe(
      [
        'node-http: 3 variables',
        '  A     ••••••     live: other value ••••••',
        '  B     ••••••     live: not set',
        '  OLD   (not set)  live: ••••••',
        '  PORT  ••••••',
        `The live deployment ${withA1} runs with other values than these; \`opendeploy redeploy\` deploys them.`,
        '',
      ].join('\n'),
    );
    expect(human.stderr).toContain('Values are hidden; add --show-secrets to print them.');
    expectNoCanaries(human);
  });

  it('--show-secrets shows the live values of the keys that differ, next to the current ones', async () => {
    const shown = await ok(['env', 'list', '--show-secrets', '--json']);
    expect(doc(shown)).toMatchObject({
      variables: { A: A2, B, PORT: port },
      values_redacted: false,
      live: { A: 'different', B: 'missing', PORT: 'same' },
      live_only: ['OLD'],
      live_variables: { A: A1, OLD },
    });
    expectNoCanaries(shown, { stdout: false });

    const human = await ok(['env', 'list', '--show-secrets']);
    const width = Math.max(A2.length, B.length, '(not set)'.length, port.length);
    expect(human.stdout.split('\n').slice(1, 5)).toEqual([
      `  A     ${A2.padEnd(width)}  live: other value ${A1}`,
      `  B     ${B.padEnd(width)}  live: not set`,
      `  OLD   ${'(not set)'.padEnd(width)}  live: ${OLD}`,
      `  PORT  ${port}`,
    ]);
    expectNoCanaries(human, { stdout: false });
  });

  it('a redeploy makes the live deployment equal to the service again', async () => {
    const redeployed = String(lastEvent(await ok(['redeploy', '--json']))!.deployment_id);
    expect(doc(await ok(['env', 'list', '--json']))).toMatchObject({
      live_deployment_id: redeployed,
      live_differs: false,
      live: { A: 'same', B: 'same', PORT: 'same' },
      live_only: [],
      live_variables: {},
    });
    const human = await ok(['env', 'list']);
    expect(human.stdout).toBe(['node-http: 3 variables', '  A     ••••••', '  B     ••••••', '  PORT  ••••••', ''].join('\n'));
  });

  it('after a rollback the live deployment runs the older release with its values: env list shows the differences', async () => {
    const back = await ok(['rollback', withA1, '--yes', '--json']);
    const rolledBack = String(lastEvent(back)!.deployment_id);
    expect(await liveId()).toBe(rolledBack);

    const list = await ok(['env', 'list', '--json']);
    expect(doc(list)).toEqual({
      service_id: expect.any(String),
      variables: { A: '<redacted>', B: '<redacted>', PORT: '<redacted>' },
      count: 3,
      values_redacted: true,
      live_deployment_id: rolledBack,
      live_differs: true,
      live: { A: 'different', B: 'missing', PORT: 'same' },
      live_only: ['OLD'],
      live_variables: { A: '<redacted>', OLD: '<redacted>' },
    });
    expectNoCanaries(list);
    expect(doc(await ok(['env', 'list', '--show-secrets', '--json']))).toMatchObject({ live_variables: { A: A1, OLD } });

    // The rollback re-runs a release of the same source, so a plain redeploy rebuilds it with the current values.
    const human = await ok(['env', 'list']);
    expect(human.stdout.trimEnd().split('\n').at(-1)).toBe(`The live deployment ${rolledBack} runs with other values than these; \`opendeploy redeploy\` deploys them.`);
    expectNoCanaries(human);
  });

  it('the gateway returns the snapshot on GET of the deployment to its owner, and its HTTP state and request dumps never show a value', async () => {
    const id = await liveId();
    const own = await fetch(`${gw.url}/v1/deployments/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(own.status).toBe(200);
    const body = (await own.json()) as { runtime_variables: string };
    expect(JSON.parse(body.runtime_variables)).toEqual({ A: A1, OLD, PORT: port });

    const other = await fetch(`${gw.url}/v1/deployments/${id}`, { headers: { authorization: `Bearer od_kSomeoneElse${'Z'.repeat(33)}` } });
    expect(other.status).not.toBe(200);
    expect(await other.text()).not.toContain(A1);

    // The control endpoints (the gateway's HTTP view of its state and request log) show names, never values.
    const dumps = await Promise.all(['/__local/state', '/__local/requests'].map(async (route) => (await fetch(`${gw.origin}${route}`)).text()));
    expect(dumps[0]).toContain('"runtime_variables":"[redacted]"');
    for (const value of CANARIES) for (const dump of dumps) expect(dump).not.toContain(value);
  });
});

describe('env list with no live deployment', () => {
  it('live fields are null', async () => {
    const bare = await copyFixture('node-http');
    const run = await runCli(['deploy', '--name', 'node-http-never-live', '--json'], { cwd: bare, env: env() });
    expect(run.code, run.stderr).toBe(0);
    // A second service of that project, created through the API and never deployed.
    const projectId = String(lastEvent(run)!.project_id);
    const created = await fetch(`${gw.url}/v1/projects/${projectId}/services/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'idle', project_id: projectId, type: 'web', language: 'node', port: 3000, runtime_variables: { X: 'plain' } }),
    });
    expect(created.status, await created.clone().text()).toBeLessThan(300);
    const idle = String(((await created.json()) as { service_id: string }).service_id);
    const list = await runCli(['env', 'list', '--project', projectId, '--service', idle, '--json'], { cwd: bare, env: env() });
    expect(list.code, list.stderr).toBe(0);
    expect(doc(list)).toEqual({
      service_id: idle,
      variables: { X: '<redacted>' },
      count: 1,
      values_redacted: true,
      live_deployment_id: null,
      live_differs: null,
      live: null,
      live_only: null,
      live_variables: null,
    });
  });
});

describe('the snapshot and the comparison as data', () => {
  it('reads the snapshot as a JSON string or a map; anything else is unknown (undefined), never an error', () => {
    const row = (runtime_variables: unknown) => ({ id: 'd1', status: 'success', runtime_variables });
    expect(deploymentVariables(row('{"A":"1","B":"two"}'))).toEqual({ A: '1', B: 'two' });
    expect(deploymentVariables(row({ A: '1' }))).toEqual({ A: '1' });
    expect(deploymentVariables(row('{}'))).toEqual({});
    for (const odd of [undefined, null, '', 'not json', '[1]', '{"A":1}', { A: 2 }, ['A']]) expect(deploymentVariables(row(odd))).toBeUndefined();
  });

  it('compares by value: same, different, missing, and keys only the live deployment has', () => {
    expect(compareLive({ A: '1', B: '2', C: '3' }, { A: '1', B: 'x', D: '4' })).toEqual({ keys: { A: 'same', B: 'different', C: 'missing' }, liveOnly: ['D'], differs: true });
    expect(compareLive({ A: '1' }, { A: '1' })).toEqual({ keys: { A: 'same' }, liveOnly: [], differs: false });
    expect(compareLive({}, { OLD: '1' })).toEqual({ keys: {}, liveOnly: ['OLD'], differs: true });
  });
});
