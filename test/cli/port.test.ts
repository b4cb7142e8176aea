/**
 * `opendeploy port [<n>]` against the real loopback gateway: shows the service's port (and what the
 * analysis of the linked folder finds when it differs), sets it with a PUT that is read back (a PORT
 * variable naming the old port follows), changes nothing when the port is already set, redeploys on
 * request, and refuses an impossible port before any request. Every `--json` line is checked against
 * the published JSON Schema.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, REPO_ROOT, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kPortCommand${'Q'.repeat(32)}`;

let gw: TestGateway;
let home: string;
let app: string;
let projectId: string;
let serviceId: string;
let anyLine: ValidateFunction;
let portResult: ValidateFunction;

const env = (): Record<string, string> => ({ OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN });
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: app, env: env() });

/** stdout as JSON lines, each valid against the published schema; the last one a valid `port` result. */
function jsonLines(run: CliRun): Record<string, unknown>[] {
  const lines = run.stdout.split('\n');
  expect(lines.pop(), 'stdout ends with a newline').toBe('');
  const values = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const value of values) expect(anyLine(value), `${JSON.stringify(value)} ${JSON.stringify(anyLine.errors)}`).toBe(true);
  return values;
}

/** A one-shot `port --json`: one line, the `port` result (returned without its `type`). */
function oneResult(run: CliRun): Record<string, unknown> {
  expect(run.code, run.stderr).toBe(0);
  const lines = jsonLines(run);
  expect(lines.length).toBe(1);
  expect(portResult(lines[0]), JSON.stringify(portResult.errors)).toBe(true);
  const { type, ...data } = lines[0]!;
  expect(type).toBe('result');
  return data;
}

async function puts(): Promise<string[]> {
  return (await gw.requests()).filter((r) => r.method === 'PUT').map((r) => `PUT ${r.path} ${JSON.stringify(r.json ?? {})}`);
}

async function auditLines(step: string): Promise<Record<string, unknown>[]> {
  const log = await readFile(path.join(home, 'logs', `${new Date().toISOString().slice(0, 10)}.log`), 'utf8');
  return log
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.step === step);
}

/** The service's PORT variable, through the CLI. */
async function portVariable(): Promise<unknown> {
  const run = await cli(['env', 'get', 'PORT', '--show-secrets', '--json']);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { value: unknown }).value;
}

