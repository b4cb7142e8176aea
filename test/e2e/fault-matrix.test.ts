/**
 * Fault matrix: every gateway call of a first deploy and of each day-2 mutation, × every kind of
 * fault a network or gateway can produce (connection reset, 5xx, timeout, malformed body, 429, and
 * the two ambiguous commits: applied then dropped, applied then 502), then a re-run with no fault.
 *
 * Every case must end in success or a clean resumable error (one line, a known error code), and
 * afterwards the gateway must hold no duplicate project, service, database or deployment and no
 * lost variable, and no canary value may appear in any output, audit log, archive or .opendeploy
 * file. The calls of each operation are discovered from a clean run's request journal, so a new
 * call is covered without editing this file.
 *
 * Runs in-process through `main(argv, io)` against one simulated local gateway to stay fast.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { readProjectJson } from '../helpers/linked-app.js';

const TOKEN = `od_k${'F'.repeat(20)}${'m'.repeat(23)}`;
/** The client gives up on a request after this long; the timeout fault holds the answer longer. */
const CLIENT_TIMEOUT_MS = 300;
/**
 * Runs that meet no fault (a case's setup deploy, its re-run) get an ordinary timeout, so a call
 * that is merely slow on a loaded machine (the in-process gateway extracting an archive while other
 * cases run) is not taken for a failure.
 */
const UNFAULTED_TIMEOUT_MS = 10_000;
/** Gateways running an unfaulted run now (each gateway runs its cases one after another). */
const unfaulted = new Set<TestGateway>();

/** `run` with the ordinary timeout on `gw`. */
async function withoutFaults<T>(gw: TestGateway, run: () => Promise<T>): Promise<T> {
  unfaulted.add(gw);
  try {
    return await run();
  } finally {
    unfaulted.delete(gw);
  }
}

const KINDS: Record<string, Record<string, unknown>> = {
  reset: { drop: true },
  '5xx': { status: 500 },
  timeout: { delay_ms: CLIENT_TIMEOUT_MS * 3 },
  malformed: { malformed: true },
  '429': { status: 429, headers: { 'retry-after': '1' }, body: { error: 'rate_limited' } },
  'commit-then-drop': { kind: 'commit-then-drop' },
  'commit-then-502': { kind: 'commit-then-502' },
};

let home: string;
let outside: string;
const canaries: string[] = [];
/** Every stdout/stderr of every run, scanned for canaries at the end. */
const outputs: string[] = [];
/** Every app folder the matrix deployed (their .opendeploy files are scanned too). */
const apps: string[] = [];
const gateways: TestGateway[] = [];
/** Wall time of each operation's matrix, printed at the end. */
const timings: Record<string, { cases: number; ms: number }> = {};

function canary(label: string): string {
  const value = `canary-${label}-${randomBytes(8).toString('hex')}`;
  canaries.push(value);
  return value;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  events: Record<string, unknown>[];
}

/** One in-process CLI run (`--json --yes`) in `cwd` against `gw`. */
async function od(gw: TestGateway, cwd: string, args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    OPENDEPLOY_HOME: home,
    OPENDEPLOY_TOKEN: TOKEN,
    OD_GATEWAY: gw.url,
    CI: 'true',
    NO_COLOR: '1',
    // The client's request timeout comes from the run's environment, like every other setting.
    OD_REQUEST_TIMEOUT_MS: String(unfaulted.has(gw) ? UNFAULTED_TIMEOUT_MS : CLIENT_TIMEOUT_MS),
  };
  const code = await main([...args, '--json', '--yes'], {
    env,
    cwd,
    streams: { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) } },
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
  outputs.push(stdout, stderr);
  const events: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    try {
      const value = JSON.parse(line) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value)) events.push(value as Record<string, unknown>);
    } catch {
      // a pretty-printed one-shot document spans lines; parsed below
    }
  }
  if (events.length === 0 && stdout.trim().startsWith('{')) {
    try {
      events.push(JSON.parse(stdout) as Record<string, unknown>);
    } catch {
      // not JSON at all: the clean-failure check reports it
    }
  }
  return { code, stdout, stderr, events };
}

