import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { atTerminal } from '../helpers/terminal.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

/**
 * Day-2 commands never create a credential (a new one would not own the project). With none on the
 * machine, a person at a terminal is told how to get one, in the words `auth status` uses; a run
 * nobody can answer (CI, agents) keeps the OPENDEPLOY_TOKEN / --yes advice. Nothing is registered
 * or written either way.
 */

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

const LOGIN_ADVICE = [
  '✖ No opendeploy credential found on this machine.',
  '  → Log in with a dashboard token: `opendeploy login`. Or run `opendeploy deploy` in your app folder: it offers to create a free local credential.',
  '',
].join('\n');

const COMMANDS: string[][] = [
  ['status', '--project', 'prj_missing0001'],
  ['logs', '--project', 'prj_missing0001', '--service', 'web'],
  ['env', 'list', '--project', 'prj_missing0001', '--service', 'web'],
  ['deployments', '--project', 'prj_missing0001', '--service', 'web'],
];

describe('day-2 commands without a credential', () => {
  for (const command of COMMANDS) {
    it(`${command.slice(0, command[0] === 'env' ? 2 : 1).join(' ')} at a terminal: says how to log in, exit 3, nothing registered or written`, async () => {
      const home = await tempDir('od-home-');
      await gw.clearRequests();
      const run = await atTerminal([...command, '--no-color'], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home });
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(LOGIN_ADVICE);
      expect(await gw.requests()).toEqual([]);
      expect(await readdir(home)).not.toContain('auth.json');
    });
  }

  it('in CI: the OPENDEPLOY_TOKEN / --yes advice, unchanged', async () => {
    const home = await tempDir('od-home-');
    const run = await runCli(['status', '--project', 'prj_missing0001'], { env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('No opendeploy credential found and this is a non-interactive run, so none was created');
    expect(run.stderr).not.toContain('opendeploy login');
  });
});
