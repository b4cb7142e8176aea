import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deployLinked, readProjectJson } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let app: string;
let first: string;
let second: string;
let third: string;

interface GatewayRow {
  id: string;
  status: string;
  source: string;
  temp_file_path: string;
  progress: number;
  created_at: string;
  completed_at: string | null;
}

function cli(args: string[], cwd = app): Promise<CliRun> {
  return runCli(args, { cwd, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
}

function only(run: CliRun): Record<string, unknown> {
  expect(run.stdout.trim().split('\n')).toHaveLength(1);
  return run.events[0]!;
}

async function gatewayRow(id: string): Promise<GatewayRow> {
  return ((await gw.state()).deployments as GatewayRow[]).find((row) => row.id === id)!;
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
  first = String((await deployLinked(app, env)).deployment_id);
  // A changed source: the second deployment builds another archive.
  await appendFile(path.join(app, 'server.js'), '\n// second release\n');
  second = String((await deployLinked(app, env)).deployment_id);
  // A rebuild of the same source that fails: the second deployment stays live.
  await gw.nextDeployment({ outcome: 'failed', phase: 'build', log_lines: ['npm ERR! missing script: build'] });
  const failed = await cli(['redeploy', '--json']);
  expect(failed.code).not.toBe(0);
  third = String((await readProjectJson(app) as { last_deployment: { id: string } }).last_deployment.id);
  expect(new Set([first, second, third]).size).toBe(3);
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('opendeploy deployments', () => {
  it('--json: one result line, newest first, the live one marked, the digest of the folder’s last upload on the rows built from it', async () => {
    const link = (await readProjectJson(app)) as { project_id: string; services: { service_id: string }[]; last_source_digest: string; last_temp_file_path: string };
    const rows = await Promise.all([third, second, first].map(gatewayRow));
    // The second upload is what the folder records; the first archive's digest is not known any more.
    expect(rows.map((row) => row.temp_file_path === link.last_temp_file_path)).toEqual([true, true, false]);
    const run = await cli(['deployments', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(only(run)).toEqual({
      type: 'result',
      project_id: link.project_id,
      service_id: link.services[0]!.service_id,
      service_name: 'node-http',
      environment: 'production',
      live_deployment_id: second,
      status_filter: null,
      total: 3,
      deployments: [
        { id: third, status: 'failed', live: false, source: 'zip', source_digest: link.last_source_digest, progress: rows[0]!.progress, created_at: rows[0]!.created_at, finished_at: rows[0]!.completed_at, rollback_from: null },
        { id: second, status: 'success', live: true, source: 'zip', source_digest: link.last_source_digest, progress: 100, created_at: rows[1]!.created_at, finished_at: rows[1]!.completed_at, rollback_from: null },
        { id: first, status: 'success', live: false, source: 'zip', source_digest: null, progress: 100, created_at: rows[2]!.created_at, finished_at: rows[2]!.completed_at, rollback_from: null },
      ],
    });
    expect(rows.map((row) => row.status)).toEqual(['failed', 'success', 'success']);
    expect(rows.every((row) => typeof row.completed_at === 'string')).toBe(true);
  });

  it('ls --status success --limit 1: the filter counts in total, the limit cuts the rows', async () => {
    const run = await cli(['ls', '--status', 'success', '--limit', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = only(run);
    expect([result.status_filter, result.total, (result.deployments as { id: string }[]).map((d) => d.id)]).toEqual(['success', 2, [second]]);
  });

  it('the human table', async () => {
    const link = (await readProjectJson(app)) as { services: { service_id: string }[]; last_source_digest: string };
    const rows = await Promise.all([third, second, first].map(gatewayRow));
    const run = await cli(['deployments']);
    expect(run.code, run.stderr).toBe(0);
    const short = link.last_source_digest.slice(0, 12);
    const cells = [
      [' ', 'ID', 'STATUS', 'CREATED', 'FINISHED', 'SOURCE', 'DIGEST', ''],
      ...rows.map((row, i) => [i === 1 ? '*' : ' ', row.id, row.status, row.created_at, row.completed_at!, 'zip', i < 2 ? short : '-', '']),
    ];
    const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
    const line = (row: string[]): string => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
    expect(run.stdout.split('\n')).toEqual([
      `3 deployments of node-http (${link.services[0]!.service_id}) in production`,
      ...cells.map(line),
      '* live',
      '',
    ]);
  });

  it('--limit 0 is a usage error before any request', async () => {
    await gw.clearRequests();
    const run = await cli(['deployments', '--limit', '0', '--json']);
    expect(run.code).toBe(2);
    expect(only(run)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: '--limit is "0", but it takes a whole number from 1 to 1000.',
      retryable: false,
      next_action: 'Pass --limit <n> with 1 ≤ n ≤ 1000 (default 20).',
    });
    expect(await gw.requests()).toEqual([]);
  });

  it('an unlinked folder without --project says how to link one', async () => {
    const empty = await tempDir('od-unlinked-');
    const run = await cli(['deployments', '--json'], empty);
    expect(run.code).toBe(2);
    expect(only(run)).toEqual({
      type: 'error',
      error_code: 'invalid_input',
      message: `No project is linked to ${empty}.`,
      retryable: false,
      next_action: 'Run `opendeploy` here to deploy it first, or pass --project <id>.',
    });
  });
});
