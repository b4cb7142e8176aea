import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { writeAuthFile } from '../../src/auth/index.js';

const PAT = `od_k${'P'.repeat(39)}W9kQ`;

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

function status(args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<CliRun> {
  return runCli(['auth', 'status', ...args], { env: { OD_GATEWAY: gw.url, ...env }, ...(cwd ? { cwd } : {}) });
}

/** A real pending credential: registered with the gateway, saved the way opendeploy saves it. */
async function registerAgent(home: string): Promise<{ api_key: string; agent_id: string; bind_sig: string }> {
  const response = await fetch(`${gw.url}/v1/client-agents/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': `auth-status-test-${home}` },
    body: JSON.stringify({ source_hint: 'test' }),
  });
  expect(response.status).toBeLessThan(300);
  const body = (await response.json()) as { api_key: string; agent_id: string; bind_sig: string };
  await writeAuthFile(path.join(home, 'auth.json'), { version: 1, api_key: body.api_key, gateway: gw.url, agent_id: body.agent_id, bind_sig: body.bind_sig });
  return body;
}

describe('opendeploy auth status', () => {
  it('a dashboard token from OPENDEPLOY_TOKEN: bound, no claim URL, only kind and last 4 shown', async () => {
    const home = await tempDir('od-home-');
    const run = await status(['--json'], { OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: PAT });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ type: 'result', source: 'env', kind: 'pat', token: 'od_k…W9kQ', auth_file: null, gateway: gw.url, bound: true, claim_url: null });
    expect(run.stdout + run.stderr).not.toContain(PAT);

    const human = await status([], { OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: PAT });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('od_k…W9kQ');
    expect(human.stdout).toContain('bound to an account');
    expect(human.stdout).not.toContain('Claim URL');
  });

  it('a fresh agent credential is pending and shows its claim URL; once bound, it no longer does', async () => {
    const home = await tempDir('od-home-');
    const agent = await registerAgent(home);
    const authFile = path.join(home, 'auth.json');
    const claim = `${gw.origin}/claim/${agent.agent_id}?h=${agent.bind_sig}`;

    const run = await status(['--json'], { OPENDEPLOY_HOME: home });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      type: 'result',
      source: 'file',
      kind: 'agent',
      token: `od_a…${agent.api_key.slice(-4)}`,
      auth_file: authFile,
      gateway: gw.url,
      bound: false,
      claim_url: claim,
    });
    expect(run.stdout + run.stderr).not.toContain(agent.api_key);

    const human = await status([], { OPENDEPLOY_HOME: home });
    expect(human.stdout).toContain('pending');
    expect(human.stdout).toContain(claim);
    expect(human.stdout + human.stderr).not.toContain(agent.api_key);

    await gw.bindAgent(agent.agent_id, agent.bind_sig);
    const bound = await status(['--json'], { OPENDEPLOY_HOME: home });
    expect(bound.code).toBe(0);
    expect(JSON.parse(bound.stdout)).toMatchObject({ kind: 'agent', bound: true, claim_url: null });
    expect(bound.stdout).not.toContain(agent.bind_sig);
  });

  it('no credential: auth_missing (exit 3), and nothing is registered or written', async () => {
    const home = await tempDir('od-home-');
    await gw.clearRequests();
    const run = await status(['--json'], { OPENDEPLOY_HOME: home });
    expect(run.code).toBe(3);
    expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: 'auth_missing' });
    expect((await gw.requests()).some((r) => r.path.includes('register'))).toBe(false);
    expect(await readdir(home)).not.toContain('auth.json');
  });

  it('a token the gateway rejects: auth_invalid (exit 3), token never echoed', async () => {
    const home = await tempDir('od-home-');
    const unknown = `od_a${'Q'.repeat(39)}Zz12`;
    const run = await status(['--json'], { OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: unknown });
    expect(run.code).toBe(3);
    expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: 'auth_invalid' });
    expect(run.stdout + run.stderr).not.toContain(unknown);
  });
});
