/**
 * What the local gateway accepts (issue 11, "the local gateway is an open door"):
 * - real mode accepts only credentials it issued (the local key it writes into <data-dir>/auth.json
 *   on first start, and od_a tokens its register endpoint minted earlier); any od_k only with --simulate;
 * - Host must be a loopback name on its port (DNS rebinding), Origin absent or its own;
 * - the /__local control endpoints: only with --simulate or the control secret, JSON POSTs only,
 *   no values / signatures in their dumps, binding needs the agent's signature.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { BIN, lastEvent, runCli } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { call, makeTempDir, patToken, register, startHarness, type Harness } from './helpers.js';

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses.splice(0).reverse()) await h.close();
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}

/** A real (non-simulated) gateway; `restore: 'none'` because these tests deploy nothing. */
function realHarness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  return harness({ simulate: false, restore: 'none', ...options });
}

interface RawReply {
  status: number;
  text: string;
}

/** node:http, because fetch cannot send a chosen Host header. */
function raw(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {}, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function localKey(h: Harness): Promise<string> {
  const auth = JSON.parse(await readFile(path.join(h.dataDir, 'auth.json'), 'utf8')) as { api_key: string };
  return auth.api_key;
}

const HOST_REFUSED =
  '421 Misdirected Request: this local gateway answers only requests for 127.0.0.1, localhost or <name>.localhost on its own port.';
const ORIGIN_REFUSED = '403 Forbidden: cross-origin requests to the local gateway are refused (the Origin is not this gateway).';

describe('real mode accepts only credentials this gateway issued', () => {
  it('mints a local od_k into <data-dir>/auth.json (0600) on first start, accepts it and refuses a foreign od_k with a reason', async () => {
    const h = await realHarness();
    const file = path.join(h.dataDir, 'auth.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const auth = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(auth).sort()).toEqual(['api_key', 'gateway', 'version']);
    expect(auth).toMatchObject({ version: 1, gateway: h.gw.url });
    expect(auth.api_key).toMatch(/^od_k[A-Za-z0-9]{43}$/);
    expect(h.gw.authFile).toBe(file);
    // The data folder keeps only its hash.
    expect(await readFile(path.join(h.dataDir, 'state.json'), 'utf8')).not.toContain(String(auth.api_key));

    const own = await call(h.origin, 'GET', '/api/v1/profile', { token: String(auth.api_key) });
    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ email: 'local@opendeploy.local', plan: 'free' });

    const foreign = await call(h.origin, 'GET', '/api/v1/projects/', { token: patToken() });
    expect(foreign.status).toBe(401);
    expect(foreign.json).toEqual({
      error: 'unauthorized',
      error_code: 'auth_invalid',
      message: `This local gateway accepts only the key it issued (saved in ${file}); this od_k token was not issued by it.`,
      retryable: false,
      next_action: 'ask_user',
    });
  });

  it('keeps its key across restarts, refuses anonymous registration, and still accepts od_a tokens it registered earlier', async () => {
    const dataDir = await makeTempDir();
    // An agent registered by this data folder's gateway (registration exists only with --simulate).
    const simulated = await startHarness({ dataDir });
    const agent = await register(simulated.origin, 'earlier-agent');
    expect(agent.status).toBe(200);
    await simulated.gw.close();

    const first = await startHarness({ dataDir, simulate: false, restore: 'none' });
    const key = await localKey(first);
    await first.gw.close();
    const h = await realHarness({ dataDir });
    expect(await localKey(h)).toBe(key);
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: key })).status).toBe(200);
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: agent.json.api_key })).status).toBe(200);

    const refused = await register(h.origin, 'anonymous');
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: 'register_disabled', error_code: 'register_disabled' });
    expect(refused.json.message).toBe(
      `This local gateway runs apps on this machine, so it does not register anonymous agents. Commands with --local use the key it saved in ${path.join(dataDir, 'auth.json')}; if that file is gone, restart the local gateway to get a new one.`,
    );
    expect(refused.json).not.toHaveProperty('api_key');
  });

  it('never rewrites a credential file it did not issue: it says so, and that token stays refused', async () => {
    const dataDir = await makeTempDir();
    const foreign = patToken();
    const file = path.join(dataDir, 'auth.json');
    const original = `${JSON.stringify({ version: 1, api_key: foreign }, null, 2)}\n`;
    await writeFile(file, original, { mode: 0o600 });
    const notices: string[] = [];
    const h = await realHarness({ dataDir, notify: (line) => notices.push(line) });
    expect(await readFile(file, 'utf8')).toBe(original);
    expect(notices).toEqual([
      `${file} holds a credential this local gateway did not issue, so commands with --local will be refused (401). Move the file away and restart the gateway to get a new local key.`,
    ]);
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: foreign })).status).toBe(401);
  });

  it('--simulate (nothing runs) still takes any well-formed od_k and writes no key', async () => {
    const h = await harness();
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: patToken() })).status).toBe(200);
    expect(h.gw.authFile).toBeNull();
    await expect(stat(path.join(h.dataDir, 'auth.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('Host and Origin (DNS rebinding, cross-origin pages)', () => {
  it('answers only loopback names on its own port: 421 for any other Host, API and upgrades alike', async () => {
    const h = await realHarness();
    const token = await localKey(h);
    const port = h.gw.port;
    const auth = { authorization: `Bearer ${token}` };
    for (const host of [`evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost`, `127.0.0.2:${port}`, `localhost.evil.example:${port}`]) {
      const reply = await raw(port, { path: '/api/v1/projects/', headers: { ...auth, host } });
      expect({ host, status: reply.status, text: reply.text }).toEqual({ host, status: 421, text: HOST_REFUSED });
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect({ host, status: (await raw(port, { path: '/api/v1/regions/', headers: { ...auth, host } })).status }).toEqual({ host, status: 200 });
    }
    // The control endpoints and the app proxy sit behind the same check.
    expect((await raw(port, { path: '/__local/state', headers: { host: `evil.example:${port}` } })).status).toBe(421);
    expect((await raw(port, { path: '/', headers: { host: `evil.example:${port}`, connection: 'upgrade', upgrade: 'websocket' } })).status).toBe(421);
  });

  it('refuses a browser request whose Origin is not the gateway (API, control, claim), accepts its own origin', async () => {
    const h = await harness();
    const port = h.gw.port;
    const auth = { authorization: `Bearer ${patToken()}` };
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `http://app.localhost:${port}`, `https://127.0.0.1:${port}`]) {
      const reply = await raw(port, { path: '/api/v1/regions/', headers: { ...auth, origin } });
      expect({ origin, status: reply.status, text: reply.text }).toEqual({ origin, status: 403, text: ORIGIN_REFUSED });
    }
    const fault = await raw(port, {
      method: 'POST',
      path: '/__local/faults',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'GET /api/v1/regions/', status: 500 }),
    });
    expect(fault.status).toBe(403);
    const agent = await register(h.origin, 'claim-csrf');
    const claim = new URL(agent.json.claim_url);
    expect((await raw(port, { method: 'POST', path: claim.pathname + claim.search, headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await call(h.origin, 'GET', '/api/v1/profile', { token: agent.json.api_key })).status).toBe(401); // still pending
    expect((await call(h.origin, 'GET', '/__local/faults')).json).toEqual([]);

    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      expect({ origin, status: (await raw(port, { path: '/api/v1/regions/', headers: { ...auth, origin } })).status }).toEqual({ origin, status: 200 });
    }
  });
});

