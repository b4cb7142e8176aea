import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { callTool, startMcpServer, type McpServer } from '../helpers/mcp-client.js';
import { readProjectJson } from '../helpers/linked-app.js';

/**
 * `opendeploy mcp` driven by the official SDK client over stdio: the real CLI in a child process
 * (`node bin/opendeploy.js mcp`, built into dist/) against a real local gateway in simulate mode.
 * The client validates every structured result against the output schema the server publishes.
 */

const TOKEN = patToken();
/** If this shows up in any result or on stderr, a value leaked. */
const CANARY = 'canary-mcp-value-8e41c0d27f95b3a6';

const TOOLS = [
  'analyze',
  'plan',
  'deploy',
  'status',
  'deployments',
  'logs',
  'env_list',
  'env_set',
  'env_unset',
  'redeploy',
  'rollback',
  'triage',
  'domain_check',
  'domain_rename',
  'port',
];

let gw: TestGateway;
let home: string;

type Server = McpServer;

function startServer(cwd: string, options: { args?: string[]; env?: Record<string, string> } = {}): Promise<Server> {
  return startMcpServer(
    cwd,
    options.args ?? ['--gateway', gw.url],
    options.env ?? { PATH: process.env.PATH ?? '', HOME: home, CI: 'true', NO_COLOR: '1', OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN },
  );
}

const call = callTool;

/** A successful call's structured result (and its text is the same JSON). */
async function ok(server: Server, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await call(server, name, args);
  expect(result.isError, result.text).toBe(false);
  expect(JSON.parse(result.text.split('\nWarnings:')[0]!)).toEqual(result.structured);
  return result.structured;
}

/** A failed call's error object (the CLI's JSON error shape). */
async function failed(server: Server, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await call(server, name, args);
  expect(result.isError, result.text).toBe(true);
  return JSON.parse(result.text) as Record<string, unknown>;
}

async function projectJson(dir: string): Promise<{ project_id: string; services: { service_id: string; name: string }[]; last_deployment: { id: string; status: string } }> {
  return (await readProjectJson(dir)) as never;
}

interface Row {
  id: string;
  service_id: string;
  status: string;
}

async function deploymentRows(): Promise<Row[]> {
  return (await gw.state()).deployments as Row[];
}

let appDir: string;

