#!/usr/bin/env node
/**
 * Benchmark of the source archive against `zip -qr` (run after `npm run build`): `node bench/archive.mjs`.
 *
 * Two generated trees in the OS temp folder, each archived RUNS times, whole process, paired in the
 * same run: a fresh `node` child calling buildArchive (walk + zip + digest), then `zip -qr` on the
 * same tree leaving out the same heavy folders. Wall time is measured around each process, peak
 * memory with `/usr/bin/time -f %M` (max RSS of the process). Medians are printed with ratios.
 *
 * - `media`: 20,000 files, ~301 MiB: 19,992 text sources (~4 KiB each, ~82 MiB) and 8 binaries of
 *   25-30 MiB (four random .bin, a random .mp4 and a random .png, two compressible .dat), plus a
 *   node_modules/ of 30,000 files that both leave out.
 * - `many`: ~100,000 files: 10,000 source files of ~1 KiB, 75,000 under node_modules/ and 15,000
 *   under .git/ that both leave out.
 *
 * Before the trees, the memory floor is measured the same way (median of 3): `node -e 0`, and a
 * `node` that only imports the archive module.
 *
 * Flags: --runs N (default 5), --tree media|many (default both), --keep (leave the trees),
 * --workers N (worker threads for buildArchive; default: its own default, none).
 * OPENDEPLOY_DIST=/path/to/dist overrides where the built module is loaded from.
 * Needs `zip` (Info-ZIP) and GNU time at /usr/bin/time: `apt-get install zip time`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.env.OPENDEPLOY_DIST ?? path.join(here, '..', 'dist');
const MiB = 1024 * 1024;

// Floor mode: the archive module imported, nothing done.
if (process.argv[2] === '--import-only') {
  await import(pathToFileURL(path.join(dist, 'archive', 'index.js')).href);
  process.exit(0);
}

// Child mode: one whole-process archive build, result as JSON on stdout.
if (process.argv[2] === '--child') {
  const { selectFiles, buildArchive, removeArchive } = await import(pathToFileURL(path.join(dist, 'archive', 'index.js')).href);
  // What the CLI's deploy, redeploy, plan and analyze do as they start (dist/cli/heap.js; builds
  // before 2026-12-07 11:30 UTC named it keepYoungGenerationSmall and set the young generation only).
  const heap = await import(pathToFileURL(path.join(dist, 'cli', 'heap.js')).href);
  (heap.useLeanV8 ?? heap.keepYoungGenerationSmall)();
  const workers = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
  // The walk and the zip writing are timed apart (buildArchive would walk itself when not given
  // a selection; the total is the same).
  const start = performance.now();
  const selection = await selectFiles(process.argv[3]);
  const walked = performance.now();
  const result = await buildArchive(process.argv[3], workers === undefined ? { selection } : { selection, workers });
  const written = performance.now();
  await removeArchive(result);
  process.stdout.write(
    JSON.stringify({ files: result.files, sourceBytes: result.sourceBytes, bytes: result.bytes, digest: result.digest, selectMs: walked - start, writeMs: written - walked }),
  );
  process.exit(0);
}

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const RUNS = Number(flag('--runs') ?? 5);
const TREES = flag('--tree') ? [flag('--tree')] : ['media', 'many'];
const KEEP = args.includes('--keep');
const WORKERS = flag('--workers');

/** Text that differs per file, so compression has realistic work to do. */
function sourceText(seed, bytes) {
  const lines = [`// module ${seed}`];
  let length = lines[0].length;
  for (let i = 0; length < bytes; i += 1) {
    const line = `export const value${i} = ${(seed * 7919 + i * 104729) % 1000003}; // ${seed.toString(36)}-${i} ${i % 7 === 0 ? 'TODO: handle the edge case' : ''}`;
    lines.push(line);
    length += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

function nodeModules(root, packages, perPackage) {
  for (let p = 0; p < packages; p += 1) {
    const dir = path.join(root, 'node_modules', `pkg${p}`, 'lib');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perPackage; f += 1) writeFileSync(path.join(dir, `m${f}.js`), 'module.exports = 0;\n');
  }
}

/** A compressible binary: fixed-width records with repeating structure, like a database page dump. */
function recordsBinary(bytes, seed) {
  const out = Buffer.alloc(bytes);
  for (let at = 0, n = 0; at + 64 <= bytes; at += 64, n += 1) {
    out.writeUInt32LE(n, at);
    out.writeUInt32LE((n * 2654435761 + seed) >>> 0, at + 4);
    out.write(`user-${n % 5000}@example.com`, at + 8, 'latin1');
    out.writeDoubleLE((n % 1000) / 7, at + 48);
  }
  return out;
}

function generateMedia(root) {
  writeFileSync(path.join(root, 'package.json'), '{"name":"bench-media","scripts":{"start":"node src/index.js"}}\n');
  const binaries = [
    ['assets/blob-a.bin', 25, 'random'],
    ['assets/blob-b.bin', 26, 'random'],
    ['assets/blob-c.bin', 27, 'random'],
    ['assets/blob-d.bin', 28, 'random'],
    ['public/intro.mp4', 30, 'random'],
    ['public/hero.png', 25, 'random'],
    ['data/records-a.dat', 28, 'records'],
    ['data/records-b.dat', 30, 'records'],
  ];
  for (const [rel, mib, kind] of binaries) {
    mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
    writeFileSync(path.join(root, rel), kind === 'random' ? randomBytes(mib * MiB) : recordsBinary(mib * MiB, mib));
  }
  const sources = 20_000 - binaries.length - 1;
  const perDir = 100;
  for (let i = 0; i < sources; i += 1) {
    const dir = path.join(root, 'src', `feature${Math.floor(i / perDir)}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `file${i % perDir}.js`), sourceText(i, 2048 + ((i * 7919) % 4300)));
  }
  nodeModules(root, 600, 50); // 30,000 files to leave out
  return ['node_modules/*'];
}

function generateMany(root) {
  writeFileSync(path.join(root, 'package.json'), '{"name":"bench","scripts":{"build":"vite build"}}\n');
  writeFileSync(path.join(root, '.gitignore'), '*.log\n/tmp/\n');
  for (let d = 0; d < 100; d += 1) {
    const dir = path.join(root, 'src', `feature${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f += 1) writeFileSync(path.join(dir, `file${f}.js`), sourceText(d * 100 + f, 1000));
  }
  nodeModules(root, 1_500, 50);
  for (let g = 0; g < 150; g += 1) {
    const dir = path.join(root, '.git', 'objects', g.toString(16).padStart(2, '0'));
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f += 1) writeFileSync(path.join(dir, `${f.toString(16).padStart(38, '0')}`), 'blob');
  }
  return ['node_modules/*', '.git/*'];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs a command under GNU time; returns wall ms (measured here) and max RSS in MiB. */
function timed(command, commandArgs, cwd) {
  const rssFile = path.join(os.tmpdir(), `od-bench-rss-${process.pid}`);
  const start = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...commandArgs], { cwd, encoding: 'utf8', maxBuffer: 16 * MiB });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const rss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024;
  rmSync(rssFile, { force: true });
  return { ms, rss, stdout: result.stdout };
}