describe('/__local control endpoints', () => {
  it('real mode without a control secret does not serve them', async () => {
    const h = await realHarness();
    for (const [method, route] of [['GET', '/__local/state'], ['GET', '/__local/requests'], ['POST', '/__local/faults']] as const) {
      const reply = await call(h.origin, method, route, method === 'POST' ? { body: { route: 'GET /api/v1/regions/', status: 500 } } : {});
      expect({ route, status: reply.status, text: reply.text }).toEqual({ route, status: 404, text: '404 page not found' });
    }
    expect(h.gw.controlSecret).toBeNull();
  });

  it('with a control secret: refused without it, served with it, and the dumps hold no variable value, password or signature', async () => {
    const h = await realHarness({ controlSecret: true });
    const secret = h.gw.controlSecret!;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const secretFile = path.join(h.dataDir, 'control-secret');
    expect(await readFile(secretFile, 'utf8')).toBe(`${secret}\n`);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);

    const token = await localKey(h);
    const canary = `canary-${Math.random().toString(36).slice(2)}-value`;
    const project = await call(h.origin, 'POST', '/api/v1/projects/', { token, body: { name: 'guarded', repo_url: 'file://upload', region_id: ACTIVE_REGION_ID, skip_validation: true } });
    expect(project.status).toBe(201);
    const service = await call(h.origin, 'POST', `/api/v1/projects/${project.json.id}/services/`, { token, body: { name: 'web', type: 'web', runtime_variables: { API_TOKEN: canary } } });
    expect(service.status).toBe(201);
    const env = await call(h.origin, 'PUT', `/api/v1/projects/${project.json.id}/services/${service.json.service_id}/env`, { token, body: { variables: { API_TOKEN: canary, OTHER: `${canary}-2` } } });
    expect(env.status).toBe(200);
    // The in-process view holds the values: proof that a leak over HTTP would be seen below.
    expect(JSON.stringify(h.gw.inspect())).toContain(canary);

    for (const route of ['/__local/state', '/__local/requests']) {
      expect((await call(h.origin, 'GET', route)).status).toBe(403);
      expect((await call(h.origin, 'GET', route, { headers: { 'x-opendeploy-control': 'f'.repeat(64) } })).status).toBe(403);
      const reply = await call(h.origin, 'GET', route, { headers: h.controlHeaders });
      expect(reply.status).toBe(200);
      expect(reply.text).not.toContain(canary);
      expect(reply.text).not.toContain(token);
    }
    const state = (await call(h.origin, 'GET', '/__local/state', { headers: h.controlHeaders })).json;
    expect(state).not.toHaveProperty('secret');
    expect(state.user).not.toHaveProperty('key_sha256');
    const row = (state.services as Array<Record<string, unknown>>).find((s) => s['id'] === service.json.service_id);
    expect(row?.['runtime_variables']).toEqual({ API_TOKEN: '[redacted]', OTHER: '[redacted]' });
    const journal = (await call(h.origin, 'GET', '/__local/requests', { headers: h.controlHeaders })).json as Array<Record<string, any>>;
    const put = journal.find((r) => r['method'] === 'PUT');
    expect(put).toMatchObject({ path: `/api/v1/projects/${project.json.id}/services/${service.json.service_id}/env`, status: 200, body_keys: ['variables'], json: { variables: { API_TOKEN: '[redacted]', OTHER: '[redacted]' } } });
  });

  it('--simulate serves them without a secret, but the state never shows bind_sig, claim URLs or values', async () => {
    const h = await harness();
    const agent = await register(h.origin, 'sig-holder');
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const project = await call(h.origin, 'POST', '/api/v1/projects/', { token: agent.json.api_key, body: { name: 'p', repo_url: 'file://upload', skip_validation: true } });
    await call(h.origin, 'POST', `/api/v1/projects/${project.json.id}/services/`, { token: agent.json.api_key, body: { name: 'web', type: 'web', build_variables: { NPM_TOKEN: canary } } });
    const pat = patToken();
    const own = await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name: 'db-owner', repo_url: 'file://upload', skip_validation: true } });
    const db = await call(h.origin, 'POST', '/api/v1/dependencies/create', { token: pat, body: { project_id: own.json.id, dependency_id: 'postgres', password: `${canary}db` } });
    expect(db.status).toBe(200);
    expect(JSON.stringify(h.gw.inspect())).toContain(`${canary}db`);
    const state = await call(h.origin, 'GET', '/__local/state');
    expect(state.status).toBe(200);
    expect(state.json.agents.map((a: Record<string, unknown>) => a['id'])).toEqual([agent.json.agent_id]);
    expect(state.json.agents[0]).not.toHaveProperty('bind_sig');
    const envVars = (state.json.dependencies as Array<{ env_vars: Record<string, string> }>)[0]!.env_vars;
    expect(Object.keys(envVars).length).toBeGreaterThan(0);
    expect(Object.values(envVars).every((value) => value === '[redacted]')).toBe(true);
    for (const text of [state.text, (await call(h.origin, 'GET', '/__local/requests')).text]) {
      expect(text).not.toContain(agent.json.bind_sig);
      expect(text).not.toContain(canary);
      expect(text).not.toContain(agent.json.api_key);
    }
  });

  it('refuses a POST that is not application/json (a cross-site form or text/plain beacon)', async () => {
    const h = await harness();
    const spec = JSON.stringify({ route: 'GET /api/v1/regions/', status: 500 });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const reply = await call(h.origin, 'POST', '/__local/faults', { rawBody: spec, headers: type === undefined ? {} : { 'content-type': type } });
      expect({ type, status: reply.status, json: reply.json }).toEqual({ type, status: 415, json: { error: 'control endpoints accept only Content-Type: application/json' } });
    }
    expect((await call(h.origin, 'GET', '/__local/faults')).json).toEqual([]);
    expect((await call(h.origin, 'GET', '/api/v1/regions/', { token: patToken() })).status).toBe(200);
    // The same body as JSON is accepted.
    expect((await call(h.origin, 'POST', '/__local/faults', { rawBody: spec, headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(200);
    expect((await call(h.origin, 'GET', '/__local/faults')).json).toHaveLength(1);
  });

  it('agents/:id/bind needs the agent’s own signature', async () => {
    const h = await harness();
    const agent = await register(h.origin, 'to-bind');
    const other = await register(h.origin, 'other');
    const bind = (body: unknown): Promise<{ status: number; json: any }> => call(h.origin, 'POST', `/__local/agents/${agent.json.agent_id}/bind`, { body });
    expect(await bind({})).toMatchObject({ status: 400, json: { error: 'bind_sig is required: the signature of this agent from its register response' } });
    expect(await bind({ bind_sig: other.json.bind_sig })).toMatchObject({ status: 403, json: { error: 'bind_sig does not match this agent' } });
    expect(await bind({ bind_sig: 12 })).toMatchObject({ status: 400 });
    expect((await call(h.origin, 'GET', '/api/v1/profile', { token: agent.json.api_key })).status).toBe(401);
    expect(await bind({ bind_sig: agent.json.bind_sig })).toMatchObject({ status: 200, json: { agent_id: agent.json.agent_id, state: 'bound' } });
    expect((await call(h.origin, 'GET', '/api/v1/profile', { token: agent.json.api_key })).status).toBe(200);
  });
});

describe('the CLI with a real local gateway and no credential anywhere', () => {
  afterAll(async () => {
    await cleanupTempDirs();
  });

  it('deploy --local uses the key the running gateway minted (no registration), and day-2 --local commands work', async () => {
    const h = await realHarness();
    const home = await tempDir('od-home-');
    const app = await copyFixture('static-site');
    const env = { OPENDEPLOY_HOME: home };
    const run = await runCli(['deploy', app, '--local', '--data-dir', h.dataDir, '--json'], { env, timeoutMs: 90_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = lastEvent(run)!;
    expect(result).toMatchObject({ type: 'result', status: 'success', claim_url: null });
    expect(String(result.url)).toMatch(new RegExp(`^http://[a-z0-9-]+\\.localhost:${h.gw.port}$`));

    const journal = h.gw.inspect().requests;
    expect(journal.filter((r) => r.path.includes('register'))).toEqual([]);
    expect(journal.filter((r) => r.status === 401 || !r.has_auth)).toEqual([]);
    const key = await localKey(h);
    expect(key).toMatch(/^od_k[A-Za-z0-9]{43}$/);
    for (const text of [run.stdout, run.stderr]) expect(text).not.toContain(key);
    // The hosted credential file is never created for a local run.
    await expect(stat(path.join(home, 'auth.json'))).rejects.toThrow(/ENOENT/);

    const status = await runCli(['status', '--local', '--data-dir', h.dataDir, '--json'], { cwd: app, env });
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ project: { id: result.project_id }, bound: true, claim_url: null });
  }, 120_000);

  it('opendeploy local-gateway --control-secret names its key and secret files; the control endpoints need that secret', async () => {
    const dataDir = await tempDir('od-lgw-cmd-');
    const child = spawn(process.execPath, [BIN, 'local-gateway', '--port', '0', '--data-dir', dataDir, '--control-secret', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk;
          const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
          if (line) resolve(JSON.parse(line) as Record<string, unknown>);
        });
        void exited.then(() => reject(new Error(`local-gateway exited early: ${stdout}`)));
      });
      expect(ready).toMatchObject({
        type: 'result',
        status: 'listening',
        data_dir: dataDir,
        auth_file: path.join(dataDir, 'auth.json'),
        control_secret_file: path.join(dataDir, 'control-secret'),
      });
      const origin = String(ready.url).replace(/\/api$/, '');
      const secret = (await readFile(path.join(dataDir, 'control-secret'), 'utf8')).trim();
      expect((await call(origin, 'GET', '/__local/faults')).status).toBe(403);
      expect((await call(origin, 'GET', '/__local/faults', { headers: { 'x-opendeploy-control': secret } })).json).toEqual([]);
      const key = (JSON.parse(await readFile(path.join(dataDir, 'auth.json'), 'utf8')) as { api_key: string }).api_key;
      expect((await call(origin, 'GET', '/api/v1/regions/', { token: key })).status).toBe(200);
      expect((await call(origin, 'GET', '/api/v1/regions/', { token: patToken() })).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);

  it('deploy --local with no gateway running starts one in-process whose fresh key it uses', async () => {
    const dataDir = await tempDir('od-lgw-fg-');
    const run = await runCli(['deploy', await copyFixture('static-site'), '--local', '--data-dir', dataDir, '--json', '--foreground'], {
      env: { OPENDEPLOY_HOME: await tempDir('od-home-') },
      timeoutMs: 90_000,
      // The foreground deploy serves the app until Ctrl-C (its handler is set up just after the result).
      onEvent: (event, child) => {
        if (event.type === 'result') setTimeout(() => child.kill('SIGINT'), 1500);
      },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lastEvent(run)).toMatchObject({ type: 'result', status: 'success', claim_url: null });
    const auth = JSON.parse(await readFile(path.join(dataDir, 'auth.json'), 'utf8')) as Record<string, unknown>;
    expect(auth.api_key).toMatch(/^od_k[A-Za-z0-9]{43}$/);
    expect((await stat(path.join(dataDir, 'auth.json'))).mode & 0o777).toBe(0o600);
  }, 120_000);
});
