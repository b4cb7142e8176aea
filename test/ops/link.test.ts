/**
 * `opendeploy link` / `unlink`, `deploy --project` on a fresh checkout and `opendeploy open`, against the simulated
 * local gateway: the exact link file, read-only gateway use, consent for unlink and relinking.
 */
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, lastEvent, runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { createGatewayClient } from '../../src/gateway/factory.js';
import { main } from '../../src/cli/main.js';

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let deployed: Record<string, unknown>;
let projectId: string;
let serviceId: string;
let app: string;

function cli(cwd: string, args: string[]): Promise<CliRun> {
  return runCli(args, { cwd, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
}

async function linkFile(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(dir, '.opendeploy', 'project.json'), 'utf8')) as Record<string, unknown>;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(app, ['deploy', '--json']);
  expect(run.code).toBe(0);
  deployed = lastEvent(run)!;
  projectId = String(deployed.project_id);
  serviceId = String(deployed.service_id);
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy link', () => {
  it('writes the link file of an existing project with its only service, reading the gateway only', async () => {
    const fresh = await copyFixture('node-http');
    await gw.clearRequests();
    const run = await cli(fresh, ['link', '--project', projectId, '--json']);
    expect(run.code).toBe(0);
    expect(run.events).toHaveLength(1);
    const file = path.join(fresh, '.opendeploy', 'project.json');
    expect(run.events[0]).toEqual({
      type: 'result',
      linked: true,
      file,
      project: { id: projectId, name: 'node-http' },
      service: { id: serviceId, name: 'node-http' },
      environment: 'production',
      gateway: gw.url,
      replaced: null,
    });
    const state = await linkFile(fresh);
    // When it was written is this machine's business: local.json, not the committable link.
    const local = JSON.parse(await readFile(path.join(fresh, '.opendeploy', 'local.json'), 'utf8')) as Record<string, unknown>;
    expect(Number.isNaN(Date.parse(String(local.updated_at)))).toBe(false);
    expect(state).toEqual({
      version: 1,
      gateway: gw.url,
      environment: 'production',
      project_id: projectId,
      project_name: 'node-http',
      region_id: expect.any(String) as unknown as string,
      services: [{ name: 'node-http', service_id: serviceId, source_path: '.' }],
      dependencies: [],
    });
    expect((await gw.requests()).filter((r) => r.method !== 'GET')).toEqual([]);

    // Day-2 commands and a deploy now act on the existing project: no new project or service.
    const status = await cli(fresh, ['status', '--json']);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { project: { id: string } }).project.id).toBe(projectId);
    const deploy = await cli(fresh, ['deploy', '--json']);
    expect(deploy.code).toBe(0);
    expect(lastEvent(deploy)).toMatchObject({ type: 'result', project_id: projectId, service_id: serviceId });
    expect(((await gw.state()) as { projects: unknown[] }).projects).toHaveLength(1);
  });

  it('several services: refuses without --service (listing them), links the one named', async () => {
    const client = createGatewayClient(gw.url, TOKEN, () => undefined, {});
    const { service_id: workerId } = await client.createService(projectId, { name: 'worker', type: 'worker', environment: 'production', source_path: 'worker' });
    const fresh = await copyFixture('node-http');
    const refused = await cli(fresh, ['link', '--project', projectId, '--json']);
    expect(refused.code).toBe(2);
    expect(errorOf(refused)).toMatchObject({
      error_code: 'invalid_input',
      message: `Project ${projectId} has 2 services; say which one this folder deploys to.`,
      next_action: 'Add --service with one of: node-http, worker.',
    });
    expect(await exists(path.join(fresh, '.opendeploy', 'project.json'))).toBe(false);

    const run = await cli(fresh, ['link', '--project', projectId, '--service', 'worker', '--json']);
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ service: { id: workerId, name: 'worker' } });
    expect((await linkFile(fresh)).services).toEqual([{ name: 'worker', service_id: workerId, source_path: 'worker' }]);

    const unknown = await cli(fresh, ['link', '--project', projectId, '--service', 'nope', '--json']);
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown)).toMatchObject({ error_code: 'not_found', message: `Project ${projectId} has no service "nope".` });
    await client.close();
  });

  it('several services on a terminal: asks which one', async () => {
    const fresh = await copyFixture('node-http');
    let stdout = '';
    let stderr = '';
    const code = await main(['link', '--project', projectId], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN, NO_COLOR: '1' },
      cwd: fresh,
      streams: { stdout: { write: (chunk: string) => ((stdout += chunk), true) }, stderr: { write: (chunk: string) => ((stderr += chunk), true) } },
      stdin: Readable.from(['2\n']),
      stdinIsTTY: true,
      stderrIsTTY: true,
    });
    expect(code).toBe(0);
    const services = (await linkFile(fresh)).services as Array<{ name: string; service_id: string }>;
    expect(services.map((s) => s.name)).toEqual(['worker']);
    expect(stderr).toContain(`Which service should this folder deploy to?\n  1) node-http (${serviceId})\n  2) worker (${services[0]!.service_id})\n> `);
    expect(stdout).toContain(`Service worker (${services[0]!.service_id})`);
  });

  it('an unknown project is not_found and nothing is written', async () => {
    const fresh = await copyFixture('node-http');
    const run = await cli(fresh, ['link', '--project', 'prj-does-not-exist', '--json']);
    expect(run.code).toBe(1);
    expect(errorOf(run)).toMatchObject({ error_code: 'not_found', message: 'There is no project prj-does-not-exist for this credential (404).' });
    expect(await exists(path.join(fresh, '.opendeploy'))).toBe(false);
  });

  it('without --project and no link: invalid_input saying to pass it', async () => {
    const fresh = await copyFixture('node-http');
    const run = await cli(fresh, ['link', '--json']);
    expect(run.code).toBe(2);
    expect(errorOf(run)).toMatchObject({ error_code: 'invalid_input', message: `Which project should ${fresh} be linked to?` });
  });

  it('relinking to another project needs consent; the old link stays until given', async () => {
    const other = await copyFixture('python-http');
    const created = await cli(other, ['deploy', '--json']);
    expect(created.code).toBe(0);
    const otherProject = String(lastEvent(created)!.project_id);
    const fresh = await copyFixture('node-http');
    await mkdir(path.join(fresh, '.opendeploy'));
    await writeFile(path.join(fresh, '.opendeploy', 'project.json'), JSON.stringify({ version: 1, gateway: gw.url, environment: 'production', project_id: otherProject }));
    const refused = await cli(fresh, ['link', '--project', projectId, '--service', 'node-http', '--json']);
    expect(refused.code).toBe(7);
    expect(errorOf(refused)).toMatchObject({
      error_code: 'consent_required',
      details: { changes: [`project ${otherProject} -> ${projectId}`], resume_command: `opendeploy link --project ${projectId} --service node-http --yes` },
    });
    expect((await linkFile(fresh)).project_id).toBe(otherProject);
    const run = await cli(fresh, ['link', '--project', projectId, '--service', 'node-http', '--yes', '--json']);
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ replaced: otherProject, project: { id: projectId } });
    expect((await linkFile(fresh)).project_id).toBe(projectId);
  });
});

