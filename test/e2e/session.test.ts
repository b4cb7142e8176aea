import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, lastEvent, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * The scripted day-2 session of issue 4, on one fixture, through the real CLI and the real local
 * gateway: deploy → env set → env rotate → resize → db add → domain rename → logs → a failing
 * redeploy → triage → rollback → status.
 */
let gw: TestGateway;
let app: string;
let env: Record<string, string>;

beforeAll(async () => {
  gw = await startTestGateway();
  app = await copyFixture('node-http');
  env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() };
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

function cli(args: string[]): Promise<CliRun> {
  return runCli([...args, '--json'], { cwd: app, env });
}

function oneObject(run: CliRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('a day-2 session on one deployed app', () => {
  const ids: Record<string, string> = {};

  it('runs start to finish, each step confirmed by what the gateway holds', async () => {
    // 1. deploy
    const deployed = await cli(['deploy', '.']);
    expect(deployed.code).toBe(0);
    ids.first = String(lastEvent(deployed)!.deployment_id);
    ids.service = String(lastEvent(deployed)!.service_id);

    // 2. env set
    const set = await cli(['env', 'set', 'GREETING=hello']);
    expect(set.code).toBe(0);
    expect(oneObject(set)).toMatchObject({ keys_set: ['GREETING'], verified: true, redeploy_needed: true });

    // 3. env rotate (full replacement with --yes) redeploys
    const rotateFile = path.join(await tempDir('od-rotate-'), 'prod.env');
    await writeFile(rotateFile, 'GREETING=hi\nPORT=3000\nAPI_TOKEN_SALT=salt-value-123456\n');
    const rotated = await cli(['env', 'rotate', '--from', rotateFile, '--yes']);
    expect(rotated.code).toBe(0);
    expect(lastEvent(rotated)).toMatchObject({ type: 'result', status: 'success', keys_added: ['API_TOKEN_SALT'], keys_changed: ['GREETING'], verified: true });
    ids.rotated = String(lastEvent(rotated)!.deployment_id);
    expect(rotated.stdout).not.toContain('salt-value-123456');

    // 4. resize (no redeploy)
    const resized = await cli(['resize', '--cpu', '2', '--memory', '2Gi']);
    expect(resized.code).toBe(0);
    expect(oneObject(resized)).toMatchObject({ resources: { cpu_limit: '2', memory_limit: '2Gi', memory_request: '1Gi' }, redeployed: false });

    // 5. db add postgres: dependency, merged env, redeploy
    const db = await cli(['db', 'add', 'postgres']);
    expect(db.code).toBe(0);
    expect(lastEvent(db)).toMatchObject({ type: 'result', status: 'success', engine: 'postgres', redeployed: true });
    expect(lastEvent(db)!.env_added).toContain('DATABASE_URL');
    ids.withDb = String(lastEvent(db)!.deployment_id);

    // 6. domain rename
    const renamed = await cli(['domain', 'rename', 'day-two-session']);
    expect(renamed.code).toBe(0);
    expect(oneObject(renamed).url).toBe('https://day-two-session.opendeploy.run');

    // 7. logs --tail: the running app's output (the last releases' container lines)
    const logs = await cli(['logs', '--tail', '5']);
    expect(logs.code).toBe(0);
    const lines = logs.events.filter((event) => event.type === 'log');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.every((line) => line.source === 'runtime')).toBe(true);
    expect(lastEvent(logs)).toMatchObject({ type: 'result', source: 'runtime', count: lines.length });

    // 8. a deliberately failing redeploy
    await gw.nextDeployment({ outcome: 'failed', phase: 'build', error_msg: 'build failed', log_lines: ['npm ERR! missing script: build'] });
    const failing = await cli(['redeploy']);
    expect(failing.code).toBe(5);
    expect(lastEvent(failing)).toMatchObject({ type: 'error', error_code: 'build_failed' });
    ids.failed = String((lastEvent(failing)!.details as Record<string, unknown>).deployment_id);

    // 9. triage names the cause and the fix
    const triage = await cli(['triage']);
    expect(triage.code).toBe(0);
    expect(oneObject(triage)).toMatchObject({ deployment_id: ids.failed, status: 'failed', cause_id: 'E1', evidence: ['npm ERR! missing script: build'], fix_command: 'opendeploy redeploy --source .' });

    // 10. rollback to the release before the current one
    const rolled = await cli(['rollback', '--yes']);
    expect(rolled.code).toBe(0);
    const rollback = lastEvent(rolled)!;
    expect(rollback).toMatchObject({ type: 'result', status: 'success', previous: ids.withDb, rolled_back_to: ids.rotated });
    ids.rollback = String(rollback.deployment_id);
    // Confirmed live-service changes name their consent kind for the gateway's ConsentGate.
    const rollbackPost = (await gw.requests()).find((request) => request.method === 'POST' && request.path.endsWith('/rollback'));
    expect(rollbackPost?.consent).toBe('live_service_change');

    // 11. status shows the rolled-back deployment as the latest, and the replaced release rolled back
    const status = await cli(['status']);
    expect(status.code).toBe(0);
    const report = oneObject(status);
    expect(report.latest_deployment).toMatchObject({ id: ids.rollback, status: 'success' });
    const services = report.services as { id: string; url: string }[];
    expect(services.map((service) => service.url)).toEqual(['https://day-two-session.opendeploy.run']);
    const deployments = (await gw.state()).deployments as { id: string; status: string }[];
    expect(deployments.find((row) => row.id === ids.withDb)?.status).toBe('rolled_back');
  });
});
