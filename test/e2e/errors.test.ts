import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, lastEvent, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});


function errorEvent(run: CliRun): Record<string, unknown> {
  const event = lastEvent(run);
  expect(event?.type).toBe('error');
  // The documented shape: these five keys, plus optional details.
  expect(Object.keys(event!).filter((key) => key !== 'details').sort()).toEqual(['error_code', 'message', 'next_action', 'retryable', 'type']);
  return event!;
}

async function deployBound(app: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  const home = await tempDir('od-home-');
  return runCli(['deploy', app, '--json', ...extra], {
    env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: patToken(), ...env },
  });
}

describe('credential errors', () => {
  it('auth_missing: CI without a credential does not mint and says how to fix it (exit 3)', async () => {
    await gw.clearRequests();
    const home = await tempDir('od-home-');
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    const error = errorEvent(run);
    expect(error.error_code).toBe('auth_missing');
    expect(error.retryable).toBe(false);
    expect(String(error.message)).toContain('non-interactive');
    expect(String(error.next_action)).toContain('OPENDEPLOY_TOKEN');
    expect((await gw.requests()).filter((request) => request.path.includes('register'))).toHaveLength(0);
  });

  it('auth_invalid: a saved key the gateway rejects stops the run and leaves auth.json untouched (exit 3)', async () => {
    const home = await tempDir('od-home-');
    await mkdir(home, { recursive: true });
    const content = `${JSON.stringify({ version: 1, api_key: `od_a${'x'.repeat(43)}`, gateway: gw.url })}\n`;
    await writeFile(path.join(home, 'auth.json'), content, { mode: 0o600 });
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    const error = errorEvent(run);
    expect(error.error_code).toBe('auth_invalid');
    expect(String(error.message)).toContain('od_a…xxxx');
    expect(String(error.message)).toContain('left the file untouched');
    expect(await readFile(path.join(home, 'auth.json'), 'utf8')).toBe(content);
    expect(run.stdout + run.stderr).not.toContain('x'.repeat(43));
  });

  it('auth_invalid: a malformed auth.json is reported, never rewritten (exit 3)', async () => {
    const home = await tempDir('od-home-');
    const content = '{"version": 1, "api_key": ';
    await writeFile(path.join(home, 'auth.json'), content, { mode: 0o600 });
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--yes'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    expect(errorEvent(run).error_code).toBe('auth_invalid');
    expect(await readFile(path.join(home, 'auth.json'), 'utf8')).toBe(content);
  });

  it('auth_invalid: an auth.json of an unknown version is reported, never rewritten (exit 3)', async () => {
    const home = await tempDir('od-home-');
    const content = JSON.stringify({ version: 7, api_key: `od_k${'v'.repeat(43)}` });
    await writeFile(path.join(home, 'auth.json'), content, { mode: 0o600 });
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    const error = errorEvent(run);
    expect(error.error_code).toBe('auth_invalid');
    expect(String(error.message)).toContain('version 7');
    expect(await readFile(path.join(home, 'auth.json'), 'utf8')).toBe(content);
  });

  it('auth.json with loose permissions is tightened to 0600 with a warning', async () => {
    const home = await tempDir('od-home-');
    await writeFile(path.join(home, 'auth.json'), JSON.stringify({ version: 1, api_key: patToken() }), { mode: 0o644 });
    await chmod(path.join(home, 'auth.json'), 0o644);
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--name', 'loose-perm'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/permission/i);
    const { stat } = await import('node:fs/promises');
    expect((await stat(path.join(home, 'auth.json'))).mode & 0o777).toBe(0o600);
  });
});

