import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { atTerminal } from '../helpers/terminal.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

/**
 * `auth status` with no credential: a person at a terminal is told how to get one (log in, or let a
 * deploy create a free one); a run nobody can answer keeps the OPENDEPLOY_TOKEN / --yes wording.
 * Neither registers or writes anything.
 */

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('auth status without a credential', () => {
  it('at a terminal: says how to log in, exit 3 (auth_missing), nothing registered or written', async () => {
    const home = await tempDir('od-home-');
    await gw.clearRequests();
    const run = await atTerminal(['auth', 'status', '--no-color'], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        '✖ No opendeploy credential found on this machine.',
        '  → Log in with a dashboard token: `opendeploy login`. Or run `opendeploy deploy` in your app folder: it offers to create a free local credential.',
        '',
      ].join('\n'),
    );
    expect((await gw.requests()).some((r) => r.path.includes('register'))).toBe(false);
    expect(await readdir(home)).not.toContain('auth.json');
  });

  it('in CI: the message about OPENDEPLOY_TOKEN and --yes, unchanged', async () => {
    const home = await tempDir('od-home-');
    const run = await runCli(['auth', 'status'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('No opendeploy credential found and this is a non-interactive run, so none was created');
  });
});
