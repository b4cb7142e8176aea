import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { call, patToken, sleep, startHarness, uploadArchive, waitFor, zipWithCli, type Harness } from './helpers.js';

let h: Harness;
const pat = patToken();
let counter = 0;

beforeAll(async () => {
  h = await startHarness({ buildDurationMs: 300 });
});
afterAll(async () => {
  await h.close();
});

interface Setup {
  pid: string;
  sid: string;
  temp: string;
}

/** project → service → upload → (optionally) update-source, as the seed pipeline does. */
async function setup(options: { bind?: boolean; environment?: string } = {}): Promise<Setup> {
  counter += 1;
  const name = `dep-${counter}`;
  const pid = (await call(h.origin, 'POST', '/api/v1/projects/', { token: pat, body: { name, repo_url: 'file://upload', region_id: ACTIVE_REGION_ID, skip_validation: true } })).json.id;
  const sid = (
    await call(h.origin, 'POST', `/api/v1/projects/${pid}/services/`, {
      token: pat,
      body: { name: 'web', type: 'web', environment: options.environment ?? 'production', language: 'node', port: 3000, cpu_limit: '1', memory_limit: '1Gi', replicas: 1 },
    })
  ).json.service_id;
  const zip = await zipWithCli({ 'package.json': '{"name":"app"}', 'server.js': 'listen()' });
  const temp = (await uploadArchive(h.origin, pat, { project_name: name, region_id: ACTIVE_REGION_ID }, { name: 'app.zip', data: zip })).json.temp_file_path;
  if (options.bind !== false) {
    const bound = await call(h.origin, 'POST', '/api/v1/upload/update-source', { token: pat, body: { project_id: pid, temp_file_path: temp } });
    expect(bound.status).toBe(200);
  }
  return { pid, sid, temp };
}

async function deploy(s: Setup, environment = 'production'): Promise<any> {
  const reply = await call(h.origin, 'POST', '/api/v1/deployments/', {
    token: pat,
    body: { project_id: s.pid, service_id: s.sid, environment, source: 'zip', temp_file_path: s.temp, branch: 'main', dependencies: [] },
  });
  expect(reply.status).toBe(201);
  return reply.json;
}

async function getDeployment(id: string): Promise<any> {
  return (await call(h.origin, 'GET', `/api/v1/deployments/${id}`, { token: pat })).json;
}

const TERMINAL = ['success', 'failed', 'cancelled', 'rolled_back'];

async function untilTerminal(id: string, timeoutMs = 5000): Promise<any> {
  return waitFor(async () => {
    const d = await getDeployment(id);
    return TERMINAL.includes(d.status) ? d : undefined;
  }, timeoutMs);
}

