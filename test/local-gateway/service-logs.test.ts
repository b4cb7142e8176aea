/**
 * A service's runtime logs on the local gateway: `GET /v1/projects/:id/services/:sid/logs`
 * (tail/since, the deployment logs' entry shape with `source: "runtime"`) and `.../logs/stream`
 * (SSE: the tail/since lines first, then live ones, until the client goes away), with the same
 * authentication and ownership answers as every service route. The simulator writes what a started
 * container prints.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { App } from '../../src/local-gateway/app.js';
import { ACTIVE_REGION_ID } from '../../src/local-gateway/index.js';
import { SERVICE_LOG_LIMIT, ServiceLogs, selectEntries } from '../../src/local-gateway/service-logs.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deployLinked, readProjectJson, startDeploymentViaApi } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const token = patToken();
let gw: TestGateway;
let app: string;
let projectId: string;
let serviceId: string;
let service: { start_command: string; port: number };
let first: string;

interface Line {
  timestamp: string;
  level: string;
  message: string;
  source: string;
  deployment_id: string;
}

async function get(path: string, auth = true): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gw.url}${path}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const logsPath = (): string => `/v1/projects/${projectId}/services/${serviceId}/logs`;

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a deployment through the API that succeeds and prints `lines`; waits for its success. */
async function deployPrinting(lines: string[]): Promise<string> {
  await gw.nextDeployment({ outcome: 'success', log_lines: lines });
  const id = await startDeploymentViaApi(gw, app, token);
  await waitFor(async () => ((await get(`/v1/deployments/${id}`)).json.status === 'success' ? true : undefined), `deployment ${id}`);
  return id;
}

/** Opens the SSE stream and collects its frames until `stop()`; resolves `opened` with the status. */
function openStream(path: string, headers: Record<string, string> = {}): { frames: string[]; opened: Promise<number>; stop(): void } {
  const frames: string[] = [];
  let buffer = '';
  let request: http.ClientRequest;
  const opened = new Promise<number>((resolve, reject) => {
    request = http.get(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers }, agent: false }, (res) => {
      resolve(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          frames.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      });
      res.on('error', () => undefined);
    });
    request.on('error', reject);
  });
  return { frames, opened, stop: () => request.destroy() };
}

const logFrames = (frames: string[]): Array<{ id: number; line: Record<string, unknown> }> =>
  frames
    .filter((frame) => frame.includes('event: log'))
    .map((frame) => {
      const id = Number(/^id: (\d+)$/m.exec(frame)![1]);
      const line = JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as Record<string, unknown>;
      return { id, line };
    });

beforeAll(async () => {
  gw = await startTestGateway({ buildDurationMs: 300 });
  app = await copyFixture('node-http');
  await gw.nextDeployment({ outcome: 'success', log_lines: ['GET /a 200', 'GET /b 500'] });
  const result = await deployLinked(app, { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: token });
  first = String(result.deployment_id);
  const link = (await readProjectJson(app)) as { project_id: string; services: { service_id: string }[] };
  projectId = link.project_id;
  serviceId = link.services[0]!.service_id;
  service = (await get(`/v1/services/${serviceId}`)).json;
}, 60_000);

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('simulated runtime lines', () => {
  it('a successful simulated deployment leaves what the container printed in the service log', async () => {
    const reply = await get(logsPath());
    expect(reply.status).toBe(200);
    expect(reply.json.service_id).toBe(serviceId);
    expect(reply.json.total).toBe(4);
    const lines = reply.json.logs as Line[];
    expect(lines.map((l) => l.message)).toEqual([`> ${service.start_command}`, `listening on :${service.port}`, 'GET /a 200', 'GET /b 500']);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['deployment_id', 'level', 'message', 'source', 'timestamp']);
      expect(line).toMatchObject({ level: 'info', source: 'runtime', deployment_id: first });
      expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
    }
  });
});

