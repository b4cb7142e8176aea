import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_TABLE } from '../../src/cli/command-table.js';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../helpers/cli.js';

/**
 * Every command's `--help` (and every subcommand's) ends with examples and names the global options
 * the command acts on, each one a real option of the program; a command group called without its
 * subcommand shows its help with a usage error (exit 2); a mistyped command gets a suggestion.
 */

const io = { env: {}, cwd: process.cwd(), streams: { stdout: { write: () => true }, stderr: { write: () => true } }, stdinIsTTY: false, stderrIsTTY: false };

/** Every command path: each table entry, then the subcommands of the groups (db add, env set, …). */
async function commandPaths(): Promise<string[][]> {
  const program = await buildProgram(io, () => undefined);
  const paths: string[][] = [];
  for (const entry of COMMAND_TABLE) {
    paths.push([entry.name]);
    const command = program.commands.find((candidate) => candidate.name() === entry.name) as Command;
    for (const sub of command.commands) if (sub.name() !== 'help') paths.push([entry.name, sub.name()]);
  }
  return paths;
}

async function globalLongFlags(): Promise<Set<string>> {
  const program = await buildProgram(io, () => undefined);
  return new Set(program.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => typeof flag === 'string')));
}

/** The global options a help names: the lines under its "Global options it honours" heading. */
function honoured(help: string): string[] {
  const start = help.indexOf('Global options it honours');
  expect(start, help).toBeGreaterThan(-1);
  const heading = help.slice(start).split('\n')[0]!;
  if (heading === 'Global options it honours: none.') return [];
  expect(heading).toBe('Global options it honours (see `opendeploy --help`):');
  const block: string[] = [];
  for (const line of help.slice(start).split('\n').slice(1)) {
    if (!line.startsWith('  ')) break;
    block.push(line.trim());
  }
  return block.join(' ').match(/-{1,2}[a-z][a-z-]*/g) ?? [];
}

describe('--help of every command', () => {
  it('covers every command of the table and every subcommand', async () => {
    const paths = (await commandPaths()).map((path) => path.join(' '));
    expect(paths).toEqual(expect.arrayContaining(['deploy', 'db add', 'domain check', 'domain rename', 'env list', 'env set', 'env pull', 'auth status', 'unlink', 'whoami', 'completion']));
  });

  it('has an Examples block of opendeploy commands and names the global options it honours', async () => {
    const flags = await globalLongFlags();
    for (const path of await commandPaths()) {
      const run = await runCli([...path, '--help']);
      const name = path.join(' ');
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toMatch(/\nExamples:\n(  \$ .*opendeploy.*\n)+/);
      for (const flag of honoured(run.stdout)) expect(flags.has(flag), `${name}: ${flag}`).toBe(true);
    }
  });

  it('names exactly the global options each kind of command acts on', async () => {
    const expectations: [string[], string[]][] = [
      [['status'], ['--project', '--service', '--env', '--gateway', '--auth-file', '--local', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['rollback'], ['--project', '--service', '--env', '--gateway', '--auth-file', '--local', '--yes', '-y', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['env', 'list'], ['--project', '--service', '--env', '--gateway', '--auth-file', '--local', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['env', 'unset'], ['--project', '--service', '--env', '--gateway', '--auth-file', '--local', '--yes', '-y', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['deploy'], ['--project', '--env', '--gateway', '--auth-file', '--local', '--yes', '-y', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['analyze'], ['--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['plan'], ['--env', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['unlink'], ['--yes', '-y', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['logout'], ['--auth-file', '--yes', '-y', '--json', '--quiet', '-q', '--verbose', '--no-color']],
      [['mcp'], ['--project', '--service', '--env', '--gateway', '--auth-file', '--local']],
      [['completion'], []],
    ];
    for (const [path, expected] of expectations) {
      const run = await runCli([...path, '--help']);
      expect(honoured(run.stdout), path.join(' ')).toEqual(expected);
    }
  });

  it('status --help, whole', async () => {
    const run = await runCli(['status', '--help']);
    expect(run.stdout).toBe(
      [
        'Usage: opendeploy status [options]',
        '',
        'the linked project: services, databases, latest deployment, URL and claim state',
        '',
        'Options:',
        '  --data-dir <dir>  with --local: where the embedded gateway keeps its state',
        '  -h, --help        display help for command',
        '',
        'Global options it honours (see `opendeploy --help`):',
        '  --project <id>, --service <id>, --env <environment>, --gateway <url>, --auth-file <path>,',
        '  --local, --json, --quiet (-q), --verbose, --no-color',
        '',
        'Examples:',
        '  $ opendeploy status',
        '  $ opendeploy status --project <id> --json',
        '',
        '',
      ].join('\n'),
    );
  });
});

describe('command groups and typos', () => {
  for (const [group, subcommands] of [
    ['db', 'add'],
    ['domain', 'check, rename'],
  ] as const) {
    it(`\`opendeploy ${group}\` alone shows its help and a usage error, exit 2`, async () => {
      const run = await runCli([group, '--no-color']);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`Usage: opendeploy ${group} [options] [command]`);
      expect(run.stderr).toMatch(/\nExamples:\n/);
      expect(run.stderr.endsWith(`✖ \`opendeploy ${group}\` needs a subcommand: ${subcommands}.\n  → Run \`opendeploy ${group} --help\` for usage.\n`)).toBe(true);
    });
  }

  it('a mistyped command: "did you mean", exit 2', async () => {
    const run = await runCli(['stauts', '--no-color']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('✖ "stauts" is neither a command nor a folder here.\n  → Did you mean `opendeploy status`? To deploy a folder, pass its path (./stauts).\n');
  });

  it('a mistyped subcommand: "did you mean", exit 2', async () => {
    const run = await runCli(['domain', 'chek', 'my-app', '--no-color']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('✖ Unknown command `domain chek`.\n  → Did you mean `opendeploy domain check`?\n');
  });
});