describe('POST /v1/deployments/', () => {
  it('201 pending, then building → deploying → success with progress, logs and an auto domain', async () => {
    const s = await setup();
    const created = await deploy(s);
    expect(created).toMatchObject({ status: 'pending', project_id: s.pid, service_id: s.sid, environment: 'production' });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(created.created_at))).toBe(false);
    expect(typeof created.runtime_variables).toBe('string');

    const seen = new Set<string>();
    const progress: number[] = [];
    let final: any;
    await waitFor(async () => {
      const d = await getDeployment(created.id);
      seen.add(d.status);
      progress.push(d.progress);
      if (d.status === 'building') {
        expect(d.progress).toBeGreaterThanOrEqual(20);
        expect(d.progress).toBeLessThanOrEqual(70);
        expect(typeof d.build_percent).toBe('number');
      }
      if (d.status === 'deploying') {
        expect(d.progress).toBeGreaterThanOrEqual(80);
        expect(d.progress).toBeLessThanOrEqual(95);
      }
      if (d.status === 'success') final = d;
      return d.status === 'success';
    }, 5000, 10);
    expect(seen.has('building')).toBe(true);
    expect(seen.has('deploying')).toBe(true);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(final).toMatchObject({ status: 'success', progress: 100, progress_percent: 100, build_percent: 100, error_msg: '', is_current: true });
    expect(Number.isNaN(Date.parse(final.completed_at))).toBe(false);
    for (const key of ['id', 'status', 'progress', 'progress_percent', 'build_percent', 'error_msg', 'message', 'created_at', 'completed_at', 'project_id', 'service_id', 'environment']) {
      expect(final).toHaveProperty(key);
    }

    const logs = await call(h.origin, 'GET', `/api/v1/deployments/${created.id}/logs`, { token: pat });
    expect(logs.json.deployment_id).toBe(created.id);
    expect(logs.json.total).toBeGreaterThan(5);
    const sources = new Set((logs.json.logs as Array<{ source: string }>).map((l) => l.source));
    expect(sources).toEqual(new Set(['buildctl', 'runtime']));
    for (const line of logs.json.logs) expect(Object.keys(line).sort()).toEqual(['level', 'message', 'source', 'timestamp']);

    // The auto domain is written shortly after success: clients must poll for it.
    const domains = await waitFor(async () => {
      const reply = await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${s.sid}&environment=production&type=auto`, { token: pat });
      return (reply.json as unknown[]).length > 0 ? reply.json : undefined;
    }, 3000);
    expect(domains).toHaveLength(1);
    expect(domains[0]).toMatchObject({ service_id: s.sid, project_id: s.pid, environment: 'production', type: 'auto', status: 'active', ssl_enabled: true, is_primary: true });
    expect(domains[0].domain).toMatch(/^[a-z0-9]{8}\.opendeploy\.run$/);
  });

  it('the auto domain is written ~200 ms after the success, not with it', async () => {
    const s = await setup();
    const created = await deploy(s);
    const done = await untilTerminal(created.id);
    const rows = await waitFor(async () => {
      const reply = await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${s.sid}`, { token: pat });
      return (reply.json as unknown[]).length > 0 ? reply.json : undefined;
    }, 3000);
    // Timestamps instead of wall-clock polling: deterministic even on a loaded machine.
    const gap = Date.parse(rows[0].created_at) - Date.parse(done.completed_at);
    expect(gap).toBeGreaterThanOrEqual(190);
  });

  it('staging deployments get a *.dev.opendeploy.run domain; one domain per service+environment', async () => {
    const s = await setup({ environment: 'staging' });
    await untilTerminal((await deploy(s, 'staging')).id);
    await untilTerminal((await deploy(s, 'staging')).id);
    await sleep(300);
    const rows = (await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${s.sid}`, { token: pat })).json;
    expect(rows).toHaveLength(1);
    expect(rows[0].domain).toMatch(/^[a-z0-9]{8}\.dev\.opendeploy\.run$/);
    expect(rows[0].environment).toBe('staging');
  });

  it('without update-source the deployment fails at progress 10 within 2 s, with no logs', async () => {
    const s = await setup({ bind: false });
    const started = Date.now();
    const created = await deploy(s);
    const final = await untilTerminal(created.id, 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(final).toMatchObject({ status: 'failed', progress: 10, error_msg: 'Service failed to deploy' });
    const logs = await call(h.origin, 'GET', `/api/v1/deployments/${created.id}/logs?tail=300`, { token: pat });
    expect(logs.json).toEqual({ deployment_id: created.id, logs: null, total: 0 });
    await sleep(300);
    expect((await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${s.sid}`, { token: pat })).json).toEqual([]);
  });

  it('a resources block with Kubernetes strings → 400 with the Go unmarshal message', async () => {
    const s = await setup();
    const reply = await call(h.origin, 'POST', '/api/v1/deployments/', {
      token: pat,
      body: { project_id: s.pid, service_id: s.sid, environment: 'production', source: 'zip', temp_file_path: s.temp, resources: { cpu_limit: '2', memory_limit: '4Gi' } },
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: 'json: cannot unmarshal string into Go struct field ResourceLimits.resources.cpu_limit of type float64' });
    const numeric = await call(h.origin, 'POST', '/api/v1/deployments/', {
      token: pat,
      body: { project_id: s.pid, service_id: s.sid, source: 'zip', temp_file_path: s.temp, resources: { cpu_limit: 2, memory_limit: 4 } },
    });
    expect(numeric.status).toBe(201);
  });

  it('missing temp_file_path → 400; unknown service → 404', async () => {
    const s = await setup();
    const noTemp = await call(h.origin, 'POST', '/api/v1/deployments/', { token: pat, body: { project_id: s.pid, service_id: s.sid, source: 'zip' } });
    expect(noTemp.status).toBe(400);
    expect(noTemp.json).toEqual({ error: 'temp_file_path is required' });
    const noService = await call(h.origin, 'POST', '/api/v1/deployments/', { token: pat, body: { project_id: s.pid, service_id: 'nope', source: 'zip', temp_file_path: s.temp } });
    expect(noService.status).toBe(404);
  });

  it('GET /v1/deployments/?project_id= → {data:[...]} newest first; /status aliases → 404', async () => {
    const s = await setup();
    const a = await deploy(s);
    await untilTerminal(a.id);
    const b = await deploy(s);
    const list = await call(h.origin, 'GET', `/api/v1/deployments/?project_id=${s.pid}`, { token: pat });
    expect(list.status).toBe(200);
    expect((list.json.data as Array<{ id: string }>).map((d) => d.id)).toEqual([b.id, a.id]);
    expect((await call(h.origin, 'GET', `/api/v1/deployments/${a.id}/status`, { token: pat })).text).toBe('404 page not found');
    expect((await call(h.origin, 'GET', `/api/v1/deployments/status/${a.id}`, { token: pat })).status).toBe(404);
    await untilTerminal(b.id);
    const successes = await call(h.origin, 'GET', `/api/v1/projects/${s.pid}/deployments?status=success`, { token: pat });
    expect((successes.json.data as Array<{ id: string; is_current: boolean }>).map((d) => [d.id, d.is_current])).toEqual([[b.id, true], [a.id, false]]);
  });
});

