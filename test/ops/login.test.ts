/**
 * `opendeploy login` / `logout` / `whoami` in-process against the simulated local gateway (which
 * accepts any well-formed od_k token as its user, and refuses an od_a token it never issued).
 * The token is a canary: it must never appear on stdout or stderr.
 */
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

let gw: TestGateway;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  events: Record<string, unknown>[];
}

/** main() with stdin fed from `input`; `tty` makes it a person at a terminal (no CI). */
async function od(home: string, args: string[], options: { input?: string; tty?: boolean; env?: Record<string, string> } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OPENDEPLOY_HOME: home, OD_GATEWAY: gw.url, NO_COLOR: '1', ...options.env };
  if (!options.tty) env.CI = 'true';
  const code = await main(args, {
    env,
    cwd: home,
    streams: { stdout: { write: (chunk: string) => ((stdout += chunk), true) }, stderr: { write: (chunk: string) => ((stderr += chunk), true) } },
    stdin: Readable.from(options.input === undefined ? [] : [options.input]),
    stdinIsTTY: options.tty === true,
    stderrIsTTY: options.tty === true,
  });
  const events: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    try {
      const event = JSON.parse(line) as unknown;
      if (event && typeof event === 'object') events.push(event as Record<string, unknown>);
    } catch {
      // human text or a pretty-printed document
    }
  }
  return { code, stdout, stderr, events };
}

