import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { lastEvent, runCli } from './cli.js';
import type { TestGateway } from './gateway.js';

/**
 * The link of a deployed folder as the commands see it: `.opendeploy/project.json` (the shared ids)
 * with this machine's `.opendeploy/local.json` (last upload, last deployment, URL) over it.
 */
export async function readProjectJson(app: string): Promise<Record<string, unknown>> {
  const shared = JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')) as Record<string, unknown>;
  const local = JSON.parse(await readFile(path.join(app, '.opendeploy', 'local.json'), 'utf8').catch(() => '{}')) as Record<string, unknown>;
  const { version: _version, gateway: _gateway, environment: _environment, project_id: _projectId, ...machineLocal } = local;
  return { ...shared, ...machineLocal };
}

/** Deploys a folder with the real CLI (`deploy --json` in it) and returns the result event. */
export async function deployLinked(app: string, env: Record<string, string>): Promise<Record<string, unknown>> {
  const run = await runCli(['deploy', '--json'], { cwd: app, env });
  expect(run.code, run.stderr).toBe(0);
  return lastEvent(run)!;
}

/** Starts another deployment of the folder's linked service straight through the API (no CLI). */
export async function startDeploymentViaApi(gw: TestGateway, app: string, token: string): Promise<string> {
  const state = (await readProjectJson(app)) as { project_id: string; services: { service_id: string }[]; last_temp_file_path: string };
  const response = await fetch(`${gw.url}/v1/deployments/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      project_id: state.project_id,
      service_id: state.services[0]!.service_id,
      environment: 'production',
      source: 'zip',
      temp_file_path: state.last_temp_file_path,
    }),
  });
  expect(response.status).toBe(201);
  return String(((await response.json()) as { id: string }).id);
}
