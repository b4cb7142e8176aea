import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';
import { resumeCommand } from '../../src/ops/rollback.js';
import { withTargetFlags } from '../../src/core/target-flags.js';
import { matchPlaybook } from '../../src/diagnose/playbook.js';
import type { ExecutionContext } from '../../src/core/session.js';

/**
 * A command printed for the user to paste (a consent's resume command, a diagnosis's fix command)
 * carries the flags that named the target of the run that printed it.
 */

const TOKEN = patToken();

let gw: TestGateway;
let home: string;
let app: string;
let projectId: string;
let serviceId: string;

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: app, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN } });
}

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  app = await copyFixture('node-http');
  const run = await cli(['deploy', '--json']);
  expect(run.code, run.stderr).toBe(0);
  const state = JSON.parse(await readFile(path.join(app, '.opendeploy', 'project.json'), 'utf8')) as { project_id: string; services: { service_id: string }[] };
  projectId = state.project_id;
  serviceId = state.services[0]!.service_id;
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('target flags in printed commands', () => {
  it('a resume command carries --project, --service, --env, --local and --data-dir (quoted)', () => {
    const exec = { json: false } as ExecutionContext;
    expect(resumeCommand('rollback', ['dep_1'], { project: 'prj_1', service: 'svc_1', env: 'staging', local: true, dataDir: '/tmp/my data' }, exec)).toBe(
      "opendeploy rollback dep_1 --project prj_1 --service svc_1 --env staging --local --data-dir '/tmp/my data' --yes",
    );
    expect(resumeCommand('cancel', ['dep_2'], { authFile: '/tmp/a.json' }, { json: true } as ExecutionContext)).toBe('opendeploy cancel dep_2 --auth-file /tmp/a.json --json --yes');
  });

  it('a fix command and the commands its next action quotes are written with the flags; other text is left alone', () => {
    const options = { local: true, dataDir: '/srv/od' };
    expect(withTargetFlags('opendeploy env set PORT=3000', options)).toBe('opendeploy env set PORT=3000 --local --data-dir /srv/od');
    expect(withTargetFlags('opendeploy redeploy', {})).toBe('opendeploy redeploy');
    expect(withTargetFlags(null, options)).toBeNull();
    const match = matchPlaybook({ status: 'failed', lastPhase: 'building', service: { buildCommand: 'npm run build' } }, ['npm ERR! missing script: build'], { targetFlags: ['--local', '--data-dir', '/srv/od'] });
    expect(match.fixCommand).toBe('opendeploy redeploy --source . --local --data-dir /srv/od');
    expect(match.nextAction).toBe('Run the build locally (`npm run build`), fix the error quoted above, then run `opendeploy redeploy --source . --local --data-dir /srv/od`.');
  });

  it('the consent of a rollback run with --project and --service resumes with them', async () => {
    const second = await cli(['deploy', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const run = await cli(['rollback', '--project', projectId, '--service', serviceId, '--json']);
    expect(run.code).toBe(7);
    const error = JSON.parse(run.stdout.trim().split('\n').pop()!) as { error_code: string; details: { resume_command: string; changes: string[] } };
    expect(error.error_code).toBe('consent_required');
    const to = error.details.changes[0]!.split(' → ')[1]!;
    expect(error.details.resume_command).toBe(`opendeploy rollback ${to} --project ${projectId} --service ${serviceId} --json --yes`);
  });

  it('triage run with --project and --service prints a fix that carries them', async () => {
    await gw.nextDeployment({ outcome: 'failed', phase: 'build', error_msg: 'Build failed', log_lines: ['npm ERR! missing script: build'] });
    const failed = await cli(['deploy', '--project', projectId, '--service', serviceId, '--json']);
    expect(failed.code).not.toBe(0);
    const error = JSON.parse(failed.stdout.trim().split('\n').pop()!) as { type: string; details: { cause_id: string; fix_command: string } };
    expect(error.type).toBe('error');
    expect(error.details.cause_id).toBe('E1');
    expect(error.details.fix_command).toBe(`opendeploy redeploy --source . --project ${projectId} --service ${serviceId}`);

    const run = await cli(['triage', '--project', projectId, '--service', serviceId, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { cause_id: string; fix_command: string; next_action: string };
    expect(report.cause_id).toBe('E1');
    expect(report.fix_command).toBe(`opendeploy redeploy --source . --project ${projectId} --service ${serviceId}`);
    expect(report.next_action).toContain(`\`opendeploy redeploy --source . --project ${projectId} --service ${serviceId}\``);
    const plain = await cli(['triage', '--json']);
    expect((JSON.parse(plain.stdout) as { fix_command: string }).fix_command).toBe('opendeploy redeploy --source .');
  });
});