/** The service's variables as the gateway holds them (values included: the test checks them, never prints them). */
async function gatewayEnv(projectId: string, serviceId: string): Promise<Record<string, string>> {
  const response = await fetch(`${gw.url}/v1/projects/${projectId}/services/${serviceId}/env`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as Record<string, unknown>;
  for (const key of ['variables', 'env', 'data']) {
    if (body[key] && typeof body[key] === 'object') return body[key] as Record<string, string>;
  }
  return body as Record<string, string>;
}

/** Every file of a fixture copy (no ignore rule of the archive applies to these fixtures): count and bytes. */
async function folderSize(dir: string): Promise<{ files: number; bytes: number; excluded_secrets: string[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile() && !path.relative(dir, entry.parentPath).startsWith('.opendeploy'));
  const sizes = await Promise.all(files.map(async (entry) => (await stat(path.join(entry.parentPath, entry.name))).size));
  return { files: files.length, bytes: sizes.reduce((sum, size) => sum + size, 0), excluded_secrets: [] };
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy mcp: the tools one by one', () => {
  let server: Server;
  let serviceId: string;
  let first: string;
  let deployedUrl: string;

  beforeAll(async () => {
    appDir = await copyFixture('node-http');
    server = await startServer(appDir);
  });

  afterAll(async () => {
    await server.close();
  });

  it('lists exactly the 15 tools, each with an input and an output schema; destructive ones take confirm', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(Object.keys(tool.inputSchema.properties ?? {})).toContain('path');
    }
    const withConfirm = tools.filter((tool) => 'confirm' in (tool.inputSchema.properties ?? {})).map((tool) => tool.name);
    expect(withConfirm).toEqual(['deploy', 'env_unset', 'rollback', 'domain_rename']);
    // Only the destructive ones answer with a consent payload: their output says whether they applied.
    const gated = tools.filter((tool) => 'consent' in (tool.outputSchema?.properties ?? {})).map((tool) => tool.name);
    expect(gated).toEqual(['env_unset', 'rollback', 'domain_rename']);
    expect(tools.filter((tool) => tool.annotations?.destructiveHint === true).map((tool) => tool.name)).toEqual(['env_unset', 'rollback', 'domain_rename']);
    expect(tools.filter((tool) => tool.annotations?.readOnlyHint === true).map((tool) => tool.name)).toEqual([
      'analyze',
      'plan',
      'status',
      'deployments',
      'logs',
      'env_list',
      'triage',
      'domain_check',
    ]);
  });

  it('analyze: the same analysis as `analyze --json` (express-app: express on 8080, postgres)', async () => {
    const express = await copyFixture('express-app');
    const analysis = await ok(server, 'analyze', { path: express });
    const service = (analysis.services as Record<string, unknown>[])[0]!;
    // Relative to the server's working directory, as `analyze` prints it relative to its own.
    expect(analysis.root).toBe(path.relative(appDir, express));
    expect({ name: service.name, language: service.language, framework: service.framework, port: service.port, start: service.scripts_start, dependencies: service.dependencies }).toEqual({
      name: 'express-app',
      language: 'javascript',
      framework: 'express',
      port: 8080,
      start: 'npm start',
      dependencies: ['postgres'],
    });
    // As `opendeploy analyze` does, the analysis is saved next to the project.
    expect(JSON.parse(await readFile(path.join(express, '.opendeploy', 'analysis.json'), 'utf8'))).toEqual(analysis);
  });

  it('plan: services, variable sources and the archive, with no request to the gateway', async () => {
    const express = await copyFixture('express-app');
    await gw.clearRequests();
    const plan = await ok(server, 'plan', { path: express });
    expect(await gw.requests()).toEqual([]);
    // The plan of ops/plan, every field with its provenance (the CLI's `plan --json` prints the same object).
    expect(plan).toEqual({
      root: path.relative(appDir, express),
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
            resources: "the deploy's defaults for an unclaimed credential; a claimed account's service gets cpu limit 2, memory 1Gi–4Gi",
          },
        },
      ],
      databases: [{ engine: 'postgres', action: 'create', dependency_id: null, from: 'package.json: dependencies.pg' }],
      archive: await folderSize(express),
      stops: null,
      refused: false,
      refusal_reasons: [],
      warnings: [],
    });
  });

  it('deploy: the pipeline runs and links the folder; the result carries ids and the URL', async () => {
    const deployed = await ok(server, 'deploy');
    const linked = await projectJson(appDir);
    serviceId = linked.services[0]!.service_id;
    first = String(deployed.deployment_id);
    expect(deployed).toMatchObject({ status: 'success', project_id: linked.project_id, service_id: serviceId, deployment_id: linked.last_deployment.id, missing_required_vars: [] });
    deployedUrl = String(deployed.url);
    expect(deployedUrl).toMatch(/^https?:\/\/[a-z0-9-]+\./);
    expect((await deploymentRows()).find((d) => d.id === first)?.status).toBe('success');
  });

  it('status: the project, its service and the latest deployment', async () => {
    const status = await ok(server, 'status');
    const linked = await projectJson(appDir);
    expect((status.project as { id: string }).id).toBe(linked.project_id);
    expect((status.services as { id: string; name: string; port: number; url: string }[]).map((s) => [s.id, s.name, s.port, s.url])).toEqual([[serviceId, 'node-http', 3000, deployedUrl]]);
    expect(status.latest_deployment).toMatchObject({ id: first, service_id: serviceId, status: 'success' });
  });

  it('deployments: one live success', async () => {
    const list = await ok(server, 'deployments');
    expect(list).toMatchObject({ service_id: serviceId, environment: 'production', live_deployment_id: first, total: 1 });
    expect((list.deployments as Record<string, unknown>[]).map((d) => [d.id, d.status, d.live])).toEqual([[first, 'success', true]]);
  });

  it('port: reads the service and the analysed port; setting the same port sends nothing', async () => {
    const shown = await ok(server, 'port');
    expect(shown).toEqual({ status: 'success', project_id: (await projectJson(appDir)).project_id, service_id: serviceId, service: 'node-http', action: 'show', port: 3000, locked: false, analysed_port: 3000 });
    await gw.clearRequests();
    const same = await ok(server, 'port', { port: 3000 });
    expect(same).toMatchObject({ action: 'set', port: 3000, previous_port: 3000, changed: false, variables_changed: [], redeployed: false });
    expect(((await gw.requests()) as { method: string }[]).filter((r) => r.method !== 'GET')).toEqual([]);
    const refused = await call(server, 'port', { redeploy: true });
    expect(refused.isError).toBe(true);
    expect(JSON.parse(refused.text)).toMatchObject({ error_code: 'invalid_input' });
  });

  it('env_set then env_list: names only, the value never comes back', async () => {
    const projectId = (await projectJson(appDir)).project_id;
    const before = Object.keys(await gatewayEnv(projectId, serviceId));
    expect(before).not.toContain('API_TOKEN');
    const set = await ok(server, 'env_set', { variables: { API_TOKEN: CANARY } });
    expect(set).toEqual({
      service_id: serviceId,
      keys_set: ['API_TOKEN'],
      keys_added: ['API_TOKEN'],
      keys_changed: [],
      keys_unchanged: [],
      count: before.length + 1,
      changed: true,
      verified: true,
      redeploy_needed: true,
    });
    const held = await gatewayEnv(projectId, serviceId);
    expect(held.API_TOKEN).toBe(CANARY);
    const list = await ok(server, 'env_list');
    // The live deployment was built before API_TOKEN existed: the comparison says so, by name only.
    expect(list).toEqual({
      service_id: serviceId,
      keys: Object.keys(held).sort(),
      count: before.length + 1,
      values_redacted: true,
      live_deployment_id: first,
      live_differs: true,
      live: { ...Object.fromEntries(before.map((key) => [key, 'same'])), API_TOKEN: 'missing' },
      live_only: [],
      deploy_current_values: `opendeploy redeploy --gateway ${gw.url}`,
    });
    expect(server.texts.join('\n')).not.toContain(CANARY);
  });

  it('env_unset without confirm: the consent payload, and the variable is still there', async () => {
    await gw.clearRequests();
    const answer = await ok(server, 'env_unset', { keys: ['API_TOKEN'] });
    expect(answer).toEqual({
      applied: false,
      consent: {
        action: 'Remove 1 variable from service node-http.',
        changes: ['API_TOKEN'],
        confirm_arguments: { keys: ['API_TOKEN'], gateway: gw.url, confirm: true },
        cli_command: `opendeploy env unset API_TOKEN --gateway ${gw.url} --yes`,
      },
      result: null,
    });
    expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);
    expect((await gatewayEnv((await projectJson(appDir)).project_id, serviceId)).API_TOKEN).toBe(CANARY);
  });

  it('env_unset with confirm: removed, read back', async () => {
    const answer = await ok(server, 'env_unset', { keys: ['API_TOKEN'], confirm: true });
    expect(answer.applied).toBe(true);
    expect(answer.consent).toBeNull();
    const held = await gatewayEnv((await projectJson(appDir)).project_id, serviceId);
    expect(answer.result).toEqual({ service_id: serviceId, keys_removed: ['API_TOKEN'], count: Object.keys(held).length, verified: true, redeploy_needed: true });
    expect(Object.keys(held)).not.toContain('API_TOKEN');
    expect((await ok(server, 'env_list')).keys).toEqual(Object.keys(held).sort());
  });

  it('env_unset of a name the service lacks: not_found, nothing changed', async () => {
    const error = await failed(server, 'env_unset', { keys: ['NOPE_NOT_SET'], confirm: true });
    expect(error).toMatchObject({ type: 'error', error_code: 'not_found', message: 'Service node-http has no variable NOPE_NOT_SET; nothing was changed.' });
  });

  it('triage: a failed redeploy is diagnosed with the cause and the exact fix', async () => {
    await gw.nextDeployment({
      outcome: 'failed',
      phase: 'runtime',
      error_msg: 'Container crashed',
      log_lines: ['Error: Missing required environment variable: STRIPE_SECRET_KEY', 'Back-off restarting failed container'],
    });
    const redeploy = await failed(server, 'redeploy');
    expect(redeploy.type).toBe('error');
    const failedId = (await deploymentRows()).at(-1)!.id;
    expect((await deploymentRows()).at(-1)!.status).toBe('failed');
    const report = await ok(server, 'triage');
    expect(report).toEqual({
      deployment_id: failedId,
      status: 'failed',
      cause_id: 'G17',
      cause: 'a required environment variable is missing: STRIPE_SECRET_KEY is not set',
      evidence: ['Error: Missing required environment variable: STRIPE_SECRET_KEY'],
      // Written with the server's target flags: pasted in a terminal, it reaches the same gateway.
      fix_command: `opendeploy env set STRIPE_SECRET_KEY=... --gateway ${gw.url}`,
      next_action: report.next_action,
    });
  });

  it('domain_check answers; domain_rename without confirm changes nothing', async () => {
    expect(await ok(server, 'domain_check', { prefix: 'admin' })).toEqual({ subdomain: 'admin', domain: 'admin.opendeploy.run', available: false, reason: 'reserved' });
    await gw.clearRequests();
    const answer = await ok(server, 'domain_rename', { prefix: 'mcp-renamed' });
    expect(answer.applied).toBe(false);
    expect(answer.consent).toEqual({
      action: 'Rename the generated domain of service node-http to mcp-renamed.opendeploy.run.',
      changes: [`${deployedUrl} → mcp-renamed`],
      confirm_arguments: { prefix: 'mcp-renamed', gateway: gw.url, confirm: true },
      cli_command: `opendeploy domain rename mcp-renamed --gateway ${gw.url} --yes`,
    });
    expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(await ok(server, 'domain_check', { prefix: 'mcp-renamed' })).toMatchObject({ available: true });

    const renamed = await ok(server, 'domain_rename', (answer.consent as { confirm_arguments: Record<string, unknown> }).confirm_arguments);
    expect(renamed).toMatchObject({ applied: true, consent: null, result: { status: 'success', service_id: serviceId, subdomain: 'mcp-renamed', previous_url: deployedUrl, changed: true } });
    expect(String((renamed.result as { url: string }).url)).toMatch(/^https?:\/\/mcp-renamed\./);
    expect(await ok(server, 'domain_check', { prefix: 'mcp-renamed' })).toMatchObject({ available: false, reason: 'taken' });
  });

  it('bad arguments are tool errors with the CLI error shape, before any request', async () => {
    await gw.clearRequests();
    expect(await failed(server, 'status', { gateway: 'ftp://nowhere' })).toMatchObject({ type: 'error', error_code: 'invalid_input' });
    const missing = path.join(appDir, 'no-such-folder');
    expect(await failed(server, 'plan', { path: missing })).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: `${missing} is not a folder.`,
      retryable: false,
      next_action: 'Pass the path of the project folder.',
    });
    expect(await failed(server, 'domain_rename', { prefix: 'x' })).toMatchObject({ type: 'error', error_code: 'invalid_input' });
    expect(await gw.requests()).toEqual([]);
    // A schema violation never reaches the tool: the SDK refuses it.
    expect((await call(server, 'env_unset', { keys: [] })).text).toContain('Input validation error');
  });

  it('stdout carried only protocol messages; stderr never showed the value', () => {
    expect(server.protocolErrors).toEqual([]);
    expect(server.stderr()).not.toContain(CANARY);
    expect(server.stderr()).toContain('MCP server on stdio (15 tools)');
  });
});

