import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun, errorOf } from '../helpers/cli.js';
import { resultOf } from '../helpers/json-result.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readProjectJson, deployLinked } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kDomainOps${'N'.repeat(34)}`;

let gw: TestGateway;
let home: string;
let app: string;
let deployed: Record<string, unknown>;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra };
}

const projectJson = (): Promise<Record<string, unknown>> => readProjectJson(app);

/** `--json` one-shot output: one `{"type":"result",...}` line on stdout (its fields, without `type`). */
function documentOf(run: CliRun): Record<string, unknown> {
  return resultOf(run);
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  deployed = await deployLinked(app, env());
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy domain check', () => {
  it('available: asks the gateway once and prints the answer', async () => {
    await gw.clearRequests();
    const run = await runCli(['domain', 'check', 'shop-front', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    expect(documentOf(run)).toEqual({ subdomain: 'shop-front', domain: 'shop-front.opendeploy.run', available: true, reason: null });
    expect((await gw.requests()).filter((r) => r.path.startsWith('/api/v1/service-domains')).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/service-domains/check-subdomain/shop-front',
    ]);
  });

  it('reserved: answered locally (no request); taken: as the gateway says', async () => {
    await gw.clearRequests();
    const reserved = await runCli(['domain', 'check', 'api'], { cwd: app, env: env() });
    expect(reserved.code).toBe(0);
    expect(reserved.stdout).toBe('api.opendeploy.run is reserved by the platform; pick another prefix.\n');
    expect((await gw.requests()).some((r) => r.path.includes('check-subdomain'))).toBe(false);

    await gw.fault({ route: 'GET /api/v1/service-domains/check-subdomain/:sub', status: 200, body: { available: false, reason: 'taken' } });
    const taken = await runCli(['domain', 'check', 'popular', '--json'], { cwd: app, env: env() });
    expect(taken.code).toBe(0);
    expect(documentOf(taken)).toEqual({ subdomain: 'popular', domain: 'popular.opendeploy.run', available: false, reason: 'taken' });
  });

  it('an invalid prefix is invalid_input (exit 2) before any request', async () => {
    await gw.clearRequests();
    const run = await runCli(['domain', 'check', 'bad-', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({
      error_code: 'invalid_input',
      message: '"bad-" is not a valid subdomain: use 2–32 lowercase letters, digits or hyphens, not starting or ending with a hyphen.',
      next_action: 'Pick another prefix, e.g. my-app.',
    });
    expect(await gw.requests()).toEqual([]);
  });
});

describe('opendeploy domain rename', () => {
  it('renames the generated domain, reads it back, updates project.json and audits domain.rename', async () => {
    await gw.clearRequests();
    const run = await runCli(['domain', 'rename', 'shop-front', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    const requests = (await gw.requests()).filter((r) => r.path.startsWith('/api/v1/service-domains'));
    const domainId = (requests.find((r) => r.method === 'PUT')?.path ?? '').split('/')[4];
    expect(documentOf(run)).toEqual({
      status: 'success',
      project_id: deployed.project_id,
      service_id: deployed.service_id,
      domain_id: domainId,
      subdomain: 'shop-front',
      url: 'https://shop-front.opendeploy.run',
      previous_url: deployed.url,
      changed: true,
    });
    // Find the row, check, rename, then the GET that proves it (read-back).
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/service-domains',
      'GET /api/v1/service-domains/check-subdomain/shop-front',
      `PUT /api/v1/service-domains/${String(domainId)}/subdomain`,
      'GET /api/v1/service-domains',
    ]);
    expect(requests[2]!.json).toEqual({ subdomain: 'shop-front' });
    expect((await projectJson()).url).toBe('https://shop-front.opendeploy.run');
    const log = await readFile(path.join(home, 'logs', `${new Date().toISOString().slice(0, 10)}.log`), 'utf8');
    const line = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.step === 'domain.rename').at(-1);
    expect(line).toMatchObject({ level: 'info', service_id: deployed.service_id, domain_id: domainId, subdomain: 'shop-front', changed: true });

    // The same name again: nothing to send.
    await gw.clearRequests();
    const again = await runCli(['domain', 'rename', 'shop-front'], { cwd: app, env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('https://shop-front.opendeploy.run already uses "shop-front"; nothing to change.\n');
    expect((await gw.requests()).some((r) => r.method === 'PUT')).toBe(false);
  });

  it('a taken name is a conflict (exit 1), never silently suffixed: 409 on the PUT, or "taken" on the check', async () => {
    await gw.fault({ route: 'PUT /api/v1/service-domains/:id/subdomain', status: 409, body: { error: 'subdomain "busy-name" is already taken' } });
    await gw.clearRequests();
    const run = await runCli(['domain', 'rename', 'busy-name', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(1);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'conflict',
      message: 'The subdomain "busy-name" is already taken.',
      retryable: false,
      next_action: 'Pick another prefix (check it first with `opendeploy domain check <prefix>`).',
      details: { subdomain: 'busy-name' },
    });
    const puts = (await gw.requests()).filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.json)).toEqual([{ subdomain: 'busy-name' }]);

    await gw.fault({ route: 'GET /api/v1/service-domains/check-subdomain/:sub', status: 200, body: { available: false, reason: 'taken' } });
    await gw.clearRequests();
    const checked = await runCli(['domain', 'rename', 'other-name', '--json'], { cwd: app, env: env() });
    expect(checked.code).toBe(1);
    expect(errorOf(checked).error_code).toBe('conflict');
    expect((await gw.requests()).some((r) => r.method === 'PUT')).toBe(false);
    expect((await projectJson()).url).toBe('https://shop-front.opendeploy.run');
  });

  it('staging is invalid_input (production-only) with no request sent at all', async () => {
    await gw.clearRequests();
    const run = await runCli(['domain', 'rename', 'stage-name', '--env', 'staging', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: 'Subdomain renames are production-only on OpenDeploy; this folder targets staging, whose generated domain cannot be renamed (asked for "stage-name").',
      retryable: false,
      next_action: 'Run it against production: opendeploy domain rename stage-name --env production',
      details: { environment: 'staging' },
    });
    expect(await gw.requests()).toEqual([]);
  });

  it('an unknown project is not_found (exit 1); a rejected token is auth_invalid (exit 3)', async () => {
    const unknown = await runCli(['domain', 'rename', 'lost-name', '--project', '00000000-0000-4000-8000-000000000000', '--json'], { cwd: app, env: env() });
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown).error_code).toBe('not_found');

    await gw.clearRequests();
    const bad = await runCli(['domain', 'rename', 'lost-name', '--json'], { cwd: app, env: env({ OPENDEPLOY_TOKEN: `od_a${'w'.repeat(43)}` }) });
    expect(bad.code).toBe(3);
    expect(errorOf(bad).error_code).toBe('auth_invalid');
    expect((await gw.requests()).some((r) => r.method === 'PUT')).toBe(false);
  });
});
