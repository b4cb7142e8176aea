import { spawn } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN, REPO_ROOT, lastEvent, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * The GitHub Actions example of the README, run the way a runner runs it: each `run:` script of the
 * job goes through `bash -e` with its own GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, with the
 * built CLI in place of `npx --yes opendeploy` and the local gateway's values in place of the
 * `${{ … }}` expressions. The checkout has no `.opendeploy/`: the project comes from --project.
 */

const WORKFLOW_FILE = path.join(REPO_ROOT, 'docs', 'github-actions.yml');
const TOKEN = patToken();

let gw: TestGateway;
/** The project a developer deployed from their machine, and its live URL. */
let projectId: string;
let serviceId: string;
let liveUrl: string;

interface WorkflowStep {
  name?: string;
  id?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
  run?: string;
}

interface Workflow {
  jobs: { deploy: { outputs?: Record<string, string>; env?: Record<string, string>; steps: WorkflowStep[] } };
}

interface StepRun {
  step: string;
  ran: boolean;
  code: number | null;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

interface JobRun {
  steps: StepRun[];
  outputs: Record<string, string>;
  /** The job summary: the steps' summary files one after the other, as GitHub shows them. */
  summary: string;
}

async function readWorkflow(): Promise<Workflow> {
  return parse(await readFile(WORKFLOW_FILE, 'utf8')) as Workflow;
}

/** `${{ expr }}` → its value; an expression the test does not know fails the test instead of running as text. */
function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expression: string) => {
    const value = values[expression];
    if (value === undefined) throw new Error(`the workflow uses \${{ ${expression} }}, which this test does not provide`);
    return value;
  });
}

/** The published CLI → the one built from this checkout; every opendeploy call must be one of these. */
function withBuiltCli(script: string): string {
  const local = script.replaceAll('npx --yes opendeploy ', `node ${JSON.stringify(BIN)} `);
  expect(local).not.toMatch(/\bnpx\b|(?<![/\w.-])opendeploy (deploy|triage)/);
  return local;
}

/** GITHUB_OUTPUT lines `name=value` (the example writes no multi-line values). */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const eq = line.indexOf('=');
    outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

function bash(scriptFile: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', scriptFile], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * Runs the deploy job in `checkout`: `uses:` steps are what the runner provides (the checkout is
 * the folder, node is this node); a step without `if:` runs while every step before it succeeded,
 * `if: failure()` only after one failed.
 */
async function runJob(checkout: string, values: Record<string, string>): Promise<JobRun> {
  const job = (await readWorkflow()).jobs.deploy;
  const home = await tempDir('od-ci-home-');
  const runnerTemp = await tempDir('od-ci-runner-');
  const steps: StepRun[] = [];
  const stepOutputs: Record<string, string> = {};
  let failed = false;
  let summary = '';
  for (const [index, step] of job.steps.entries()) {
    const label = step.name ?? step.uses ?? `step ${index}`;
    if (step.uses !== undefined) {
      expect(['actions/checkout@v4', 'actions/setup-node@v4']).toContain(step.uses);
      steps.push({ step: label, ran: true, code: 0, stderr: '', outputs: {}, summary: '' });
      continue;
    }
    const condition = step.if ?? 'success()';
    if (!['success()', 'failure()'].includes(condition)) throw new Error(`the workflow uses if: ${condition}, which this test does not evaluate`);
    if ((condition === 'failure()') !== failed) {
      steps.push({ step: label, ran: false, code: null, stderr: '', outputs: {}, summary: '' });
      continue;
    }
    const script = path.join(runnerTemp, `step-${index}.sh`);
    const outputFile = path.join(runnerTemp, `output-${index}`);
    const summaryFile = path.join(runnerTemp, `summary-${index}`);
    await writeFile(script, withBuiltCli(substitute(step.run!, values)));
    await writeFile(outputFile, '');
    await writeFile(summaryFile, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: runnerTemp,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      // The hosted gateway is the CLI's default; here it is the local one.
      OD_GATEWAY: gw.url,
      OPENDEPLOY_HOME: home,
    };
    for (const [key, value] of Object.entries({ ...job.env, ...step.env })) env[key] = substitute(value, values);
    const { code, stderr } = await bash(script, checkout, env);
    const outputs = parseOutputs(await readFile(outputFile, 'utf8'));
    const stepSummary = await readFile(summaryFile, 'utf8');
    summary += stepSummary;
    if (step.id) for (const [key, value] of Object.entries(outputs)) stepOutputs[`steps.${step.id}.outputs.${key}`] = value;
    if (code !== 0) failed = true;
    steps.push({ step: label, ran: true, code, stderr, outputs, summary: stepSummary });
  }
  // An output no step wrote is the empty string, as on GitHub.
  const unset = Object.fromEntries(job.steps.filter((step) => step.id).map((step) => [`steps.${step.id!}.outputs.url`, '']));
  const outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([key, value]) => [key, substitute(value, { ...values, ...unset, ...stepOutputs })]));
  return { steps, outputs, summary };
}

/** A fresh checkout of the repository: the app's files, no `.opendeploy/`. */
async function checkout(): Promise<string> {
  const dir = await copyFixture('node-http');
  await expect(access(path.join(dir, '.opendeploy'))).rejects.toThrow();
  return dir;
}

function expressions(): Record<string, string> {
  return { 'secrets.OPENDEPLOY_TOKEN': TOKEN, 'vars.OPENDEPLOY_PROJECT': projectId };
}