describe('opendeploy mcp: a scripted agent session', () => {
  it('plan → deploy → deployments → logs → env_set → redeploy → rollback → triage, all through MCP', async () => {
    const dir = await copyFixture('node-http');
    const server = await startServer(dir);
    try {
      // plan: what a deploy would do, before anything exists.
      const plan = await ok(server, 'plan');
      expect(plan.linked_project_id).toBeNull();
      expect((plan.services as Record<string, unknown>[]).map((s) => [s.name, s.port, s.start_command])).toEqual([['node-http', 3000, 'npm start']]);

      // deploy (under its own name: the first describe already deployed a node-http project)
      const deployed = await ok(server, 'deploy', { name: 'agent-session' });
      const first = String(deployed.deployment_id);
      const linked = await projectJson(dir);
      const serviceId = linked.services[0]!.service_id;
      expect(deployed).toMatchObject({ status: 'success', project_id: linked.project_id, service_id: serviceId });

      // deployments
      let list = await ok(server, 'deployments');
      expect((list.deployments as Record<string, unknown>[]).map((d) => [d.id, d.status, d.live])).toEqual([[first, 'success', true]]);

      // logs of the live deployment (with no deployment named, logs reads the app's output: runtime: false asks for the deployment's)
      const logs = await ok(server, 'logs', { runtime: false });
      expect(logs.deployment_id).toBe(first);
      expect(logs.source).toBe('deployment');
      // The same lines the gateway serves, with their timestamps.
      const served = await fetch(`${gw.url}/v1/deployments/${first}/logs?tail=100`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const rows = ((await served.json()) as { logs: { timestamp: string; message: string }[] }).logs;
      expect(rows.length).toBeGreaterThan(0);
      expect((logs.lines as { timestamp: string; message: string }[]).map((line) => [line.timestamp, line.message])).toEqual(rows.map((row) => [row.timestamp, row.message]));
      expect(logs.count).toBe(rows.length);

      // env_set
      const set = await ok(server, 'env_set', { variables: { GREETING: CANARY } });
      expect(set).toMatchObject({ keys_added: ['GREETING'], changed: true, verified: true, redeploy_needed: true });

      // redeploy picks the variable up; the build's percent arrives as MCP progress notifications
      const progress: number[] = [];
      const redeployCall = await call(server, 'redeploy', {}, (update) => progress.push(update.progress));
      expect(redeployCall.isError, redeployCall.text).toBe(false);
      const redeployed = redeployCall.structured;
      // Strictly increasing (MCP requires it), ending at the success's 100 %.
      expect(progress.at(-1)).toBe(100);
      expect(progress.every((value, index) => index === 0 || value > progress[index - 1]!)).toBe(true);
      const second = String(redeployed.deployment_id);
      expect(redeployed).toMatchObject({ status: 'success', project_id: linked.project_id, service_id: serviceId });
      expect(second).not.toBe(first);

      // rollback: first the consent payload, then the exact arguments it gave
      const asked = await ok(server, 'rollback');
      expect(asked).toEqual({
        applied: false,
        consent: {
          action: `Roll back node-http from deployment ${second} to deployment ${first}.`,
          changes: [`${second} → ${first}`],
          confirm_arguments: { deployment_id: first, gateway: gw.url, confirm: true },
          cli_command: `opendeploy rollback ${first} --gateway ${gw.url} --json --yes`,
        },
        result: null,
      });
      // Nothing was rolled back: the service still has its two deployments.
      expect((await deploymentRows()).filter((d) => d.service_id === serviceId).map((d) => d.id)).toEqual([first, second]);
      const rolled = await ok(server, 'rollback', (asked.consent as { confirm_arguments: Record<string, unknown> }).confirm_arguments);
      const third = String((rolled.result as { deployment_id: string }).deployment_id);
      expect(rolled).toEqual({ applied: true, consent: null, result: {
          status: 'success',
          rolled_back_to: first,
          deployment_id: third,
          previous: second,
          // The redeploy only changed variables: the bound source is the one the live release runs.
          next_redeploy_source: { source: 'live_release', deployment_id: third, command: `opendeploy redeploy --gateway ${gw.url}` },
        },
      });

      list = await ok(server, 'deployments');
      expect((list.deployments as Record<string, unknown>[]).map((d) => [d.id, d.status, d.live, d.rollback_from])).toEqual([
        [third, 'success', true, first],
        [second, 'rolled_back', false, null],
        [first, 'success', false, null],
      ]);

      // triage: the live release is healthy
      const report = await ok(server, 'triage');
      expect(report).toEqual({
        deployment_id: third,
        status: 'success',
        cause_id: null,
        cause: 'the deployment is healthy: it succeeded and its logs show no known failure',
        evidence: [],
        fix_command: null,
        next_action: `Nothing to fix; \`opendeploy status --gateway ${gw.url}\` shows the live URL.`,
      });

      expect(server.texts.join('\n')).not.toContain(CANARY);
      expect(server.stderr()).not.toContain(CANARY);
      expect(server.protocolErrors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('opendeploy mcp: credentials and the local gateway', () => {
  it('deploy without any credential: auth_missing and nothing written; confirm: true creates one, as --yes does', async () => {
    const dir = await copyFixture('node-http');
    const fresh = await tempDir('od-home-fresh-');
    const server = await startServer(dir, { env: { PATH: process.env.PATH ?? '', HOME: fresh, CI: 'true', NO_COLOR: '1', OPENDEPLOY_HOME: fresh } });
    try {
      const error = await failed(server, 'deploy', { name: 'no-credential' });
      expect(error.error_code).toBe('auth_missing');
      await expect(stat(path.join(fresh, 'auth.json'))).rejects.toMatchObject({ code: 'ENOENT' });
      const deployed = await ok(server, 'deploy', { name: 'no-credential', confirm: true });
      expect(deployed).toMatchObject({ status: 'success', project_id: (await projectJson(dir)).project_id });
      // A fresh credential is pending until claimed: the result carries the claim URL, as the CLI's does.
      expect(String(deployed.claim_url)).toContain('/claim');
      expect((await stat(path.join(fresh, 'auth.json'))).mode & 0o777).toBe(0o600);
    } finally {
      await server.close();
    }
  });

  it('local: true starts one embedded gateway for the server and keeps it between calls', async () => {
    const dir = await copyFixture('node-http');
    const dataDir = await tempDir('od-mcp-local-');
    const localHome = await tempDir('od-home-local-');
    const server = await startServer(dir, {
      args: ['--local', '--data-dir', dataDir],
      env: { PATH: process.env.PATH ?? '', HOME: localHome, CI: 'true', NO_COLOR: '1', OPENDEPLOY_HOME: localHome, OD_LOCAL_SIMULATE: '1' },
    });
    try {
      const deployed = await ok(server, 'deploy');
      expect(deployed.status).toBe('success');
      const status = await ok(server, 'status');
      expect(status.latest_deployment).toMatchObject({ id: deployed.deployment_id, status: 'success' });
      const list = await ok(server, 'deployments');
      expect((list.deployments as Record<string, unknown>[]).map((d) => [d.id, d.live])).toEqual([[deployed.deployment_id, true]]);
      // One gateway for both calls: a gateway started per call would listen on a new port (port 0).
      expect(new URL(String(status.dashboard_url)).origin).toBe(new URL(String(deployed.dashboard_url)).origin);
      expect(new URL(String(deployed.dashboard_url)).hostname).toBe('127.0.0.1');
    } finally {
      await server.close();
    }
  });
});