describe('logs', () => {
  it('tail=N returns the last N lines; since filters by timestamp', async () => {
    const s = await setup();
    const d = await deploy(s);
    await untilTerminal(d.id);
    const all = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs`, { token: pat })).json;
    const tail = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs?tail=2`, { token: pat })).json;
    expect(tail.total).toBe(2);
    expect(tail.logs).toEqual(all.logs.slice(-2));
    const lastTs = all.logs.at(-1).timestamp;
    const since = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs?since=${encodeURIComponent(lastTs)}`, { token: pat })).json;
    expect(since.logs.every((l: { timestamp: string }) => l.timestamp >= lastTs)).toBe(true);
    const future = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs?since=2999-01-01T00:00:00Z`, { token: pat })).json;
    expect(future).toEqual({ deployment_id: d.id, logs: null, total: 0 });
    expect((await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs?since=yesterday`, { token: pat })).status).toBe(400);
    expect((await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs?tail=-1`, { token: pat })).status).toBe(400);
  });

  it('SSE stream replays, follows, reports status changes and ends', async () => {
    const s = await setup();
    const d = await deploy(s);
    const res = await fetch(`${h.origin}/api/v1/deployments/${d.id}/logs/stream`, { headers: { authorization: `Bearer ${pat}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text(); // the server closes the stream after `end`
    const events = text
      .split('\n\n')
      .filter((block) => block.includes('event: '))
      .map((block) => {
        const event = /event: (\w+)/.exec(block)?.[1];
        const data = /data: (.*)/.exec(block)?.[1];
        return { event, data: data ? JSON.parse(data) : undefined };
      });
    const logs = events.filter((e) => e.event === 'log');
    const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
    expect(logs.length).toBeGreaterThan(5);
    expect(logs[0]!.data).toHaveProperty('message');
    expect(statuses).toContain('building');
    expect(statuses).toContain('deploying');
    expect(statuses.at(-1)).toBe('success');
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'success' } });
  });

  it('SSE on a finished deployment replays everything then ends at once', async () => {
    const s = await setup();
    const d = await deploy(s);
    await untilTerminal(d.id);
    const total = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs`, { token: pat })).json.total;
    const text = await (await fetch(`${h.origin}/api/v1/deployments/${d.id}/logs/stream`, { headers: { authorization: `Bearer ${pat}` } })).text();
    expect(text.match(/event: log/g)?.length).toBe(total);
    expect(text).toContain('event: end');
    // Resume with Last-Event-ID: only later lines are replayed.
    const resumed = await (await fetch(`${h.origin}/api/v1/deployments/${d.id}/logs/stream`, { headers: { authorization: `Bearer ${pat}`, 'last-event-id': String(total - 3) } })).text();
    expect(resumed.match(/event: log/g)?.length).toBe(2);
  });
});