/** `/api/v1/projects/<uuid>/env` → `/api/v1/projects/:id/env` (the fault route syntax). */
function routeOf(r: RecordedRequest): string {
  const segments = r.path.split('/').map((s) => (/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(s) || (/\d/.test(s) && !/^v\d$/.test(s)) ? ':id' : s));
  return `${r.method} ${segments.join('/')}`;
}

/** The distinct calls of one clean run of `run`, in first-seen order. */
async function stagesOf(gw: TestGateway, run: () => Promise<Run>): Promise<string[]> {
  await gw.clearRequests();
  const result = await run();
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const routes: string[] = [];
  for (const r of await gw.requests()) {
    const route = routeOf(r);
    if (!routes.includes(route)) routes.push(route);
  }
  return routes;
}

interface Failure {
  stage: string;
  kind: string;
  problem: string;
}

/** A failed run is clean: one final error event with a known code (never `internal`) and a one-line message. */
function cleanFailure(run: Run): string | null {
  if (run.code === 0) return null;
  const last = run.events.at(-1);
  if (!last || last.type !== 'error') return `exit ${run.code} without a final error event: ${run.stdout.slice(-300)} ${run.stderr.slice(-300)}`;
  const error = last as { error_code?: string; message?: string };
  if (!ERROR_CODES.includes(error.error_code as never)) return `unknown error code ${String(error.error_code)}`;
  if (typeof error.message !== 'string' || error.message.includes('\n') || /\bat .+:\d+:\d+/.test(error.message)) return `message is not one clean line: ${error.message}`;
  if (error.error_code === 'internal') return `internal error: ${error.message}`;
  return null;
}

