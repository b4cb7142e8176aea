#!/usr/bin/env node
/**
 * Benchmark of a large deploy's chunked (multipart) upload (run after `npm run build`):
 * `node bench/upload.mjs`.
 *
 * The client is the real CLI: `bin/opendeploy.js deploy --json` in a child process, on a folder
 * holding a small Node app and one SIZE MiB file of random bytes named `assets.zip` (stored in the
 * archive as it is, so the archive is ~SIZE MiB; 64 KiB are left off so the archive still fits the
 * local gateway's 1 GiB extraction limit). So the child does everything a user's deploy does —
 * loads the CLI, analyses, resolves the credential, creates the project, builds the archive, hashes
 * it, uploads it in parts, waits for the extraction and creates the deployment — against a local
 * gateway (simulate mode) running in this process, so the gateway's own memory is not counted.
 *
 * Memory is the child's whole-process peak RSS (`process.resourceUsage().maxRSS`), read at its exit
 * by this same file loaded into the child with `--import` (it only watches: it records the peak when
 * the archive stage reports done, the final peak at exit, and whether undici was ever loaded).
 *
 * 1. Full deploy, RUNS times: wall time, client peak RSS (median of the runs), PUTs per part.
 *    Target: peak ≤ 100 MiB for a 1 GiB archive.
 * 2. Resume: the client is SIGKILLed once `.opendeploy/upload.json` confirms half the parts, and
 *    the same deploy is run again. The PUTs of the second run are counted from the gateway's request
 *    journal. Target: no more than the missing parts plus one.
 *
 * Flags: --size MiB (default 1024), --part MiB (default 64), --concurrency N (default 3),
 * --runs N (default 3), --project DIR (deploy that folder instead of the generated one, in place: its
 * `.opendeploy/` is written and removed; `bench/archive.mjs --keep` leaves trees to use).
 * OPENDEPLOY_DIST / OPENDEPLOY_BIN override where the built modules and the CLI entry are loaded from.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (process.env.OD_BENCH_RSS_FILE) {
  // Loaded into the CLI child with --import: watch only (deflate worker threads inherit the flag).
  if (isMainThread) watchChild(process.env.OD_BENCH_RSS_FILE);
} else {
  await bench();
}

function watchChild(file) {
  const peakMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
  let beforeUploadMiB;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    if (beforeUploadMiB === undefined && /"type":"stage","stage":"archive","status":"done"/.test(String(chunk))) beforeUploadMiB = peakMiB();
    return write(chunk, ...rest);
  };
  // CommonJS packages imported from ES modules land in the CommonJS cache too: was undici loaded?
  const loadedUndici = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`${'/node_modules/'}undici/`));
  process.on('exit', () => writeFileSync(file, JSON.stringify({ maxRssMiB: peakMiB(), beforeUploadMiB, undici: loadedUndici() })));
}

async function bench() {
  const { spawn } = await import('node:child_process');
  const { randomBytes } = await import('node:crypto');
  const { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const os = (await import('node:os')).default;
  const path = (await import('node:path')).default;
  const { performance } = await import('node:perf_hooks');
  const { fileURLToPath, pathToFileURL } = await import('node:url');

  const here = path.dirname(fileURLToPath(import.meta.url));
  const dist = process.env.OPENDEPLOY_DIST ?? path.join(here, '..', 'dist');
  const bin = process.env.OPENDEPLOY_BIN ?? path.join(here, '..', 'bin', 'opendeploy.js');
  const MiB = 1024 * 1024;
  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const at = args.indexOf(name);
    return at === -1 ? fallback : Number(args[at + 1]);
  };
  const projectAt = args.indexOf('--project');
  const givenProject = projectAt === -1 ? undefined : path.resolve(args[projectAt + 1]);
  const SIZE = flag('--size', 1024) * MiB;
  const PART = flag('--part', 64) * MiB;
  const CONCURRENCY = flag('--concurrency', 3);
  const RUNS = Math.max(1, flag('--runs', 3));
  const DATA = SIZE - 64 * 1024;

  const work = mkdtempSync(path.join(os.tmpdir(), 'od-bench-upload-'));
  const project = givenProject ?? path.join(work, 'app');
  const stateDir = path.join(project, '.opendeploy');

  async function writeProject() {
    if (givenProject !== undefined) return;
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'bench-upload', version: '1.0.0', scripts: { start: 'node server.js' } }, null, 2)}\n`);
    writeFileSync(path.join(project, 'server.js'), "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);\n");
    const out = createWriteStream(path.join(project, 'assets.zip'), { mode: 0o600 });
    for (let written = 0; written < DATA; ) {
      const slice = randomBytes(Math.min(4 * MiB, DATA - written));
      written += slice.length;
      if (!out.write(slice)) await new Promise((r) => out.once('drain', r));
    }
    await new Promise((r) => out.end(r));
  }

  const { startLocalGateway } = await import(pathToFileURL(path.join(dist, 'local-gateway', 'index.js')).href);
  const gateway = await startLocalGateway({ port: 0, dataDir: path.join(work, 'gateway'), simulate: true });
  const token = `od_k${randomBytes(32).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 43)}`;

  /** One `opendeploy deploy --json` in the project folder; `onTick(child)` is polled every 20 ms. */
  function deploy(name, onTick) {
    const rssFile = path.join(work, `rss-${name}-${Date.now()}.json`);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', import.meta.url, bin, 'deploy', '--json', '--yes', '--name', name], {
        cwd: project,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          CI: 'true',
          NO_COLOR: '1',
          OD_GATEWAY: gateway.url,
          OPENDEPLOY_TOKEN: token,
          OPENDEPLOY_MULTIPART_PART_SIZE: String(PART),
          OPENDEPLOY_MULTIPART_CONCURRENCY: String(CONCURRENCY),
          OD_BENCH_RSS_FILE: rssFile,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      const timer = onTick ? setInterval(() => onTick(child), 20) : undefined;
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (timer) clearInterval(timer);
        const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        const upload = events.find((e) => e.type === 'stage' && e.stage === 'upload' && e.status === 'done');
        let rss;
        try {
          rss = JSON.parse(readFileSync(rssFile, 'utf8'));
        } catch {
          rss = undefined; // killed: no exit hook ran
        }
        resolve({ code, signal, upload, rss, stderr: err, last: events.at(-1) });
      });
    });
  }

  function confirmedParts() {
    try {
      return JSON.parse(readFileSync(path.join(stateDir, 'upload.json'), 'utf8')).confirmed_parts.length;
    } catch {
      return 0;
    }
  }

  const putsFor = (uploadId) =>
    gateway.inspect().requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`/api/v1/upload/multipart/${uploadId}/parts/`)).length;
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

  try {
    await writeProject();
    const totalParts = Math.ceil(SIZE / PART);
    if (givenProject !== undefined) console.log(`deploy of ${givenProject} (parts of ${PART / MiB} MiB, concurrency ${CONCURRENCY}); real CLI; node ${process.versions.node}`);
    else console.log(
      `deploy of a folder with a ${(DATA / MiB).toFixed(2)} MiB random file (archive ~${SIZE / MiB} MiB, ${totalParts} parts of ${PART / MiB} MiB, ` +
        `concurrency ${CONCURRENCY}); real CLI (${path.relative(process.cwd(), bin) || bin}); node ${process.versions.node}, ${os.cpus().length} CPUs`,
    );

    // 1. Full deploys.
    const peaks = [];
    for (let run = 1; run <= RUNS; run++) {
      rmSync(stateDir, { recursive: true, force: true });
      const started = performance.now();
      const full = await deploy(`bench-full-${run}`);
      const seconds = (performance.now() - started) / 1000;
      if (full.code !== 0 || !full.upload) throw new Error(`deploy ${run} failed (exit ${full.code}): ${JSON.stringify(full.last)}\n${full.stderr}`);
      peaks.push(full.rss.maxRssMiB);
      console.log(
        `full deploy ${run}: ${seconds.toFixed(1)} s, client peak RSS ${full.rss.maxRssMiB} MiB (peak before the upload ${full.rss.beforeUploadMiB} MiB), ` +
          `${putsFor(full.upload.upload_id)} PUTs for ${full.upload.parts_sent} parts; undici loaded: ${full.rss.undici ? 'yes' : 'no'}`,
      );
    }
    console.log(`client peak RSS, median of ${RUNS}: ${median(peaks)} MiB (runs: ${peaks.join(', ')}; target ≤ 100)`);

    // 2. Kill at 50 %, then the same deploy again.
    rmSync(stateDir, { recursive: true, force: true });
    const half = givenProject === undefined ? Math.floor(totalParts / 2) : 1;
    let killedAt = 0;
    const killed = await deploy('bench-resume', (child) => {
      const n = confirmedParts();
      if (n >= half && killedAt === 0) {
        killedAt = n;
        child.kill('SIGKILL');
      }
    });
    if (killed.signal !== 'SIGKILL') throw new Error('the deploy finished before it could be killed; use a larger --size');
    const saved = JSON.parse(readFileSync(path.join(stateDir, 'upload.json'), 'utf8'));
    const missing = saved.total_parts - saved.confirmed_parts.length;
    const putsBefore = putsFor(saved.upload_id);
    const second = await deploy('bench-resume');
    if (second.code !== 0 || !second.upload) throw new Error(`resumed deploy failed (exit ${second.code}): ${JSON.stringify(second.last)}\n${second.stderr}`);
    const sentOnResume = putsFor(saved.upload_id) - putsBefore;
    console.log(
      `resume after a kill at ${saved.confirmed_parts.length}/${saved.total_parts} parts confirmed: resumed=${second.upload.resumed}, same upload=${second.upload.upload_id === saved.upload_id}, ` +
        `re-run sent ${sentOnResume} PUTs for ${missing} missing parts (target ≤ ${missing + 1}); client peak RSS ${second.rss.maxRssMiB} MiB`,
    );
  } finally {
    await gateway.close();
    if (givenProject !== undefined) rmSync(stateDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