function hint(token: string): string {
  return `${token.slice(0, 4)}…${token.slice(-4)}`;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy login', () => {
  it('--token-stdin: verifies the token, stores it 0600 with its gateway, never prints it; whoami then uses it', async () => {
    const home = await tempDir('od-login-');
    const token = patToken();
    await gw.clearRequests();
    const run = await od(home, ['login', '--token-stdin', '--json'], { input: `${token}\n` });
    expect(run.code).toBe(0);
    const file = path.join(home, 'auth.json');
    expect(run.events).toEqual([
      {
        type: 'result',
        logged_in: true,
        token: hint(token),
        kind: 'pat',
        auth_file: file,
        gateway: gw.url,
        profile: { id: ((await gw.state()) as { user: { id: string } }).user.id, email: 'local@opendeploy.local' },
        replaced: null,
      },
    ]);
    expect(run.stdout + run.stderr).not.toContain(token);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, api_key: token, gateway: gw.url });
    // Read-only on the gateway: the regions check (and the profile).
    expect((await gw.requests()).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/regions/', 'GET /api/v1/profile']);

    const who = await od(home, ['whoami', '--json']);
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ source: 'file', kind: 'pat', token: hint(token), auth_file: file, gateway: gw.url, bound: true });
    expect(who.stdout + who.stderr).not.toContain(token);
  });

  it('human mode on a terminal: asks with hidden input and says where it was saved', async () => {
    const home = await tempDir('od-login-');
    const token = patToken();
    const run = await od(home, ['login'], { input: `${token}\n`, tty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('Paste a dashboard token: ');
    expect(run.stdout).toBe(`Logged in as local@opendeploy.local to ${gw.url} with ${hint(token)}; saved in ${home}/auth.json (0600).\n`);
    expect(JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8'))).toEqual({ version: 1, api_key: token, gateway: gw.url });
  });

  it('a token the gateway refuses is auth_invalid and nothing is written', async () => {
    const home = await tempDir('od-login-');
    const bad = `od_a${patToken().slice(4)}`;
    const run = await od(home, ['login', '--token-stdin', '--json'], { input: bad });
    expect(run.code).toBe(3);
    expect(run.events.at(-1)).toMatchObject({
      type: 'error',
      error_code: 'auth_invalid',
      message: `${gw.url} rejected this token (${hint(bad)}, 401); nothing was saved.`,
    });
    expect(run.stdout + run.stderr).not.toContain(bad);
    expect(await exists(path.join(home, 'auth.json'))).toBe(false);
  });

  it('not a token at all, or no way to ask: invalid_input, nothing written', async () => {
    const home = await tempDir('od-login-');
    const junk = await od(home, ['login', '--token-stdin', '--json'], { input: 'hello world\n' });
    expect(junk.code).toBe(2);
    expect(junk.events.at(-1)).toMatchObject({ error_code: 'invalid_input', message: 'That is not an opendeploy token: a dashboard token starts with od_k and has no spaces.' });
    const noTty = await od(home, ['login', '--json']);
    expect(noTty.code).toBe(2);
    expect(noTty.events.at(-1)).toMatchObject({ error_code: 'invalid_input', message: 'This run cannot ask for a token.' });
    expect(await exists(path.join(home, 'auth.json'))).toBe(false);
  });

  it('warns when OPENDEPLOY_TOKEN would still win over the saved credential', async () => {
    const home = await tempDir('od-login-');
    const token = patToken();
    const envToken = patToken();
    const run = await od(home, ['login', '--token-stdin'], { input: token, env: { OPENDEPLOY_TOKEN: envToken } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('OPENDEPLOY_TOKEN is set in this environment: it is used instead of the saved credential until you unset it.\n');
    expect(run.stdout + run.stderr).not.toContain(token);
    expect(run.stdout + run.stderr).not.toContain(envToken);
  });

  it('replacing another stored credential needs consent', async () => {
    const home = await tempDir('od-login-');
    const first = patToken();
    const second = patToken();
    expect((await od(home, ['login', '--token-stdin'], { input: first })).code).toBe(0);
    const refused = await od(home, ['login', '--token-stdin', '--json'], { input: second });
    expect(refused.code).toBe(7);
    expect(refused.events.at(-1)).toMatchObject({
      error_code: 'consent_required',
      details: { changes: [`${hint(first)} -> ${hint(second)}`], resume_command: 'opendeploy login --token-stdin --yes' },
    });
    expect(JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')).api_key).toBe(first);
    const run = await od(home, ['login', '--token-stdin', '--yes', '--json'], { input: second });
    expect(run.code).toBe(0);
    expect(run.events[0]).toMatchObject({ replaced: hint(first), token: hint(second) });
    expect(JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')).api_key).toBe(second);
    expect(run.stdout + run.stderr + refused.stdout + refused.stderr).not.toContain(first);
    expect(run.stdout + run.stderr + refused.stdout + refused.stderr).not.toContain(second);
  });
});

describe('opendeploy logout', () => {
  it('removes the credential file only after --yes, and never calls the gateway', async () => {
    const home = await tempDir('od-logout-');
    const token = patToken();
    expect((await od(home, ['login', '--token-stdin'], { input: token })).code).toBe(0);
    const file = path.join(home, 'auth.json');
    await gw.clearRequests();
    const refused = await od(home, ['logout', '--json']);
    expect(refused.code).toBe(7);
    expect(refused.events.at(-1)).toMatchObject({ error_code: 'consent_required', details: { changes: [file], resume_command: 'opendeploy logout --yes' } });
    expect(await exists(file)).toBe(true);
    const run = await od(home, ['logout', '--yes', '--json']);
    expect(run.code).toBe(0);
    expect(run.events).toEqual([{ type: 'result', logged_out: true, auth_file: file, token: hint(token), env_token_set: false }]);
    expect(await exists(file)).toBe(false);
    const again = await od(home, ['logout', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`No credential file at ${file}: nothing to forget.\n`);
    expect(await gw.requests()).toEqual([]);
    expect(run.stdout + run.stderr + refused.stdout + refused.stderr).not.toContain(token);
  });

  it('says when OPENDEPLOY_TOKEN still logs this shell in', async () => {
    const home = await tempDir('od-logout-');
    await writeFile(path.join(home, 'auth.json'), JSON.stringify({ version: 1, api_key: patToken() }), { mode: 0o600 });
    const run = await od(home, ['logout', '--yes'], { env: { OPENDEPLOY_TOKEN: patToken() } });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[1]).toBe('OPENDEPLOY_TOKEN is still set in this environment and is used instead: unset it to be logged out.');
  });
});