for (const tool of ['zip', '/usr/bin/time']) {
  if (spawnSync(tool, ['-h'], { stdio: 'ignore' }).error) {
    console.error(`${tool} is missing: apt-get install zip time`);
    process.exit(2);
  }
}

{
  const floor = (commandArgs) => median([0, 1, 2].map(() => timed(process.execPath, commandArgs, os.tmpdir()).rss));
  const bare = floor(['-e', '0']);
  const imported = floor([fileURLToPath(import.meta.url), '--import-only']);
  console.log(`node ${process.version}, load average ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  console.log(`memory floor: node -e 0 ${bare.toFixed(1)} MiB, archive module imported ${imported.toFixed(1)} MiB`);
}

for (const tree of TREES) {
  const root = mkdtempSync(path.join(os.tmpdir(), `od-archive-bench-${tree}-`));
  const zipOut = path.join(mkdtempSync(path.join(os.tmpdir(), 'od-archive-bench-zip-')), 'out.zip');
  try {
    const startGen = performance.now();
    const exclude = tree === 'media' ? generateMedia(root) : generateMany(root);
    console.log(`\n[${tree}] generated in ${Math.round(performance.now() - startGen)} ms at ${root}`);
    const ours = [];
    const theirs = [];
    let info;
    let zipBytes = 0;
    let lastDigest;
    for (let run = 0; run < RUNS; run += 1) {
      const a = timed(process.execPath, [fileURLToPath(import.meta.url), '--child', root, ...(WORKERS === undefined ? [] : [WORKERS])], root);
      info = JSON.parse(a.stdout);
      if (lastDigest !== undefined && lastDigest !== info.digest) throw new Error('digest changed between identical runs');
      lastDigest = info.digest;
      ours.push({ ...a, selectMs: info.selectMs, writeMs: info.writeMs });
      rmSync(zipOut, { force: true });
      const b = timed('zip', ['-qr', zipOut, '.', '-x', ...exclude], root);
      zipBytes = statSync(zipOut).size;
      theirs.push(b);
      console.log(
        `  run ${run + 1}: opendeploy ${a.ms.toFixed(0)} ms (walk ${info.selectMs.toFixed(0)}, zip ${info.writeMs.toFixed(0)}) ${a.rss.toFixed(1)} MiB | zip -qr ${b.ms.toFixed(0)} ms ${b.rss.toFixed(1)} MiB`,
      );
    }
    const oursMs = median(ours.map((r) => r.ms));
    const theirsMs = median(theirs.map((r) => r.ms));
    const oursRss = median(ours.map((r) => r.rss));
    const theirsRss = median(theirs.map((r) => r.rss));
    console.log(`[${tree}] ${info.files} entries, ${(info.sourceBytes / MiB).toFixed(1)} MiB source`);
    console.log(`  opendeploy:   median ${oursMs.toFixed(0)} ms (walk ${median(ours.map((r) => r.selectMs)).toFixed(0)}, zip ${median(ours.map((r) => r.writeMs)).toFixed(0)}), peak RSS median ${oursRss.toFixed(1)} MiB (max ${Math.max(...ours.map((r) => r.rss)).toFixed(1)}), zip ${(info.bytes / MiB).toFixed(1)} MiB`);
    console.log(`  zip -qr:      median ${theirsMs.toFixed(0)} ms, peak RSS median ${theirsRss.toFixed(1)} MiB, zip ${(zipBytes / MiB).toFixed(1)} MiB`);
    const ratios = ours.map((run, index) => run.ms / theirs[index].ms);
    console.log(`  time ratio opendeploy / zip -qr: ${(oursMs / theirsMs).toFixed(2)} (medians); per paired run ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}, median ${median(ratios).toFixed(2)}`);
    console.log(`  load average at the end: ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  } finally {
    if (!KEEP) rmSync(root, { recursive: true, force: true });
    else if (existsSync(root)) console.log(`  kept ${root}`);
    rmSync(path.dirname(zipOut), { recursive: true, force: true });
  }
}
