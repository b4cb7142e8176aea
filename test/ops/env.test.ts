import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun, errorOf } from '../helpers/cli.js';
import { resultOf } from '../helpers/json-result.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { formatDotenv, formatDotenvLine } from '../../src/ops/dotenv.js';
import { diffEnv, diffLines } from '../../src/ops/env-diff.js';

const ENV_ROUTE = /^\/api\/v1\/projects\/[^/]+\/services\/[^/]+\/env$/;
const TOKEN = `od_k${'E'.repeat(20)}${'n'.repeat(23)}`;

/** A value that must never show up anywhere but --show-secrets stdout and the gateway. */
function canary(label: string): string {
  return `canary-${label}-${randomBytes(9).toString('hex')}`;
}

let gw: TestGateway;
let home: string;
let app: string;
const canaries: string[] = [];

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra };
}

function cli(args: string[], extra: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(args, { cwd: app, env: env(extra) });
}

/** Like cli, with `input` on the run's stdin. */
function cliWithStdin(args: string[], input: string): Promise<CliRun> {
  return runCli(args, { cwd: app, env: env(), stdin: input });
}

/** The one `{"type":"result",...}` line a one-shot command prints (its fields, without `type`). */
function doc(run: CliRun): Record<string, unknown> {
  return resultOf(run);
}

/** No canary in stdout/stderr (stdout may be exempted for --show-secrets runs). */
function expectNoCanaries(run: CliRun, options: { stdout?: boolean } = {}): void {
  for (const value of canaries) {
    expect(run.stderr).not.toContain(value);
    if (options.stdout !== false) expect(run.stdout).not.toContain(value);
  }
}

const envRequests = async (): Promise<RecordedRequest[]> => (await gw.requests()).filter((r) => ENV_ROUTE.test(r.path));
const puts = async (): Promise<RecordedRequest[]> => (await envRequests()).filter((r) => r.method === 'PUT');

/** The PUT carried `expected` as the full map, and a GET read it back afterwards. */
async function expectPutThenReadBack(expected: Record<string, string>): Promise<void> {
  const requests = await envRequests();
  const putIndex = requests.findIndex((r) => r.method === 'PUT');
  expect(putIndex).toBeGreaterThan(0); // a GET came first (merge)
  expect(requests[putIndex - 1]!.method).toBe('GET');
  expect(requests[putIndex]!.status).toBe(200);
  expect((requests[putIndex]!.json as { variables: Record<string, string> }).variables).toEqual(expected);
  expect(requests.slice(putIndex + 1).some((r) => r.method === 'GET' && r.status === 200)).toBe(true);
}

