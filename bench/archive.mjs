#!/usr/bin/env node
/**
 * Benchmark of the source archive (run after `npm run build`): `node bench/archive.mjs`.
 *
 * Generates a 100,000-file project in the OS temp folder: 10,000 source files of ~1 KiB, plus
 * 90,000 files under node_modules/ and .git/ that the walk must never enter. Runs selectFiles and
 * buildArchive (which walks again and writes the zip) 5 times each and prints the medians and the
 * peak RSS. Timings are for humans comparing runs on one machine; nothing here asserts on them.
 *
 * OPENDEPLOY_DIST=/path/to/dist overrides where the built module is loaded from.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = process.env.OPENDEPLOY_DIST ?? path.join(here, '..', 'dist');
const { selectFiles, buildArchive, removeArchive } = await import(pathToFileURL(path.join(dist, 'archive', 'index.js')).href);

const RUNS = 5;
const SOURCE_DIRS = 100;
const SOURCE_FILES_PER_DIR = 100; // 10,000 source files
const MODULE_PACKAGES = 1_500;
const FILES_PER_PACKAGE = 50; // 75,000 under node_modules
const GIT_OBJECT_DIRS = 150;
const FILES_PER_GIT_DIR = 100; // 15,000 under .git

/** ~1 KiB of text that differs per file, so compression has realistic work to do. */
function sourceText(seed) {
  const lines = [`// module ${seed}`];
  for (let i = 0; lines.join('\n').length < 1000; i += 1) {
    lines.push(`export const value${i} = ${(seed * 7919 + i * 104729) % 1000003}; // ${seed.toString(36)}-${i}`);
  }
  return `${lines.join('\n')}\n`;
}

function generate(root) {
  writeFileSync(path.join(root, 'package.json'), '{"name":"bench","scripts":{"build":"vite build"}}\n');
  writeFileSync(path.join(root, '.gitignore'), '*.log\n/tmp/\n');
  let count = 2;
  for (let d = 0; d < SOURCE_DIRS; d += 1) {
    const dir = path.join(root, 'src', `feature${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < SOURCE_FILES_PER_DIR; f += 1) {
      writeFileSync(path.join(dir, `file${f}.js`), sourceText(d * SOURCE_FILES_PER_DIR + f));
      count += 1;
    }
  }
  for (let p = 0; p < MODULE_PACKAGES; p += 1) {
    const dir = path.join(root, 'node_modules', `pkg${p}`, 'lib');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES_PER_PACKAGE; f += 1) {
      writeFileSync(path.join(dir, `m${f}.js`), 'module.exports = 0;\n');
      count += 1;
    }
  }
  for (let g = 0; g < GIT_OBJECT_DIRS; g += 1) {
    const dir = path.join(root, '.git', 'objects', g.toString(16).padStart(2, '0'));
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES_PER_GIT_DIR; f += 1) {
      writeFileSync(path.join(dir, `${f.toString(16).padStart(38, '0')}`), 'blob');
      count += 1;
    }
  }
  return count;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const root = mkdtempSync(path.join(os.tmpdir(), 'od-archive-bench-'));
try {
  const startGen = performance.now();
  const total = generate(root);
  console.log(`generated ${total} files in ${Math.round(performance.now() - startGen)} ms at ${root}`);

  const selectTimes = [];
  let selection;
  for (let run = 0; run < RUNS; run += 1) {
    const start = performance.now();
    selection = await selectFiles(root);
    selectTimes.push(performance.now() - start);
  }

  const buildTimes = [];
  let last;
  for (let run = 0; run < RUNS; run += 1) {
    const start = performance.now();
    const result = await buildArchive(root);
    buildTimes.push(performance.now() - start);
    if (last !== undefined && last.digest !== result.digest) throw new Error('digest changed between identical runs');
    if (last !== undefined) await removeArchive(last);
    last = result;
  }

  console.log(`selectFiles:  median ${median(selectTimes).toFixed(1)} ms over ${RUNS} runs (${selection.files.length} files, ${selection.ignoredCount} ignored paths)`);
  console.log(`buildArchive: median ${median(buildTimes).toFixed(1)} ms over ${RUNS} runs (${last.files} entries, ${last.sourceBytes} source bytes -> ${last.bytes} zip bytes)`);
  console.log(`peak RSS:     ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
  await removeArchive(last);
} finally {
  rmSync(root, { recursive: true, force: true });
}
