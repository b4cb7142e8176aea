#!/usr/bin/env node
/**
 * Conformance run: deploys every fixture that has a marker in fixtures/conformance/<name>.json
 * through the REAL local gateway (apps really built and run on this machine, nothing simulated),
 * then checks the app's own marker: the page at a path (status + a text the body contains), or for
 * a worker / one-shot program the exact line it prints in the deployment's logs.
 *
 *   npm run conformance                  every marker whose `needs` are installed here
 *   npm run conformance -- --ci          only markers with "ci": true (Node + Python stdlib)
 *   npm run conformance -- --only a,b    only these fixtures
 *   npm run conformance -- --jobs N      deploy N fixtures at a time (default 3: installs mostly
 *                                        wait on the network, so two cores keep up)
 *
 * Fixtures are copied to a temp folder first; one `opendeploy local-gateway` (background, its own
 * temp data folder) serves them all and is stopped at the end, which stops every app it ran; the
 * temp folders are removed. Each fixture is bounded by its marker's timeout_s (default 180 s).
 * Prints a table (fixture, outcome, seconds) and `N passed, N failed[, N skipped]`; exits 1 when
 * any failed. Uses dist/ (run `npm run build` first).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI run: a snapshot of bin/ and dist/ taken at start (a rebuild meanwhile cannot break a run). */
let BIN = path.join(ROOT, 'bin', 'opendeploy.js');
const MARKERS = path.join(ROOT, 'fixtures', 'conformance');
const APPS = path.join(ROOT, 'fixtures', 'apps');
const DEFAULT_TIMEOUT_S = 180;

function parseArgs(argv) {
  const options = { ci: false, only: null, jobs: 3 };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--ci') options.ci = true;
    else if (arg === '--only') options.only = (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    else if (arg.startsWith('--only=')) options.only = arg.slice(7).split(',').map((s) => s.trim()).filter(Boolean);
    else if (arg === '--jobs') options.jobs = Math.max(1, Number(argv[++i]) || 1);
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node bench/conformance.mjs [--ci] [--only fixture,fixture] [--jobs N]');
      process.exit(0);
    } else {
      console.error(`unknown argument: ${arg}`);
      process.exit(2);
    }
  }
  return options;
}

/** A binary on PATH (PostgreSQL also where Debian keeps it, as the gateway itself looks). */
function installed(binary) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      if (statSync(path.join(dir, binary)).isFile()) return true;
    } catch {
      // not here
    }
  }
  if (binary === 'postgres' && existsSync('/usr/lib/postgresql')) {
    return readdirSync('/usr/lib/postgresql').some((version) => existsSync(path.join('/usr/lib/postgresql', version, 'bin', 'postgres')));
  }
  return false;
}

function readMarkers() {
  const markers = [];
  for (const file of readdirSync(MARKERS).filter((f) => f.endsWith('.json')).sort()) {
    const name = file.slice(0, -'.json'.length);
    const marker = JSON.parse(readFileSync(path.join(MARKERS, file), 'utf8'));
    if (!existsSync(path.join(APPS, name))) throw new Error(`fixtures/conformance/${file}: no fixtures/apps/${name}`);
    const expect = marker.expect ?? {};
    if (typeof expect.log !== 'string' && typeof expect.text !== 'string') throw new Error(`fixtures/conformance/${file}: expect needs "text" (web) or "log" (worker)`);
    markers.push({ name, needs: marker.needs ?? [], ci: marker.ci === true, expect, env: marker.env ?? {}, timeoutS: marker.timeout_s ?? DEFAULT_TIMEOUT_S });
  }
  return markers;
}

/** Runs the CLI; resolves with its exit code, stdout, stderr and NDJSON events (killed at timeoutMs). */
function cli(args, env, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      clearTimeout(timer);
      const events = [];
      for (const line of stdout.split('\n')) {
        try {
          const event = JSON.parse(line);
          if (event && typeof event === 'object') events.push(event);
        } catch {
          // not an event
        }
      }
      resolve({ code, stdout, stderr, events, timedOut });
    });
  });
}

