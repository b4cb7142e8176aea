import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * A person at a terminal who answers "n" to a confirmation made a choice, not an error: the run says
 * what was not done in plain lines (no red ✖) and keeps consent_required's exit code, 7.
 */

const TOKEN = patToken();
let gw: TestGateway;
let home: string;
let app: string;

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
}

/** The CLI in-process with a terminal on both ends (CI unset: a person is there). */
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

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  for (let i = 0; i < 2; i++) {
    const run = await runCli(['deploy', '--json'], { cwd: app, env: { ...env(), CI: 'true' } });
    expect(run.code, run.stderr).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('declining a confirmation at a terminal', () => {
  it('answering n to a rollback: plain lines saying what was not done, exit 7, nothing sent', async () => {
    const state = JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8')) as { last_deployment: { id: string } };
    const rows = ((await gw.state()).deployments as { id: string }[]).map((d) => d.id);
    const live = state.last_deployment.id;
    const earlier = rows.find((id) => id !== live)!;
    await gw.clearRequests();
    const run = await atTerminal(['rollback', '--no-color'], 'n\n');
    expect(run.code).toBe(7);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n');
    const question = `Roll back node-http from deployment ${live} to deployment ${earlier}. Continue? [y/N] `;
    expect(run.stderr).toContain(question);
    const after = run.stderr.slice(run.stderr.indexOf(question) + question.length);
    expect(after).toBe(
      [
        'Not confirmed, so nothing was changed.',
        `  Not done: Roll back node-http from deployment ${live} to deployment ${earlier}.`,
        `  → Run \`opendeploy rollback ${earlier} --yes\` to do it without the question.`,
        '',
      ].join('\n'),
    );
    expect(lines.some((line) => line.includes('✖'))).toBe(false);
    expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