beforeAll(async () => {
  gw = await startTestGateway();
  // The project exists: a developer deployed it from their machine with the same account.
  const developer = await copyFixture('node-http');
  const run = await runCli(['deploy', '--json'], { cwd: developer, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-dev-home-'), OPENDEPLOY_TOKEN: TOKEN } });
  expect(run.code, run.stderr).toBe(0);
  const result = lastEvent(run)!;
  projectId = String(result.project_id);
  serviceId = String(result.service_id);
  liveUrl = String(result.url);
});

afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('the GitHub Actions example', () => {
  it('is the one the README shows, verbatim', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`yaml\n${await readFile(WORKFLOW_FILE, 'utf8')}\`\`\`\n`);
  });

  it('puts the token secret in the variable the CLI reads (OPENDEPLOY_TOKEN); checkout, setup-node, deploy, explain', async () => {
    const job = (await readWorkflow()).jobs.deploy;
    expect(job.env).toEqual({ OPENDEPLOY_TOKEN: '${{ secrets.OPENDEPLOY_TOKEN }}' });
    expect(job.steps.map((step) => step.uses ?? step.name)).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'Deploy', 'Explain the failure']);
  });

  it('deploys the checkout into the existing project and writes url=<live URL> to GITHUB_OUTPUT', async () => {
    const dir = await checkout();
    const deploymentsBefore = ((await gw.state()).deployments as unknown[]).length;
    const job = await runJob(dir, expressions());
    expect(job.steps.map((step) => [step.step, step.ran, step.code])).toEqual([
      ['actions/checkout@v4', true, 0],
      ['actions/setup-node@v4', true, 0],
      ['Deploy', true, 0],
      ['Explain the failure', false, null],
    ]);
    const deploy = job.steps[2]!;
    // deploy --project linked the checkout first (the runner throws it away afterwards).
    expect(JSON.parse(await readFile(path.join(dir, '.opendeploy', 'project.json'), 'utf8'))).toMatchObject({ project_id: projectId, services: [{ service_id: serviceId }] });
    expect(deploy.outputs).toEqual({ url: liveUrl });
    expect(job.outputs).toEqual({ url: liveUrl });
    expect(job.summary).toBe(`Deployed to ${liveUrl}\n`);
    // One more deployment of the same service; no project or service was created.
    const state = await gw.state();
    expect((state.projects as unknown[]).length).toBe(1);
    expect((state.services as { id: string }[]).map((s) => s.id)).toEqual([serviceId]);
    const rows = state.deployments as { service_id: string; status: string }[];
    expect(rows).toHaveLength(deploymentsBefore + 1);
    expect(rows.at(-1)).toMatchObject({ service_id: serviceId, status: 'success' });
    // The token never reaches the log.
    expect(deploy.stderr).not.toContain(TOKEN);
  });

  it('a build that fails: the step fails, no url output, and the summary carries triage\'s cause, fix and evidence', async () => {
    await gw.nextDeployment({
      outcome: 'failed',
      phase: 'build',
      error_msg: 'Build failed',
      log_lines: ['> tsc -p .', "src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.", 'npm ERR! code ELIFECYCLE'],
    });
    const dir = await checkout();
    const job = await runJob(dir, expressions());
    expect(job.steps.map((step) => [step.step, step.ran, step.code])).toEqual([
      ['actions/checkout@v4', true, 0],
      ['actions/setup-node@v4', true, 0],
      ['Deploy', true, 5],
      ['Explain the failure', true, 0],
    ]);
    expect(job.steps[2]!.outputs).toEqual({});
    expect(job.outputs).toEqual({ url: '' });
    const failedId = ((await gw.state()).deployments as { id: string }[]).at(-1)!.id;
    expect(job.steps[2]!.stderr).toContain(failedId);
    // The next step is triage's sentence as it stands (its wording is triage's own test's business).
    const triage = await runCli(['triage', '--project', projectId, '--json'], { cwd: dir, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: TOKEN } });
    const diagnosis = lastEvent(triage)!;
    expect(diagnosis).toMatchObject({ deployment_id: failedId, cause_id: 'E1' });
    expect(job.summary.split('\n')).toEqual([
      '### The deployment failed',
      '- **Cause:** the build command failed (E1)',
      `- **Fix:** \`opendeploy redeploy --source . --project ${projectId}\``,
      `- **Next step:** ${String(diagnosis.next_action)}`,
      '',
      '```text',
      "src/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      'npm ERR! code ELIFECYCLE',
      '```',
      '',
    ]);
    expect(job.steps[3]!.stderr).not.toContain(TOKEN);
  });

  it('a project variable naming no project: the summary says triage could not run, and why', async () => {
    const dir = await checkout();
    const missing = '00000000-0000-4000-8000-000000000000';
    const job = await runJob(dir, { ...expressions(), 'vars.OPENDEPLOY_PROJECT': missing });
    expect(job.steps.map((step) => [step.step, step.ran, step.code])).toEqual([
      ['actions/checkout@v4', true, 0],
      ['actions/setup-node@v4', true, 0],
      ['Deploy', true, 1],
      ['Explain the failure', true, 0],
    ]);
    expect(job.outputs).toEqual({ url: '' });
    // The line carries triage's own error message, whatever its wording.
    const triage = await runCli(['triage', '--project', missing, '--json'], { cwd: dir, env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: TOKEN } });
    expect(triage.code).toBe(1);
    const message = String(lastEvent(triage)!.message);
    expect(message).toContain(missing);
    expect(job.summary).toBe(['### The deployment failed', `- **Triage could not run:** ${message}`, ''].join('\n'));
  });
});
