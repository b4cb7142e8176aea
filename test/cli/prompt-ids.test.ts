import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { displayPath } from '../../src/auth/paths.js';
import { lastEvent, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * A confirmation question names each id, token or path once: the sentence already says which
 * deployment, project or file, so the list of changes after it is left out when it would only
 * repeat them. Every run here answers "n", so nothing changes.
 */

const TOKEN = patToken();
let gw: TestGateway;
let home: string;
let app: string;
/** The deployment `deploy --no-wait` started (still building). */
let running: string;

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
}

async function atTerminal(args: string[], typed: string, runEnv: Record<string, string> = env()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end(typed);
  const code = await main(args, {
    env: runEnv,
    cwd: app,
    streams: { stdout: { write: (chunk: string) => ((stdout += chunk), true) }, stderr: { write: (chunk: string) => ((stderr += chunk), true) } },
    stdin,
    stdinIsTTY: true,
    stderrIsTTY: true,
  });
  return { code, stdout, stderr };
}

/** The question the run asked: the text before `[y/N] `, from its first line on. */
function question(stderr: string): string {
  const end = stderr.indexOf('[y/N] ');
  expect(end).toBeGreaterThan(-1);
  return stderr.slice(0, end + '[y/N] '.length).split('\n').at(-1)!;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

beforeAll(async () => {
  // Slow builds: a deployment started with --no-wait is still running when `cancel` asks about it.
  gw = await startTestGateway({ buildDurationMs: 60_000 });
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await runCli(['deploy', '--no-wait', '--json'], { cwd: app, env: { ...env(), CI: 'true' } });
  expect(run.code, run.stderr).toBe(0);
  const result = lastEvent(run) as { status: string; deployment_id: string };
  expect(result.status).toBe('started');
  running = result.deployment_id;
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('confirmation questions name each id once', () => {
  it('cancel: the deployment id appears once', async () => {
    const id = running;
    const run = await atTerminal(['cancel', '--no-color'], 'n\n');
    expect(run.code).toBe(7);
    const asked = question(run.stderr);
    expect(asked).toMatch(new RegExp(`^Cancel deployment ${id} \\((pending|analyzing|building|deploying)( \\d+%)?\\)\\. Continue\\? \\[y/N\\] $`));
    expect(occurrences(asked, id)).toBe(1);
    expect(run.stderr).toContain(`  Not done: ${asked.slice(0, -' Continue? [y/N] '.length)}\n`);
  });

  it('link to another project: each project id appears once', async () => {
    const state = (await readProjectJson(app)) as { project_id: string };
    const other = 'prj-another-0001';
    const run = await atTerminal(['link', '--project', other, '--no-color'], 'n\n');
    expect(run.code).toBe(7);
    expect(question(run.stderr)).toBe(`Link ${app} to project ${other} instead of ${state.project_id}. Continue? [y/N] `);
  });

  it('logout: the credential and its file appear once', async () => {
    const authHome = await tempDir('od-home-');
    const authFile = path.join(authHome, 'auth.json');
    const token = patToken();
    await writeFile(authFile, JSON.stringify({ version: 1, api_key: token, gateway: gw.url }), { mode: 0o600 });
    const run = await atTerminal(['logout', '--no-color'], 'n\n', { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OPENDEPLOY_HOME: authHome });
    expect(run.code).toBe(7);
    expect(question(run.stderr)).toBe(`Forget the credential od_k…${token.slice(-4)} in ${displayPath(authFile)}. Continue? [y/N] `);
  });
});
