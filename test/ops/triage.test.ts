import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { resultOf } from '../helpers/json-result.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { readProjectJson } from '../helpers/linked-app.js';

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let app: string;

function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return runCli(args, { cwd: options.cwd ?? app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...options.env } });
}

/** A scripted deployment of the linked service, created through the API and waited to its end. */
async function scripted(script: Record<string, unknown>): Promise<string> {
  await gw.nextDeployment(script);
  const state = (await readProjectJson(app)) as {
    project_id: string;
    services: { service_id: string }[];
    last_temp_file_path: string;
  };
  const response = await fetch(`${gw.url}/v1/deployments/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ project_id: state.project_id, service_id: state.services[0]!.service_id, environment: 'production', source: 'zip', temp_file_path: state.last_temp_file_path }),
  });
  const id = String(((await response.json()) as { id: string }).id);
  for (;;) {
    const rows = (await gw.state()).deployments as { id: string; status: string }[];
    if (['success', 'failed'].includes(rows.find((d) => d.id === id)!.status)) return id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Triage {
  deployment_id: string;
  status: string;
  cause_id: string | null;
  cause: string;
  evidence: string[];
  fix_command: string | null;
  next_action: string;
}

/** Runs `triage --json` and checks it changed nothing (only GETs reached the gateway). */
async function triage(args: string[] = [], cwd?: string): Promise<Triage> {
  await gw.clearRequests();
  const run = await cli(['triage', ...args, '--json'], cwd ? { cwd } : {});
  expect(run.code, run.stderr).toBe(0);
  expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);
  // One `{"type":"result",...}` line; the report is its fields without the envelope's `type`.
  const report = resultOf(run) as unknown as Triage;
  expect(Object.keys(report).sort()).toEqual(['cause', 'cause_id', 'deployment_id', 'evidence', 'fix_command', 'next_action', 'status']);
  return report;
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http'); // web service on 3000, PORT=3000, 4Gi memory, no databases
  const run = await cli(['deploy', '--json']);
  expect(run.code).toBe(0);
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy triage', () => {
  it('a successful latest deployment is reported as healthy', async () => {
    const report = await triage();
    expect(report).toMatchObject({ status: 'success', cause_id: null, fix_command: null, evidence: [] });
    expect(report.cause).toContain('healthy');
  });

  it('F15: a success whose logs show missing tables is live but not migrated', async () => {
    const id = await scripted({ outcome: 'success', log_lines: ['error: relation "users" does not exist'] });
    expect(await triage()).toEqual({
      deployment_id: id,
      status: 'success',
      cause_id: 'F15',
      cause: 'the database schema was never migrated: table users does not exist',
      evidence: ['error: relation "users" does not exist'],
      fix_command: 'opendeploy redeploy --source .',
      next_action: 'Run the migrations in the command the image really starts with (e.g. `prisma migrate deploy && node server.js` in the start script or Dockerfile CMD), then run `opendeploy redeploy --source .`.',
    });
  });

  const cases: { name: string; script: Record<string, unknown>; id: string; cause: string; evidence: string[]; fix: string; faultDeps?: boolean }[] = [
    {
      name: 'port mismatch: the app ignores PORT (F4)',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'Readiness probe failed', log_lines: ['Server listening on http://0.0.0.0:8080', 'Readiness probe failed: dial tcp 10.1.0.4:3000: connect: connection refused'] },
      id: 'F4',
      cause: 'the app did not answer on the port the service expects: it listens on 8080, the service expects 3000; it ignores PORT=3000',
      evidence: ['Server listening on http://0.0.0.0:8080', 'Readiness probe failed: dial tcp 10.1.0.4:3000: connect: connection refused'],
      fix: 'opendeploy redeploy --source .',
    },
    {
      name: 'missing env var, key extracted (G17)',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ['Error: Missing required environment variable: STRIPE_SECRET_KEY', 'Back-off restarting failed container'] },
      id: 'G17',
      cause: 'a required environment variable is missing: STRIPE_SECRET_KEY is not set',
      evidence: ['Error: Missing required environment variable: STRIPE_SECRET_KEY'],
      fix: 'opendeploy env set STRIPE_SECRET_KEY=...',
    },
    {
      name: 'build command failure quotes the failing lines (E1)',
      script: { outcome: 'failed', phase: 'build', error_msg: 'Build failed', log_lines: ['> tsc -p .', "src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.", 'npm ERR! code ELIFECYCLE'] },
      id: 'E1',
      cause: 'the build command failed',
      evidence: ["src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.", 'npm ERR! code ELIFECYCLE'],
      fix: 'opendeploy redeploy --source .',
    },
    {
      name: 'out of memory → twice the memory limit',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'OOMKilled', log_lines: ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'] },
      id: 'OOM',
      cause: 'the app ran out of memory: the memory limit is 4Gi',
      evidence: ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'],
      fix: 'opendeploy resize --memory 8Gi',
    },
    {
      name: 'crash at start quotes the exception (F6)',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ["TypeError: Cannot read properties of undefined (reading 'split')", '    at Object.<anonymous> (/app/server.js:3:20)', 'Back-off restarting failed container'] },
      id: 'F6',
      cause: 'the app crashed while starting',
      evidence: ["TypeError: Cannot read properties of undefined (reading 'split')", 'Back-off restarting failed container'],
      fix: 'opendeploy redeploy --source .',
    },
    {
      name: 'quota (B1) names the field and the limit',
      script: { outcome: 'failed', phase: 'deploy', error_msg: 'agent_quota_exceeded', log_lines: ['Error creating pod: 403 agent_quota_exceeded field=memory_limit requested=4Gi limit=1Gi'] },
      id: 'B1',
      cause: 'the deployment asked for more than the account allows: memory_limit is over its limit of 1Gi',
      evidence: ['Error creating pod: 403 agent_quota_exceeded field=memory_limit requested=4Gi limit=1Gi'],
      fix: 'opendeploy resize --memory 1Gi',
    },
    {
      name: 'database not ready (G2)',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ['Error: connect ECONNREFUSED 10.0.3.7:5432'] },
      faultDeps: true,
      id: 'G2',
      cause: 'the app could not reach its database: the postgres database dep-pg is provisioning, not running',
      evidence: ['Error: connect ECONNREFUSED 10.0.3.7:5432', 'dependency postgres dep-pg: status provisioning'],
      fix: 'opendeploy redeploy',
    },
    {
      name: 'a database the project does not have (G3)',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ['Error: connect ECONNREFUSED 127.0.0.1:5432'] },
      id: 'G3',
      cause: 'the app could not reach its database: the app expects a postgres database, and the project has none',
      evidence: ['Error: connect ECONNREFUSED 127.0.0.1:5432'],
      fix: 'opendeploy db add postgres',
    },
    {
      name: 'missing module (F9)',
      script: { outcome: 'failed', phase: 'runtime', error_msg: 'Container crashed', log_lines: ["Error: Cannot find module 'express'", 'Require stack:', '- /app/server.js'] },
      id: 'F9',
      cause: 'the app crashed while starting: the module express is missing from the image',
      evidence: ["Error: Cannot find module 'express'"],
      fix: 'opendeploy redeploy --source .',
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const id = await scripted(c.script);
      if (c.faultDeps) {
        await gw.fault({ route: 'GET /api/v1/dependencies/status/:id', count: 1, status: 200, body: { dependencies: [{ id: 'dep-pg', dependency_id: 'postgres', status: 'provisioning' }] } });
      }
      const report = await triage();
      expect(report).toMatchObject({ deployment_id: id, status: 'failed', cause_id: c.id, cause: c.cause, evidence: c.evidence, fix_command: c.fix });
      expect(report.next_action).toContain(c.fix);
    });
  }

  it('human mode: cause, verbatim evidence, the fix command, and the help block', async () => {
    await scripted({ outcome: 'failed', phase: 'build', error_msg: 'Build failed', log_lines: ['npm ERR! missing script: build'] });
    const run = await cli(['triage']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Cause (E1): the build command failed');
    expect(run.stdout).toContain('Evidence:\n  npm ERR! missing script: build\n');
    expect(run.stdout).toContain('Fix:\n  opendeploy redeploy --source .\n');
    expect(run.stdout).toContain('hi@opendeploy.dev');
  });

  it('unknown: says so and shows the last 20 log lines', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `step ${i + 1} of 25 done`);
    const id = await scripted({ outcome: 'failed', phase: 'runtime', error_msg: 'it stopped', log_lines: lines });
    const report = await triage([id]);
    expect(report).toMatchObject({ cause_id: null, fix_command: null });
    expect(report.cause).toMatch(/^unknown: /);
    expect(report.evidence).toEqual(lines.slice(-20));
    expect(report.next_action).toContain(`opendeploy logs ${id} --tail 300`);
  });

  it('D1: a source that was never bound (progress 10, no logs)', async () => {
    const unbound = await copyFixture('node-http');
    await gw.fault({ route: 'POST /api/v1/upload/update-source', count: 1, status: 200, body: { message: 'ok' } });
    const deploy = await cli(['deploy', '--json', '--name', 'never-bound'], { cwd: unbound });
    expect(deploy.code).toBe(5);
    const report = await triage([], unbound);
    expect(report).toMatchObject({
      status: 'failed',
      cause_id: 'D1',
      cause: 'the source was never bound to the project (update-source was skipped, failed, or its upload expired)',
      evidence: ['progress=10, error_msg="Service failed to deploy", no log lines'],
      fix_command: 'opendeploy redeploy --source .',
    });
  });

  it('no failed deployment → not_found; unknown id → not_found; rejected token → auth_invalid', async () => {
    await gw.fault({ route: 'GET /api/v1/deployments/', count: 1, status: 200, body: { data: [], total: 0 } });
    const none = await cli(['triage', '--json']);
    expect(none.code).toBe(1);
    expect(lastEvent(none)).toMatchObject({ type: 'error', error_code: 'not_found' });
    expect(String(lastEvent(none)!.message)).toContain('no failed deployment');
    const missing = await cli(['triage', '00000000-0000-4000-8000-000000000000', '--json']);
    expect(missing.code).toBe(1);
    expect(lastEvent(missing)).toMatchObject({ type: 'error', error_code: 'not_found' });
    const denied = await cli(['triage', '--json'], { env: { OPENDEPLOY_TOKEN: `od_a${'v'.repeat(43)}` } });
    expect(denied.code).toBe(3);
    expect(lastEvent(denied)).toMatchObject({ type: 'error', error_code: 'auth_invalid' });
  });
});