describe('register quirks', () => {
  it('rate_limited: 429 from register says when to retry, is not retried, writes nothing (exit 4)', async () => {
    const limited = await startTestGateway({ registerLimitPerHour: 0 });
    try {
      const home = await tempDir('od-home-');
      const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--yes'], { env: { OD_GATEWAY: limited.url, OPENDEPLOY_HOME: home } });
      expect(run.code).toBe(4);
      const error = errorEvent(run);
      expect(error.error_code).toBe('rate_limited');
      expect(String(error.message)).toMatch(/try again in \d+ minutes?/);
      expect((await limited.requests()).filter((request) => request.path === '/api/v1/client-agents/register')).toHaveLength(1);
      const { readdir } = await import('node:fs/promises');
      expect((await readdir(home)).includes('auth.json')).toBe(false);
    } finally {
      await limited.close();
    }
  });

  it('auth_missing: a register replay without api_key explains the 24-hour window and writes nothing (exit 3)', async () => {
    const replay = await startTestGateway();
    try {
      const first = await runCli(['deploy', await copyFixture('node-http'), '--json', '--yes'], {
        env: { OD_GATEWAY: replay.url, OPENDEPLOY_HOME: await tempDir('od-home-') },
      });
      expect(first.code).toBe(0);
      const home = await tempDir('od-home-');
      const second = await runCli(['deploy', await copyFixture('node-http'), '--json', '--yes'], { env: { OD_GATEWAY: replay.url, OPENDEPLOY_HOME: home } });
      expect(second.code).toBe(3);
      const error = errorEvent(second);
      expect(error.error_code).toBe('auth_missing');
      expect(String(error.message)).toContain('24 hours');
      const { readdir } = await import('node:fs/promises');
      expect((await readdir(home)).includes('auth.json')).toBe(false);
    } finally {
      await replay.close();
    }
  });
});

describe('account gates', () => {
  it('bind_required: a 403 bind_required is surfaced, not retried (exit 4)', async () => {
    await gw.fault({ route: 'POST /api/v1/projects/', count: 1, status: 403, body: { error: 'bind_required', error_code: 'bind_required', message: 'Bind this agent first', next_action: 'bind_account' } });
    const run = await deployBound(await copyFixture('node-http'), ['--name', 'gate-bind']);
    expect(run.code).toBe(4);
    expect(errorEvent(run).error_code).toBe('bind_required');
  });

  it('quota_exceeded: agent_quota_exceeded names the field, the request and the limit (exit 4)', async () => {
    await gw.fault({
      route: 'POST /api/v1/projects/:id/services/',
      count: 1,
      status: 403,
      body: { error: 'agent_quota_exceeded', field: 'memory_limit', requested: '4Gi', limit: '1Gi' },
    });
    const run = await deployBound(await copyFixture('node-http'), ['--name', 'gate-quota']);
    expect(run.code).toBe(4);
    const error = errorEvent(run);
    expect(error.error_code).toBe('quota_exceeded');
    expect(String(error.message)).toContain('memory_limit');
    expect(String(error.message)).toContain('4Gi');
    expect(String(error.message)).toContain('1Gi');
    expect(error.retryable).toBe(false);
  });
});

