/**
 * Issue 11, "Credentials" (analysis before authentication) and "The process itself": Ctrl-C under a
 * real pseudo-terminal, a closed stdout pipe, --vars-file / --env-file, gateway URL normalisation
 * and the gateway's reason for a rejected token. The real CLI against a simulating local gateway.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT, errorOf, lastEvent, runCli } from '../helpers/cli.js';
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

function registerRequests(requests: { path: string }[]): number {
  return requests.filter((request) => request.path.startsWith('/api/v1/client-agents/register')).length;
}

describe('analysis runs before any credential is resolved or minted', () => {
  it('a crypto-mining folder is refused (exit 7) with no auth.json created and no register call', async () => {
    const home = await tempDir('od-home-');
    await gw.clearRequests();
    const run = await runCli(['deploy', await copyFixture('refusal-miner'), '--json', '--yes'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(7);
    expect(errorOf(run).error_code).toBe('refused');
    expect(existsSync(path.join(home, 'auth.json'))).toBe(false);
    expect(await gw.requests()).toEqual([]);
    expect(run.events.filter((event) => event.type === 'stage').map((event) => event.stage)).toEqual(['analyze']);
  });

  it('an empty folder has its own message (exit 2), with no auth.json created and no request at all', async () => {
    const home = await tempDir('od-home-');
    const empty = path.join(await tempDir('od-empty-'), 'empty');
    await mkdir(empty);
    await gw.clearRequests();
    const run = await runCli(['deploy', empty, '--json', '--yes'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'analysis_incomplete',
      message: `Nothing to deploy in ${empty}: the folder is empty.`,
      retryable: false,
      next_action: 'Add the project files (or pass the path of the project folder), then run again.',
      details: { reason: 'empty_folder' },
    });
    expect(existsSync(path.join(home, 'auth.json'))).toBe(false);
    expect(registerRequests(await gw.requests())).toBe(0);
    expect(await gw.requests()).toEqual([]);
  });
});

describe('a rejected token', () => {
  it("passes the gateway's reason on and points to no page the gateway does not have", async () => {
    const home = await tempDir('od-home-');
    const authFile = path.join(home, 'auth.json');
    await writeFile(authFile, `${JSON.stringify({ version: 1, api_key: `od_a${'q'.repeat(43)}`, gateway: gw.url })}\n`, { mode: 0o600 });
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    const error = errorOf(run);
    expect(error.error_code).toBe('auth_invalid');
    expect(String(error.message)).toBe(
      `The gateway rejected the saved credential (od_a…qqqq) in ${authFile} (the gateway said: Unknown agent credential: it was not issued by this gateway). opendeploy left the file untouched: replace api_key with a valid dashboard token, or move the file away to start fresh.`,
    );
    expect(error.next_action).toBe(
      `Move ${authFile} away and run again to create a new local credential, or set OPENDEPLOY_TOKEN to a token issued by ${gw.url}.`,
    );
    // The page the old message pointed to does not exist on this gateway.
    expect((await fetch(`${gw.origin}/account/api-keys`)).status).toBe(404);
  });
});

describe('gateway URLs', () => {
  it('a bare origin means <origin>/api: the error names http://127.0.0.1:9/api, not a host called v1', async () => {
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--gateway', 'http://127.0.0.1:9'], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(6);
    expect(errorOf(run).message).toBe('Could not reach the gateway at http://127.0.0.1:9/api (connection refused).');
  });

  it('a bare origin of a real gateway deploys', async () => {
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--name', 'bare-origin', '--gateway', `${gw.origin}/`], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ type: 'result', status: 'success' });
  });

  it('an invalid URL is invalid_input (exit 2) in one sentence, before any work', async () => {
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--gateway', 'localhost:4000'], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: 'The gateway URL "localhost:4000" must start with http:// or https://.',
      retryable: false,
      next_action: 'Set --gateway to the gateway base URL, e.g. https://dashboard.dev.opendeploy.dev/api or http://127.0.0.1:4000/api.',
      details: { reason: 'invalid_gateway_url' },
    });
    expect(run.events.filter((event) => event.type === 'stage')).toEqual([]);
  });
});

/** Runs bin/opendeploy.js as an executable (its shebang), the way a global install or npx link does. */
function runDirect(args: string[], env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(BIN, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, unknown>;
}

describe('--vars-file (and its older name --env-file)', () => {
  it('a missing --vars-file is a JSON invalid_input error, run as `node bin/opendeploy.js` and as the executable', async () => {
    const app = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() };
    const expected = {
      type: 'error',
      error_code: 'invalid_input',
      message: `Could not read the env file ${path.join(app, 'missing.env')} (ENOENT).`,
      retryable: false,
      next_action: 'Check the path given to --vars-file (--env-file).',
    };
    const viaNode = await runCli(['deploy', app, '--json', '--vars-file', path.join(app, 'missing.env')], { env, spawn: true });
    expect(viaNode.code).toBe(2);
    expect(lastEvent(viaNode)).toEqual(expected);
    const direct = runDirect(['deploy', app, '--json', '--vars-file', path.join(app, 'missing.env')], env);
    expect(direct.code).toBe(2);
    expect(lastJson(direct.stdout)).toEqual(expected);
  });

  it('--env-file still works: its values reach the service', async () => {
    const app = await copyFixture('node-http');
    const vars = path.join(await tempDir('od-vars-'), 'vars.env');
    await writeFile(vars, 'GREETING=hello-from-env-file\n');
    await gw.clearRequests();
    const run = await runCli(['deploy', app, '--json', '--name', 'env-file-alias', '--env-file', vars], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(0);
    const create = (await gw.requests()).find((request) => request.method === 'POST' && /\/services\/$/.test(request.path));
    expect(Object.keys((create?.json?.runtime_variables ?? {}) as Record<string, unknown>)).toContain('GREETING');
  });

  it('--vars-file and --env-file naming two different files is a usage error', async () => {
    // Both files exist: Node 20 itself exits 9 when a `--env-file` anywhere on its command line names a missing file.
    const dir = await tempDir('od-vars-');
    await writeFile(path.join(dir, 'a.env'), 'A=1\n');
    await writeFile(path.join(dir, 'b.env'), 'B=1\n');
    const run = await runCli(['deploy', await copyFixture('node-http'), '--json', '--vars-file', path.join(dir, 'a.env'), '--env-file', path.join(dir, 'b.env')], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() },
    });
    expect(run.code).toBe(2);
    expect(errorOf(run).message).toBe('--vars-file and --env-file name the same option, but two different files were given.');
  });
});

