import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BIN, errorOf, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/**
 * How values reach `env set` and `env rotate` besides argv and stdin: a hidden prompt at a terminal
 * (through the session's prompter, never echoed; CI is unset in those runs: a person is there), and
 * a dotenv file named with `--vars-file`, the flag `deploy` uses too. And `--dry-run`, which shows
 * the plan of a change without asking or sending anything.
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

describe('--vars-file: one flag for values from a dotenv file (deploy, env set, env rotate)', () => {
  async function dotenv(text: string): Promise<string> {
    const file = path.join(await tempDir('od-vars-'), 'vars.env');
    await writeFile(file, text);
    return file;
  }
  const cli = (args: string[]) => runCli(args, { cwd: app, env: env() });

  it('every command that reads variables from a file offers --vars-file; the older names stay', async () => {
    const help = async (args: string[]) => (await runCli([...args, '--help'], { cwd: app, env: env() })).stdout;
    expect(await help(['deploy'])).toMatch(/--vars-file <file>[\s\S]*--env-file <file>/);
    expect(await help(['env', 'set'])).toMatch(/--vars-file <file>[\s\S]*--from-file <file>/);
    expect(await help(['env', 'rotate'])).toMatch(/--vars-file <file>[\s\S]*--from <file>\s+the same as --vars-file \(older name\)/);
  });

  it('env set KEY… --vars-file takes exactly the named keys from the file, beside KEY=VALUE arguments', async () => {
    const apiKey = `api-${randomBytes(6).toString('hex')}`;
    const jwt = `jwt ${randomBytes(6).toString('hex')}`;
    const file = await dotenv(`API_KEY=${apiKey}\nJWT_SECRET="${jwt}"\nNOT_NAMED=left-alone\n`);
    const before = await variables();
    const run = await cli(['env', 'set', 'API_KEY', 'JWT_SECRET', 'PLAIN_ARG=1', '--vars-file', file, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ keys_set: ['API_KEY', 'JWT_SECRET', 'PLAIN_ARG'], keys_added: ['API_KEY', 'JWT_SECRET', 'PLAIN_ARG'], changed: true, verified: true });
    expect(run.stdout + run.stderr).not.toContain(apiKey);
    expect(run.stdout + run.stderr).not.toContain(jwt);
    // Only PLAIN_ARG was on the command line.
    expect(run.stderr).toContain('The value of PLAIN_ARG was passed on the command line');
    expect(await variables()).toEqual({ ...before, API_KEY: apiKey, JWT_SECRET: jwt, PLAIN_ARG: '1' });
  });

  it('env set refuses, before any request: a named key the file lacks, no key named, --from-file beside it', async () => {
    const file = await dotenv('ONLY_THIS=1\n');
    await gw.clearRequests();
    const missing = await cli(['env', 'set', 'ONLY_THIS', 'NOT_THERE', '--vars-file', file, '--json']);
    expect(missing.code).toBe(2);
    expect(errorOf(missing)).toMatchObject({ error_code: 'invalid_input', message: `NOT_THERE is not in ${file}; nothing was changed.`, details: { missing: ['NOT_THERE'] } });
    const none = await cli(['env', 'set', 'A=1', '--vars-file', file, '--json']);
    expect(none.code).toBe(2);
    expect(errorOf(none).message).toBe('--vars-file gives the values of the KEYs named without a value, and none was named.');
    const both = await cli(['env', 'set', 'ONLY_THIS', '--vars-file', file, '--from-file', file, '--json']);
    expect(both.code).toBe(2);
    expect(errorOf(both).message).toBe('--vars-file and --from-file both say where values come from; give one.');
    const unreadable = await cli(['env', 'set', 'ONLY_THIS', '--vars-file', path.join(path.dirname(file), 'nope.env'), '--json']);
    expect(unreadable.code).toBe(2);
    expect(errorOf(unreadable).next_action).toBe('Check the path given to --vars-file.');
    expect(await gw.requests()).toEqual([]);
  });

  it('env rotate --vars-file replaces the whole set (its consent resume command keeps the flag); --from is the same option', async () => {
    const current = await variables();
    const file = await dotenv(`PORT=3000\nROTATED=${randomBytes(6).toString('hex')}\n`);
    const gated = await cli(['env', 'rotate', '--vars-file', file, '--no-redeploy', '--json']);
    expect(gated.code).toBe(7);
    expect(errorOf(gated).details).toEqual({
      changes: ['+ROTATED', ...Object.keys(current).filter((key) => key !== 'PORT').sort().map((key) => `-${key}`)],
      resume_command: `opendeploy env rotate --vars-file ${file} --no-redeploy --json --yes`,
      values_redacted: true,
    });
    const conflict = await cli(['env', 'rotate', '--vars-file', file, '--from', `${file}.other`, '--json', '--yes']);
    expect(conflict.code).toBe(2);
    expect(errorOf(conflict).message).toBe('--vars-file and --from name the same option, but two different files were given.');
    const run = await cli(['env', 'rotate', '--vars-file', file, '--from', file, '--no-redeploy', '--json', '--yes']);
    expect(run.code).toBe(0);
    expect(Object.keys(await variables()).sort()).toEqual(['PORT', 'ROTATED']);
  });
});

describe('--dry-run: the plan, and nothing asked, sent or deployed', () => {
  const cli = (args: string[]) => runCli(args, { cwd: app, env: env() });

  it('rotate, unset and set print the plan by name and send no change', async () => {
    const before = await variables();
    const file = path.join(await tempDir('od-dry-'), 'next.env');
    await writeFile(file, `PORT=3000\nDRY_NEW=${randomBytes(6).toString('hex')}\n`);
    await gw.clearRequests();
    const rotate = await cli(['env', 'rotate', '--vars-file', file, '--dry-run', '--json']);
    expect(rotate.code).toBe(0);
    const removed = Object.keys(before).filter((key) => key !== 'PORT').sort();
    expect(JSON.parse(rotate.stdout)).toEqual({
      type: 'result',
      dry_run: true,
      operation: 'rotate',
      service_id: expect.any(String),
      keys_added: ['DRY_NEW'],
      keys_removed: removed,
      keys_changed: [],
      count_before: Object.keys(before).length,
      count_after: 2,
      changed: true,
      needs_consent: true,
      then: 'redeploy',
    });

    const unset = await cli(['env', 'unset', 'PORT', '--dry-run']);
    expect(unset.code).toBe(0);
    expect(unset.stdout).toBe(
      `Would change service ${(await serviceName())}: 1 removed (PORT).\nThis change asks for confirmation (or --yes) when run without --dry-run.\nNothing was changed (--dry-run).\n`,
    );

    const set = await cli(['env', 'set', 'PORT=3000', '--dry-run', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ dry_run: true, operation: 'set', changed: false, needs_consent: false, then: 'none' });

    const requests = await gw.requests();
    expect(requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(await variables()).toEqual(before);
  });
});

async function serviceName(): Promise<string> {
  const run = await runCli(['env', 'list'], { cwd: app, env: env() });
  return run.stdout.split(':')[0]!;
}
