import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { OdError } from '../../src/core/errors.js';
import { confirmAction } from '../../src/core/consent.js';
import { askChoice, mayPrompt, mustFailFast, type ExecutionContext, type Prompter } from '../../src/core/session.js';
import { createPrompter } from '../../src/cli/prompt.js';
import { TransferMeters } from '../../src/cli/output/progress.js';
import { runHandler, type RunIo } from '../../src/cli/run.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function exec(facts: Partial<ExecutionContext>): ExecutionContext {
  return { json: false, yes: false, quiet: false, verbose: false, color: false, interactive: false, spinner: false, ci: false, agent: false, env: {}, cwd: '/', ...facts };
}

/** A prompter that answers from a list and records every question. */
function scripted(answers: string[]): Prompter & { questions: string[] } {
  const questions: string[] = [];
  return {
    questions,
    ask: async (question) => {
      questions.push(question);
      return answers.shift() ?? '';
    },
    askHidden: async (question) => {
      questions.push(question);
      return answers.shift() ?? '';
    },
  };
}

function capture(): { write(chunk: string): boolean; text: () => string } {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    text: () => text,
  };
}

describe('may I prompt', () => {
  const cases: [string, Partial<ExecutionContext>, boolean][] = [
    ['a person at a terminal', { interactive: true }, true],
    ['a person at a terminal asking for JSON', { interactive: true, json: true }, false],
    ['CI or piped stdin (not interactive)', { interactive: false }, false],
    ['not interactive, JSON', { interactive: false, json: true }, false],
  ];
  it.each(cases)('%s', (_name, facts, expected) => {
    expect(mayPrompt(exec(facts))).toBe(expected);
  });

  const failFast: [string, Partial<ExecutionContext>, boolean][] = [
    ['a person can answer', { interactive: true }, false],
    ['nobody can answer', { interactive: false }, true],
    ['nobody can answer, but --yes answered', { interactive: false, yes: true }, false],
    ['JSON at a terminal', { interactive: true, json: true }, true],
  ];
  it.each(failFast)('must fail fast: %s', (_name, facts, expected) => {
    expect(mustFailFast(exec(facts))).toBe(expected);
  });
});

describe('the terminal prompter', () => {
  it('writes the question to the run stderr and reads the trimmed answer from the injected stdin', async () => {
    const stdin = new PassThrough();
    const stderr = capture();
    const prompter = createPrompter(stdin, stderr);
    const answer = prompter.ask('Which service? ');
    stdin.write('  web  \n');
    expect(await answer).toBe('web');
    expect(stderr.text()).toBe('Which service? ');
  });

  it('a numbered choice returns the index, or undefined for an answer out of range', async () => {
    expect(await askChoice(scripted(['2']), 'Which service?', ['web', 'worker'])).toBe(1);
    expect(await askChoice(scripted(['3']), 'Which service?', ['web', 'worker'])).toBeUndefined();
    const prompter = scripted(['']);
    expect(await askChoice(prompter, 'Which service?', ['web', 'worker'])).toBeUndefined();
    expect(prompter.questions).toEqual(['Which service?\n  1) web\n  2) worker\n> ']);
  });
});

describe('the consent gate', () => {
  const request = { action: 'Replace all 2 variables of service web', changes: ['A', 'B'], resumeCommand: 'opendeploy env set --yes' };

  it('--yes passes without a question', async () => {
    const prompter = scripted([]);
    await confirmAction({ exec: exec({ yes: true, interactive: true }), prompter }, request);
    expect(prompter.questions).toEqual([]);
  });

  it('a person who answers y agrees; the question names the changes', async () => {
    const prompter = scripted(['y']);
    await confirmAction({ exec: exec({ interactive: true }), prompter }, request);
    expect(prompter.questions).toEqual(['Replace all 2 variables of service web (A, B). Continue? [y/N] ']);
  });

  it('a person who answers anything else changes nothing', async () => {
    const error = await confirmAction({ exec: exec({ interactive: true }), prompter: scripted(['no']) }, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdError);
    expect((error as OdError).code).toBe('consent_required');
    expect((error as OdError).message).toBe('Not confirmed, so nothing was changed.');
    expect((error as OdError).nextAction).toBe('Run `opendeploy env set --yes` to do it without the question.');
    expect((error as OdError).details).toEqual({ changes: ['A', 'B'], resume_command: 'opendeploy env set --yes' });
  });

  it('a run nobody can answer gets consent_required with the exact command, and is never asked', async () => {
    const prompter = scripted(['y']);
    const error = await confirmAction({ exec: exec({ interactive: true, json: true }), prompter }, request).catch((e: unknown) => e);
    expect(prompter.questions).toEqual([]);
    expect((error as OdError).code).toBe('consent_required');
    expect((error as OdError).message).toBe('Replace all 2 variables of service web needs confirmation, and this run cannot ask for it.');
    expect((error as OdError).nextAction).toBe('Review the changes, then run: opendeploy env set --yes');
    expect((error as OdError).details).toEqual({ changes: ['A', 'B'], resume_command: 'opendeploy env set --yes', values_redacted: true });
  });
});