describe('cancel and rollback', () => {
  it('cancel: a running deployment → cancelled; a terminal one → 409', async () => {
    const s = await setup();
    const d = await deploy(s);
    const cancelled = await call(h.origin, 'POST', `/api/v1/deployments/${d.id}/cancel`, { token: pat });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    await sleep(400);
    expect((await getDeployment(d.id)).status).toBe('cancelled');
    const again = await call(h.origin, 'POST', `/api/v1/deployments/${d.id}/cancel`, { token: pat });
    expect(again.status).toBe(409);
  });

  it('rollback to a previous success: new deployment succeeds, the replaced one becomes rolled_back', async () => {
    const s = await setup();
    const first = await deploy(s);
    await untilTerminal(first.id);
    const second = await deploy(s);
    await untilTerminal(second.id);
    expect((await call(h.origin, 'POST', `/api/v1/deployments/${second.id}/rollback`, { token: pat })).status).toBe(409); // already current

    const rollback = await call(h.origin, 'POST', `/api/v1/deployments/${first.id}/rollback`, { token: pat });
    expect(rollback.status).toBe(201);
    expect(rollback.json).toMatchObject({ status: 'pending', is_rollback: true, rollback_from: first.id, service_id: s.sid });
    expect(rollback.json.deployment_id).toBe(rollback.json.id);
    const done = await untilTerminal(rollback.json.id);
    expect(done.status).toBe('success');
    expect(done.is_current).toBe(true);
    expect((await getDeployment(second.id)).status).toBe('rolled_back');
    expect((await getDeployment(first.id)).status).toBe('success');
  });

  it('rollback target must be a success', async () => {
    const s = await setup({ bind: false });
    const failed = await deploy(s);
    await untilTerminal(failed.id);
    const reply = await call(h.origin, 'POST', `/api/v1/deployments/${failed.id}/rollback`, { token: pat });
    expect(reply.status).toBe(409);
  });
});

describe('scripted outcomes (POST /__local/next-deployment)', () => {
  it('build failure: failed during building with the scripted error and buildctl evidence', async () => {
    const s = await setup();
    const script = await call(h.origin, 'POST', '/__local/next-deployment', { body: { outcome: 'failed', phase: 'build', error_msg: 'build failed', log_lines: ['npm ERR! missing script: build'] } });
    expect(script.status).toBe(200);
    const d = await untilTerminal((await deploy(s)).id);
    expect(d).toMatchObject({ status: 'failed', error_msg: 'build failed' });
    expect(d.progress).toBeGreaterThanOrEqual(20);
    expect(d.progress).toBeLessThanOrEqual(70);
    const logs = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs?tail=1`, { token: pat })).json.logs;
    expect(logs[0]).toMatchObject({ level: 'error', message: 'npm ERR! missing script: build', source: 'buildctl' });
  });

  it('runtime crash: failed after deploying with runtime evidence; no domain', async () => {
    const s = await setup();
    await call(h.origin, 'POST', '/__local/next-deployment', { body: { outcome: 'failed', phase: 'runtime', error_msg: 'container exited', log_lines: ['Error: listen EADDRINUSE :::3000'] } });
    const d = await untilTerminal((await deploy(s)).id);
    expect(d).toMatchObject({ status: 'failed', error_msg: 'container exited' });
    expect(d.progress).toBeGreaterThanOrEqual(80);
    const logs = (await call(h.origin, 'GET', `/api/v1/deployments/${d.id}/logs`, { token: pat })).json.logs;
    expect(logs.at(-1)).toMatchObject({ level: 'error', message: 'Error: listen EADDRINUSE :::3000', source: 'runtime' });
    expect(logs.some((l: { source: string }) => l.source === 'buildctl')).toBe(true);
    await sleep(300);
    expect((await call(h.origin, 'GET', `/api/v1/service-domains?service_id=${s.sid}`, { token: pat })).json).toEqual([]);
  });

  it('count applies to the next N deployments only; defaults are realistic', async () => {
    const s = await setup();
    await call(h.origin, 'POST', '/__local/next-deployment', { body: { outcome: 'failed', phase: 'deploy', count: 2 } });
    const a = await untilTerminal((await deploy(s)).id);
    const b = await untilTerminal((await deploy(s)).id);
    const c = await untilTerminal((await deploy(s)).id);
    expect([a.status, b.status, c.status]).toEqual(['failed', 'failed', 'success']);
    expect(a.error_msg.length).toBeGreaterThan(0);
  });

  it('rejects bad scripts', async () => {
    expect((await call(h.origin, 'POST', '/__local/next-deployment', { body: { outcome: 'maybe' } })).status).toBe(400);
    expect((await call(h.origin, 'POST', '/__local/next-deployment', { body: { outcome: 'failed', phase: 'lunch' } })).status).toBe(400);
  });
});