describe('opendeploy unlink', () => {
  it('asks for consent, then removes the link file only; never calls the gateway', async () => {
    const fresh = await copyFixture('node-http');
    expect((await cli(fresh, ['link', '--project', projectId, '--service', 'node-http', '--json'])).code).toBe(0);
    const file = path.join(fresh, '.opendeploy', 'project.json');
    await gw.clearRequests();
    const refused = await cli(fresh, ['unlink', '--json']);
    expect(refused.code).toBe(7);
    expect(errorOf(refused)).toMatchObject({
      error_code: 'consent_required',
      details: { changes: ['.opendeploy/project.json'], resume_command: 'opendeploy unlink --yes' },
    });
    expect(await exists(file)).toBe(true);
    const run = await cli(fresh, ['unlink', '--yes', '--json']);
    expect(run.code).toBe(0);
    expect(run.events).toEqual([{ type: 'result', unlinked: true, file, project_id: projectId }]);
    expect(await exists(file)).toBe(false);
    const again = await cli(fresh, ['unlink', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`${file} does not exist: this folder is not linked, nothing to do.\n`);
    expect(await gw.requests()).toEqual([]);
    // The project is untouched.
    expect(((await gw.state()) as { projects: Array<{ id: string }> }).projects.map((p) => p.id)).toContain(projectId);
  });
});

describe('deploy --project on a fresh checkout', () => {
  it('links the folder to the project first and deploys into it (no new project)', async () => {
    const fresh = await copyFixture('node-http');
    const before = ((await gw.state()) as { projects: unknown[] }).projects.length;
    const run = await cli(fresh, ['deploy', '--project', projectId, '--json']);
    expect(run.code).toBe(0);
    expect(lastEvent(run)).toMatchObject({ type: 'result', project_id: projectId, service_id: serviceId });
    expect(((await gw.state()) as { projects: unknown[] }).projects).toHaveLength(before);
    const state = await linkFile(fresh);
    expect(state.project_id).toBe(projectId);
    // Every service of the project is linked (a deploy acts on all of them: the worker added above too).
    expect((state.services as Array<{ name: string }>).map((s) => s.name).sort()).toEqual(['node-http', 'worker']);
    expect(state.services).toContainEqual({ name: 'node-http', service_id: serviceId, source_path: '.' });
  });

  it('a folder linked to another project is a conflict, not a silent switch', async () => {
    const fresh = await copyFixture('node-http');
    await mkdir(path.join(fresh, '.opendeploy'));
    await writeFile(path.join(fresh, '.opendeploy', 'project.json'), JSON.stringify({ version: 1, gateway: gw.url, environment: 'production', project_id: 'prj-other' }));
    const run = await cli(fresh, ['deploy', '--project', projectId, '--json']);
    expect(run.code).toBe(1);
    expect(errorOf(run)).toMatchObject({
      error_code: 'conflict',
      message: `This folder is linked to project prj-other, but --project names ${projectId}.`,
    });
  });
});

describe('opendeploy open', () => {
  it('without a terminal prints the live URL of the linked service (never starts a browser)', async () => {
    const human = await cli(app, ['open']);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`${String(deployed.url)}\n`);
    const run = await cli(app, ['open', '--json']);
    expect(run.code).toBe(0);
    expect(run.events).toEqual([{ type: 'result', url: deployed.url, kind: 'app', project_id: projectId, service_id: serviceId, opened: false }]);
  });

  it('--dashboard: the project page; works outside the folder with --project', async () => {
    const elsewhere = await tempDir('od-open-');
    const run = await cli(elsewhere, ['open', '--dashboard', '--project', projectId, '--json']);
    expect(run.code).toBe(0);
    expect(run.events).toEqual([{ type: 'result', url: `${gw.origin}/projects/${projectId}`, kind: 'dashboard', project_id: projectId, service_id: null, opened: false }]);
  });

  it('a service without a domain yet is not_found with the next step', async () => {
    const client = createGatewayClient(gw.url, TOKEN, () => undefined, {});
    await client.createService(projectId, { name: 'idle', type: 'worker', environment: 'production', source_path: 'idle' });
    await client.close();
    const run = await cli(app, ['open', '--service', 'idle', '--json']);
    expect(run.code).toBe(1);
    expect(errorOf(run)).toMatchObject({
      error_code: 'not_found',
      message: expect.stringMatching(/^Service idle \(.+\) has no URL yet\.$/) as unknown as string,
      next_action: 'Deploy it first (`opendeploy`), or open the project page with `opendeploy open --dashboard`.',
    });
  });
});
