/**
 * A day-2 command pointed at a project id the gateway does not know (a typo in --project, a project
 * deleted since) says the project was not found, not that a services route is missing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

let gw: TestGateway;
let env: Record<string, string>;
let app: string;

beforeAll(async () => {
  gw = await startTestGateway();
  env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() };
  app = await copyFixture('node-http');
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

it.each([['triage'], ['logs'], ['deployments']])('%s --project <unknown id>: not_found naming the project and the gateway (exit 1)', async (command) => {
  const missing = '00000000-0000-4000-8000-00000000dead';
  const run = await runCli([command, '--project', missing, '--json'], { cwd: app, env });
  expect(run.code).toBe(1);
  const error = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  expect(error).toMatchObject({
    type: 'error',
    error_code: 'not_found',
    message: `Project ${missing} was not found on ${gw.url}.`,
    details: { project_id: missing },
  });
  expect(String(error.next_action)).toContain('Check the project id');
});
