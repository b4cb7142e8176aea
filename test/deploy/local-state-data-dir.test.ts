import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/**
 * `deploy --local --data-dir <dir>` remembers the data folder in `.opendeploy/local.json` (it is a
 * path on this machine, so never in project.json): later commands in the folder reach the same
 * local gateway without repeating the flag.
 */

afterAll(async () => {
  await cleanupTempDirs();
});

async function json(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

describe('the data folder of a --local deploy', () => {
  it('is kept in local.json, and status and redeploy without --data-dir use it', async () => {
    const app = await copyFixture('node-http');
    const dataDir = await tempDir('od-data-');
    // The default data folder lives under XDG_DATA_HOME: it must stay untouched.
    const xdg = await tempDir('od-xdg-');
    const env = { OPENDEPLOY_HOME: await tempDir('od-home-'), OD_LOCAL_SIMULATE: '1', XDG_DATA_HOME: xdg };

    const deploy = await runCli(['deploy', '--local', '--data-dir', dataDir, '--json'], { cwd: app, env });
    expect(deploy.code, deploy.stderr).toBe(0);
    const result = lastEvent(deploy)!;
    expect(result.status).toBe('success');

    const shared = await json(path.join(app, '.opendeploy', 'project.json'));
    expect(shared.gateway).toBe('local');
    expect(Object.keys(shared)).toEqual(['version', 'gateway', 'environment', 'project_id', 'project_name', 'region_id', 'services', 'dependencies']);
    const local = await json(path.join(app, '.opendeploy', 'local.json'));
    expect(local.data_dir).toBe(dataDir);
    expect(local.gateway).toBe('local');

    const status = await runCli(['status', '--json'], { cwd: app, env });
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout.trim().split('\n').at(-1)!) as { project: { id: string }; services: { id: string }[] };
    expect(report.project.id).toBe(result.project_id);
    expect(report.services.map((s) => s.id)).toEqual([result.service_id]);

    const redeploy = await runCli(['redeploy', '--json'], { cwd: app, env });
    expect(redeploy.code, redeploy.stderr).toBe(0);
    expect(lastEvent(redeploy)).toMatchObject({ type: 'result', status: 'success', project_id: result.project_id, service_id: result.service_id });
    expect((await json(path.join(app, '.opendeploy', 'local.json'))).data_dir).toBe(dataDir);

    expect(await readdir(xdg)).toEqual([]);
  });

  it('a folder deployed with the default data folder remembers none', async () => {
    const app = await copyFixture('node-http');
    const xdg = await tempDir('od-xdg-');
    const env = { OPENDEPLOY_HOME: await tempDir('od-home-'), OD_LOCAL_SIMULATE: '1', XDG_DATA_HOME: xdg };
    const deploy = await runCli(['deploy', '--local', '--json'], { cwd: app, env });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(Object.keys(await json(path.join(app, '.opendeploy', 'local.json')))).not.toContain('data_dir');
    expect(await readdir(xdg)).toEqual(['opendeploy']);
  });
});