describe('input and analysis errors', () => {
  it('invalid_input: an unknown environment stops before any request (exit 2)', async () => {
    await gw.clearRequests();
    const run = await deployBound(await copyFixture('node-http'), [], { OD_ENVIRONMENT: 'qa' });
    expect(run.code).toBe(2);
    const error = errorEvent(run);
    expect(error.error_code).toBe('invalid_input');
    expect(String(error.message)).toBe('OD_ENVIRONMENT is "qa", but only "production" and "staging" exist.');
    expect(await gw.requests()).toHaveLength(0);
  });

  it('invalid_input: an unknown flag is a usage error in the JSON shape (exit 2)', async () => {
    const run = await runCli(['deploy', '--json', '--frobnicate']);
    expect(run.code).toBe(2);
    expect(errorEvent(run)).toMatchObject({ error_code: 'invalid_input', message: "Unknown option '--frobnicate'." });
    // No raw commander text next to the JSON error.
    expect(run.stderr).toBe('');
  });

  it('refused: crypto-mining markers stop the deploy before any mutation (exit 7)', async () => {
    await gw.clearRequests();
    const run = await deployBound(await copyFixture('refusal-miner'));
    expect(run.code).toBe(7);
    const error = errorEvent(run);
    expect(error.error_code).toBe('refused');
    expect(String(error.message)).toMatch(/^Refusing to deploy: /);
    const mutations = (await gw.requests()).filter((request) => request.method !== 'GET');
    expect(mutations).toHaveLength(0);
  });

  it('analysis_incomplete: a web app whose port cannot be established stops before any mutation (exit 2)', async () => {
    const app = path.join(await tempDir('od-portless-'), 'portless');
    await mkdir(app, { recursive: true });
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'portless', version: '1.0.0', scripts: { start: 'node index.js' } }));
    await writeFile(path.join(app, 'index.js'), "require('http').createServer((q, s) => s.end('hi')).listen(process.env.LISTEN_ADDR);\n");
    await gw.clearRequests();
    const run = await deployBound(app);
    expect(run.code).toBe(2);
    const error = errorEvent(run);
    expect(error.error_code).toBe('analysis_incomplete');
    expect(String(error.message)).toBe('Could not tell which port portless listens on, and opendeploy never guesses.');
    expect((await gw.requests()).filter((request) => request.method !== 'GET')).toHaveLength(0);
  });

  it('not_found: a linked project that no longer exists says how to start over (exit 1)', async () => {
    const app = await copyFixture('node-http');
    await mkdir(path.join(app, '.opendeploy'), { recursive: true });
    await writeFile(
      path.join(app, '.opendeploy', 'project.json'),
      JSON.stringify({ version: 1, gateway: gw.url, environment: 'production', project_id: '00000000-0000-4000-8000-000000000000', project_name: 'gone', services: [], dependencies: [] }),
    );
    const run = await deployBound(app);
    expect(run.code).toBe(1);
    const error = errorEvent(run);
    expect(error.error_code).toBe('not_found');
    expect(String(error.next_action)).toContain('project.json');
  });

  it('conflict: a duplicate project name for a bound user is not silently reused (exit 1)', async () => {
    const home = await tempDir('od-home-');
    const token = patToken();
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: token };
    const first = await runCli(['deploy', await copyFixture('node-http'), '--json', '--name', 'dup-name'], { env });
    expect(first.code).toBe(0);
    const second = await runCli(['deploy', await copyFixture('node-http'), '--json', '--name', 'dup-name'], { env });
    expect(second.code).toBe(1);
    const error = errorEvent(second);
    expect(error.error_code).toBe('conflict');
    expect(String(error.message)).toBe('A project named dup-name already exists on this account.');
  });
});

