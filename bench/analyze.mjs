#!/usr/bin/env node
/**
 * Analysis benchmark (run after `npm run build`; never part of the test suite):
 *
 *   node bench/analyze.mjs
 *
 * 1. Generates a repository of 100,000 files in a temp folder: 90,000 under node_modules/, .git/
 *    and dist/ (which analysis must never enter) and 10,000 source files under src/.
 * 2. Runs analyzeProject from dist/analyze/index.js on it 5 times: median and each run in ms.
 * 3. Runs it 50 times on the express-app fixture (a typical app): median ms.
 * Prints peak RSS of the process. The spec target is about a second for the large repository.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const { analyzeProject } = await import(pathToFileURL(path.join(repo, 'dist/analyze/index.js')).href);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function generate(root) {
  writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: 'bench-app', scripts: { start: 'node src/index.js' }, dependencies: { express: '^4.21.2', pg: '^8.13.1' } }, null, 2),
  );
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ name: 'bench-app', lockfileVersion: 3, requires: true, packages: {} }));
  const ignored = [
    ['node_modules', 60_000],
    ['.git/objects', 20_000],
    ['dist', 10_000],
  ];
  for (const [base, count] of ignored) {
    for (let i = 0; i < count; i += 1) {
      const dir = path.join(root, base, `pkg-${Math.floor(i / 100)}`);
      if (i % 100 === 0) mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `file-${i}.js`), `module.exports = ${i}; // process.env.IGNORED_${i % 10}\n`);
    }
  }
  for (let i = 0; i < 10_000; i += 1) {
    const dir = path.join(root, 'src', `module-${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const body = [
      `const feature = process.env.FEATURE_${i % 40} || 'off';`,
      `export function handler${i}(input) {`,
      '  return { feature, value: input * 2 };',
      '}',
      '',
    ].join('\n');
    writeFileSync(path.join(dir, `handler-${i}.js`), body);
  }
  writeFileSync(
    path.join(root, 'src/index.js'),
    "const app = require('express')();\napp.get('/health', (_q, r) => r.send('ok'));\napp.listen(process.env.PORT || 3000);\n",
  );
}

const work = mkdtempSync(path.join(tmpdir(), 'od-bench-analyze-'));
const large = path.join(work, 'large-repo');
mkdirSync(large);
try {
  const startGen = performance.now();
  generate(large);
  console.log(`generated 100,000 files in ${Math.round(performance.now() - startGen)} ms`);

  const largeRuns = [];
  let last;
  for (let i = 0; i < 5; i += 1) {
    const t0 = performance.now();
    last = await analyzeProject(large, { cwd: large });
    largeRuns.push(performance.now() - t0);
  }
  const service = last.services[0];
  console.log(
    `large repo (100k files, 10k analyzed): median ${median(largeRuns).toFixed(1)} ms  runs [${largeRuns.map((ms) => ms.toFixed(0)).join(', ')}]`,
  );
  console.log(
    `  → ${service?.framework} on port ${service?.port}, ${service?.runtime_vars.length} runtime vars, ${last.warnings.length} warning(s)${last.warnings.length ? `: ${last.warnings.join(' | ')}` : ''}`,
  );

  const fixture = path.join(repo, 'fixtures/apps/express-app');
  const typicalRuns = [];
  for (let i = 0; i < 50; i += 1) {
    const t0 = performance.now();
    await analyzeProject(fixture, { cwd: fixture });
    typicalRuns.push(performance.now() - t0);
  }
  console.log(`typical app (express-app fixture) ×50: median ${median(typicalRuns).toFixed(2)} ms`);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
