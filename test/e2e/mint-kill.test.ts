/**
 * Minting a local credential survives kill -9 and concurrent runs (issue 11, "Credentials").
 *
 * The real CLI runs against a simulating local gateway. OD_REGION_ID names a region that does not
 * exist, so every run stops with `invalid_input` right after the credential was resolved and
 * proven against the gateway (GET /v1/regions/): the runs are short and exercise only the mint.
 */
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

// A fresh gateway per case: the gateway answers a second register from this machine within 24 h
// as a replay (no key), and only the agent's own signature can bind it out of the way.
let gw: TestGateway | undefined;
let app: string;

function current(): TestGateway {
  if (gw === undefined) throw new Error('no gateway started');
  return gw;
}

async function freshGateway(): Promise<void> {
  await gw?.close();
  gw = await startTestGateway({ registerLimitPerHour: 10_000 });
}

beforeAll(async () => {
  app = await copyFixture('node-http');
});
afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

const NO_REGION = 'no-such-region';

interface AgentView {
  id: string;
  state: string;
  created_at: string;
}

async function agents(): Promise<AgentView[]> {
  return ((await current().state()).agents ?? []) as AgentView[];
}

/** Agent ids held by auth.json or by any `auth.json.*.tmp` in `home`. */
async function heldAgentIds(home: string): Promise<string[]> {
  const held: string[] = [];
  for (const name of await readdir(home).catch(() => [] as string[])) {
    if (name !== 'auth.json' && !/^auth\.json\.\d+\.[0-9a-f]+\.tmp$/.test(name)) continue;
    try {
      const data = JSON.parse(await readFile(path.join(home, name), 'utf8')) as { agent_id?: string };
      if (data.agent_id) held.push(data.agent_id);
    } catch {
      // incomplete: holds nothing usable
    }
  }
  return held;
}

function baseEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    CI: 'true',
    NO_COLOR: '1',
    OD_GATEWAY: current().url,
    OPENDEPLOY_HOME: home,
    OD_REGION_ID: NO_REGION,
    ...extra,
  };
}

/**
 * Spawns `deploy --yes` and kills it with SIGKILL when `killWhen` resolves (or lets it finish).
 * Resolves once the process is gone.
 */
