import { describe, expect, it } from 'vitest';
import { buildExecutionContext, colorEnabled } from '../../src/core/session.js';
import { resolveEnvironment, pollIntervalFor } from '../../src/ops/connect.js';
import { OdError } from '../../src/core/errors.js';

describe('execution context: may we prompt, animate, or must we fail fast?', () => {
  const cases: [string, Record<string, string>, { stdinIsTTY: boolean; stderrIsTTY: boolean }, { interactive: boolean; spinner: boolean; ci: boolean; agent: boolean }][] = [
    ['person at a terminal', {}, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: true, spinner: true, ci: false, agent: false }],
    ['CI=true with a TTY', { CI: 'true' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: false, spinner: false, ci: true, agent: false }],
    ['CI=false is not CI', { CI: 'false' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: true, spinner: true, ci: false, agent: false }],
    ['CI=0 is not CI', { CI: '0' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: true, spinner: true, ci: false, agent: false }],
    ['piped stdin (agent)', {}, { stdinIsTTY: false, stderrIsTTY: true }, { interactive: false, spinner: true, ci: false, agent: true }],
    ['no TTY at all', {}, { stdinIsTTY: false, stderrIsTTY: false }, { interactive: false, spinner: false, ci: false, agent: true }],
    ['CI without a TTY is CI, not an agent', { CI: 'true' }, { stdinIsTTY: false, stderrIsTTY: false }, { interactive: false, spinner: false, ci: true, agent: false }],
    ['Claude Code at a real terminal is an agent', { CLAUDECODE: '1' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: false, spinner: false, ci: false, agent: true }],
    ['AI_AGENT names any agent', { AI_AGENT: 'my-bot@2' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: false, spinner: false, ci: false, agent: true }],
    ['Cursor agent', { CURSOR_AGENT: '1' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: false, spinner: false, ci: false, agent: true }],
    ['Codex sandbox', { CODEX_SANDBOX: 'seatbelt' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: false, spinner: false, ci: false, agent: true }],
    ['CLAUDECODE=0 is no agent', { CLAUDECODE: '0' }, { stdinIsTTY: true, stderrIsTTY: true }, { interactive: true, spinner: true, ci: false, agent: false }],
  ];
  for (const [name, env, terminal, expected] of cases) {
    it(name, () => {
      const ctx = buildExecutionContext({}, env, terminal, '/tmp');
      expect({ interactive: ctx.interactive, spinner: ctx.spinner, ci: ctx.ci, agent: ctx.agent }).toEqual(expected);
    });
  }

  it('asking for JSON at a terminal is an agent run', () => {
    expect(buildExecutionContext({ json: true }, {}, { stdinIsTTY: true, stderrIsTTY: true }, '/').agent).toBe(true);
  });

  it('never animates in JSON or quiet mode', () => {
    expect(buildExecutionContext({ json: true }, {}, { stdinIsTTY: true, stderrIsTTY: true }, '/').spinner).toBe(false);
    expect(buildExecutionContext({ quiet: true }, {}, { stdinIsTTY: true, stderrIsTTY: true }, '/').spinner).toBe(false);
  });

  it('colour follows --no-color, NO_COLOR, FORCE_COLOR, then the TTY', () => {
    expect(colorEnabled({ color: false }, { FORCE_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled({}, { NO_COLOR: '1' }, true)).toBe(false);
    expect(colorEnabled({}, { FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colorEnabled({}, { FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colorEnabled({}, {}, true)).toBe(true);
    expect(colorEnabled({}, {}, false)).toBe(false);
  });
});

describe('environment selection', () => {
  it('flag > OD_ENVIRONMENT > linked > production', () => {
    expect(resolveEnvironment('staging', { OD_ENVIRONMENT: 'production' }, 'production')).toBe('staging');
    expect(resolveEnvironment(undefined, { OD_ENVIRONMENT: 'staging' }, 'production')).toBe('staging');
    expect(resolveEnvironment(undefined, {}, 'staging')).toBe('staging');
    expect(resolveEnvironment(undefined, {}, undefined)).toBe('production');
  });

  it('rejects anything else with invalid_input naming the source', () => {
    const fromFlag = (() => {
      try {
        resolveEnvironment('prod', {}, undefined);
      } catch (error) {
        return error as OdError;
      }
      return undefined;
    })();
    expect(fromFlag?.code).toBe('invalid_input');
    expect(fromFlag?.message).toBe('--env is "prod", but only "production" and "staging" exist.');
    expect(fromFlag?.exitCode).toBe(2);
  });

  it('polls the embedded gateway fast and the hosted one gently', () => {
    expect(pollIntervalFor('http://127.0.0.1:4000/api')).toBe(250);
    expect(pollIntervalFor('https://dashboard.dev.opendeploy.dev/api')).toBe(2000);
    expect(pollIntervalFor(undefined)).toBe(2000);
  });
});

describe('agent harnesses', () => {
  it('names the agent from the variables harnesses set, and nothing otherwise', async () => {
    const { agentHarness } = await import('../../src/core/session.js');
    expect(agentHarness({ AI_AGENT: ' devin@1 ' })).toBe('devin@1');
    expect(agentHarness({ CLAUDECODE: '1' })).toBe('claude-code');
    expect(agentHarness({ CURSOR_AGENT: '1' })).toBe('cursor');
    expect(agentHarness({ GEMINI_CLI: '1' })).toBe('gemini-cli');
    expect(agentHarness({ CODEX_THREAD_ID: 'abc' })).toBe('codex');
    expect(agentHarness({ CLAUDECODE: 'false', AI_AGENT: '' })).toBeUndefined();
    expect(agentHarness({})).toBeUndefined();
  });
});
