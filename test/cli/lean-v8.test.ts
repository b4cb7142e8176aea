/**
 * The V8 settings the CLI makes for the commands that walk and archive a project (src/cli/heap.ts):
 * each takes effect when set in a running process (both are read by V8 as it runs, which is what
 * makes a run-time setting meaningful), they apply only on the V8 line they were measured on, and
 * the real `opendeploy` process makes them for `analyze` while a command run embedded through
 * `main` (as these tests run every other command) leaves its host process alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LEAN_V8_FLAGS, leanV8Supported } from '../../src/cli/heap.js';
import { BIN, REPO_ROOT } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const work = mkdtempSync(path.join(tmpdir(), 'od-lean-v8-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Asks V8 to optimise a fresh function on its next call and reports whether TurboFan compiled it
 * (status bit 64). Needs `--allow-natives-syntax`, so it is only ever run in a child process.
 */
const OPTIMISATION_PROBE = `
  function hot(n) { let sum = 0; for (let i = 0; i < n; i += 1) sum += i % 7; return sum; }
  %PrepareFunctionForOptimization(hot);
  hot(10);
  hot(10);
  %OptimizeFunctionOnNextCall(hot);
  hot(10);
  const turbofanned = (%GetOptimizationStatus(hot) & 64) !== 0;
`;

describe('the lean V8 settings', () => {
  it('are made on the V8 line they were measured on only', () => {
    expect(LEAN_V8_FLAGS).toEqual(['--semi-space-growth-factor=1', '--max-opt=1']);
    expect(leanV8Supported('11.3.244.8-node.38')).toBe(true);
    expect(leanV8Supported('12.4.254.21-node.33')).toBe(false);
    expect(leanV8Supported('10.2.154.26-node.36')).toBe(false);
  });

  it.runIf(leanV8Supported())('keep the young generation at its starting size, however much survives (fresh processes)', () => {
    // A fresh process each: the test runner's own young generation has long grown. ~30 MiB of small
    // objects that all survive; the young generation's size is read after.
    const script = (flags: readonly string[]): string => `
      const v8 = require('node:v8');
      for (const flag of ${JSON.stringify(flags)}) v8.setFlagsFromString(flag);
      const kept = [];
      for (let i = 0; i < 300000; i += 1) kept.push({ index: i, text: 'entry-' + i + '-' + 'x'.repeat(40) });
      const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      console.log(JSON.stringify({ kept: kept.length, size: space.space_size }));
    `;
    const run = (flags: readonly string[]): { kept: number; size: number } =>
      JSON.parse(execFileSync(process.execPath, ['-e', script(flags)]).toString()) as { kept: number; size: number };
    const lean = run(LEAN_V8_FLAGS);
    const grown = run([]);
    expect(lean.kept).toBe(300_000);
    // Two 1 MiB semi-spaces: the starting size.
    expect(lean.size).toBe(2 * MiB);
    expect(grown.size).toBeGreaterThanOrEqual(8 * lean.size);
  });

  it.runIf(leanV8Supported())('keep functions out of the optimising compiler once set in a running process', () => {
    const script = (flags: readonly string[]): string => `
      const v8 = require('node:v8');
      for (const flag of ${JSON.stringify(flags)}) v8.setFlagsFromString(flag);
      ${OPTIMISATION_PROBE}
      console.log(JSON.stringify({ turbofanned }));
    `;
    const run = (flags: readonly string[]): { turbofanned: boolean } =>
      JSON.parse(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script(flags)]).toString()) as { turbofanned: boolean };
    expect(run([])).toEqual({ turbofanned: true });
    expect(run(LEAN_V8_FLAGS)).toEqual({ turbofanned: false });
  });

  it.runIf(leanV8Supported())('are made by the opendeploy process for analyze, and not before a command runs', () => {
    // The probe runs as the CLI's process exits, so it sees the settings the command left behind.
    const probe = path.join(work, 'probe.mjs');
    writeFileSync(
      probe,
      `import { writeFileSync } from 'node:fs';
       process.on('exit', () => {
         ${OPTIMISATION_PROBE}
         writeFileSync(process.env.OD_PROBE_OUT, JSON.stringify({ turbofanned }));
       });`,
    );
    const app = path.join(work, 'express-app');
    cpSync(path.join(REPO_ROOT, 'fixtures', 'apps', 'express-app'), app, { recursive: true });
    const runCli = (args: string[]): { status: number | null; turbofanned: boolean } => {
      const out = path.join(work, `probe-${args[0]}.json`);
      const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', pathToFileURL(probe).href, BIN, ...args], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', HOME: work, CI: 'true', NO_COLOR: '1', OD_PROBE_OUT: out },
        encoding: 'utf8',
      });
      return { status: run.status, ...(JSON.parse(readFileSync(out, 'utf8')) as { turbofanned: boolean }) };
    };
    expect(runCli(['--version'])).toEqual({ status: 0, turbofanned: true });
    expect(runCli(['analyze', app, '--json'])).toEqual({ status: 0, turbofanned: false });
  });

  it.runIf(leanV8Supported())('are not made when main runs embedded in another program', () => {
    const app = path.join(work, 'express-embedded');
    cpSync(path.join(REPO_ROOT, 'fixtures', 'apps', 'express-app'), app, { recursive: true });
    const host = path.join(work, 'host.mjs');
    writeFileSync(
      host,
      `import { Writable } from 'node:stream';
       import { main } from ${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'dist', 'cli', 'main.js')).href)};
       const sink = () => new Writable({ write(chunk, encoding, done) { done(); } });
       const code = await main(['analyze', ${JSON.stringify(app)}, '--json'], {
         env: { HOME: ${JSON.stringify(work)}, CI: 'true' },
         cwd: ${JSON.stringify(work)},
         streams: { stdout: sink(), stderr: sink() },
         stdinIsTTY: false,
         stderrIsTTY: false,
       });
       ${OPTIMISATION_PROBE}
       console.log(JSON.stringify({ code, turbofanned }));`,
    );
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', host], { cwd: work, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ code: 0, turbofanned: true });
  });
});
