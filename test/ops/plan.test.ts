import { readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deployLinked, readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const RESOURCES_FROM = "the deploy's defaults for an unclaimed credential; a claimed account's service gets cpu limit 2, memory 1Gi–4Gi";
const CANARY = 'plan-canary-value-4e1f';

let home: string;
/** A loopback port nothing listens on: any request the plan made would fail. */
let closedGateway: string;

/** A fixture copy without the `.opendeploy/` a run inside the fixtures folder may have left. */
async function fixture(name: string): Promise<string> {
  const dir = await copyFixture(name);
  await rm(path.join(dir, '.opendeploy'), { recursive: true, force: true });
  return dir;
}

/** No credential anywhere and a gateway that cannot answer. */
function offline(args: string[], cwd: string): Promise<CliRun> {
  return runCli(args, { cwd, env: { OPENDEPLOY_HOME: home, OD_GATEWAY: closedGateway } });
}

function resultOf(run: CliRun): Record<string, unknown> {
  expect(run.events).toHaveLength(1);
  return run.events[0]!;
}

beforeAll(async () => {
  home = await tempDir('od-home-');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  closedGateway = `http://127.0.0.1:${port}/api`;
});

afterAll(cleanupTempDirs);

const EXPRESS_PLAN = {
  type: 'result',
  root: '.',
  environment: 'production',
  environment_from: 'the default',
  project: { name: 'express-app', name_from: "the service's name (package.json: name)", action: 'create', project_id: null },
  linked_project_id: null,
  linked: null,
  services: [
    {
      name: 'express-app',
      source_path: '.',
      action: 'create',
      service_id: null,
      language: 'javascript',
      framework: 'express',
      port: 8080,
      build_command: 'npm ci',
      start_command: 'npm start',
      health_check_path: '/healthz',
      dockerfile: '',
      databases: ['postgres'],
      variables: [
        { name: 'DATABASE_URL', required: true, kind: 'dependency_provided', value_from: 'database', from: 'a connection variable of the database the deploy provides (postgres); the app reads it at src/db.js:6' },
        { name: 'LOG_LEVEL', required: false, kind: 'feature_optional', value_from: 'analysis_default', from: 'default in the code: src/index.js:8 (with fallback)' },
        { name: 'PORT', required: false, kind: 'startup_critical', value_from: 'analysis_default', from: 'default in the code: src/index.js:38 (with fallback)' },
        { name: 'SESSION_SECRET', required: true, kind: 'generated_app_secret', value_from: 'unset', from: 'nothing provides it; the app reads it at src/index.js:13' },
      ],
      build_variables: [],
      resources: { cpu_request: '500m', cpu_limit: '1', memory_request: '512Mi', memory_limit: '1Gi', replicas: 1 },
      missing_required_vars: ['SESSION_SECRET'],
      evidence: {
        name: 'package.json: name',
        language: 'package.json and no tsconfig.json',
        framework: 'package.json: dependencies.express',
        port: 'src/index.js:38 PORT with fallback 8080',
        build_command: 'package.json: dependencies to install, no build script',
        start_command: 'package.json: scripts.start "node src/index.js"',
        health_check_path: 'src/index.js:23',
        dockerfile: 'not established by the analysis (left empty)',
        resources: RESOURCES_FROM,
      },
    },
  ],
  databases: [{ engine: 'postgres', action: 'create', dependency_id: null, from: 'package.json: dependencies.pg' }],
  archive: { files: 6, bytes: 32567, excluded_secrets: [] },
  stops: null,
  refused: false,
  refusal_reasons: [],
  warnings: [],
};

describe('opendeploy plan', () => {
  it('express app with a database: the exact plan as one result line, with no credential and the gateway unreachable; nothing written', async () => {
    const app = await fixture('express-app');
    const run = await offline(['plan', '--json'], app);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(resultOf(run)).toEqual(EXPRESS_PLAN);
    expect(run.stderr).toBe('');
    // The plan writes nothing: no link folder, no analysis.json, no credential, no audit log.
    expect((await readdir(app)).sort()).toEqual(['.env.example', '.nvmrc', 'package-lock.json', 'package.json', 'src']);
    expect(await readdir(home)).toEqual([]);
  });

  it('deploy --dry-run prints the same plan and exits 0 without a credential', async () => {
    const app = await fixture('express-app');
    const run = await offline(['deploy', '--dry-run', '--json'], app);
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toEqual(EXPRESS_PLAN);
    expect((await readdir(app)).includes('.opendeploy')).toBe(false);
  });

  it('human plan of a database-free app: every field with its provenance', async () => {
    const app = await fixture('node-http');
    const run = await offline(['plan'], app);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      "Create project node-http in production  — name: the service's name (package.json: name); environment: the default",
      'Create service node-http  (.)',
      '  language      javascript  ← package.json and no tsconfig.json',
      '  port          3000  ← server.js:5 PORT with fallback 3000',
      '  start         npm start  ← package.json: scripts.start "node server.js"',
      '  health check  /health  ← server.js:8',
      `  resources     cpu 500m–1, memory 512Mi–1Gi, 1 replica  ← ${RESOURCES_FROM}`,
      '  variables:',
      '    PORT                    default in code     ← default in the code: server.js:5 (with fallback)',
      'Upload 2 files (840 B)',
      'Nothing was created, uploaded or written. Run `opendeploy deploy` to apply this plan.',
      '',
    ]);
    expect((await readdir(app)).sort()).toEqual(['package.json', 'server.js']);
  });

  it('--vars-file: its names win, its database connection skips provisioning, the file stays out of the archive, no value is shown', async () => {
    const app = await fixture('express-app');
    await writeFile(path.join(app, '.env.prod'), `DATABASE_URL=postgres://u:${CANARY}@db/x\nSESSION_SECRET=${CANARY}\nEXTRA=1\n`);
    const run = await offline(['plan', '--vars-file', '.env.prod', '--json', '--env', 'staging'], app);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain(CANARY);
    const plan = resultOf(run) as typeof EXPRESS_PLAN;
    expect([plan.environment, plan.environment_from]).toEqual(['staging', '--env']);
    expect(plan.databases).toEqual([{ engine: 'postgres', action: 'skip', dependency_id: null, from: 'the app connects with DATABASE_URL from --vars-file .env.prod' }]);
    expect(plan.services[0]!.variables).toEqual([
      { name: 'DATABASE_URL', required: true, kind: 'dependency_provided', value_from: 'vars_file', from: '--vars-file .env.prod' },
      { name: 'LOG_LEVEL', required: false, kind: 'feature_optional', value_from: 'analysis_default', from: 'default in the code: src/index.js:8 (with fallback)' },
      { name: 'PORT', required: false, kind: 'startup_critical', value_from: 'analysis_default', from: 'default in the code: src/index.js:38 (with fallback)' },
      { name: 'SESSION_SECRET', required: true, kind: 'generated_app_secret', value_from: 'vars_file', from: '--vars-file .env.prod' },
      { name: 'EXTRA', required: false, kind: null, value_from: 'vars_file', from: '--vars-file .env.prod' },
    ]);
    expect(plan.services[0]!.missing_required_vars).toEqual([]);
    expect(plan.archive).toEqual({ files: 6, bytes: 32567, excluded_secrets: ['.env.prod'] });
  });

  it('a folder the deploy would refuse: the plan says why first and still exits 0 (it is a report, not the deploy)', async () => {
    const app = await fixture('refusal-miner');
    const reasons = [
      'crypto-mining marker "stratum+tcp://" at index.js:5',
      'crypto-mining marker "xmrig" at index.js:8',
      'crypto-mining marker "xmrig" at index.js:9',
      'reads a wallet-address variable WALLET_ADDRESS at index.js:6 (crypto-mining marker)',
    ];
    const json = await offline(['plan', '--json'], app);
    expect(json.code, json.stderr).toBe(0);
    const plan = resultOf(json);
    expect([plan.stops, plan.refused, plan.refusal_reasons]).toEqual([`Refusing to deploy: ${reasons.join('; ')}`, true, reasons]);
    const human = await offline(['plan'], app);
    const lines = human.stdout.trimEnd().split('\n');
    expect([lines[0], lines.at(-1)]).toEqual([`The deploy would stop before creating anything: Refusing to deploy: ${reasons.join('; ')}`, 'Nothing was created, uploaded or written.']);
  });

  it('a folder that is not there is invalid_input (exit 2)', async () => {
    const run = await offline(['plan', 'no-such-folder', '--json'], home);
    expect(run.code).toBe(2);
    expect(resultOf(run)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: `${path.join(home, 'no-such-folder')} is not a folder.`,
      retryable: false,
      next_action: 'Pass the path of the project folder.',
    });
  });
});

