/**
 * Start-up stays near bare Node because registering commands imports nothing heavy: `--version`
 * loads no command table at all, `--help` loads commander and the command table only, a command's
 * own `--help` adds that command's metadata module, and a command's handler module (with the libraries behind it) is imported
 * only when that command runs. The module loader itself is traced, so this is what a real process
 * loads, not what the source appears to import.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT } from '../helpers/cli.js';
import { main } from '../../src/cli/main.js';
import { VERSION } from '../../src/core/version.js';

const work = mkdtempSync(path.join(tmpdir(), 'od-startup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TRACER = path.join(REPO_ROOT, 'test', 'helpers', 'module-trace.mjs');
const DIST = pathToFileURL(path.join(REPO_ROOT, 'dist')).href + '/';
const NODE_MODULES = pathToFileURL(path.join(REPO_ROOT, 'node_modules')).href + '/';

/** A copy of a fixture app inside this file's temp folder: commands write `.opendeploy/` into the folder they act on. */
function fixtureCopy(name: string): string {
  const copy = path.join(work, `app-${name}`);
  cpSync(path.join(REPO_ROOT, 'fixtures', 'apps', name), copy, { recursive: true });
  return copy;
}

let traces = 0;
/** Runs the built CLI and returns the project modules (dist-relative) and packages it loaded. */
function trace(args: string[], extraEnv: Record<string, string> = {}): { dist: string[]; packages: string[]; stdout: string; status: number | null } {
  traces += 1;
  const file = path.join(work, `trace-${traces}.txt`);
  const run = spawnSync(process.execPath, ['--import', pathToFileURL(TRACER).href, BIN, ...args], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', HOME: work, CI: 'true', NO_COLOR: '1', OD_MODULE_TRACE: file, ...extraEnv },
    encoding: 'utf8',
  });
  const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const dist = [...new Set(urls.filter((url) => url.startsWith(DIST)).map((url) => url.slice(DIST.length)))].sort();
  const packages = [
    ...new Set(urls.filter((url) => url.startsWith(NODE_MODULES)).map((url) => url.slice(NODE_MODULES.length).split('/').slice(0, 1).join('/'))),
  ].sort();
  return { dist, packages, stdout: run.stdout, status: run.status };
}

describe('what start-up loads', () => {
  it('--version loads the entry point, the version and the I/O defaults: no commander, no command', () => {
    const run = trace(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${VERSION}\n`);
    expect(run.dist).toEqual(['cli/io.js', 'cli/main.js', 'cli/pipe.js', 'core/version.js']);
    expect(run.packages).toEqual([]);
  });

  const SHARED = ['cli/command-table.js', 'cli/commander.js', 'cli/io.js', 'cli/main.js', 'cli/pipe.js', 'cli/program.js', 'cli/suggest.js', 'core/cjs.js', 'core/version.js'];
  it.each([
    [['--help'], []],
    [['env', 'set', '--help'], ['cli/commands/env-defaults.js', 'cli/commands/env.js', 'cli/flags.js', 'cli/lazy.js']],
    [['deploy', '--help'], ['cli/commands/deploy.js', 'cli/flags.js', 'cli/lazy.js']],
  ])('%j loads commander, the command table and the addressed command metadata only', (args, metadata) => {
    const run = trace(args);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: opendeploy');
    expect(run.dist).toEqual([...SHARED, ...metadata].sort());
    expect(run.packages).toEqual(['commander']);
  });

  it('running a command imports its own handler and not the others', () => {
    const run = trace(['analyze', fixtureCopy('express-app'), '--json']);
    expect(run.status).toBe(0);
    const handlers = run.dist.filter((file) => file.startsWith('cli/handlers/'));
    expect(handlers).toEqual(['cli/handlers/analyze.js']);
    expect(run.dist.some((file) => file.startsWith('local-gateway/'))).toBe(false);
    expect(run.dist.some((file) => file.startsWith('ops/'))).toBe(false);
  });

  it('a deploy to a remote gateway never loads the embedded local gateway server (its routes, multipart parser and zip reader)', () => {
    const run = trace(['deploy', fixtureCopy('node-http'), '--json'], {
      // Nothing listens on port 9: the deploy gets as far as its first request and stops.
      OD_GATEWAY: 'http://127.0.0.1:9/api',
      OPENDEPLOY_TOKEN: `od_k${'S'.repeat(43)}`,
      OPENDEPLOY_HOME: path.join(work, 'home'),
    });
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({ type: 'error', error_code: 'gateway_unreachable' });
    expect(run.dist.filter((file) => file.startsWith('local-gateway/'))).toEqual(['local-gateway/gateway-file.js', 'local-gateway/local-key.js', 'local-gateway/tokens.js']);
    expect(run.packages.filter((name) => ['@fastify', 'yauzl', 'undici'].includes(name))).toEqual([]);
  });
});

describe('--version in-process', () => {
  const capture = () => {
    let stdout = '';
    const io = {
      env: {},
      cwd: work,
      streams: { stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: () => true } },
      stdinIsTTY: false,
      stderrIsTTY: false,
    };
    return { io, out: () => stdout };
  };

  it.each([['--version'], ['-v']])('%s prints the package version and exits 0', async (flag) => {
    const { io, out } = capture();
    expect(await main([flag], io)).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(out()).toBe(`${pkg.version}\n`);
  });

  it('--json --version is one JSON result line', async () => {
    const { io, out } = capture();
    expect(await main(['--json', '--version'], io)).toBe(0);
    expect(out()).toBe(`{"type":"result","name":"opendeploy","version":"${VERSION}"}\n`);
  });
});

describe('command metadata stays in step with the library', () => {
  it('db add lists exactly the engines ops/db.ts accepts', async () => {
    const { DB_ENGINE_NAMES } = await import('../../src/cli/commands/db.js');
    const { DB_ENGINES } = await import('../../src/ops/db.js');
    expect([...DB_ENGINE_NAMES]).toEqual([...DB_ENGINES]);
  });
});