async function currentEnv(): Promise<Record<string, string>> {
  const run = await cli(['env', 'list', '--show-secrets', '--json']);
  expect(run.code).toBe(0);
  return doc(run).variables as Record<string, string>;
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const deployed = await runCli(['deploy', app, '--json'], { env: env() });
  expect(deployed.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('opendeploy env (against a deployed fixture)', () => {
  it('set KEY=VALUE: GET, merge, PUT of the full map, read back; warns about argv; value never printed', async () => {
    const value = canary('argv');
    canaries.push(value);
    await gw.clearRequests();
    const run = await cli(['env', 'set', `ARGV_KEY=${value}`, 'PLAIN=hello', '--json']);
    expect(run.code).toBe(0);
    expect(doc(run)).toMatchObject({ keys_set: ['ARGV_KEY', 'PLAIN'], keys_added: ['ARGV_KEY', 'PLAIN'], changed: true, verified: true, redeploy_needed: true });
    expect(run.stderr).toContain('shell history');
    expect(run.stderr).toContain('ARGV_KEY');
    expectNoCanaries(run);
    await expectPutThenReadBack({ PORT: '3000', ARGV_KEY: value, PLAIN: 'hello' });

    // The same value again changes nothing and sends no PUT.
    await gw.clearRequests();
    const again = await cli(['env', 'set', 'PLAIN=hello', '--json']);
    expect(again.code).toBe(0);
    expect(doc(again)).toMatchObject({ changed: false, keys_unchanged: ['PLAIN'] });
    expect(await puts()).toEqual([]);
  });

  it('set KEY with the value on stdin (one trailing newline dropped) and with --from-file; nothing on stdin is an error', async () => {
    const piped = canary('stdin');
    const fromFile = canary('file');
    canaries.push(piped, fromFile);
    await gw.clearRequests();
    const run = await cliWithStdin(['env', 'set', 'PIPED_KEY', '--json'], `${piped}\n`);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('shell history');
    expectNoCanaries(run);
    await expectPutThenReadBack({ PORT: '3000', ARGV_KEY: canaries[0]!, PLAIN: 'hello', PIPED_KEY: piped });

    const file = path.join(await tempDir('od-val-'), 'value.txt');
    await writeFile(file, `${fromFile}\n`);
    const viaFile = await cli(['env', 'set', 'FILE_KEY', '--from-file', file, '--json']);
    expect(viaFile.code).toBe(0);
    expectNoCanaries(viaFile);
    expect((await currentEnv()).FILE_KEY).toBe(fromFile);

    await gw.clearRequests();
    const empty = await cli(['env', 'set', 'EMPTY_KEY', '--json']); // runCli's stdin is /dev/null
    expect(empty.code).toBe(2);
    expect(errorOf(empty).error_code).toBe('invalid_input');
    expect(await puts()).toEqual([]);
  });

  it('rejects bad names and values over 32 KiB locally, before any request', async () => {
    await gw.clearRequests();
    for (const args of [['1BAD=x'], [`${'K'.repeat(129)}=x`], ['A=1', 'LONELY']]) {
      const run = await cli(['env', 'set', ...args, '--json']);
      expect(run.code).toBe(2);
      expect(errorOf(run).error_code).toBe('invalid_input');
    }
    const big = path.join(await tempDir('od-big-'), 'big.txt');
    await writeFile(big, 'x'.repeat(32 * 1024 + 1));
    const run = await cli(['env', 'set', 'BIG', '--from-file', big, '--json']);
    expect(run.code).toBe(2);
    expect(String(errorOf(run).message)).toContain('32 KiB');
    expect(await gw.requests()).toEqual([]);
  });

  it('list and get redact values unless --show-secrets; an unknown key is not_found', async () => {
    const list = await cli(['env', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(doc(list)).toEqual({
      service_id: expect.any(String),
      variables: { ARGV_KEY: '<redacted>', FILE_KEY: '<redacted>', PIPED_KEY: '<redacted>', PLAIN: '<redacted>', PORT: '<redacted>' },
      count: 5,
      values_redacted: true,
      // Set since the deploy and not redeployed: the live deployment has PORT only.
      live_deployment_id: expect.any(String),
      live_differs: true,
      live: { ARGV_KEY: 'missing', FILE_KEY: 'missing', PIPED_KEY: 'missing', PLAIN: 'missing', PORT: 'same' },
      live_only: [],
      live_variables: {},
    });
    expectNoCanaries(list);
    const human = await cli(['env', 'list']);
    expect(human.stdout).toMatch(/ARGV_KEY\s+••••••/);
    expectNoCanaries(human);

    const shown = await cli(['env', 'list', '--show-secrets', '--json']);
    expect((doc(shown).variables as Record<string, string>).ARGV_KEY).toBe(canaries[0]);
    expectNoCanaries(shown, { stdout: false });

    const get = await cli(['env', 'get', 'PIPED_KEY', '--json']);
    expect(doc(get)).toMatchObject({ key: 'PIPED_KEY', value: '<redacted>', values_redacted: true });
    expectNoCanaries(get);
    const reveal = await cli(['env', 'get', 'PIPED_KEY', '--show-secrets']);
    expect(reveal.stdout).toBe(`${canaries[1]}\n`);

    const missing = await cli(['env', 'get', 'NOPE', '--json']);
    expect(missing.code).toBe(1);
    expect(errorOf(missing)).toMatchObject({ error_code: 'not_found', details: { key: 'NOPE' } });
  });

  it('unset asks first: consent_required (exit 7) names the keys and the exact resume command, and sends no PUT', async () => {
    await gw.clearRequests();
    const gated = await cli(['env', 'unset', 'PLAIN', 'ARGV_KEY', '--json']);
    expect(gated.code).toBe(7);
    const error = errorOf(gated);
    expect(error.error_code).toBe('consent_required');
    expect(error.details).toEqual({ changes: ['ARGV_KEY', 'PLAIN'], resume_command: 'opendeploy env unset PLAIN ARGV_KEY --json --yes', values_redacted: true });
    expect(await puts()).toEqual([]);

    const unknown = await cli(['env', 'unset', 'NOT_THERE', '--json', '--yes']);
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown)).toMatchObject({ error_code: 'not_found', details: { missing: ['NOT_THERE'] } });
    expect(await puts()).toEqual([]);

    const before = await currentEnv();
    await gw.clearRequests();
    const run = await cli(['env', 'unset', 'PLAIN', 'ARGV_KEY', '--json', '--yes']);
    expect(run.code).toBe(0);
    expect(doc(run)).toMatchObject({ keys_removed: ['ARGV_KEY', 'PLAIN'], count: 3, verified: true });
    expectNoCanaries(run);
    const { PLAIN: _p, ARGV_KEY: _a, ...rest } = before;
    await expectPutThenReadBack(rest);
  });

  it('a read-back that differs from what was sent is an error naming the key (never the value)', async () => {
    const value = canary('mismatch');
    canaries.push(value);
    // Every GET answers a stale map: the new key never reads back, however often it is re-applied.
    await gw.fault({ route: 'GET /api/v1/projects/:id/services/:sid/env', count: 50, status: 200, body: { variables: { PORT: '3000' } } });
    const run = await cli(['env', 'set', `STALE_KEY=${value}`, '--json']);
    await gw.clearFaults();
    expect(run.code).toBe(1);
    const error = errorOf(run);
    expect(error.error_code).toBe('server_error');
    expect(String(error.message)).toContain('STALE_KEY');
    expectNoCanaries(run);
    // Put the service back the way the later tests expect it.
    const restore = await cli(['env', 'rotate', '--from', await dotenvFile({ PORT: '3000', FILE_KEY: canaries[2]!, PIPED_KEY: canaries[1]! }), '--no-redeploy', '--yes', '--json']);
    expect(restore.code).toBe(0);
  });

  it('rotate --from: shows the key-level diff, gates on consent, replaces the whole map, reads back and redeploys', async () => {
    const rotated = canary('rotated');
    const added = canary('added');
    canaries.push(rotated, added);
    const file = await dotenvFile({ PORT: '3000', PIPED_KEY: rotated, NEW_KEY: added });

    await gw.clearRequests();
    const gated = await cli(['env', 'rotate', '--from', file, '--json']);
    expect(gated.code).toBe(7);
    expect(errorOf(gated).details).toEqual({
      changes: ['+NEW_KEY', '-FILE_KEY', '~PIPED_KEY'],
      resume_command: `opendeploy env rotate --from ${file} --json --yes`,
      values_redacted: true,
    });
    expect(gated.stderr).toContain('1 added (NEW_KEY), 1 removed (FILE_KEY), 1 changed (PIPED_KEY)');
    expectNoCanaries(gated);
    expect(await puts()).toEqual([]);

    await gw.clearRequests();
    const run = await cli(['env', 'rotate', '--from', file, '--json', '--yes']);
    expect(run.code).toBe(0);
    expectNoCanaries(run);
    const stages = run.events.filter((e) => e.type === 'stage').map((e) => e.stage);
    expect(stages).toEqual(['env.replace', 'deploy.create', 'deploy.terminal']);
    const result = lastEvent(run)!;
    expect(result).toMatchObject({ type: 'result', status: 'success', keys_added: ['NEW_KEY'], keys_removed: ['FILE_KEY'], keys_changed: ['PIPED_KEY'], count: 3, verified: true });
    await expectPutThenReadBack({ PORT: '3000', PIPED_KEY: rotated, NEW_KEY: added });

    // The redeploy came after the read-back, for the same service, with the current source.
    const all = await gw.requests();
    const put = all.findIndex((r) => r.method === 'PUT' && ENV_ROUTE.test(r.path));
    const create = all.findIndex((r) => r.method === 'POST' && r.path === '/api/v1/deployments/');
    expect(create).toBeGreaterThan(put);
    expect(all[create]!.json).toMatchObject({ service_id: result.service_id, source: 'zip', temp_file_path: expect.any(String) });
    expect(all[create]!.status).toBe(201);
    expect(result.deployment_id).toEqual(expect.any(String));
    const link = JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')) as { last_deployment: { id: string; status: string } };
    expect(link.last_deployment).toMatchObject({ id: result.deployment_id, status: 'success' });
  });

  it('rotate KEY --generate: consent first, then a 43-char base64url secret that is never printed (unless --show-secrets); --no-redeploy skips the deployment', async () => {
    await gw.clearRequests();
    const gated = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--no-redeploy', '--json']);
    expect(gated.code).toBe(7);
    expect(errorOf(gated).details).toMatchObject({ changes: ['+SESSION_SECRET'], resume_command: 'opendeploy env rotate SESSION_SECRET --generate --no-redeploy --json --yes' });
    expect(await puts()).toEqual([]);

    await gw.clearRequests();
    const run = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--no-redeploy', '--json', '--yes']);
    expect(run.code).toBe(0);
    expect(doc(run)).toMatchObject({ keys_added: ['SESSION_SECRET'], deployment_id: null, redeploy_needed: true });
    const sent = ((await puts())[0]!.json as { variables: Record<string, string> }).variables;
    const secret = sent.SESSION_SECRET!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(run.stdout + run.stderr).not.toContain(secret);
    expect((await gw.requests()).some((r) => r.method === 'POST' && r.path === '/api/v1/deployments/')).toBe(false);

    const shown = await cli(['env', 'rotate', 'SESSION_SECRET', '--generate', '--no-redeploy', '--show-secrets', '--json', '--yes']);
    expect(shown.code).toBe(0);
    const value = String(doc(shown).value);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value).not.toBe(secret);
    expect((await currentEnv()).SESSION_SECRET).toBe(value);
    canaries.push(secret, value);

    const noGenerate = await cli(['env', 'rotate', 'SESSION_SECRET', '--json', '--yes']);
    expect(noGenerate.code).toBe(2);
    expect(errorOf(noGenerate).error_code).toBe('invalid_input');
  });

  it('pull writes a 0600 dotenv file that reads back to the same map, and never overwrites without consent', async () => {
    const run = await cli(['env', 'pull', '--json']);
    expect(run.code).toBe(0);
    expectNoCanaries(run);
    const file = path.join(app, '.env.opendeploy');
    expect(doc(run)).toMatchObject({ file, count: 4, keys: ['NEW_KEY', 'PIPED_KEY', 'PORT', 'SESSION_SECRET'] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(parseEnv(text)).toEqual(await currentEnv());

    const gated = await cli(['env', 'pull', '--json']);
    expect(gated.code).toBe(7);
    expect(errorOf(gated).details).toMatchObject({ changes: ['.env.opendeploy'], resume_command: 'opendeploy env pull --json --yes' });
    expect(await readFile(file, 'utf8')).toBe(text);

    const custom = path.join(await tempDir('od-pull-'), 'prod.env');
    const again = await cli(['env', 'pull', custom, '--json', '--yes']);
    expect(again.code).toBe(0);
    expect((await stat(custom)).mode & 0o777).toBe(0o600);
  });

  it('maps gateway refusals: 403 quota (exit 4), 409 (exit 1), unknown service (exit 1), rejected token (exit 3); nothing changes', async () => {
    const before = await currentEnv();
    await gw.fault({
      route: 'PUT /api/v1/projects/:id/services/:sid/env',
      status: 403,
      body: { error: 'quota_exceeded', exceeded_resources: [{ resource_type: 'env_vars', current: 4, requested: 5, limit: 4, unit: '' }] },
    });
    const quota = await cli(['env', 'set', 'Q=1', '--json']);
    expect(quota.code).toBe(4);
    expect(errorOf(quota).error_code).toBe('quota_exceeded');

    await gw.fault({ route: 'PUT /api/v1/projects/:id/services/:sid/env', status: 409, body: { error: 'env update in progress' } });
    const conflict = await cli(['env', 'unset', 'NEW_KEY', '--json', '--yes']);
    expect(conflict.code).toBe(1);
    expect(errorOf(conflict).error_code).toBe('conflict');

    const service = await cli(['env', 'list', '--service', 'no-such-service', '--json']);
    expect(service.code).toBe(1);
    expect(errorOf(service).error_code).toBe('not_found');

    // od_a tokens exist only once the gateway registered them: an unknown one is rejected (401).
    const rejected = await cli(['env', 'list', '--json'], { OPENDEPLOY_TOKEN: `od_a${'Z'.repeat(43)}` });
    expect(rejected.code).toBe(3);
    expect(errorOf(rejected).error_code).toBe('auth_invalid');
    expect(await currentEnv()).toEqual(before);
  });

  it('the audit log has env.replace lines with key names and counts, and no value at all', async () => {
    const logs = path.join(home, 'logs');
    const text = (await Promise.all((await readdir(logs)).map((name) => readFile(path.join(logs, name), 'utf8')))).join('');
    for (const value of canaries) expect(text).not.toContain(value);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.step === 'env.replace' && line.level === 'info');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.some((line) => (line.keys_changed as string[]).includes('PIPED_KEY') && line.count === 3)).toBe(true);
  });
});

describe('dotenv formatting and diffs', () => {
  it('every value reads back unchanged through util.parseEnv, or is refused by name', () => {
    const values = ['plain', '', 'with space', "it's", 'say "hi"', 'a\nb', 'x # not a comment', '$HOME', 'back\\nslash', '=x=', " lead'n\"trail\n`x` "];
    for (const value of values) {
      const line = formatDotenvLine('K', value);
      if (line !== undefined) expect(parseEnv(`${line}\n`)).toEqual({ K: value });
    }
    expect(formatDotenvLine('K', "a'b\"c`d\ne")).toBeUndefined();
    expect(() => formatDotenv({ OK: '1', BAD: "a'b\"c`d\ne" })).toThrow(/BAD/);
    const map = { A: 'x y', B: 'multi\nline', C: 'q"uote' };
    expect(parseEnv(formatDotenv(map, ['header']))).toEqual(map);
  });

  it('diffs by key name only', () => {
    const diff = diffEnv({ A: '1', B: '2', C: '3' }, { A: '1', B: 'x', D: '4' });
    expect(diff).toEqual({ added: ['D'], removed: ['C'], changed: ['B'], unchanged: ['A'] });
    expect(diffLines(diff)).toEqual(['+D', '-C', '~B']);
  });
});

async function dotenvFile(map: Record<string, string>): Promise<string> {
  const file = path.join(await tempDir('od-dotenv-'), 'rotate.env');
  await writeFile(file, formatDotenv(map));
  return file;
}
