/**
 * The `--json` contract: every stdout line is one single-line JSON object with a `type`, valid
 * against the published schema (schema/opendeploy-json.schema.json, validated with ajv exactly as a
 * consumer would); one-shot commands print exactly one `result` line; streams are events then one
 * `result`; failures are one `error` line. Every command runs through the real CLI against the real
 * loopback gateway.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderJsonSchema, resultDefName, RESULT_SCHEMAS, type ResultCommand } from '../../src/cli/output/contract.js';
import { VERSION } from '../../src/core/version.js';
import { REPO_ROOT, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const SCHEMA_FILE = path.join(REPO_ROOT, 'schema', 'opendeploy-json.schema.json');
const TOKEN = patToken();
const EVENT_TYPES = ['stage', 'progress', 'log', 'warning'];

let published: Record<string, unknown>;
let anyLine: ValidateFunction;
const byCommand = new Map<ResultCommand, ValidateFunction>();
let errorLine: ValidateFunction;

let gw: TestGateway;
let home: string;
let app: string;
let env: Record<string, string>;
let deployed: Record<string, unknown>;

function cli(args: string[], options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> {
  return runCli(args, { cwd: options.cwd ?? app, env: { ...env, ...options.env }, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
}

function explain(validate: ValidateFunction, value: unknown): string {
  return `${JSON.stringify(value)}\n${JSON.stringify((validate.errors ?? []).filter((error) => !/^#\/\$defs\/(event|error)/.test(error.schemaPath)), null, 1)}`;
}

/** stdout split into lines: each one JSON object on one line, valid against the whole schema. */
function linesOf(run: CliRun): Record<string, unknown>[] {
  const lines = run.stdout.split('\n');
  expect(lines.pop(), 'stdout ends with a newline').toBe('');
  return lines.map((line) => {
    const value = JSON.parse(line) as Record<string, unknown>;
    expect(typeof value.type, line).toBe('string');
    expect(anyLine(value), explain(anyLine, value)).toBe(true);
    return value;
  });
}

function expectResultOf(command: ResultCommand, value: Record<string, unknown>): void {
  expect(value.type).toBe('result');
  const validate = byCommand.get(command)!;
  expect(validate(value), explain(validate, value)).toBe(true);
}

/** A one-shot command: exit 0 and exactly one line, the command's `result`. */
function oneResult(run: CliRun, command: ResultCommand): Record<string, unknown> {
  expect(run.code, run.stderr + run.stdout).toBe(0);
  const lines = linesOf(run);
  expect(lines.map((line) => line.type)).toEqual(['result']);
  expectResultOf(command, lines[0]!);
  return lines[0]!;
}

/** A streaming command: exit 0, events, then one `result` as the last line. */
function stream(run: CliRun, command: ResultCommand): { events: Record<string, unknown>[]; result: Record<string, unknown> } {
  expect(run.code, run.stderr + run.stdout).toBe(0);
  const lines = linesOf(run);
  const result = lines.pop()!;
  expect(lines.filter((line) => !EVENT_TYPES.includes(String(line.type)))).toEqual([]);
  expectResultOf(command, result);
  return { events: lines, result };
}

/** A failure: exactly one line, an `error` valid against the error definition. */
function oneError(run: CliRun, code: string): Record<string, unknown> {
  const lines = linesOf(run);
  expect(lines.map((line) => line.type)).toEqual(['error']);
  expect(errorLine(lines[0]), explain(errorLine, lines[0])).toBe(true);
  expect(lines[0]!.error_code).toBe(code);
  return lines[0]!;
}

