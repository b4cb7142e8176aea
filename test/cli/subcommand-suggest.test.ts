/**
 * A mistyped subcommand of a command group (env, db, domain, auth) is a usage error that names the
 * group and suggests the closest subcommand, even where the group has a default subcommand that
 * would otherwise take the typo as its argument (`env lsit` was "Too many arguments for 'list'").
 * Only the subcommand's position is checked: the subcommands' own arguments are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { unknownSubcommand } from '../../src/cli/suggest.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

let work: string;
let home: string;

beforeAll(async () => {
  work = await tempDir('od-subcommand-');
  home = await tempDir('od-home-');
});

afterAll(async () => {
  await cleanupTempDirs();
});

// Port 9 (discard) on loopback: a run that got as far as the network would fail there, never hang.
const run = (args: string[]): Promise<CliRun> => runCli([...args, '--no-color'], { cwd: work, env: { OPENDEPLOY_HOME: home, OD_GATEWAY: 'http://127.0.0.1:9/api' } });

describe('a mistyped subcommand', () => {
  const cases: [string[], string, string][] = [
    [['env', 'lsit'], 'env lsit', 'env list'],
    [['env', 'rotat', 'KEY'], 'env rotat', 'env rotate'],
    [['db', 'ad', 'postgres'], 'db ad', 'db add'],
    [['domain', 'chek', 'my-app'], 'domain chek', 'domain check'],
    [['auth', 'stauts'], 'auth stauts', 'auth status'],
    // Global options and their values before and between the words are skipped.
    [['--env', 'staging', 'env', '--project', 'p1', 'gte', 'KEY'], 'env gte', 'env get'],
  ];
  for (const [args, typed, meant] of cases) {
    it(`${args.join(' ')}: "Unknown command ${typed}", did you mean ${meant}, exit 2`, async () => {
      const human = await run(args);
      expect(human.code).toBe(2);
      expect(human.stdout).toBe('');
      expect(human.stderr).toBe(`✖ Unknown command \`${typed}\`.\n  → Did you mean \`opendeploy ${meant}\`?\n`);

      const json = await run([...args, '--json']);
      expect(json.code).toBe(2);
      expect(json.stderr).toBe('');
      expect(JSON.parse(json.stdout)).toEqual({
        type: 'error',
        error_code: 'invalid_input',
        message: `Unknown command \`${typed}\`.`,
        retryable: false,
        next_action: `Did you mean \`opendeploy ${meant}\`?`,
      });
    });
  }

  it('a word close to no subcommand lists the subcommands', async () => {
    const env = await run(['env', 'frobnicate']);
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('✖ Unknown command `env frobnicate`.\n  → `opendeploy env` has the subcommands list, get, set, unset, rotate, pull; run `opendeploy env --help` for usage.\n');
    const auth = await run(['auth', 'xyz', '--json']);
    expect(auth.code).toBe(2);
    expect(JSON.parse(auth.stdout)).toMatchObject({ error_code: 'invalid_input', message: 'Unknown command `auth xyz`.', next_action: '`opendeploy auth` has the subcommands status; run `opendeploy auth --help` for usage.' });
  });
});

describe('what is not a subcommand position is left alone', () => {
  it('unknownSubcommand looks at the word after the group only', async () => {
    const io = { env: {}, cwd: work, streams: { stdout: { write: () => true }, stderr: { write: () => true } }, stdinIsTTY: false, stderrIsTTY: false };
    const program = await buildProgram(io, () => undefined);
    const ok: string[][] = [
      ['env'],
      ['env', 'list'],
      ['env', 'set', 'lsit'],
      ['env', 'set', 'KEY'],
      ['env', 'set', 'KEY=value', 'OTHER=1'],
      ['env', 'get', 'lsit'],
      ['env', 'unset', 'LIST'],
      ['env', 'pull', 'lsit.env'],
      ['env', '--data-dir', 'lsit', 'list'],
      ['env', 'help', 'set'],
      ['db', 'add', 'postgre'],
      ['domain', 'rename', 'chek'],
      ['auth'],
      ['auth', 'status'],
      ['--project', 'env', 'status'],
      ['status', 'lsit'],
      ['env', '--', 'lsit'],
    ];
    for (const argv of ok) expect(unknownSubcommand(argv, program), argv.join(' ')).toBeUndefined();
    expect(unknownSubcommand(['env', 'lsit'], program)).toEqual({
      group: 'env',
      operand: 'lsit',
      suggestion: 'list',
      subcommands: ['list', 'get', 'set', 'unset', 'rotate', 'pull'],
    });
  });

  it('env set KEY=VALUE, env get and a --data-dir value reach the command (which here finds no linked project)', async () => {
    for (const args of [['env', 'set', 'LSIT=1'], ['env', 'get', 'lsit'], ['env', '--data-dir', 'lsit', 'list'], ['env', 'list']]) {
      const result = await run([...args, '--json']);
      expect(result.code, args.join(' ')).toBe(2);
      expect(JSON.parse(result.stdout), args.join(' ')).toMatchObject({ error_code: 'invalid_input', message: `No project is linked to ${work}.` });
    }
  });
});