describe('opendeploy plan of a linked folder', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  it('names the linked ids, plans reuse, and makes no request to the gateway', async () => {
    const app = await fixture('node-http');
    const linkHome = await tempDir('od-home-');
    await deployLinked(app, { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: linkHome, OPENDEPLOY_TOKEN: patToken() });
    const link = (await readProjectJson(app)) as { project_id: string; project_name: string; services: { name: string; service_id: string }[]; last_deployment: { id: string } };
    const serviceId = link.services[0]!.service_id;
    await gw.clearRequests();
    const before = JSON.stringify(await readProjectJson(app));
    const run = await runCli(['plan', '--json'], { cwd: app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: linkHome, OPENDEPLOY_TOKEN: patToken() } });
    expect(run.code, run.stderr).toBe(0);
    expect(await gw.requests()).toEqual([]);
    expect(JSON.stringify(await readProjectJson(app))).toBe(before);
    const plan = resultOf(run) as Record<string, unknown>;
    expect(plan.project).toEqual({ name: 'node-http', name_from: '.opendeploy/project.json', action: 'reuse', project_id: link.project_id });
    expect(plan.environment_from).toBe('.opendeploy/project.json');
    expect(plan.linked).toEqual({
      project_id: link.project_id,
      project_name: 'node-http',
      environment: 'production',
      gateway: gw.url,
      services: [{ name: 'node-http', service_id: serviceId }],
      dependencies: [],
      last_deployment_id: link.last_deployment.id,
      note:
        `This folder is linked to project ${link.project_id}, service node-http (${serviceId}) on ${gw.url}. ` +
        'A deploy reuses them: it sets the analysed port on each reused service if it differs and merges in the --vars-file values, ' +
        'and keeps everything else the services have. What differs from the live services is not shown: the plan makes no request. ' +
        'See them with `opendeploy status` and `opendeploy env list`.',
    });
    const service = (plan.services as Record<string, unknown>[])[0]!;
    expect([service.action, service.service_id, service.resources]).toEqual(['reuse', serviceId, null]);
    expect(service.variables).toEqual([
      { name: 'PORT', required: false, kind: 'startup_critical', value_from: 'linked_service', from: 'kept as the linked service has it (the plan reads nothing from the gateway)' },
    ]);
  });
});
