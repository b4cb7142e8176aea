import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BIN, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/**
 * `env set KEY` with nothing piped in, at a terminal: the value is asked for with hidden input
 * through the session's prompter and never echoed. CI is unset in these runs: a person is there.
 */

const TOKEN = `od_k${'P'.repeat(20)}${'q'.repeat(23)}`;
let gw: TestGateway;
let home: string;
let app: string;

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
}

/** The CLI in-process with a terminal on both ends: `typed` is what the person types. */
async function atTerminal(args: string[], typed: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end(typed);
  const code = await main(args, {
    env: env(),
    cwd: app,
    streams: { stdout: { write: (chunk: string) => ((stdout += chunk), true) }, stderr: { write: (chunk: string) => ((stderr += chunk), true) } },
    stdin,
    stdinIsTTY: true,
    stderrIsTTY: true,
  });
  return { code, stdout, stderr };
}

async function variables(): Promise<Record<string, string>> {
  const run = await runCli(['env', 'list', '--show-secrets', '--json'], { cwd: app, env: env() });
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { variables: Record<string, string> }).variables;
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

describe('env set KEY at a terminal', () => {
  it('asks for the value with hidden input and sets exactly what was typed; the value is never printed', async () => {
    const value = `typed ${randomBytes(8).toString('hex')} `;
    const run = await atTerminal(['env', 'set', 'TYPED_KEY'], `${value}\n`);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Value of TYPED_KEY (input hidden): ');
    expect(run.stderr + run.stdout).not.toContain(value.trim());
    // No argv warning: the value never was on the command line.
    expect(run.stderr).not.toContain('shell history');
    expect(run.stdout).toContain('Set TYPED_KEY on service');
    expect((await variables()).TYPED_KEY).toBe(value);
  });

  it('an empty answer changes nothing: invalid_input (exit 2)', async () => {
    await gw.clearRequests();
    const run = await atTerminal(['env', 'set', 'EMPTY_TYPED'], '\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('No value given for EMPTY_TYPED; nothing was changed.');
    expect((await gw.requests()).filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('with --json nobody is asked: the existing invalid_input, no request', async () => {
    await gw.clearRequests();
    const run = await atTerminal(['env', 'set', 'JSON_KEY', '--json'], 'never-read\n');
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('input hidden');
    expect((JSON.parse(run.stdout.trim()) as { error_code: string; message: string })).toMatchObject({ error_code: 'invalid_input', message: 'No value given for JSON_KEY.' });
    expect(await gw.requests()).toEqual([]);
  });

  // A real pseudo-terminal (util-linux `script`): what the terminal shows must not include the typed value.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('on a real terminal the typed value is not echoed', async () => {
    const value = `pty-${randomBytes(8).toString('hex')}`;
    const screen = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${BIN} env set PTY_KEY`, '/dev/null'], { cwd: app, env: { ...env(), TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      let typed = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        // Type only once the question is shown (and the terminal is in raw mode), as a person would.
        if (!typed && text.includes('(input hidden): ')) {
          typed = true;
          setTimeout(() => child.stdin.write(`${value}\r`), 200);
        }
      });
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, text });
      });
    });
    expect(screen.text).toContain('Value of PTY_KEY (input hidden): ');
    expect(screen.text).not.toContain(value);
    expect(screen.text).toContain('Set PTY_KEY on service');
    expect(screen.code).toBe(0);
    expect((await variables()).PTY_KEY).toBe(value);
  }, 40_000);
});