/** GET through the gateway's proxy: 127.0.0.1:<port> with `Host: <label>.localhost:<port>`. */
function get(url, pathname) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(target.port), path: pathname, headers: { host: target.host }, agent: false, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** Starts `opendeploy local-gateway` on a free port for `dataDir`; resolves once it listens. */
function startGateway(dataDir, env) {
  const child = spawn(process.execPath, [BIN, 'local-gateway', '--port', '0', '--data-dir', dataDir, '--ready-timeout', '120', '--json'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    void exited.then(() => reject(new Error(`the local gateway exited early:\n${stdout}${stderr}`)));
  });
  return {
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function shortReason(text) {
  const line = String(text).replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

const logLinesOf = (run) => run.events.filter((e) => e.type === 'log').map((e) => String(e.message ?? ''));

/** The deployment's log lines: the ones the deploy streamed, else the gateway's saved state. */
async function logLines(run, dataDir) {
  const lines = logLinesOf(run);
  const result = run.events.find((e) => e.type === 'result');
  const deploymentId = result?.deployment_id;
  if (deploymentId) {
    try {
      const state = JSON.parse(await readFile(path.join(dataDir, 'state.json'), 'utf8'));
      for (const line of state.logs?.[deploymentId] ?? []) lines.push(String(line.message ?? ''));
    } catch {
      // no saved state yet
    }
  }
  return lines;
}

async function checkFixture(marker, ctx) {
  const app = path.join(ctx.appsDir, marker.name);
  await cp(path.join(APPS, marker.name), app, { recursive: true });
  const args = ['deploy', app, '--local', '--data-dir', ctx.dataDir, '--json'];
  if (Object.keys(marker.env).length > 0) {
    const envFile = path.join(ctx.tmp, `${marker.name}.env`);
    await writeFile(envFile, Object.entries(marker.env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    args.push('--env-file', envFile);
  }
  const run = await cli(args, ctx.env, marker.timeoutS * 1000);
  if (run.timedOut) return { ok: false, reason: `timed out after ${marker.timeoutS} s` };
  const result = run.events.find((e) => e.type === 'result');
  if (run.code !== 0 || !result) {
    const error = [...run.events].reverse().find((e) => e.type === 'error');
    const summary = String(error?.message ?? run.stderr.split('\n').filter(Boolean).at(-1) ?? '').replace(/^Deployment [0-9a-f-]+ failed: /, '');
    // The build's or app's own last error line says more than the summary ("the build command failed").
    const noise = /^Build failed: `|A complete log of this run|^npm error (?:code|errno|path|syscall|command|signal|workspace|location)\b|^npm error\s*$|Run "npm help/;
    const cause = [...logLinesOf(run)].reverse().find((line) => /error|not found|cannot|could not|no matching|missing|unable|denied/i.test(line) && !noise.test(line));
    return { ok: false, reason: `deploy exited ${run.code}: ${shortReason(cause && !summary.includes(cause) ? `${summary} (${cause})` : summary)}` };
  }
  const expect = marker.expect;
  if (typeof expect.log === 'string') {
    // A worker prints as it runs: give a long-running one a few seconds to reach its line.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const lines = await logLines(run, ctx.dataDir);
      if (lines.some((line) => line.trim() === expect.log)) return { ok: true };
      if (Date.now() > deadline) return { ok: false, reason: `the logs have no line "${expect.log}"` };
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  if (!result.url) return { ok: false, reason: 'the deploy reported no URL' };
  const want = { path: expect.path ?? '/', status: expect.status ?? 200 };
  let page;
  let lastError = '';
  // The deploy returns once the app answered; a few retries absorb a slow first response.
  for (let attempt = 0; attempt < 5 && !page; attempt += 1) {
    page = await get(result.url, want.path).catch((error) => {
      lastError = error.message;
      return undefined;
    });
    if (!page) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (!page) return { ok: false, reason: `GET ${want.path}: ${lastError}` };
  if (page.status !== want.status) return { ok: false, reason: `GET ${want.path}: status ${page.status}, expected ${want.status} (${shortReason(page.body)})` };
  if (!page.body.includes(expect.text)) return { ok: false, reason: `GET ${want.path}: the body does not contain "${expect.text}" (${shortReason(page.body)})` };
  return { ok: true };
}

function printTable(rows) {
  const header = ['fixture', 'outcome', 'seconds'];
  const body = rows.map((r) => [r.name, r.outcome, r.seconds === null ? '' : r.seconds.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of body) console.log(line(row));
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first.');
    process.exit(2);
  }
  let markers = readMarkers();
  if (options.ci) markers = markers.filter((m) => m.ci);
  if (options.only) {
    const unknown = options.only.filter((name) => !markers.some((m) => m.name === name));
    if (unknown.length > 0) {
      console.error(`no conformance marker for: ${unknown.join(', ')}`);
      process.exit(2);
    }
    markers = markers.filter((m) => options.only.includes(m.name));
  }

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'od-conformance-'));
  const dataDir = path.join(tmp, 'gateway');
  const appsDir = path.join(tmp, 'apps');
  const home = path.join(tmp, 'home');
  await Promise.all([mkdir(dataDir, { recursive: true }), mkdir(appsDir, { recursive: true }), mkdir(home, { recursive: true })]);
  const cliDir = path.join(tmp, 'cli');
  for (const part of ['bin', 'dist', 'package.json']) await cp(path.join(ROOT, part), path.join(cliDir, part), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules'), path.join(cliDir, 'node_modules'), 'dir');
  BIN = path.join(cliDir, 'bin', 'opendeploy.js');
  // The machine's own environment (registry, proxy and CA settings: without them every package
  // install crawls or fails), minus anything that would point the CLI at another gateway or credential.
  const env = { ...process.env, CI: 'true', NO_COLOR: '1', OPENDEPLOY_HOME: home };
  for (const key of Object.keys(env)) {
    if ((key.startsWith('OPENDEPLOY_') && key !== 'OPENDEPLOY_HOME' && key !== 'OPENDEPLOY_TOOL_CACHE') || key.startsWith('OD_') || key === 'OPDEPLOY_AUTH_FILE') delete env[key];
  }
  const ctx = { tmp, dataDir, appsDir, env };

  let gateway;
  const cleanup = async () => {
    await gateway?.stop().catch(() => undefined);
    // As root, PostgreSQL keeps its data in the system temp folder (it refuses to run as root).
    try {
      const state = JSON.parse(await readFile(path.join(dataDir, 'state.json'), 'utf8'));
      for (const dep of state.dependencies ?? []) await rm(path.join(os.tmpdir(), `opendeploy-pg-${dep.id}`), { recursive: true, force: true });
    } catch {
      // nothing saved
    }
    await rm(tmp, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    console.error('\ninterrupted: stopping the local gateway and removing the temp folder');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const rows = [];
  const started = Date.now();
  try {
    const runnable = markers.filter((m) => m.needs.every(installed));
    if (runnable.length > 0) {
      gateway = startGateway(dataDir, env);
      const ready = await gateway.ready;
      console.error(`local gateway on ${ready.url} (data ${dataDir})`);
    }
    // A pool of `jobs` deployments at a time; rows keep the markers' order.
    const byName = new Map();
    const queue = [...markers];
    const worker = async () => {
      for (let marker = queue.shift(); marker && !interrupted; marker = queue.shift()) {
        const missing = marker.needs.filter((binary) => !installed(binary));
        if (missing.length > 0) {
          byName.set(marker.name, { name: marker.name, outcome: `skipped (missing ${missing.join(', ')})`, seconds: null, status: 'skipped' });
          continue;
        }
        const t0 = Date.now();
        const outcome = await checkFixture(marker, ctx).catch((error) => ({ ok: false, reason: error.message }));
        const seconds = (Date.now() - t0) / 1000;
        process.stderr.write(`${marker.name} ${outcome.ok ? 'passed' : `failed: ${outcome.reason}`} (${seconds.toFixed(1)} s)\n`);
        byName.set(marker.name, { name: marker.name, outcome: outcome.ok ? 'passed' : `failed: ${outcome.reason}`, seconds, status: outcome.ok ? 'passed' : 'failed' });
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.jobs, markers.length) }, worker));
    for (const marker of markers) if (byName.has(marker.name)) rows.push(byName.get(marker.name));
  } finally {
    if (!interrupted) await cleanup();
  }
  if (interrupted) return;
  printTable(rows);
  const count = (status) => rows.filter((r) => r.status === status).length;
  const skipped = count('skipped');
  console.log(`${count('passed')} passed, ${count('failed')} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  console.error(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = count('failed') > 0 ? 1 : 0;
}

await main();