async function killedRun(home: string, killWhen: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<number> {
  const child = spawn(process.execPath, [BIN, 'deploy', app, '--json', '--yes'], {
    cwd: REPO_ROOT,
    env: baseEnv(home, { OD_TEST_MINT_PAUSE_MS: '250' }),
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let killedAt = Number.POSITIVE_INFINITY;
  await Promise.race([
    killWhen(child).then(() => {
      killedAt = Date.now();
      child.kill('SIGKILL');
    }),
    exited,
  ]);
  await exited;
  return killedAt;
}

/**
 * A kill this soon after the gateway registered the agent can land before its answer reached the
 * client (still on the wire, or half written to the temp file): no client can keep a key it never
 * received. Those are counted apart from losses; anything later must be held by a file.
 */
const IN_FLIGHT_MS = 25;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when a credential temp file exists in `home` (polled every 2 ms), or after `limitMs`. */
async function tempFileAppears(home: string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const names = await readdir(home).catch(() => [] as string[]);
    if (names.some((name) => name.endsWith('.tmp'))) return;
    await sleep(2);
  }
}

function expectCredentialWorked(run: CliRun): void {
  // The credential was resolved and accepted by GET /v1/regions/; only the region is unknown.
  const last = run.events[run.events.length - 1];
  expect({ code: run.code, error_code: last?.error_code }).toEqual({ code: 2, error_code: 'invalid_input' });
  expect(String(last?.message)).toContain(NO_REGION);
}

describe('kill -9 around the mint', () => {
  it('loses no credential: every agent the gateway registered is held by auth.json or a recoverable temp file, and the next run uses it', async () => {
    // How long one whole run takes here, to spread the kills from before the register call to after it.
    await freshGateway();
    const warmHome = await tempDir('od-home-');
    const started = Date.now();
    await killedRun(warmHome, () => new Promise<void>(() => undefined));
    const fullMs = Date.now() - started;

    const ITERATIONS = 20;
    const outcomes = { lost: 0, in_flight: 0, recovered: 0, completed: 0, before_register: 0 };
    for (let i = 0; i < ITERATIONS; i += 1) {
      await freshGateway();
      const home = await tempDir('od-home-');
      const before = new Set((await agents()).map((agent) => agent.id));
      let killedAt: number;
      if (i % 2 === 0) {
        // Time-based: anywhere from process start to well after the run would have ended.
        const delay = Math.round((fullMs * 1.3 * i) / ITERATIONS);
        killedAt = await killedRun(home, () => sleep(delay));
      } else {
        // Event-based: once the register answer is durable in its temp file, kill within 0-40 ms.
        killedAt = await killedRun(home, async () => {
          await tempFileAppears(home, 10_000);
          await sleep((i * 7) % 41);
        });
      }
      const mintedAgents = (await agents()).filter((agent) => !before.has(agent.id));
      const minted = mintedAgents.map((agent) => agent.id);
      expect(minted.length).toBeLessThanOrEqual(1);
      const held = await heldAgentIds(home);
      const hadAuthJson = (await readdir(home).catch(() => [] as string[])).includes('auth.json');
      if (minted.length === 1 && !held.includes(minted[0]!)) {
        if (killedAt - Date.parse(mintedAgents[0]!.created_at) < IN_FLIGHT_MS) {
          outcomes.in_flight += 1;
          continue;
        }
        outcomes.lost += 1;
        continue;
      } else if (minted.length === 0) outcomes.before_register += 1;
      else if (hadAuthJson) outcomes.completed += 1;
      else outcomes.recovered += 1;

      // The next run finds the credential (recovering the temp file) or mints one.
      const again = await runCli(['deploy', app, '--json', '--yes'], { env: baseEnv(home) });
      expectCredentialWorked(again);
      const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as { agent_id: string };
      if (minted.length === 1) expect(auth.agent_id).toBe(minted[0]);
      // No credential temp file is left behind: they hold the token.
      expect((await readdir(home)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    }
    expect(outcomes.lost).toBe(0);
    expect(outcomes.in_flight).toBeLessThanOrEqual(2);
    // The loop really exercised the window this is about (a kill between the answer and the rename).
    expect(outcomes.recovered).toBeGreaterThanOrEqual(ITERATIONS / 4);
  }, 240_000);
});

describe('concurrent first runs', () => {
  it('the run that lost the mint race uses the winner\'s auth.json instead of failing with auth_missing', async () => {
    await freshGateway();
    const home = await tempDir('od-home-');
    const before = new Set((await agents()).map((agent) => agent.id));
    // The pause keeps the winner between its register answer and its rename, so both runs have
    // found no auth.json and both call register: the gateway answers the second as a replay.
    const env = { OD_GATEWAY: current().url, OPENDEPLOY_HOME: home, OD_REGION_ID: NO_REGION, OD_TEST_MINT_PAUSE_MS: '800' };
    const [first, second] = await Promise.all([
      runCli(['deploy', app, '--json', '--yes'], { env }),
      runCli(['deploy', app, '--json', '--yes'], { env }),
    ]);
    expectCredentialWorked(first);
    expectCredentialWorked(second);
    const minted = (await agents()).filter((agent) => !before.has(agent.id));
    expect(minted).toHaveLength(1);
    const registers = (await current().requests()).filter((request) => request.path.startsWith('/api/v1/client-agents/register'));
    expect(registers.length).toBeGreaterThanOrEqual(2);
    const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as { agent_id: string };
    expect(auth.agent_id).toBe(minted[0]!.id);
    expect((await readdir(home)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});
