import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, lastEvent } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('a deploy killed after project create', () => {
  it('resumes with the same project, then a third run redeploys the same service', async () => {
    const home = await tempDir('od-home-');
    const app = await copyFixture('node-http');
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home };

    const killed = await runCli(['deploy', app, '--yes', '--json'], {
      env,
      onEvent: (event, child) => {
        if (event.type === 'stage' && event.stage === 'project.create') child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const created = killed.events.find((event) => event.type === 'stage' && event.stage === 'project.create')!;
    const saved = JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')) as Record<string, unknown>;
    expect(saved.project_id).toBe(created.project_id);

    const resumed = await runCli(['deploy', app, '--yes', '--json'], { env });
    expect(resumed.code).toBe(0);
    const second = lastEvent(resumed)!;
    expect(second.project_id).toBe(created.project_id);
    expect(resumed.events.find((event) => event.type === 'stage' && event.stage === 'project.create')?.status).toBe('skipped');

    const projects = (await gw.requests()).filter((request) => request.method === 'POST' && request.path === '/api/v1/projects/');
    expect(projects).toHaveLength(1);

    const third = await runCli(['deploy', app, '--yes', '--json', '--force'], { env });
    expect(third.code).toBe(0);
    const redeploy = lastEvent(third)!;
    expect(redeploy.project_id).toBe(created.project_id);
    expect(redeploy.service_id).toBe(second.service_id);
    expect(redeploy.deployment_id).not.toBe(second.deployment_id);
    const services = (await gw.requests()).filter((request) => request.method === 'POST' && /\/services\/$/.test(request.path));
    expect(services).toHaveLength(1);
    expect(third.events.find((event) => event.type === 'stage' && event.stage === 'service.create')?.status).toBe('skipped');
    expect(third.events.find((event) => event.type === 'stage' && event.stage === 'upload')?.status).toBe('done');
  });

  it('a re-run with unchanged source skips the upload and still deploys the same service', async () => {
    const home = await tempDir('od-home-');
    const app = await copyFixture('node-http');
    const token = `od_k${'R'.repeat(39)}5678`;
    const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: token };
    const first = await runCli(['deploy', app, '--json', '--name', 'unchanged-src'], { env });
    expect(first.code).toBe(0);
    const again = await runCli(['deploy', app, '--json'], { env });
    expect(again.code).toBe(0);
    expect(again.events.find((event) => event.type === 'stage' && event.stage === 'upload')?.status).toBe('skipped');
    expect(lastEvent(again)!.service_id).toBe(lastEvent(first)!.service_id);
    expect(lastEvent(again)!.deployment_id).not.toBe(lastEvent(first)!.deployment_id);
  });
});
