#!/usr/bin/env node
/**
 * Benchmark of the chunked (multipart) upload (run after `npm run build`): `node bench/upload.mjs`.
 *
 * The local gateway runs in this process (simulate mode, loopback); the CLIENT runs in a child
 * process so its peak memory is measured alone (`process.resourceUsage().maxRSS` of the child,
 * the whole process). The archive is random bytes (incompressible), SIZE MiB, cut in PART MiB parts.
 *
 * 1. Full upload: wall time, throughput, client peak RSS. Target: peak RSS ≤ 100 MiB for 1 GiB.
 * 2. Resume: a child is SIGKILLed once `.opendeploy/upload.json` confirms half of the parts; a second
 *    child resumes. The PUTs of the second run are counted from the gateway's request journal.
 *    Target: it sends no more than the missing parts plus one.
 *
 * Flags: --size MiB (default 1024), --part MiB (default 64), --concurrency N (default 3).
 * OPENDEPLOY_DIST=/path/to/dist overrides where the built modules are loaded from.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.env.OPENDEPLOY_DIST ?? path.join(here, '..', 'dist');
const MiB = 1024 * 1024;
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);

// Child mode: one client process uploading the archive; prints its result and peak RSS as JSON.
if (process.argv[2] === '--child') {
  const [, , , configJson] = process.argv;
  const config = JSON.parse(configJson);
  const { GatewayClient } = await load('gateway/index.js');
  const { chunkedUpload } = await load('gateway/multipart-upload.js');
  const client = new GatewayClient({ baseUrl: config.url, token: config.token });
  // The modules loaded (undici, zod, the client) before a byte is read: the floor of any client run.
  const baselineRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  const done = await chunkedUpload({
    client,
    archivePath: config.archive,
    projectId: config.projectId,
    projectName: 'bench',
    regionId: config.regionId,
    stateDir: config.stateDir,
    partSize: config.partSize,
    concurrency: config.concurrency,
  });
  await client.close();
  process.stdout.write(
    JSON.stringify({
      uploadId: done.uploadId,
      sent: [...new Set(done.sentParts)].length,
      reused: done.reusedParts.length,
      resumed: done.resumed,
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      baselineRssMiB,
    }),
  );
  process.exit(0);
}

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const SIZE = flag('--size', 1024) * MiB;
const PART = flag('--part', 64) * MiB;
const CONCURRENCY = flag('--concurrency', 3);
const TOTAL_PARTS = Math.ceil(SIZE / PART);

const work = mkdtempSync(path.join(os.tmpdir(), 'od-bench-upload-'));
const archive = path.join(work, 'archive.zip');

async function writeArchive() {
  const out = createWriteStream(archive, { mode: 0o600 });
  for (let written = 0; written < SIZE; ) {
    const slice = randomBytes(Math.min(4 * MiB, SIZE - written));
    written += slice.length;
    if (!out.write(slice)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
}

/** Runs a client child; `onTick(child)` is polled every 20 ms while it runs. */
function runChild(config, onTick) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const timer = onTick ? setInterval(() => onTick(child), 20) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, result: out ? JSON.parse(out) : undefined });
    });
  });
}

function confirmedParts(stateDir) {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, 'upload.json'), 'utf8')).confirmed_parts.length;
  } catch {
    return 0;
  }
}

const { startLocalGateway, ACTIVE_REGION_ID } = await load('local-gateway/index.js');
const { GatewayClient } = await load('gateway/index.js');
const gateway = await startLocalGateway({ port: 0, dataDir: path.join(work, 'gateway'), simulate: true });
const token = `od_k${randomBytes(32).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 43)}`;
const admin = new GatewayClient({ baseUrl: gateway.url, token });

async function newProject(name) {
  const project = await admin.createProject({ name, repo_url: 'file://upload', region_id: ACTIVE_REGION_ID, skip_validation: true });
  return project.id;
}

function putsFor(uploadId) {
  return gateway.inspect().requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`/api/v1/upload/multipart/${uploadId}/parts/`)).length;
}

try {
  console.log(`archive: ${SIZE / MiB} MiB random bytes, ${TOTAL_PARTS} parts of ${PART / MiB} MiB, concurrency ${CONCURRENCY}; node ${process.versions.node}, ${os.cpus().length} CPUs`);
  await writeArchive();
  const base = { url: gateway.url, token, regionId: ACTIVE_REGION_ID, archive, partSize: PART, concurrency: CONCURRENCY };

  // 1. Full upload.
  const full = { ...base, projectId: await newProject('bench-full'), stateDir: path.join(work, 'full', '.opendeploy') };
  const started = performance.now();
  const first = await runChild(full);
  const seconds = (performance.now() - started) / 1000;
  if (first.code !== 0) throw new Error(`full upload failed (exit ${first.code})`);
  console.log(
    `full upload: ${seconds.toFixed(1)} s (${(SIZE / MiB / seconds).toFixed(0)} MiB/s incl. hashing), client peak RSS ${first.result.maxRssMiB} MiB (${first.result.baselineRssMiB} MiB before the upload), ` +
      `${putsFor(first.result.uploadId)} PUTs for ${TOTAL_PARTS} parts`,
  );

  // 2. Kill at 50 %, then resume.
  const resume = { ...base, projectId: await newProject('bench-resume'), stateDir: path.join(work, 'resume', '.opendeploy') };
  const half = Math.floor(TOTAL_PARTS / 2);
  let confirmedAtKill = 0;
  const killed = await runChild(resume, (child) => {
    const n = confirmedParts(resume.stateDir);
    if (n >= half && confirmedAtKill === 0) {
      confirmedAtKill = n;
      child.kill('SIGKILL');
    }
  });
  if (killed.signal !== 'SIGKILL') throw new Error('the client finished before it could be killed; use a larger --size');
  const saved = JSON.parse(readFileSync(path.join(resume.stateDir, 'upload.json'), 'utf8'));
  const missing = TOTAL_PARTS - saved.confirmed_parts.length;
  const putsBefore = putsFor(saved.upload_id);
  const second = await runChild(resume);
  if (second.code !== 0) throw new Error(`resumed upload failed (exit ${second.code})`);
  const sentOnResume = putsFor(saved.upload_id) - putsBefore;
  console.log(
    `resume after kill at ${saved.confirmed_parts.length}/${TOTAL_PARTS} parts confirmed: resumed=${second.result.resumed}, ` +
      `re-run sent ${sentOnResume} PUTs for ${missing} missing parts (target ≤ ${missing + 1}); client peak RSS ${second.result.maxRssMiB} MiB`,
  );
} finally {
  await admin.close();
  await gateway.close();
  rmSync(work, { recursive: true, force: true });
}