beforeAll(async () => {
  published = JSON.parse(await readFile(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addSchema(published, 'opendeploy');
  anyLine = ajv.getSchema('opendeploy')!;
  for (const command of Object.keys(RESULT_SCHEMAS) as ResultCommand[]) byCommand.set(command, ajv.getSchema(`opendeploy#/$defs/${resultDefName(command)}`)!);
  errorLine = ajv.getSchema('opendeploy#/$defs/error')!;

  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('the published JSON Schema', () => {
  it('is the file the generator writes from the zod schemas (run `npm run schema` after changing an output)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(renderJsonSchema());
  });

  it('tells lines apart by type: events, one definition per command result, the error', () => {
    const defs = Object.keys(published.$defs as Record<string, unknown>).sort();
    expect(defs).toEqual(
      ['error', 'event.log', 'event.progress', 'event.stage', 'event.warning', 'result', ...(Object.keys(RESULT_SCHEMAS) as ResultCommand[]).map(resultDefName)].sort(),
    );
    expect(published.oneOf).toEqual(['event.stage', 'event.progress', 'event.log', 'event.warning', 'result', 'error'].map((name) => ({ $ref: `#/$defs/${name}` })));
    // A line without a type, or with one the contract does not know, is not valid.
    expect(anyLine({ status: 'success' })).toBe(false);
    expect(anyLine({ type: 'document', status: 'success' })).toBe(false);
    expect(anyLine({ type: 'error', error_code: 'no_such_code', message: 'm', retryable: false, next_action: 'n' })).toBe(false);
  });

  it('is in the published package', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };
    expect(pkg.files).toContain('schema');
    expect(pkg.scripts.schema).toBe('npm run build && node scripts/json-schema.mjs');
  });
});

describe('every --json output line against the published schema', () => {
  it('--json --version is one result line', async () => {
    const run = await cli(['--json', '--version']);
    expect(oneResult(run, 'version')).toEqual({ type: 'result', name: 'opendeploy', version: VERSION });
  });

  it('analyze and plan: one result line each', async () => {
    const analysis = oneResult(await cli(['analyze', '--json']), 'analyze');
    expect((analysis.services as { name: string; port: number }[]).map((s) => [s.name, s.port])).toEqual([['node-http', 3000]]);
    const plan = oneResult(await cli(['plan', '--json']), 'plan');
    expect([plan.environment, (plan.project as { action: string }).action]).toEqual(['production', 'create']);
  });

  it('deploy: the full stream (stages, progress, logs) then one result', async () => {
    const { events, result } = stream(await cli(['deploy', '--json']), 'deploy');
    expect(events.filter((e) => e.type === 'stage').map((e) => e.stage)).toEqual([
      'analyze',
      'auth.resolve',
      'project.create',
      'service.create',
      'archive',
      'upload',
      'update_source',
      'deploy.create',
      'deploy.terminal',
    ]);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['stage', 'progress', 'log']));
    expect(result.status).toBe('success');
    deployed = result;
  });

  it('status, deployments, logs, triage, open', async () => {
    const status = oneResult(await cli(['status', '--json']), 'status');
    expect((status.project as { id: string }).id).toBe(deployed.project_id);
    const list = oneResult(await cli(['deployments', '--json']), 'deployments');
    expect([list.live_deployment_id, list.total]).toEqual([deployed.deployment_id, 1]);
    const { events, result } = stream(await cli(['logs', String(deployed.deployment_id), '--json']), 'logs');
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['log']));
    expect([result.deployment_id, result.count]).toEqual([deployed.deployment_id, events.length]);
    const triage = oneResult(await cli(['triage', '--json']), 'triage');
    expect([triage.deployment_id, triage.status]).toEqual([deployed.deployment_id, 'success']);
    const open = oneResult(await cli(['open', '--json']), 'open');
    expect([open.url, open.kind, open.opened]).toEqual([deployed.url, 'app', false]);
  });

  it('env set, list, get, set --dry-run, pull, rotate, unset', async () => {
    const set = oneResult(await cli(['env', 'set', 'GREETING=hello', 'CONTRACT_KEY=one', '--json']), 'env set');
    expect(set.keys_set).toEqual(['CONTRACT_KEY', 'GREETING']);
    const list = oneResult(await cli(['env', 'list', '--json']), 'env list');
    expect(list.variables).toEqual({ CONTRACT_KEY: '<redacted>', GREETING: '<redacted>', PORT: '<redacted>' });
    const get = oneResult(await cli(['env', 'get', 'GREETING', '--json']), 'env get');
    expect([get.key, get.value]).toEqual(['GREETING', '<redacted>']);
    const dry = oneResult(await cli(['env', 'set', 'GREETING=hello-again-7f3', '--dry-run', '--json']), 'env dry-run');
    expect([dry.operation, dry.keys_changed]).toEqual(['set', ['GREETING']]);
    const pull = oneResult(await cli(['env', 'pull', '.env.contract', '--json', '--yes']), 'env pull');
    expect([pull.count, pull.mode]).toEqual([3, '0600']);
    const rotate = oneResult(await cli(['env', 'rotate', 'CONTRACT_KEY', '--generate', '--no-redeploy', '--json', '--yes']), 'env rotate');
    expect([rotate.keys_changed, rotate.deployment_id]).toEqual([['CONTRACT_KEY'], null]);
    const unset = oneResult(await cli(['env', 'unset', 'CONTRACT_KEY', '--json', '--yes']), 'env unset');
    expect(unset.keys_removed).toEqual(['CONTRACT_KEY']);
  });

  it('resize, domain check, domain rename', async () => {
    const resize = oneResult(await cli(['resize', '--cpu', '1', '--json']), 'resize');
    expect((resize.resources as { cpu_limit: string }).cpu_limit).toBe('1');
    const check = oneResult(await cli(['domain', 'check', 'contract-shop', '--json']), 'domain check');
    expect([check.domain, check.available]).toEqual(['contract-shop.opendeploy.run', true]);
    const rename = oneResult(await cli(['domain', 'rename', 'contract-shop', '--json', '--yes']), 'domain rename');
    expect(rename.url).toBe('https://contract-shop.opendeploy.run');
  });

  it('redeploy, rollback and db add stream events then one result', async () => {
    const redeploy = stream(await cli(['redeploy', '--json']), 'redeploy').result;
    expect(redeploy.status).toBe('success');
    const rollback = stream(await cli(['rollback', '--json', '--yes']), 'rollback').result;
    expect(rollback.rolled_back_to).toBe(deployed.deployment_id);
    const db = stream(await cli(['db', 'add', 'postgres', '--no-redeploy', '--json', '--yes']), 'db add').result;
    expect([db.status, db.engine, db.redeployed]).toEqual(['success', 'postgres', false]);
  });

  it('auth status, whoami, login, logout', async () => {
    const status = oneResult(await cli(['auth', 'status', '--json']), 'auth status');
    expect([status.source, status.kind, status.bound]).toEqual(['env', 'pat', true]);
    expect(oneResult(await cli(['whoami', '--json']), 'auth status')).toEqual(status);
    const loginHome = await tempDir('od-login-');
    const noToken = { OPENDEPLOY_HOME: loginHome, OPENDEPLOY_TOKEN: '' };
    const login = oneResult(await cli(['login', '--token-stdin', '--json'], { env: noToken, stdin: `${TOKEN}\n` }), 'login');
    expect([login.kind, login.auth_file]).toEqual(['pat', path.join(loginHome, 'auth.json')]);
    const logout = oneResult(await cli(['logout', '--json', '--yes'], { env: noToken }), 'logout');
    expect([logout.logged_out, logout.env_token_set]).toEqual([true, false]);
  });

  it('link and unlink', async () => {
    const fresh = await tempDir('od-link-');
    const link = oneResult(await cli(['link', '--project', String(deployed.project_id), '--json'], { cwd: fresh }), 'link');
    expect([(link.project as { id: string }).id, (link.service as { id: string }).id]).toEqual([deployed.project_id, deployed.service_id]);
    const unlink = oneResult(await cli(['unlink', '--json', '--yes'], { cwd: fresh }), 'unlink');
    expect([unlink.unlinked, unlink.project_id]).toEqual([true, deployed.project_id]);
  });

  it('completion and local-gateway --stop', async () => {
    const completion = oneResult(await cli(['completion', 'bash', '--json']), 'completion');
    expect(completion.shell).toBe('bash');
    const dataDir = await tempDir('od-nogw-');
    const stop = oneResult(await cli(['local-gateway', '--stop', '--data-dir', dataDir, '--json']), 'local-gateway --stop');
    expect(stop).toEqual({ type: 'result', status: 'not_running', pid: null, data_dir: dataDir });
  });

  it('local-gateway: one result line once it listens (and nothing more until it is stopped)', async () => {
    const dataDir = await tempDir('od-lgw-');
    const run = await runCli(['local-gateway', '--port', '0', '--data-dir', dataDir, '--simulate', '--json'], {
      env: {},
      onEvent: (event, child) => {
        if (event.type === 'result') child.kill('SIGTERM');
      },
    });
    // Stopped by the test as soon as it listens, so its exit status is not what is checked here.
    const lines = linesOf(run);
    expect(lines.map((line) => line.type)).toEqual(['result']);
    const listening = lines[0]!;
    expectResultOf('local-gateway', listening);
    expect([listening.status, listening.data_dir]).toEqual(['listening', dataDir]);
    expect(String(listening.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
  });

  it('deploy --local without a terminal detaches (result with stop_command); local-gateway --stop stops it', async () => {
    const dataDir = await tempDir('od-detach-');
    const localEnv = { OPENDEPLOY_HOME: await tempDir('od-home-') };
    try {
      const run = await runCli(['deploy', await copyFixture('static-site'), '--local', '--data-dir', dataDir, '--json'], { env: localEnv, timeoutMs: 60_000 });
      const detached = stream(run, 'deploy').result;
      expect([detached.status, detached.detached, detached.stop_command]).toEqual(['success', true, `opendeploy local-gateway --stop --data-dir ${dataDir}`]);
    } finally {
      const stop = oneResult(await runCli(['local-gateway', '--stop', '--data-dir', dataDir, '--json'], { env: localEnv }), 'local-gateway --stop');
      expect([stop.status, stop.data_dir]).toEqual(['stopped', dataDir]);
    }
  }, 90_000);

  it('deploy --no-wait (result status started) and cancel', async () => {
    const slow = await startTestGateway({ buildDurationMs: 20_000 });
    try {
      const slowApp = await copyFixture('node-http');
      const slowEnv = { OD_GATEWAY: slow.url };
      const started = stream(await cli(['deploy', '--no-wait', '--json'], { cwd: slowApp, env: slowEnv }), 'deploy').result;
      expect(started.status).toBe('started');
      const cancel = oneResult(await cli(['cancel', '--json', '--yes'], { cwd: slowApp, env: slowEnv }), 'cancel');
      expect([cancel.status, cancel.deployment_id]).toEqual(['cancelled', started.deployment_id]);
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('failures are one error line: an unknown command, an unlinked folder, a consent gate', async () => {
    const typo = oneError(await cli(['stauts', '--json']), 'invalid_input');
    expect(typo.next_action).toBe('Did you mean `opendeploy status`? To deploy a folder, pass its path (./stauts).');
    const empty = await tempDir('od-unlinked-');
    const unlinked = oneError(await cli(['status', '--json'], { cwd: empty }), 'invalid_input');
    expect(unlinked.message).toBe(`No project is linked to ${empty}.`);
    const gate = oneError(await cli(['env', 'unset', 'GREETING', '--json']), 'consent_required');
    expect((gate.details as { changes: string[] }).changes).toEqual(['GREETING']);
  });
});
