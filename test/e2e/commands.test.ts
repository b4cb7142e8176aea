import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnalysisSchema } from '../../src/analyze/schema.js';
import { BIN, runCli, lastEvent } from '../helpers/cli.js';
import { resultOf } from '../helpers/json-result.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

afterAll(async () => {
  await cleanupTempDirs();
});

describe('opendeploy local-gateway', () => {
  it('prints the OD_GATEWAY to use, serves a full deploy, and stops cleanly on SIGTERM', async () => {
    const dataDir = await tempDir('od-lgw-');
    const child = spawn(process.execPath, [BIN, 'local-gateway', '--port', '0', '--data-dir', dataDir, '--json', '--simulate'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
        if (line) resolve(JSON.parse(line) as Record<string, unknown>);
      });
      child.on('exit', () => reject(new Error(`local-gateway exited early: ${stdout}`)));
    });
    expect(ready).toMatchObject({ type: 'result', status: 'listening', data_dir: dataDir });
    expect(String(ready.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);

    const run = await runCli(['deploy', await copyFixture('python-http'), '--json', '--yes'], {
      env: { OD_GATEWAY: String(ready.url), OPENDEPLOY_HOME: await tempDir('od-home-') },
    });
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ type: 'result', status: 'success' });

    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    // State survives for the next start.
    expect(await readdir(dataDir)).toContain('state.json');
  });

  it('rejects a bad --port with invalid_input (exit 2)', async () => {
    const run = await runCli(['local-gateway', '--port', 'eighty', '--json']);
    expect(run.code).toBe(2);
    expect(lastEvent(run)).toMatchObject({ type: 'error', error_code: 'invalid_input', message: '--port must be a whole number from 0 to 65535, not "eighty".' });
  });
});

describe('opendeploy --local', () => {
  it('deploys against an in-process gateway with its own credential, never touching ~/.opendeploy/auth.json', async () => {
    const home = await tempDir('od-home-');
    const dataDir = await tempDir('od-local-');
    const app = await copyFixture('static-site');
    const run = await runCli(['deploy', app, '--local', '--simulate', '--data-dir', dataDir, '--json'], {
      env: { OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: `od_k${'T'.repeat(43)}` },
    });
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ type: 'result', status: 'success' });
    expect(String(lastEvent(run)!.claim_url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/claim\//);
    expect(await readdir(home)).toEqual(['logs']);
    expect((await stat(path.join(dataDir, 'auth.json'))).mode & 0o777).toBe(0o600);
    const link = JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')) as Record<string, unknown>;
    expect(link.gateway).toBe('local');

    // A plain re-run in the linked folder keeps using the local gateway (a new port, the same project).
    const again = await runCli(['deploy', app, '--simulate', '--data-dir', dataDir, '--json'], { env: { OPENDEPLOY_HOME: home } });
    expect(again.code).toBe(0);
    expect(lastEvent(again)!.project_id).toBe(lastEvent(run)!.project_id);
  });
});

describe('opendeploy analyze', () => {
  it('prints one JSON object that validates against the analysis schema and touches no network', async () => {
    const app = await copyFixture('express-app');
    const run = await runCli(['analyze', app, '--json'], { env: { OD_GATEWAY: 'http://127.0.0.1:9/api' } });
    expect(run.code).toBe(0);
    const analysis = AnalysisSchema.parse(resultOf(run));
    expect(analysis.services.map((service) => service.framework)).toEqual(['express']);
    expect(JSON.parse(await readFile(path.join(app, '.opendeploy', 'analysis.json'), 'utf8'))).toEqual(resultOf(run));
  });

  it('--explain shows the evidence ledger in human mode', async () => {
    const run = await runCli(['analyze', await copyFixture('flask-app'), '--explain']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  evidence:');
    expect(run.stdout).toMatch(/framework = flask {2}← /);
  });

  it('a missing folder is invalid_input (exit 2)', async () => {
    const run = await runCli(['analyze', '/nonexistent/folder', '--json']);
    expect(run.code).toBe(2);
    expect(lastEvent(run)).toMatchObject({ error_code: 'invalid_input', message: '/nonexistent/folder is not a folder.' });
  });
});
