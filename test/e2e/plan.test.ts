import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * "Make the plan visible at deploy time" (issue 10), through the real CLI and a real local gateway
 * in simulate mode: required variables the service will not have are named before the build (never
 * their values) and named first when the deployment then fails; a linked service follows the port
 * the analysis now finds; and deploy's failure summary names the same cause as `opendeploy triage`.
 */

let gw: TestGateway;
let home: string;
const TOKEN = patToken();

/** Canary values: if one of them shows up anywhere, a value leaked. */
const CANARY_STRIPE = 'sk_live_canary_7f3a91d2c4e8b605';
const CANARY_SESSION = 'canary-session-9d81e4b7a2c3f650';

function cli(args: string[], cwd: string): Promise<CliRun> {
  return runCli(args, { cwd, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
}

async function envFile(lines: string[]): Promise<string> {
  const file = path.join(await tempDir('od-envfile-'), 'production.env');
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

async function auditLog(): Promise<string> {
  const dir = path.join(home, 'logs');
  const files = await readdir(dir);
  return (await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')))).join('');
}

async function getService(serviceId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${gw.url}/v1/services/${serviceId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function indexOf(run: CliRun, match: (event: Record<string, unknown>) => boolean): number {
  const index = run.events.findIndex(match);
  expect(index, JSON.stringify(run.events.map((e) => `${String(e.type)}:${String(e.stage ?? e.code ?? '')}`))).toBeGreaterThanOrEqual(0);
  return index;
}

interface Triage {
  cause_id: string | null;
  cause: string;
  fix_command: string | null;
  next_action: string;
  deployment_id: string;
}

async function triage(cwd: string, deploymentId: string): Promise<Triage> {
  const run = await cli(['triage', deploymentId, '--json'], cwd);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Triage;
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
});

// A script a failed test did not use must not fail the next test's deployment.
beforeEach(async () => {
  const response = await fetch(`${gw.origin}/__local/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(response.status).toBe(200);
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

// env-example-app requires DATABASE_URL (the postgres database provides it), JWT_SECRET,
// SESSION_SECRET, STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (nothing provides them).
describe('required variables the service will not have', () => {
  it('--json: a warning event before the build names them (names only), and the result lists them', async () => {
    const app = await copyFixture('env-example-app');
    const file = await envFile([`STRIPE_SECRET_KEY=${CANARY_STRIPE}`]);
    const run = await cli(['deploy', '--json', '--env-file', file, '--name', 'plan-json'], app);
    expect(run.code, run.stderr).toBe(0);

    const warnings = run.events.filter((event) => event.type === 'warning');
    const result = lastEvent(run)!;
    expect(warnings).toEqual([
      {
        type: 'warning',
        code: 'missing_required_vars',
        message:
          'env-example-app will start without 3 required variables: JWT_SECRET, SESSION_SECRET and STRIPE_WEBHOOK_SECRET (the analysis marks them required; the app will likely fail without them). ' +
          'Pass them in a dotenv file with `opendeploy --vars-file <file>`, or set them with `opendeploy env set JWT_SECRET=... SESSION_SECRET=... STRIPE_WEBHOOK_SECRET=...` and then `opendeploy redeploy`.',
        service: 'env-example-app',
        service_id: result.service_id,
        missing_required_vars: ['JWT_SECRET', 'SESSION_SECRET', 'STRIPE_WEBHOOK_SECRET'],
      },
    ]);
    // Before the build: ahead of the upload and of the deployment.
    const warned = indexOf(run, (event) => event.type === 'warning');
    expect(warned).toBeLessThan(indexOf(run, (event) => event.type === 'stage' && event.stage === 'archive'));
    expect(warned).toBeLessThan(indexOf(run, (event) => event.type === 'stage' && event.stage === 'deploy.create'));
    expect(result).toMatchObject({ type: 'result', status: 'success', missing_required_vars: ['JWT_SECRET', 'SESSION_SECRET', 'STRIPE_WEBHOOK_SECRET'] });
    // The same sentence on stderr, for a person watching a --json run.
    expect(run.stderr).toContain('warning: env-example-app will start without 3 required variables: JWT_SECRET, SESSION_SECRET and STRIPE_WEBHOOK_SECRET');

    // The --env-file value reached the service, and never the output or the audit log.
    const service = await getService(String(result.service_id));
    expect((service.runtime_variables as Record<string, string>).STRIPE_SECRET_KEY).toBe(CANARY_STRIPE);
    expect(run.stdout + run.stderr + (await auditLog())).not.toContain(CANARY_STRIPE);
  });

  it('human: one warning line naming them before the build, and the report repeats the names', async () => {
    const app = await copyFixture('env-example-app');
    const file = await envFile([`SESSION_SECRET=${CANARY_SESSION}`, `STRIPE_SECRET_KEY=${CANARY_STRIPE}`]);
    const run = await cli(['deploy', '--env-file', file, '--name', 'plan-human'], app);
    expect(run.code, run.stderr).toBe(0);
    const line =
      '! env-example-app will start without 2 required variables: JWT_SECRET and STRIPE_WEBHOOK_SECRET (the analysis marks them required; the app will likely fail without them). ' +
      'Pass them in a dotenv file with `opendeploy --vars-file <file>`, or set them with `opendeploy env set JWT_SECRET=... STRIPE_WEBHOOK_SECRET=...` and then `opendeploy redeploy`.';
    const stderr = run.stderr.split('\n');
    expect(stderr.filter((l) => l.includes('required variable'))).toEqual([line]);
    expect(stderr.indexOf(line)).toBeLessThan(stderr.findIndex((l) => /^✔ Deployment \S+ started$/.test(l)));
    expect(run.stdout).toContain('  not set     JWT_SECRET, STRIPE_WEBHOOK_SECRET (required by the analysis; see the warning above)\n');
    const everything = run.stdout + run.stderr + (await auditLog());
    expect(everything).not.toContain(CANARY_SESSION);
    expect(everything).not.toContain(CANARY_STRIPE);
  });

  it('a re-deploy with --env-file supplies them to the linked service (read back), and the warning is gone', async () => {
    const app = await copyFixture('env-example-app');
    const first = await cli(['deploy', '--json', '--name', 'plan-env-file'], app);
    expect(first.code, first.stderr).toBe(0);
    expect(lastEvent(first)!.missing_required_vars).toEqual(['JWT_SECRET', 'SESSION_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET']);
    const file = await envFile([`JWT_SECRET=${CANARY_SESSION}-jwt`, `SESSION_SECRET=${CANARY_SESSION}`, `STRIPE_SECRET_KEY=${CANARY_STRIPE}`, 'STRIPE_WEBHOOK_SECRET=whsec_canary_55e1']);
    const second = await cli(['deploy', '--json', '--env-file', file], app);
    expect(second.code, second.stderr).toBe(0);
    expect(second.events.filter((event) => event.type === 'warning')).toEqual([]);
    expect(second.events.find((event) => event.stage === 'service.env')).toMatchObject({
      status: 'done',
      keys: ['JWT_SECRET', 'SESSION_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
    });
    expect(lastEvent(second)!.missing_required_vars).toEqual([]);
    const env = (await getService(String(lastEvent(second)!.service_id))).runtime_variables as Record<string, string>;
    expect(env.SESSION_SECRET).toBe(CANARY_SESSION);
    expect(env.DATABASE_URL).toMatch(/^postgresql:\/\//);
    const everything = second.stdout + second.stderr + (await auditLog());
    for (const canary of [CANARY_SESSION, CANARY_STRIPE, 'whsec_canary_55e1']) expect(everything).not.toContain(canary);
  });

  it('when the deployment then fails, the failure summary names the missing variables first, and triage agrees', async () => {
    const app = await copyFixture('env-example-app');
    await gw.nextDeployment({
      outcome: 'failed',
      phase: 'runtime',
      error_msg: 'Container crashed',
      log_lines: ["TypeError: Cannot read properties of undefined (reading 'length')", '    at sign (/app/src/auth.js:4:31)', 'Back-off restarting failed container'],
    });
    const run = await cli(['deploy', '--json', '--name', 'plan-crash'], app);
    expect(run.code).toBe(5);
    const error = lastEvent(run)!;
    const details = error.details as Record<string, unknown>;
    const id = String(details.deployment_id);
    expect(error).toMatchObject({
      type: 'error',
      error_code: 'runtime_crash',
      message: `Deployment ${id} failed: a required environment variable is missing: JWT_SECRET, SESSION_SECRET, STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set (the analysis lists them as required).`,
      next_action:
        'Set JWT_SECRET, SESSION_SECRET, STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET with `opendeploy env set JWT_SECRET=... SESSION_SECRET=... STRIPE_SECRET_KEY=... STRIPE_WEBHOOK_SECRET=...` (replace each ... with the real value) and then `opendeploy redeploy`, or put them in a dotenv file and deploy again with `opendeploy --vars-file <file>`.',
    });
    expect(details).toMatchObject({
      cause_id: 'G17',
      fix_command: 'opendeploy env set JWT_SECRET=... SESSION_SECRET=... STRIPE_SECRET_KEY=... STRIPE_WEBHOOK_SECRET=...',
      missing_required_vars: ['JWT_SECRET', 'SESSION_SECRET', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
      evidence: [
        'required by the analysis, not set on the service: JWT_SECRET, SESSION_SECRET, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET',
        "TypeError: Cannot read properties of undefined (reading 'length')",
        'Back-off restarting failed container',
      ],
    });
    const report = await triage(app, id);
    expect(report).toMatchObject({ deployment_id: id, cause_id: 'G17', cause: details.cause, fix_command: details.fix_command, next_action: error.next_action });

    // `opendeploy redeploy` (no analysis of its own) reads the folder's analysis.json: same summary.
    await gw.nextDeployment({ outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ['Back-off restarting failed container'] });
    const redeploy = await cli(['redeploy', '--json'], app);
    expect(redeploy.code).toBe(5);
    expect(lastEvent(redeploy)!.details).toMatchObject({ cause_id: 'G17', cause: details.cause, missing_required_vars: details.missing_required_vars });
  });

  it('a failure with another cause keeps it, and its next action names the missing variables first', async () => {
    const app = await copyFixture('env-example-app');
    await gw.nextDeployment({ outcome: 'failed', phase: 'runtime', error_msg: 'OOMKilled', log_lines: ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'] });
    const run = await cli(['deploy', '--json', '--name', 'plan-oom'], app);
    expect(run.code).toBe(5);
    const error = lastEvent(run)!;
    expect((error.details as Record<string, unknown>).cause_id).toBe('OOM');
    expect(String(error.next_action)).toMatch(/^First set JWT_SECRET, SESSION_SECRET, STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, which the analysis lists as required and the service does not have: /);
    expect(String(error.next_action)).toContain('Then: Give it more memory with `opendeploy resize --memory 8Gi`');
    const report = await triage(app, String((error.details as Record<string, unknown>).deployment_id));
    expect(report).toMatchObject({ cause_id: 'OOM', fix_command: 'opendeploy resize --memory 8Gi', next_action: error.next_action });
  });
});

describe('the analysed port wins on a linked service', () => {
  it('a re-deploy after the app changed its port updates the service (read back) and says so', async () => {
    const app = await copyFixture('node-http');
    const first = await cli(['deploy', '--json', '--name', 'plan-port'], app);
    expect(first.code, first.stderr).toBe(0);
    const serviceId = String(lastEvent(first)!.service_id);
    expect(await getService(serviceId)).toMatchObject({ port: 3000, runtime_variables: { PORT: '3000' } });

    const server = path.join(app, 'server.js');
    await writeFile(server, (await readFile(server, 'utf8')).replace('process.env.PORT || 3000', 'process.env.PORT || 8080'));
    await gw.clearRequests();
    const second = await cli(['deploy'], app);
    expect(second.code, second.stderr).toBe(0);
    // One line says so.
    expect(second.stderr.split('\n').filter((line) => line.startsWith('✔ Service'))).toEqual([
      '✔ Service node-http now expects port 8080 (was 3000), as the analysis found; read back',
    ]);
    // PORT was the old port, seeded by the first deploy: it follows, or the app would keep 3000.
    expect(second.stderr).toContain('✔ Set PORT on service node-http; read back');
    const requests = await gw.requests();
    expect(requests.filter((r) => r.method === 'PUT').map((r) => `${r.method} ${r.path} ${JSON.stringify(r.json ?? {})}`)).toEqual([
      `PUT /api/v1/services/${serviceId} {"port":8080}`,
      `PUT /api/v1/projects/${String((await readProjectJson(app)).project_id)}/services/${serviceId}/env {"variables":{"PORT":"8080"}}`,
    ]);
    expect(await getService(serviceId)).toMatchObject({ port: 8080, runtime_variables: { PORT: '8080' } });
    // The new deployment was created after the port change.
    const putIndex = requests.findIndex((r) => r.method === 'PUT');
    expect(requests.findIndex((r) => r.method === 'POST' && r.path === '/api/v1/deployments/')).toBeGreaterThan(putIndex);

    // --json: the change is one stage event; a third run has nothing to change.
    await writeFile(server, (await readFile(server, 'utf8')).replace('process.env.PORT || 8080', 'process.env.PORT || 9090'));
    const third = await cli(['deploy', '--json'], app);
    expect(third.code, third.stderr).toBe(0);
    expect(third.events.filter((event) => event.stage === 'service.port')).toEqual([
      { type: 'stage', stage: 'service.port', status: 'done', message: 'Service node-http now expects port 9090 (was 8080), as the analysis found; read back', service_id: serviceId, port: 9090, previous_port: 8080 },
    ]);
    const fourth = await cli(['deploy', '--json'], app);
    expect(fourth.code, fourth.stderr).toBe(0);
    expect(fourth.events.filter((event) => event.stage === 'service.port' || event.stage === 'service.env')).toEqual([]);
    expect(await getService(serviceId)).toMatchObject({ port: 9090, runtime_variables: { PORT: '9090' } });
  });
  it('a port locked in the dashboard is left alone, with a warning event that says so', async () => {
    const app = await copyFixture('node-http');
    const first = await cli(['deploy', '--json', '--name', 'plan-locked'], app);
    expect(first.code, first.stderr).toBe(0);
    const serviceId = String(lastEvent(first)!.service_id);
    const server = path.join(app, 'server.js');
    await writeFile(server, (await readFile(server, 'utf8')).replace('process.env.PORT || 3000', 'process.env.PORT || 8080'));
    // The hosted gateway reports `port_locked` for a port set by hand; the local one never locks.
    await gw.fault({ route: 'GET /api/v1/services/:id', count: 1, status: 200, body: { ...(await getService(serviceId)), port_locked: true } });
    await gw.clearRequests();
    const run = await cli(['deploy', '--json'], app);
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.filter((event) => event.type === 'warning')).toEqual([
      {
        type: 'warning',
        code: 'port_locked',
        message: 'The analysis finds port 8080 for node-http, but its service is locked to port 3000 in the dashboard; leaving it at 3000. To use 8080, run `opendeploy port 8080`.',
        service: 'node-http',
        service_id: serviceId,
        port: 3000,
        analysed_port: 8080,
      },
    ]);
    expect((await gw.requests()).filter((r) => r.method === 'PUT')).toEqual([]);
    expect(await getService(serviceId)).toMatchObject({ port: 3000, runtime_variables: { PORT: '3000' } });
  });
});

describe('deploy and triage name the same cause', () => {
  const cases: { id: string; script: Record<string, unknown> }[] = [
    { id: 'E1', script: { outcome: 'failed', phase: 'build', error_msg: 'Build failed', log_lines: ['npm ERR! missing script: build'] } },
    { id: 'OOM', script: { outcome: 'failed', phase: 'runtime', error_msg: 'OOMKilled', log_lines: ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'] } },
    { id: 'F4', script: { outcome: 'failed', phase: 'runtime', error_msg: 'Readiness probe failed', log_lines: ['Server listening on http://0.0.0.0:8080', 'Readiness probe failed: dial tcp 10.1.0.4:3000: connect: connection refused'] } },
    { id: 'G3', script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ['Error: connect ECONNREFUSED 127.0.0.1:5432'] } },
    { id: 'G17', script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ['Error: Missing required environment variable: API_TOKEN'] } },
    { id: 'F9', script: { outcome: 'failed', phase: 'runtime' } },
    { id: 'E6', script: { outcome: 'failed', phase: 'deploy' } },
    { id: 'B1', script: { outcome: 'failed', phase: 'deploy', error_msg: 'agent_quota_exceeded', log_lines: ['Error creating pod: 403 agent_quota_exceeded field=memory_limit requested=4Gi limit=1Gi'] } },
  ];
  let app: string;

  beforeAll(async () => {
    app = await copyFixture('node-http');
    const first = await cli(['deploy', '--json', '--name', 'plan-agree'], app);
    expect(first.code, first.stderr).toBe(0);
  });

  for (const c of cases) {
    it(`${c.id}: the same cause id, cause, fix command and next action`, async () => {
      await gw.nextDeployment(c.script);
      const run = await cli(['deploy', '--json'], app);
      expect(run.code).toBe(5);
      const error = lastEvent(run)!;
      const details = error.details as Record<string, unknown>;
      expect(details.cause_id).toBe(c.id);
      const report = await triage(app, String(details.deployment_id));
      expect(report).toMatchObject({ cause_id: c.id, cause: details.cause, fix_command: details.fix_command, next_action: error.next_action });
      expect(String(error.message)).toBe(`Deployment ${String(details.deployment_id)} failed: ${report.cause}.`);
    });
  }
});

describe('the failing log line', () => {
  it('is shown once: the failure summary does not repeat a line the log stream already showed', async () => {
    const app = await copyFixture('node-http');
    const first = await cli(['deploy', '--json', '--name', 'plan-once'], app);
    expect(first.code, first.stderr).toBe(0);
    const failing = 'npm ERR! missing script: build-once-7c1e';
    await gw.nextDeployment({ outcome: 'failed', phase: 'build', error_msg: 'Build failed', log_lines: [failing] });
    const run = await cli(['deploy'], app);
    expect(run.code).toBe(5);
    expect(run.stderr.split(failing).length - 1, run.stderr).toBe(1);
  });
});