beforeAll(async () => {
  const published = JSON.parse(await readFile(path.join(REPO_ROOT, 'schema', 'opendeploy-json.schema.json'), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addSchema(published, 'opendeploy');
  anyLine = ajv.getSchema('opendeploy')!;
  portResult = ajv.getSchema('opendeploy#/$defs/result.port')!;

  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(['deploy', '--json']);
  expect(run.code, run.stderr).toBe(0);
  const deployed = lastEvent(run)!;
  projectId = String(deployed.project_id);
  serviceId = String(deployed.service_id);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('opendeploy port', () => {
  it('without a number: the service port, which is also what the analysis finds', async () => {
    const human = await cli(['port']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe(`Service node-http (${serviceId}) expects port 3000.\n`);

    expect(oneResult(await cli(['port', '--json']))).toEqual({
      status: 'success',
      project_id: projectId,
      service_id: serviceId,
      service: 'node-http',
      action: 'show',
      port: 3000,
      locked: false,
      analysed_port: 3000,
    });
  });

  it('names the analysed port when the folder now listens elsewhere, and the command that sets it', async () => {
    const server = path.join(app, 'server.js');
    const original = await readFile(server, 'utf8');
    await writeFile(server, original.replace('process.env.PORT || 3000', 'process.env.PORT || 8080'));
    try {
      const human = await cli(['port']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toBe(
        [
          `Service node-http (${serviceId}) expects port 3000.`,
          '  The analysis of this folder finds port 8080.',
          '  The next deploy of this folder (`opendeploy`) sets it to 8080; to set it now, run `opendeploy port 8080`.',
          '',
        ].join('\n'),
      );
      expect(oneResult(await cli(['port', '--json'])).analysed_port).toBe(8080);
    } finally {
      await writeFile(server, original);
    }
  });

  it('with a number: PUT, read back, the PORT variable follows, audited; takes effect with the next deployment', async () => {
    await gw.clearRequests();
    const run = await cli(['port', '8080', '--json']);
    expect(oneResult(run)).toEqual({
      status: 'success',
      project_id: projectId,
      service_id: serviceId,
      service: 'node-http',
      action: 'set',
      port: 8080,
      locked: false,
      previous_port: 3000,
      changed: true,
      variables_changed: ['PORT'],
      redeployed: false,
      deployment_id: null,
      url: null,
    });
    const requests = await gw.requests();
    expect(await puts()).toEqual([`PUT /api/v1/services/${serviceId} {"port":8080}`, `PUT /api/v1/projects/${projectId}/services/${serviceId}/env {"variables":{"PORT":"8080"}}`]);
    // Each PUT is followed by the GET that reads it back.
    const calls = requests.map((r) => `${r.method} ${r.path}`);
    const putService = calls.indexOf(`PUT /api/v1/services/${serviceId}`);
    expect(calls[putService + 1]).toBe(`GET /api/v1/services/${serviceId}`);
    const putEnv = calls.indexOf(`PUT /api/v1/projects/${projectId}/services/${serviceId}/env`);
    expect(calls[putEnv + 1]).toBe(`GET /api/v1/projects/${projectId}/services/${serviceId}/env`);
    // Nothing was deployed.
    expect(requests.filter((r) => r.method === 'POST')).toEqual([]);

    expect(oneResult(await cli(['port', '--json'])).port).toBe(8080);
    expect(await portVariable()).toBe('8080');
    expect((await auditLines('service.port')).at(-1)).toMatchObject({ level: 'info', project_id: projectId, service_id: serviceId, port: 8080, previous_port: 3000, by: 'hand' });
    expect((await auditLines('service.env')).at(-1)).toMatchObject({ level: 'info', project_id: projectId, service_id: serviceId, keys: ['PORT'] });
  });

  it('human output, then the same port again changes nothing', async () => {
    const run = await cli(['port', '9090']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        `Service node-http (${serviceId}) now expects port 9090 (was 8080); read back.`,
        '  PORT named the old port: it is 9090 now as well; read back.',
        '  The running release keeps its port until the next deployment: run `opendeploy redeploy` to apply it now.',
        '',
      ].join('\n'),
    );

    await gw.clearRequests();
    const again = await cli(['port', '9090']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`Service node-http (${serviceId}) already expects port 9090; nothing changed.\n`);
    expect(await puts()).toEqual([]);
  });

  it('--redeploy: the change, then a deployment of the current source, as one stream', async () => {
    await gw.clearRequests();
    const run = await cli(['port', '3000', '--redeploy', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines(run);
    const result = lines.pop()!;
    expect(portResult(result), JSON.stringify(portResult.errors)).toBe(true);
    expect(lines.every((line) => ['stage', 'progress', 'log', 'warning'].includes(String(line.type)))).toBe(true);
    const deployments = (await gw.requests()).filter((r) => r.method === 'POST' && r.path === '/api/v1/deployments/');
    expect(deployments.length).toBe(1);
    expect(result).toMatchObject({ type: 'result', action: 'set', port: 3000, previous_port: 9090, changed: true, variables_changed: ['PORT'], redeployed: true });
    expect(result.deployment_id).toEqual(expect.stringMatching(/\S/));
    // The PUTs came before the deployment was created.
    const calls = (await gw.requests()).map((r) => `${r.method} ${r.path}`);
    expect(calls.indexOf(`PUT /api/v1/services/${serviceId}`)).toBeLessThan(calls.indexOf('POST /api/v1/deployments/'));
    expect(await portVariable()).toBe('3000');
  });

  for (const bad of ['0', '65536', 'abc', '80.5', '1e3']) {
    it(`"${bad}" is refused as invalid_input (exit 2) before any request`, async () => {
      await gw.clearRequests();
      const run = await cli(['port', bad, '--json']);
      expect(run.code).toBe(2);
      const lines = jsonLines(run);
      expect(lines).toEqual([
        {
          type: 'error',
          error_code: 'invalid_input',
          message: `"${bad}" is not a port: give a whole number from 1 to 65535.`,
          retryable: false,
          next_action: 'For example: opendeploy port 8080',
          details: { port: bad },
        },
      ]);
      expect(await gw.requests()).toEqual([]);
    });
  }
});

describe('completion', () => {
  it('bash completes the command and its option', async () => {
    const script = await runCli(['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = path.join(await tempDir('od-port-completion-'), 'opendeploy.bash');
    await writeFile(file, script.stdout);
    const complete = (words: string[]): string[] => {
      const run = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${JSON.stringify(file)}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_opendeploy_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      return run.stdout.split('\n').filter((word) => word !== '');
    };
    expect(complete(['opendeploy', 'por'])).toEqual(['port']);
    expect(complete(['opendeploy', 'port', '--re'])).toEqual(['--redeploy']);
  });
});
