import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli, errorOf } from '../helpers/cli.js';
import { startTestGateway, type RecordedRequest, type TestGateway } from '../helpers/gateway.js';
import { readProjectJson, deployLinked } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** A bound dashboard token of its own: this file's user on the local gateway. */
const TOKEN = `od_kRedeploy${'R'.repeat(35)}`;

let gw: TestGateway;
let home: string;
let app: string;
let deployed: Record<string, unknown>;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, ...extra };
}

const projectJson = (): Promise<Record<string, unknown>> => readProjectJson(app);

const posts = (requests: RecordedRequest[], route: string) => requests.filter((r) => r.method === 'POST' && r.path === route);

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  deployed = await deployLinked(app, env());
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy redeploy', () => {
  it('rebuilds the current source: one POST /v1/deployments/ (no upload, no resources), watched to success', async () => {
    const before = await projectJson();
    await gw.clearRequests();
    const run = await runCli(['redeploy', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);

    const requests = await gw.requests();
    const created = posts(requests, '/api/v1/deployments/');
    expect(created).toHaveLength(1);
    expect(created[0]!.json).toEqual({
      project_id: deployed.project_id,
      service_id: deployed.service_id,
      environment: 'production',
      source: 'zip',
      temp_file_path: before.last_temp_file_path,
      dependencies: [],
    });
    expect(requests.filter((r) => r.path.startsWith('/api/v1/upload/'))).toHaveLength(0);

    const deploymentId = (run.events.find((e) => e.type === 'stage' && e.stage === 'deploy.create') ?? {}).deployment_id;
    expect(typeof deploymentId).toBe('string');
    expect(run.events.some((e) => e.type === 'progress' && e.stage === 'deploy.watch' && e.status === 'success')).toBe(true);
    const result = lastEvent(run)!;
    expect(result).toEqual({
      type: 'result',
      status: 'success',
      project_id: deployed.project_id,
      service_id: deployed.service_id,
      deployment_id: deploymentId,
      url: deployed.url,
    });
    const after = await projectJson();
    expect(after.last_deployment).toMatchObject({ id: deploymentId, service_id: deployed.service_id, status: 'success' });
    expect(after.last_source_digest).toBe(before.last_source_digest);
  });

  it('--source: an unchanged folder is not uploaded again; a changed one is uploaded, bound and deployed', async () => {
    const before = await projectJson();
    await gw.clearRequests();
    const same = await runCli(['redeploy', '--source', '.', '--json'], { cwd: app, env: env() });
    expect(same.code).toBe(0);
    expect(same.events.find((e) => e.stage === 'upload')).toMatchObject({ type: 'stage', status: 'skipped' });
    let requests = await gw.requests();
    expect(posts(requests, '/api/v1/upload/upload-only')).toHaveLength(0);
    expect(posts(requests, '/api/v1/deployments/')).toHaveLength(1);

    await writeFile(path.join(app, 'CHANGELOG.md'), '# changed\n');
    await gw.clearRequests();
    const changed = await runCli(['redeploy', '--source', '.', '--json'], { cwd: app, env: env() });
    expect(changed.code).toBe(0);
    requests = await gw.requests();
    const order = requests.filter((r) => r.method === 'POST').map((r) => r.path);
    expect(order).toEqual(['/api/v1/upload/upload-only', '/api/v1/upload/update-source', '/api/v1/deployments/']);
    const after = await projectJson();
    expect(after.last_source_digest).not.toBe(before.last_source_digest);
    expect(after.last_temp_file_path).not.toBe(before.last_temp_file_path);
    expect((posts(requests, '/api/v1/deployments/')[0]!.json as Record<string, unknown>).temp_file_path).toBe(after.last_temp_file_path);
    expect(lastEvent(changed)).toMatchObject({ type: 'result', status: 'success', deployment_id: (after.last_deployment as Record<string, unknown>).id });
  });

  it('--source <other folder>: that folder is uploaded, its own .opendeploy is never created; the link stays here', async () => {
    const other = await copyFixture('node-http');
    await writeFile(path.join(other, 'EXTRA.md'), 'other\n');
    const before = await projectJson();
    const run = await runCli(['redeploy', '--source', other, '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(0);
    await expect(access(path.join(other, '.opendeploy'))).rejects.toThrow();
    const after = await projectJson();
    expect(after.last_source_digest).not.toBe(before.last_source_digest);
    expect(after.last_temp_file_path).not.toBe(before.last_temp_file_path);
  });

  it('--source from an unlinked folder: uploads, binds and deploys exactly that source; no .opendeploy is written anywhere', async () => {
    const elsewhere = await tempDir('od-unlinked-');
    const other = await copyFixture('node-http');
    await writeFile(path.join(other, 'UNLINKED.md'), 'unlinked\n');
    // The source folder carries the link of some other project: it must stay byte for byte.
    await mkdir(path.join(other, '.opendeploy'));
    const foreignLink = '{"version":1,"gateway":"https://example.invalid/api","environment":"production","project_id":"another","services":[],"dependencies":[]}\n';
    await writeFile(path.join(other, '.opendeploy', 'project.json'), foreignLink);
    const linkedBefore = await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8');
    await gw.clearRequests();
    const run = await runCli(
      ['redeploy', '--project', String(deployed.project_id), '--service', String(deployed.service_id), '--source', other, '--json'],
      { cwd: elsewhere, env: env() },
    );
    expect(run.code).toBe(0);
    const requests = await gw.requests();
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      '/api/v1/upload/upload-only',
      '/api/v1/upload/update-source',
      '/api/v1/deployments/',
    ]);
    const bound = (posts(requests, '/api/v1/upload/update-source')[0]!.json as Record<string, unknown>).temp_file_path;
    expect(typeof bound).toBe('string');
    expect((posts(requests, '/api/v1/deployments/')[0]!.json as Record<string, unknown>).temp_file_path).toBe(bound);
    expect(await readFile(path.join(other, '.opendeploy', 'project.json'), 'utf8')).toBe(foreignLink);
    expect(await readdir(path.join(other, '.opendeploy'))).toEqual(['project.json']);
    await expect(access(path.join(elsewhere, '.opendeploy'))).rejects.toThrow();
    // The linked folder is another folder: its link is not touched either.
    expect(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')).toBe(linkedBefore);
    expect(lastEvent(run)).toMatchObject({ type: 'result', status: 'success', project_id: deployed.project_id, service_id: deployed.service_id });
  });

  it('a failed build ends with the diagnosed build_failed error (exit 5) and records the failed deployment', async () => {
    await gw.nextDeployment({ outcome: 'failed', phase: 'build', log_lines: ['> node-http@1.0.0 build', 'npm ERR! missing script: build'] });
    await gw.clearRequests();
    const run = await runCli(['redeploy', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(5);
    expect(posts(await gw.requests(), '/api/v1/deployments/')).toHaveLength(1);
    const deploymentId = (run.events.find((e) => e.stage === 'deploy.create') ?? {}).deployment_id;
    expect(typeof deploymentId).toBe('string');
    const error = errorOf(run);
    expect(error.error_code).toBe('build_failed');
    expect(error.retryable).toBe(false);
    expect(String(error.message)).toBe(`Deployment ${String(deploymentId)} failed: the build command failed.`);
    expect(error.details).toMatchObject({ deployment_id: deploymentId, status: 'failed' });
    expect((error.details as { evidence: string[] }).evidence).toContain('npm ERR! missing script: build');
    expect((await projectJson()).last_deployment).toMatchObject({ id: deploymentId, status: 'failed' });
  });

  it('--force without --source is invalid_input (exit 2) and sends nothing', async () => {
    await gw.clearRequests();
    const run = await runCli(['redeploy', '--force', '--json'], { cwd: app, env: env() });
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({ error_code: 'invalid_input', message: '--force only applies together with --source.' });
    expect(await gw.requests()).toHaveLength(0);
  });

  it('an unknown project is not_found (exit 1); a rejected token is auth_invalid (exit 3)', async () => {
    const unknown = await runCli(['redeploy', '--project', '00000000-0000-4000-8000-000000000000', '--json'], { cwd: app, env: env() });
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown).error_code).toBe('not_found');

    await gw.clearRequests();
    const bad = await runCli(['redeploy', '--json'], { cwd: app, env: env({ OPENDEPLOY_TOKEN: `od_a${'x'.repeat(43)}` }) });
    expect(bad.code).toBe(3);
    expect(errorOf(bad).error_code).toBe('auth_invalid');
    // Nothing was created: every request of that run was refused.
    expect((await gw.requests()).every((r) => r.status === 401)).toBe(true);
    expect(bad.stdout + bad.stderr).not.toContain('x'.repeat(43));
  });
});