describe('byte progress metered by the reporter', () => {
  it('one meter per stage; a new total starts a fresh one', () => {
    let now = 0;
    const meters = new TransferMeters(() => now);
    expect(meters.update('upload', 'Uploading', 0, 2048)).toEqual({
      text: 'Uploading 0 B / 2.0 KiB (0%)',
      fields: { sent: 0, total: 2048, percent: 0, rate: 0 },
    });
    now = 1000;
    expect(meters.update('upload', 'Uploading', 1024, 2048)).toEqual({
      text: 'Uploading 1.0 KiB / 2.0 KiB (50%) · 1.0 KiB/s · 1s left',
      fields: { sent: 1024, total: 2048, percent: 50, rate: 1024, eta_s: 1 },
    });
    // Another transfer in the same stage: its rate does not inherit the first one's samples.
    now = 2000;
    expect(meters.update('upload', 'Uploading', 100, 4096)).toEqual({
      text: 'Uploading 100 B / 4.0 KiB (2%)',
      fields: { sent: 100, total: 4096, percent: 2, rate: 0 },
    });
  });
});

describe('runHandler: the one place errors become exit codes and failure audit lines', () => {
  async function io(): Promise<{ io: RunIo; home: string; stderr: ReturnType<typeof capture> }> {
    const home = await mkdtemp(path.join(os.tmpdir(), 'od-session-'));
    dirs.push(home);
    const stderr = capture();
    return {
      home,
      stderr,
      io: { env: { OPENDEPLOY_HOME: home }, cwd: home, streams: { stdout: capture(), stderr }, stdin: new PassThrough(), stdinIsTTY: false, stderrIsTTY: false },
    };
  }

  async function auditLines(home: string): Promise<Record<string, unknown>[]> {
    const files = await readdir(path.join(home, 'logs')).catch(() => []);
    const lines: Record<string, unknown>[] = [];
    for (const file of files) {
      for (const line of (await readFile(path.join(home, 'logs', file), 'utf8')).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    return lines;
  }

  it('writes the failure line the handler asked for, with the error code, message and status', async () => {
    const run = await io();
    const code = await runHandler({}, run.io, async ({ session }) => {
      session.failureAudit = { step: 'deploy.rollback', fields: { project_id: 'p1' }, include: ['message', 'status'] };
      throw new OdError('server_error', 'The gateway answered 503.', { status: 503, retryable: true });
    });
    expect(code).toBe(1);
    const lines = await auditLines(run.home);
    expect(lines.map(({ ts: _ts, ...rest }) => rest)).toEqual([
      { level: 'error', step: 'deploy.rollback', project_id: 'p1', error_code: 'server_error', message: 'The gateway answered 503.', status: 503 },
    ]);
    expect(String(lines[0]!.ts)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(run.stderr.text()).toBe('✖ The gateway answered 503.\n');
  });

  it('only the fields asked for: no message or status unless listed', async () => {
    const run = await io();
    await runHandler({}, run.io, async ({ session }) => {
      session.failureAudit = { step: 'redeploy', fields: { project_id: 'p1', service_id: 's1' }, include: [] };
      throw new OdError('deploy_failed', 'The build failed.', { status: 200 });
    });
    expect((await auditLines(run.home)).map(({ ts: _ts, ...rest }) => rest)).toEqual([
      { level: 'error', step: 'redeploy', project_id: 'p1', service_id: 's1', error_code: 'deploy_failed' },
    ]);
  });

  it('no line for a failure before the handler knew what it acts on, or for a success; nothing is even created', async () => {
    const failed = await io();
    expect(
      await runHandler({}, failed.io, async () => {
        throw new OdError('invalid_input', 'No project is linked.');
      }),
    ).toBe(2);
    const succeeded = await io();
    expect(
      await runHandler({}, succeeded.io, async ({ session }) => {
        session.failureAudit = { step: 'redeploy', fields: {}, include: [] };
        session.failureAudit = undefined;
        return 0;
      }),
    ).toBe(0);
    await expect(readdir(path.join(failed.home, 'logs'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readdir(path.join(succeeded.home, 'logs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