describe('transport errors', () => {
  it('gateway_unreachable: a closed port names the gateway (exit 6)', async () => {
    const run = await deployBound(await copyFixture('node-http'), [], { OD_GATEWAY: 'http://127.0.0.1:9/api' });
    expect(run.code).toBe(6);
    const error = errorEvent(run);
    expect(error.error_code).toBe('gateway_unreachable');
    expect(String(error.message)).toContain('http://127.0.0.1:9/api');
    expect(error.retryable).toBe(true);
  });

  it('human mode: one sentence and the fix on stderr, nothing on stdout, no stack trace', async () => {
    const home = await tempDir('od-home-');
    const run = await runCli(['deploy', await copyFixture('node-http')], {
      env: { OD_GATEWAY: 'http://127.0.0.1:9/api', OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(6);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines.slice(-2)).toEqual([
      '✖ Could not reach the gateway at http://127.0.0.1:9/api (connection refused).',
      '  → Check OD_GATEWAY or your network, then re-run.',
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('server_error: a GET failing with 503 is retried a bounded number of times, then reported (exit 1)', async () => {
    await gw.clearRequests();
    await gw.fault({ route: 'GET /api/v1/regions/', count: 10, status: 503, body: { error: 'upstream unavailable' } });
    const run = await deployBound(await copyFixture('node-http'));
    await gw.clearFaults();
    expect(run.code).toBe(1);
    const error = errorEvent(run);
    expect(error.error_code).toBe('server_error');
    expect(error.retryable).toBe(true);
    expect((await gw.requests()).filter((request) => request.path === '/api/v1/regions/')).toHaveLength(3);
  });

  it('internal: a redirected POST is never re-sent and names the route (exit 1)', async () => {
    await gw.clearRequests();
    await gw.fault({ route: 'POST /api/v1/projects/', count: 1, status: 301, headers: { location: '/api/v1/projects' } });
    const run = await deployBound(await copyFixture('node-http'), ['--name', 'redirected']);
    expect(run.code).toBe(1);
    const error = errorEvent(run);
    expect(error.error_code).toBe('internal');
    expect(String(error.message)).toContain('/v1/projects/');
    expect((await gw.requests()).filter((request) => request.method === 'POST' && request.path.startsWith('/api/v1/projects'))).toHaveLength(1);
  });
});

describe('failed deployments (exit 5)', () => {
  it('build_failed: names the build as the cause and shows the evidence line', async () => {
    await gw.nextDeployment({ outcome: 'failed', phase: 'build', error_msg: 'build failed', log_lines: ['npm ERR! missing script: build'] });
    const run = await deployBound(await copyFixture('node-http'), ['--name', 'fail-build']);
    expect(run.code).toBe(5);
    const error = errorEvent(run);
    expect(error.error_code).toBe('build_failed');
    expect(String(error.message)).toContain('the build command failed');
    expect((error.details as Record<string, unknown>).evidence).toEqual(['npm ERR! missing script: build']);
  });

  it('runtime_crash: a port clash at start is named', async () => {
    await gw.nextDeployment({ outcome: 'failed', phase: 'runtime', error_msg: 'container exited', log_lines: ['Error: listen EADDRINUSE: address already in use :::3000'] });
    const run = await deployBound(await copyFixture('node-http'), ['--name', 'fail-runtime']);
    expect(run.code).toBe(5);
    const error = errorEvent(run);
    expect(error.error_code).toBe('runtime_crash');
    expect(String(error.message)).toContain('did not answer on the port');
  });

  it('deploy_failed: a source that was never bound fails at progress 10 and the next run re-binds it', async () => {
    const app = await copyFixture('node-http');
    const home = await tempDir('od-home-');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: patToken() };
    // The gateway "accepts" update-source without binding anything: the classic silent failure.
    await gw.fault({ route: 'POST /api/v1/upload/update-source', count: 1, status: 200, body: { message: 'ok' } });
    const run = await runCli(['deploy', app, '--json', '--name', 'unbound-src'], { env });
    expect(run.code).toBe(5);
    const error = errorEvent(run);
    expect(error.error_code).toBe('deploy_failed');
    expect(String(error.message)).toContain('the source was never bound');
    const again = await runCli(['deploy', app, '--json'], { env });
    expect(again.code).toBe(0);
    expect(again.events.find((event) => event.type === 'stage' && event.stage === 'upload')?.status).toBe('done');
  });

  it('cancelled: a deployment cancelled while it builds ends with exit 5', async () => {
    const token = patToken();
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--name', 'cancel-me'], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: token },
      onEvent: (event) => {
        if (event.type === 'stage' && event.stage === 'deploy.create') {
          void fetch(`${gw.url}/v1/deployments/${String(event.deployment_id)}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
        }
      },
    });
    expect(run.code).toBe(5);
    expect(errorEvent(run).error_code).toBe('cancelled');
  });
});

describe('interruption', () => {
  it('interrupted: Ctrl-C while watching exits 130 and the next run follows the same deployment', async () => {
    const slow = await startTestGateway({ buildDurationMs: 8000 });
    try {
      const app = await copyFixture('node-http');
      const env = { OD_GATEWAY: slow.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() };
      const run = await runCli(['deploy', app, '--json', '--name', 'ctrl-c'], {
        env,
        onEvent: (event, child) => {
          if (event.type === 'stage' && event.stage === 'deploy.create') child.kill('SIGINT');
        },
      });
      expect(run.code).toBe(130);
      const error = errorEvent(run);
      expect(error.error_code).toBe('interrupted');
      expect(error.retryable).toBe(true);
      const started = run.events.find((event) => event.type === 'stage' && event.stage === 'deploy.create')!;
      const resumed = await runCli(['deploy', app, '--json'], { env });
      expect(resumed.code).toBe(0);
      expect(lastEvent(resumed)!.deployment_id).toBe(started.deployment_id);
    } finally {
      await slow.close();
    }
  });
});