describe('GET /v1/projects/:id/services/:sid/logs', () => {
  it('tail keeps the last N lines, since the lines from a time on, across releases; bad values are 400', async () => {
    const second = await deployPrinting(['GET /c 200']);
    const all = (await get(logsPath())).json.logs as Line[];
    expect(all.map((l) => [l.deployment_id, l.message])).toEqual([
      [first, `> ${service.start_command}`],
      [first, `listening on :${service.port}`],
      [first, 'GET /a 200'],
      [first, 'GET /b 500'],
      [second, `> ${service.start_command}`],
      [second, `listening on :${service.port}`],
      [second, 'GET /c 200'],
    ]);

    const tail = await get(`${logsPath()}?tail=2`);
    expect(tail.json).toEqual({ service_id: serviceId, logs: all.slice(-2), total: 2 });

    // The second release started at least a simulated build later than the first one's lines.
    const since = await get(`${logsPath()}?since=${encodeURIComponent(all[4]!.timestamp)}`);
    expect(since.json).toEqual({ service_id: serviceId, logs: all.slice(4), total: 3 });
    const both = await get(`${logsPath()}?since=${encodeURIComponent(all[4]!.timestamp)}&tail=1`);
    expect(both.json).toEqual({ service_id: serviceId, logs: all.slice(6), total: 1 });

    expect((await get(`${logsPath()}?since=2999-01-01T00:00:00Z`)).json).toEqual({ service_id: serviceId, logs: null, total: 0 });
    expect((await get(`${logsPath()}?tail=0`)).json).toEqual({ service_id: serviceId, logs: null, total: 0 });

    const badTail = await get(`${logsPath()}?tail=-1`);
    expect(badTail.status).toBe(400);
    expect(badTail.json.error).toBe('invalid tail "-1": expected a non-negative integer');
    const badSince = await get(`${logsPath()}?since=yesterday`);
    expect(badSince.status).toBe(400);
    expect(badSince.json.error).toBe('invalid since "yesterday": expected an RFC3339 timestamp');
  }, 30_000);

  it('401 without a credential; 404 for an unknown service, an unknown project, or a service asked for under another project', async () => {
    expect((await get(logsPath(), false)).status).toBe(401);
    expect((await get(`${logsPath()}/stream`, false)).status).toBe(401);

    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const path of [
      `/v1/projects/${projectId}/services/${unknown}/logs`,
      `/v1/projects/${unknown}/services/${serviceId}/logs`,
      `/v1/projects/${projectId}/services/${unknown}/logs/stream`,
    ]) {
      const reply = await get(path);
      expect(reply.status, path).toBe(404);
    }
    expect((await get(`/v1/projects/${projectId}/services/${unknown}/logs`)).json.error).toBe('service not found');

    const other = await fetch(`${gw.url}/v1/projects/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other-app', repo_url: 'local://other-app', skip_validation: true, region_id: ACTIVE_REGION_ID }),
    });
    expect(other.status).toBe(201);
    const otherBody = (await other.json()) as { id?: string; project_id?: string };
    const crossed = await get(`/v1/projects/${otherBody.id ?? otherBody.project_id}/services/${serviceId}/logs`);
    expect(crossed.status).toBe(404);
    expect(crossed.json.error).toBe('service not found');
  });
});

describe('GET /v1/projects/:id/services/:sid/logs/stream', () => {
  it('sends the tail first, then each new line as it is written, with increasing ids; Last-Event-ID resumes after it', async () => {
    const before = (await get(logsPath())).json.logs as Line[];
    const stream = openStream(`${logsPath()}/stream?tail=1`);
    expect(await stream.opened).toBe(200);
    await waitFor(() => (logFrames(stream.frames).length === 1 ? true : undefined), 'the tail line');
    expect(logFrames(stream.frames)).toEqual([{ id: before.length - 1, line: before.at(-1) }]);

    const third = await deployPrinting(['GET /d 200']);
    await waitFor(() => (logFrames(stream.frames).length === 4 ? true : undefined), 'the live lines');
    expect(logFrames(stream.frames).slice(1).map((f) => [f.id, f.line.deployment_id, f.line.message])).toEqual([
      [before.length, third, `> ${service.start_command}`],
      [before.length + 1, third, `listening on :${service.port}`],
      [before.length + 2, third, 'GET /d 200'],
    ]);
    // The stream has no end of its own: it stays open after the deployment ended.
    expect(stream.frames.some((frame) => frame.includes('event: end'))).toBe(false);
    stream.stop();

    const resumed = openStream(`${logsPath()}/stream?tail=100`, { 'last-event-id': String(before.length + 1) });
    expect(await resumed.opened).toBe(200);
    await waitFor(() => (logFrames(resumed.frames).length === 1 ? true : undefined), 'the line after the last id');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logFrames(resumed.frames).map((f) => [f.id, f.line.message])).toEqual([[before.length + 2, 'GET /d 200']]);
    resumed.stop();
  }, 30_000);
});

describe('the ring of one service', () => {
  it('keeps the last 10,000 lines with their sequence numbers, per service, and announces each one', () => {
    const events = new EventEmitter();
    const logs = new ServiceLogs({ events } as unknown as App);
    const announced: number[] = [];
    events.on('service-log:a', (entry: { seq: number }) => announced.push(entry.seq));
    for (let i = 0; i < SERVICE_LOG_LIMIT * 2 + 5; i++) logs.append('a', 'dep-1', 'info', `line ${i}`, new Date(Date.UTC(2030, 0, 1, 0, 0, 0, i)).toISOString());
    logs.append('b', 'dep-2', 'warn', 'other service');
    const kept = logs.entries('a');
    expect(SERVICE_LOG_LIMIT).toBe(10_000);
    expect(kept).toHaveLength(10_000);
    expect(kept[0]).toEqual({ seq: 10_005, line: { timestamp: '2030-01-01T00:00:10.005Z', level: 'info', message: 'line 10005', source: 'runtime', deployment_id: 'dep-1' } });
    expect(kept.at(-1)!.seq).toBe(20_004);
    expect(announced).toHaveLength(20_005);
    expect(logs.entries('b').map((e) => [e.seq, e.line.message, e.line.level])).toEqual([[0, 'other service', 'warn']]);
    expect(logs.entries('c')).toEqual([]);
    // since, then tail.
    const since = Date.parse('2030-01-01T00:00:20.000Z');
    expect(selectEntries(kept, since, undefined).map((e) => e.seq)).toEqual([20_000, 20_001, 20_002, 20_003, 20_004]);
    expect(selectEntries(kept, since, 2).map((e) => e.seq)).toEqual([20_003, 20_004]);
    expect(selectEntries(kept, undefined, 0)).toEqual([]);
  });
});