async function api<T>(gw: TestGateway, route: string): Promise<T> {
  const response = await fetch(`${gw.url}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (response.status !== 200) throw new Error(`GET ${route} → ${response.status}`);
  return (await response.json()) as T;
}

interface DeploymentRow {
  id: string;
  status: string;
  service_id: string;
  is_current?: boolean;
  is_rollback?: boolean;
  rollback_from?: string | null;
  created_at: string;
}

async function deploymentsOf(gw: TestGateway, projectId: string): Promise<DeploymentRow[]> {
  const body = await api<{ data: DeploymentRow[] } | DeploymentRow[]>(gw, `/v1/deployments/?project_id=${projectId}`);
  return Array.isArray(body) ? body : body.data;
}

async function envOf(gw: TestGateway, projectId: string, serviceId: string): Promise<Record<string, string>> {
  const body = await api<{ variables?: Record<string, string> } & Record<string, unknown>>(gw, `/v1/projects/${projectId}/services/${serviceId}/env`);
  return (body.variables ?? body) as Record<string, string>;
}

async function projectJson(app: string): Promise<{ project_id: string; services: { service_id: string }[] }> {
  return JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8'));
}

/**
 * Runs one operation through every stage × kind: `prepare` builds the case's starting point,
 * `act` runs the command, `check` asserts the invariants after the first run and (when it failed)
 * the re-run. Collects every failure instead of stopping at the first one.
 */
async function matrix<S>(
  name: string,
  gw: TestGateway,
  stages: string[],
  prepare: (tag: string, stage: string, kind: string) => Promise<S>,
  act: (state: S) => Promise<Run>,
  check: (state: S, runs: Run[]) => Promise<string | null>,
  acceptOnRerun: (run: Run, state: S) => boolean = () => false,
): Promise<Failure[]> {
  const failures: Failure[] = [];
  const started = Date.now();
  let cases = 0;
  for (const stage of stages) {
    for (const [kind, spec] of Object.entries(KINDS)) {
      cases += 1;
      const state = await prepare(`${cases}`, stage, kind);
      await gw.clearFaults();
      await gw.fault({ route: stage, count: 1, ...spec });
      const first = await act(state);
      await gw.clearFaults();
      const runs = [first];
      const dirty = cleanFailure(first);
      if (dirty) failures.push({ stage, kind, problem: `first run: ${dirty}` });
      if (first.code !== 0) {
        const again = await withoutFaults(gw, () => act(state));
        runs.push(again);
        const dirtyAgain = cleanFailure(again);
        if (dirtyAgain) failures.push({ stage, kind, problem: `re-run: ${dirtyAgain}` });
        if (again.code !== 0 && !acceptOnRerun(again, state)) {
          failures.push({ stage, kind, problem: `re-run failed: ${JSON.stringify(again.events.at(-1))}` });
          continue;
        }
      }
      const problem = await check(state, runs).catch((error: unknown) => `check threw: ${error instanceof Error ? error.message : String(error)}`);
      if (problem) failures.push({ stage, kind, problem });
    }
  }
  timings[name] = { cases, ms: Date.now() - started };
  return failures;
}

/** `items` in `n` interleaved parts (so every part gets early and late stages). */
function split<T>(items: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.filter((_, j) => j % n === i));
}

function report(failures: Failure[]): string {
  return failures.map((f) => `${f.stage} | ${f.kind}: ${f.problem}`).join('\n');
}

/** Files under `dir` (recursively), as latin1 text so any byte sequence can be searched. */
async function filesUnder(dir: string): Promise<Array<{ file: string; text: string }>> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && (await stat(full)).size < 50_000_000) out.push({ file: full, text: (await readFile(full)).toString('latin1') });
    }
  };
  await walk(dir);
  return out;
}

async function gateway(): Promise<TestGateway> {
  const gw = await startTestGateway({ buildDurationMs: 40 });
  gateways.push(gw);
  return gw;
}

/** A freshly deployed copy of node-http with one canary variable from a vars file outside the folder. */
async function deployed(gw: TestGateway, tag: string): Promise<{ app: string; projectId: string; serviceId: string; secret: string; name: string }> {
  const app = await copyFixture('node-http');
  apps.push(app);
  const name = `matrix-${tag}-${randomBytes(3).toString('hex')}`;
  const pkg = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg.name = name;
  await writeFile(path.join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  const secret = canary(`deploy${tag}`);
  const vars = path.join(outside, `${name}.env`);
  await writeFile(vars, `SECRET_TOKEN=${secret}\n`);
  const run = await withoutFaults(gw, () => od(gw, app, ['deploy', '--vars-file', vars]));
  if (run.code !== 0) throw new Error(`setup deploy failed: ${run.stdout.slice(-500)}`);
  const state = await projectJson(app);
  return { app, projectId: state.project_id, serviceId: state.services[0]!.service_id, secret, name };
}

/** A dotenv file outside every project folder holding one canary variable. */
async function varsFile(tag: string): Promise<string> {
  const file = path.join(outside, `${tag}-${randomBytes(3).toString('hex')}.env`);
  await writeFile(file, `SECRET_TOKEN=${canary(tag)}\n`);
  return file;
}

/** Every variable of `before` is still there with the same value, except the ones named. */
function lostVariables(before: Record<string, string>, after: Record<string, string>, except: string[] = []): string | null {
  const lost = Object.keys(before).filter((key) => !except.includes(key) && after[key] !== before[key]);
  return lost.length ? `lost or changed variables: ${lost.join(', ')}` : null;
}

beforeAll(async () => {
  home = await tempDir('od-matrix-home-');
  outside = await tempDir('od-matrix-vars-');
});

afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.close()));
  await cleanupTempDirs();
});

describe.concurrent('fault matrix: every call × every fault, then a re-run', () => {
  it('first deploy: one project, one service, one deployment, the variable kept', async () => {
    const gw = await gateway();
    const probe = await deployed(gw, 'probe');
    const stages = await stagesOf(gw, async () => {
      // The calls of a first deploy: a fresh folder deployed once.
      const app = await copyFixture('node-http');
      apps.push(app);
      return od(gw, app, ['deploy', '--name', `matrix-stages-${randomBytes(3).toString('hex')}`]);
    });
    expect(probe.projectId).toBeTruthy();
    // Three gateways share the stages, so the slowest operation stays well under a minute.
    const failures = (
      await Promise.all(
        split(stages, 3).map(async (part, i) => {
          const lab = i === 0 ? gw : await gateway();
          return matrix(
            `first deploy ${i + 1}`,
            lab,
            part,
            async (tag) => {
              const app = await copyFixture('node-http');
              apps.push(app);
              const name = `matrix-first-${i}-${tag}-${randomBytes(3).toString('hex')}`;
              const secret = canary(`first${tag}`);
              const vars = path.join(outside, `${name}.env`);
              await writeFile(vars, `SECRET_TOKEN=${secret}\n`);
              return { app, name, secret, vars };
            },
            (s) => od(lab, s.app, ['deploy', '--name', s.name, '--vars-file', s.vars]),
            async (s) => {
              const projects = (await api<Array<{ id: string; name: string }>>(lab, '/v1/projects/')).filter((p) => p.name === s.name);
              if (projects.length !== 1) return `${projects.length} projects named ${s.name}`;
              const services = await api<Array<{ id: string }>>(lab, `/v1/projects/${projects[0]!.id}/services`);
              if (services.length !== 1) return `${services.length} services`;
              const deployments = await deploymentsOf(lab, projects[0]!.id);
              if (deployments.length !== 1) return `${deployments.length} deployments (${deployments.map((d) => d.status).join(', ')})`;
              if (deployments[0]!.status !== 'success') return `deployment ${deployments[0]!.status}`;
              const env = await envOf(lab, projects[0]!.id, services[0]!.id);
              if (env.SECRET_TOKEN !== s.secret) return 'SECRET_TOKEN lost';
              return null;
            },
          );
        }),
      )
    ).flat();
    expect(report(failures)).toBe('');
  }, 600_000);

  it('env set: the key arrives, no other key is lost, nothing is deployed', async () => {
    const gw = await gateway();
    const base = await deployed(gw, 'envset');
    const stages = await stagesOf(gw, () => od(gw, base.app, ['env', 'set', `PROBE=${canary('probe')}`]));
    const failures = await matrix(
      'env set',
      gw,
      stages,
      async (tag) => ({ key: `K_${tag}`, value: canary(`set${tag}`), before: await envOf(gw, base.projectId, base.serviceId), deployments: (await deploymentsOf(gw, base.projectId)).length }),
      (s) => od(gw, base.app, ['env', 'set', `${s.key}=${s.value}`]),
      async (s) => {
        const after = await envOf(gw, base.projectId, base.serviceId);
        if (after[s.key] !== s.value) return `${s.key} missing`;
        const deployments = (await deploymentsOf(gw, base.projectId)).length;
        if (deployments !== s.deployments) return `${deployments - s.deployments} deployments started`;
        return lostVariables(s.before, after);
      },
    );
    expect(report(failures)).toBe('');
  }, 600_000);

  it('env unset: the key is gone, no other key is lost', async () => {
    const gw = await gateway();
    const base = await deployed(gw, 'envunset');
    await od(gw, base.app, ['env', 'set', `GONE=${canary('gone')}`]);
    const stages = await stagesOf(gw, () => od(gw, base.app, ['env', 'unset', 'GONE']));
    const failures = await matrix(
      'env unset',
      gw,
      stages,
      async (tag) => {
        const key = `U_${tag}`;
        const set = await od(gw, base.app, ['env', 'set', `${key}=${canary(`unset${tag}`)}`]);
        if (set.code !== 0) throw new Error('setup env set failed');
        return { key, before: await envOf(gw, base.projectId, base.serviceId) };
      },
      (s) => od(gw, base.app, ['env', 'unset', s.key]),
      async (s) => {
        const after = await envOf(gw, base.projectId, base.serviceId);
        if (Object.hasOwn(after, s.key)) return `${s.key} still present`;
        return lostVariables(s.before, after, [s.key]);
      },
      // The re-run after an applied unset finds the key already gone: a clean not_found.
      (run) => (run.events.at(-1) as { error_code?: string } | undefined)?.error_code === 'not_found',
    );
    expect(report(failures)).toBe('');
  }, 600_000);

  it('env rotate --generate: the key changes, no other key is lost, one deployment per run at most', async () => {
    const prepareBase = (lab: TestGateway, i: number): ReturnType<typeof deployed> => deployed(lab, `rotate${i}`);
    const gw0 = await gateway();
    const base0 = await prepareBase(gw0, 0);
    const stages = await stagesOf(gw0, () => od(gw0, base0.app, ['env', 'rotate', 'SESSION_KEY', '--generate']));
    // Split over 3 gateways (each with its own deployed copy) to keep the matrix's wall time short.
    const failures = (
      await Promise.all(
        split(stages, 3).map(async (part, i) => {
          const gw = i === 0 ? gw0 : await gateway();
          const base = i === 0 ? base0 : await prepareBase(gw, i);
          return matrix(
      `env rotate ${i + 1}`,
      gw,
      part,
      async () => ({ before: await envOf(gw, base.projectId, base.serviceId), deployments: (await deploymentsOf(gw, base.projectId)).length }),
      (s) => od(gw, base.app, ['env', 'rotate', 'SESSION_KEY', '--generate']),
      async (s, runs) => {
        const after = await envOf(gw, base.projectId, base.serviceId);
        if (!after.SESSION_KEY || after.SESSION_KEY === s.before.SESSION_KEY) return 'SESSION_KEY not rotated';
        const rows = await deploymentsOf(gw, base.projectId);
        const started = rows.length - s.deployments;
        // Each run that rotated needs its own deployment; an ambiguous create is never repeated.
        if (started < 1 || started > runs.length) return `${started} deployments for ${runs.length} runs`;
        if (rows.some((d) => !['success', 'rolled_back'].includes(d.status) && d.status !== 'cancelled')) return `a deployment is ${rows.map((d) => d.status).join(',')}`;
        return lostVariables(s.before, after, ['SESSION_KEY']);
      },
    );
        }),
      )
    ).flat();
    expect(report(failures)).toBe('');
  }, 600_000);

  it('redeploy: exactly one new deployment', async () => {
    const prepareBase = (lab: TestGateway, i: number): ReturnType<typeof deployed> => deployed(lab, `redeploy${i}`);
    const gw0 = await gateway();
    const base0 = await prepareBase(gw0, 0);
    const stages = await stagesOf(gw0, () => od(gw0, base0.app, ['redeploy']));
    // Split over 2 gateways (each with its own deployed copy) to keep the matrix's wall time short.
    const failures = (
      await Promise.all(
        split(stages, 2).map(async (part, i) => {
          const gw = i === 0 ? gw0 : await gateway();
          const base = i === 0 ? base0 : await prepareBase(gw, i);
          return matrix(
      `redeploy ${i + 1}`,
      gw,
      part,
      async () => ({ deployments: (await deploymentsOf(gw, base.projectId)).length, env: await envOf(gw, base.projectId, base.serviceId) }),
      () => od(gw, base.app, ['redeploy']),
      async (s) => {
        const rows = await deploymentsOf(gw, base.projectId);
        if (rows.length !== s.deployments + 1) return `${rows.length - s.deployments} new deployments`;
        if (rows[0]!.status !== 'success') return `newest deployment ${rows[0]!.status}`;
        return lostVariables(s.env, await envOf(gw, base.projectId, base.serviceId));
      },
    );
        }),
      )
    ).flat();
    expect(report(failures)).toBe('');
  }, 600_000);

  it('rollback: the intended release, one rollback deployment, never one further', async () => {
    const redeployOn = async (lab: TestGateway, app: string): Promise<void> => {
      const run = await od(lab, app, ['redeploy']);
      if (run.code !== 0) throw new Error('setup redeploy failed');
    };
    const prepareBase = async (lab: TestGateway, i: number): ReturnType<typeof deployed> => {
      const made = await deployed(lab, `rollback${i}`);
      await redeployOn(lab, made.app);
      return made;
    };
    const gw0 = await gateway();
    const base0 = await prepareBase(gw0, 0);
    const stages = await stagesOf(gw0, () => od(gw0, base0.app, ['rollback']));
    // Split over 3 gateways (each with its own deployed copy) to keep the matrix's wall time short.
    const failures = (
      await Promise.all(
        split(stages, 3).map(async (part, i) => {
          const gw = i === 0 ? gw0 : await gateway();
          const base = i === 0 ? base0 : await prepareBase(gw, i);
          return matrix(
      `rollback ${i + 1}`,
      gw,
      part,
      async () => {
        // A fresh release on top, so the expected target is the release just before it.
        await redeployOn(gw, base.app);
        const rows = await deploymentsOf(gw, base.projectId);
        // What `rollback` picks: the newest success below the current release.
        const target = rows.slice(1).find((d) => d.status === 'success')!;
        return { target: target.id, count: rows.length };
      },
      () => od(gw, base.app, ['rollback']),
      async (s) => {
        const rows = await deploymentsOf(gw, base.projectId);
        const created = rows.slice(0, rows.length - s.count);
        if (created.length !== 1) return `${created.length} rollback deployments`;
        const current = rows.find((d) => d.is_current);
        if (!current?.is_rollback || current.rollback_from !== s.target) return `current release ${current?.id} rolls back to ${current?.rollback_from}, expected ${s.target}`;
        return null;
      },
    );
        }),
      )
    ).flat();
    expect(report(failures)).toBe('');
  }, 600_000);

  it('resize: the replicas asked for, nothing deployed twice', async () => {
    const gw = await gateway();
    const base = await deployed(gw, 'resize');
    const stages = await stagesOf(gw, () => od(gw, base.app, ['resize', '--replicas', '2']));
    const failures = await matrix(
      'resize',
      gw,
      stages,
      async (tag) => ({ replicas: 1 + (Number(tag) % 5), deployments: (await deploymentsOf(gw, base.projectId)).length }),
      (s) => od(gw, base.app, ['resize', '--replicas', String(s.replicas)]),
      async (s) => {
        const service = await api<Record<string, unknown>>(gw, `/v1/services/${base.serviceId}`);
        const replicas = service.replicas ?? (service.resources as Record<string, unknown> | undefined)?.replicas;
        if (Number(replicas) !== s.replicas) return `replicas ${String(replicas)}, expected ${s.replicas}`;
        const deployments = (await deploymentsOf(gw, base.projectId)).length;
        if (deployments > s.deployments + 1) return `${deployments - s.deployments} deployments started`;
        return null;
      },
    );
    expect(report(failures)).toBe('');
  }, 600_000);

  it('db add: one database per engine, every connection variable wired, one deployment', async () => {
    const gw = await gateway();
    const engines = ['postgres', 'mysql', 'mongodb', 'redis'];
    const probe = await deployed(gw, 'dbprobe');
    const stages = await stagesOf(gw, () => od(gw, probe.app, ['db', 'add', 'redis']));
    const failures = (
      await Promise.all(
        split(stages, 4).map(async (part, i) => {
          const lab = i === 0 ? gw : await gateway();
          let current: Awaited<ReturnType<typeof deployed>> | undefined;
          let used = engines.length;
          return matrix(
            `db add ${i + 1}`,
            lab,
            part,
            async (tag) => {
              // Four engines per project: a fresh project only every fourth case.
              if (used === engines.length) {
                current = await deployed(lab, `db${i}-${tag}`);
                used = 0;
              }
              const engine = engines[used++]!;
              return { base: current!, engine, before: await envOf(lab, current!.projectId, current!.serviceId), deployments: (await deploymentsOf(lab, current!.projectId)).length };
            },
            (s) => od(lab, s.base.app, ['db', 'add', s.engine]),
            async (s) => {
              const deps = (await api<{ dependencies: Array<{ id: string; dependency_id?: string; name?: string; env_vars?: Record<string, string> }> }>(lab, `/v1/dependencies/status/${s.base.projectId}`)).dependencies;
              const mine = deps.filter((d) => d.dependency_id === s.engine || d.name === s.engine);
              if (mine.length !== 1) return `${mine.length} ${s.engine} databases`;
              const env = await envOf(lab, s.base.projectId, s.base.serviceId);
              const missing = Object.keys(mine[0]!.env_vars ?? {}).filter((key) => !Object.hasOwn(env, key));
              if (missing.length) return `not wired: ${missing.join(', ')}`;
              const started = (await deploymentsOf(lab, s.base.projectId)).length - s.deployments;
              if (started !== 1) return `${started} deployments started`;
              return lostVariables(s.before, env);
            },
          );
        }),
      )
    ).flat();
    expect(report(failures)).toBe('');
  }, 600_000);

  it('domain rename: one domain with the new prefix', async () => {
    const gw = await gateway();
    const base = await deployed(gw, 'domain');
    const stages = await stagesOf(gw, () => od(gw, base.app, ['domain', 'rename', `mx${randomBytes(3).toString('hex')}`]));
    const failures = await matrix(
      'domain rename',
      gw,
      stages,
      async (tag) => ({ prefix: `mx${tag}${randomBytes(2).toString('hex')}` }),
      (s) => od(gw, base.app, ['domain', 'rename', s.prefix]),
      async (s) => {
        const body = await api<unknown>(gw, `/v1/service-domains?service_id=${base.serviceId}`);
        const rows = (Array.isArray(body) ? body : ((body as { data?: unknown[] }).data ?? [])) as Array<{ domain?: string; subdomain?: string }>;
        const mine = rows.filter((d) => String(d.domain ?? d.subdomain ?? '').startsWith(`${s.prefix}.`) || d.subdomain === s.prefix);
        if (mine.length !== 1 || rows.length !== 1) return `domains: ${rows.map((d) => d.domain ?? d.subdomain).join(', ')}`;
        return null;
      },
    );
    expect(report(failures)).toBe('');
  }, 600_000);

  it('cancel: the running deployment ends cancelled, nothing else is started', async () => {
    // Builds take long enough here to be cancelled mid-way.
    const gw = await startTestGateway({ buildDurationMs: 8_000 });
    gateways.push(gw);
    const app = await copyFixture('node-http');
    apps.push(app);
    const first = await od(gw, app, ['deploy', '--name', `matrix-cancel-${randomBytes(3).toString('hex')}`, '--vars-file', await varsFile('cancel')]);
    expect(first.code, first.stdout).toBe(0);
    const link = (await readProjectJson(app)) as { project_id: string; services: { service_id: string }[]; last_temp_file_path?: string };
    const start = async (): Promise<string> => {
      const response = await fetch(`${gw.url}/v1/deployments/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ project_id: link.project_id, service_id: link.services[0]!.service_id, environment: 'production', source: 'zip', temp_file_path: link.last_temp_file_path }),
      });
      if (response.status !== 201) throw new Error(`start → ${response.status}`);
      return String(((await response.json()) as { id: string }).id);
    };
    await start();
    const stages = await stagesOf(gw, () => od(gw, app, ['cancel']));
    const failures = await matrix(
      'cancel',
      gw,
      stages,
      async () => {
        const id = await start();
        return { id, count: (await deploymentsOf(gw, link.project_id)).length };
      },
      () => od(gw, app, ['cancel']),
      async (s) => {
        const rows = await deploymentsOf(gw, link.project_id);
        if (rows.length !== s.count) return `${rows.length - s.count} deployments started`;
        const row = rows.find((d) => d.id === s.id);
        return row?.status === 'cancelled' ? null : `deployment ${row?.status}`;
      },
      // A re-run after a cancel that was applied finds nothing running: a clean not_found.
      (run) => (run.events.at(-1) as { error_code?: string } | undefined)?.error_code === 'not_found',
    );
    expect(report(failures)).toBe('');
  }, 600_000);
});