describe('a closed stdout pipe', () => {
  it('`opendeploy logs | head -1` exits quietly: no stack trace, exit 0', async () => {
    const app = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() };
    await gw.nextDeployment({ outcome: 'success', log_lines: Array.from({ length: 5000 }, (_, i) => `app line ${i} ${'y'.repeat(80)}`) });
    expect((await runCli(['deploy', app, '--json', '--name', 'closed-pipe'], { env })).code).toBe(0);

    const child = spawn(process.execPath, [BIN, 'logs', '--tail', '5000'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let firstLine = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8');
    // Like `head -1`: read the first line, then close the pipe while the CLI is still writing.
    child.stdout.once('data', (chunk: string) => {
      firstLine = chunk.split('\n')[0] ?? '';
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
    expect(firstLine).toMatch(/app line \d+ y+$/);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});

const hasPython = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasPython)('Ctrl-C on a real terminal', () => {
  it('stops within a second while a spinner runs, saves state and exits 130', async () => {
    const slow = await startTestGateway({ buildDurationMs: 120_000 });
    try {
      const app = await copyFixture('node-http');
      const home = await tempDir('od-home-');
      const child = spawn('python3', [path.join(REPO_ROOT, 'test', 'e2e', 'pty-ctrl-c.py'), 'Building and deploying', '60', '--', process.execPath, BIN, 'deploy', app, '--yes'], {
        cwd: REPO_ROOT,
        // A person at a terminal: no CI, no --json (the spinner runs).
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', OD_GATEWAY: slow.url, OPENDEPLOY_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
      });
      await new Promise((resolve) => child.on('close', resolve));
      const result = JSON.parse(stdout) as { code: number; after_ctrl_c_ms: number | null; output: string };
      const output = result.output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
      expect(result.after_ctrl_c_ms, output.slice(-2000)).not.toBeNull();
      expect(result.code, output.slice(-2000)).toBe(130);
      expect(result.after_ctrl_c_ms!).toBeLessThan(1500);
      expect(output).toContain('Interrupted');
      const state = JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')) as { last_deployment?: { id: string; status: string } };
      expect(state.last_deployment?.status).toBe('pending');
      expect(state.last_deployment?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await readdir(home)).includes('auth.json')).toBe(true);
    } finally {
      await slow.close();
    }
  }, 90_000);
});

