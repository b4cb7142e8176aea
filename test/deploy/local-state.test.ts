import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { readProjectState, writeProjectState } from '../../src/deploy/state.js';
import { STATE_GITIGNORE } from '../../src/deploy/state-files.js';

/**
 * The link is split: `.opendeploy/project.json` carries only what another machine needs to act on
 * the same project (and may be committed), `.opendeploy/local.json` what this machine remembers of
 * its own runs. A `.gitignore` in `.opendeploy/` keeps the machine-local files out of commits.
 */

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
/** A folder deployed once in beforeAll. */
let app: string;
let deployed: Record<string, unknown>;

function cli(cwd: string, args: string[]): Promise<CliRun> {
  return runCli(args, { cwd, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
}

async function json(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

const projectFile = (dir: string): string => path.join(dir, '.opendeploy', 'project.json');
const localFile = (dir: string): string => path.join(dir, '.opendeploy', 'local.json');

/** What a teammate or a CI job needs; nothing that changes from run to run. */
const SHARED_KEYS = ['dependencies', 'environment', 'gateway', 'project_id', 'project_name', 'region_id', 'services', 'version'];

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(app, ['deploy', '--json']);
  expect(run.code, run.stderr).toBe(0);
  deployed = lastEvent(run)!;
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('project.json and local.json after a deploy', () => {
  it('project.json holds exactly the shared link; local.json (0600) the machine-local fields of the same link', async () => {
    const shared = await json(projectFile(app));
    // In one order whichever command wrote it, so a committed file changes only when the link does.
    expect(Object.keys(shared)).toEqual(['version', 'gateway', 'environment', 'project_id', 'project_name', 'region_id', 'services', 'dependencies']);
    expect(shared).toEqual({
      version: 1,
      gateway: gw.url,
      environment: 'production',
      project_id: deployed.project_id,
      project_name: 'node-http',
      region_id: expect.any(String) as unknown as string,
      services: [{ name: 'node-http', service_id: deployed.service_id, source_path: '.' }],
      dependencies: [],
    });

    const local = await json(localFile(app));
    expect(Object.keys(local).sort()).toEqual(
      ['environment', 'gateway', 'last_deployment', 'last_source_digest', 'last_temp_file_path', 'project_id', 'updated_at', 'url', 'version'],
    );
    expect(local.version).toBe(1);
    expect(local.gateway).toBe(gw.url);
    expect(local.environment).toBe('production');
    expect(local.project_id).toBe(deployed.project_id);
    expect(local.url).toBe(deployed.url);
    expect(local.last_deployment).toEqual({ id: deployed.deployment_id, service_id: deployed.service_id, status: 'success', created_at: expect.any(String) as unknown as string });
    expect(local.last_source_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(local.last_temp_file_path).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(String(local.updated_at)))).toBe(false);
    expect((await stat(localFile(app))).mode & 0o777).toBe(0o600);
    expect((await stat(projectFile(app))).mode & 0o777).toBe(0o644);

    // The merged view the commands work with is both files together.
    const merged = await readProjectState(app);
    expect(merged).toEqual({ ...shared, ...Object.fromEntries(Object.entries(local).filter(([key]) => !['version', 'gateway', 'environment', 'project_id'].includes(key))) });
  });

  it('.opendeploy/.gitignore lists the machine-local files; the project\'s own .gitignore is not touched', async () => {
    expect(await readFile(path.join(app, '.opendeploy', '.gitignore'), 'utf8')).toBe(
      [
        '# Written by opendeploy. Commit project.json (the link: ids and names, no secrets);',
        "# the files below are this machine's own.",
        'local.json',
        'upload.json',
        'analysis.json',
        'dependency-*.json',
        '*.tmp',
        '',
      ].join('\n'),
    );
    expect(STATE_GITIGNORE).toBe(await readFile(path.join(app, '.opendeploy', '.gitignore'), 'utf8'));
    expect((await readdir(path.join(app, '.opendeploy'))).sort()).toEqual(['.gitignore', 'analysis.json', 'local.json', 'project.json']);
    const fixture = await copyFixture('node-http');
    expect((await readdir(app)).sort()).toEqual((await readdir(fixture)).concat('.opendeploy').sort());
  });

  it('a .gitignore the user changed is left as it is', async () => {
    const dir = await tempDir('od-ignore-');
    await mkdir(path.join(dir, '.opendeploy'));
    await writeFile(path.join(dir, '.opendeploy', '.gitignore'), 'local.json\n');
    await writeProjectState(dir, { version: 1, gateway: gw.url, environment: 'production', services: [], dependencies: [] });
    expect(await readFile(path.join(dir, '.opendeploy', '.gitignore'), 'utf8')).toBe('local.json\n');
  });
});

describe('older project.json files', () => {
  /** The single file an earlier version wrote: the shared link and the machine-local fields together. */
  async function oldFormat(): Promise<Record<string, unknown>> {
    const local = await json(localFile(app));
    const { version: _v, gateway: _g, environment: _e, project_id: _p, ...fields } = local;
    return { ...(await json(projectFile(app))), ...fields };
  }

  it('are read whole, and the next write moves the machine-local fields to local.json without losing one', async () => {
    const old = await oldFormat();
    const dir = await copyFixture('node-http');
    await mkdir(path.join(dir, '.opendeploy'));
    await writeFile(projectFile(dir), `${JSON.stringify(old, null, 2)}\n`);

    expect(await readProjectState(dir)).toEqual(old);

    // A redeploy of the unchanged folder keeps the bound source (read from the old file) and writes both files.
    await gw.clearRequests();
    const run = await cli(dir, ['redeploy', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = lastEvent(run)!;
    expect(result).toMatchObject({ type: 'result', status: 'success', project_id: deployed.project_id, service_id: deployed.service_id });
    const created = (await gw.requests()).filter((r) => r.method === 'POST' && r.path === '/api/v1/deployments/');
    expect(created.map((r) => (r.json as Record<string, unknown>).temp_file_path)).toEqual([old.last_temp_file_path]);

    const shared = await json(projectFile(dir));
    expect(Object.keys(shared).sort()).toEqual(SHARED_KEYS);
    const local = await json(localFile(dir));
    expect(local).toEqual({
      version: 1,
      gateway: gw.url,
      environment: 'production',
      project_id: deployed.project_id,
      last_source_digest: old.last_source_digest,
      last_temp_file_path: old.last_temp_file_path,
      last_deployment: { id: result.deployment_id, service_id: deployed.service_id, status: 'success', created_at: expect.any(String) as unknown as string },
      url: old.url,
      updated_at: expect.any(String) as unknown as string,
    });
  });

  it('a write cut short between the two files reads back as the newer state (local.json wins over the old fields)', async () => {
    const old = await oldFormat();
    const dir = await tempDir('od-cut-');
    await mkdir(path.join(dir, '.opendeploy'));
    await writeFile(projectFile(dir), JSON.stringify(old));
    const newer = { version: 1, gateway: old.gateway, environment: old.environment, project_id: old.project_id, last_deployment: { id: 'dep-newer', service_id: 'svc', status: 'building' }, url: 'https://newer.opendeploy.run' };
    await writeFile(localFile(dir), JSON.stringify(newer));
    const state = await readProjectState(dir);
    expect(state?.last_deployment).toEqual({ id: 'dep-newer', service_id: 'svc', status: 'building' });
    expect(state?.url).toBe('https://newer.opendeploy.run');
    // The old file's other fields are not mixed in: local.json is the whole machine-local state.
    expect(state?.last_source_digest).toBeUndefined();
    expect(state?.last_temp_file_path).toBeUndefined();
  });

  it("local.json of another link (the folder was relinked, or project.json came from a pull) is not used", async () => {
    const dir = await tempDir('od-relinked-');
    await mkdir(path.join(dir, '.opendeploy'));
    const shared = await json(projectFile(app));
    await writeFile(projectFile(dir), JSON.stringify(shared));
    await writeFile(localFile(dir), JSON.stringify({ version: 1, gateway: gw.url, environment: 'production', project_id: 'prj-before', last_deployment: { id: 'dep-old', service_id: 'svc-old', status: 'success' } }));
    expect(await readProjectState(dir)).toEqual(shared);
    await writeFile(localFile(dir), JSON.stringify({ version: 1, gateway: gw.url, environment: 'staging', project_id: shared.project_id, url: 'https://x.dev.opendeploy.run' }));
    expect(await readProjectState(dir)).toEqual(shared);
  });

  it('a broken local.json stops the run with invalid_input and says it may be deleted', async () => {
    const dir = await tempDir('od-broken-');
    await mkdir(path.join(dir, '.opendeploy'));
    await copyFile(projectFile(app), projectFile(dir));
    await writeFile(localFile(dir), '{"version":1,');
    const run = await cli(dir, ['status', '--json']);
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({
      error_code: 'invalid_input',
      message: `${localFile(dir)} is not valid JSON, so opendeploy cannot tell what this machine last did here.`,
      next_action: 'Delete the file (it holds only what this machine remembers; the next run reads the rest from the gateway), then re-run.',
    });
  });
});

describe('a fresh clone with only project.json', () => {
  it('status, redeploy and rollback act on the project; the first write adds local.json and .gitignore', async () => {
    const clone = await copyFixture('node-http');
    await mkdir(path.join(clone, '.opendeploy'));
    await copyFile(projectFile(app), projectFile(clone));

    const status = await cli(clone, ['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { project: { id: string }; services: { id: string; url: string | null }[] };
    expect(report.project.id).toBe(deployed.project_id);
    expect(report.services.map((s) => [s.id, s.url])).toEqual([[deployed.service_id, deployed.url]]);
    // Reading changes nothing on disk.
    expect(await readdir(path.join(clone, '.opendeploy'))).toEqual(['project.json']);

    const redeploy = await cli(clone, ['redeploy', '--json']);
    expect(redeploy.code, redeploy.stderr).toBe(0);
    const redeployed = lastEvent(redeploy)!;
    expect(redeployed).toMatchObject({ type: 'result', status: 'success', project_id: deployed.project_id, service_id: deployed.service_id, url: deployed.url });
    expect((await readdir(path.join(clone, '.opendeploy'))).sort()).toEqual(['.gitignore', 'local.json', 'project.json']);
    expect(await readFile(projectFile(clone), 'utf8')).toBe(await readFile(projectFile(app), 'utf8'));
    expect((await json(localFile(clone))).last_deployment).toMatchObject({ id: redeployed.deployment_id, status: 'success' });

    const rollback = await cli(clone, ['rollback', '--yes', '--json']);
    expect(rollback.code, rollback.stderr).toBe(0);
    const rolled = lastEvent(rollback)!;
    expect(rolled).toMatchObject({ type: 'result', status: 'success', previous: redeployed.deployment_id });
    expect((await json(localFile(clone))).last_deployment).toMatchObject({ id: rolled.deployment_id, status: 'success' });
    expect(Object.keys(await json(projectFile(clone))).sort()).toEqual(SHARED_KEYS);
  });

  it('unlink removes project.json and local.json, and leaves the .gitignore', async () => {
    const clone = await copyFixture('node-http');
    await mkdir(path.join(clone, '.opendeploy'));
    await copyFile(projectFile(app), projectFile(clone));
    await copyFile(localFile(app), localFile(clone));
    await writeFile(path.join(clone, '.opendeploy', '.gitignore'), STATE_GITIGNORE);
    const run = await cli(clone, ['unlink', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(await readdir(path.join(clone, '.opendeploy'))).toEqual(['.gitignore']);
  });
});