describe('after the matrix', () => {
  it('no canary in any output, audit log, archive or .opendeploy file', async () => {
    expect(canaries.length).toBeGreaterThan(50);
    const leaks: string[] = [];
    for (const [i, text] of outputs.entries()) for (const value of canaries) if (text.includes(value)) leaks.push(`output #${i}`);
    const files = [
      ...(await filesUnder(home)),
      ...(await Promise.all(apps.map((app) => filesUnder(path.join(app, '.opendeploy'))))).flat(),
      // What left the machine: the archives the gateway received, and the sources it extracted
      // from them (the archives are compressed, so the extracted files are where a value would show).
      ...(await Promise.all(gateways.map((gw) => filesUnder(path.join(gw.gateway.dataDir, 'uploads'))))).flat(),
      ...(await Promise.all(gateways.map((gw) => filesUnder(path.join(gw.gateway.dataDir, 'projects'))))).flat(),
    ];
    expect(files.some((f) => f.file.includes(`${path.sep}projects${path.sep}`) && f.file.endsWith('server.js'))).toBe(true);
    for (const { file, text } of files) for (const value of canaries) if (text.includes(value)) leaks.push(file);
    expect(leaks).toEqual([]);
    console.log(`fault matrix timings: ${JSON.stringify(timings)}`);
  });
});
