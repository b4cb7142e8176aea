/**
 * The command table is what `--help` shows for every command the command line does not address, so
 * it must say exactly what the command modules register: same commands in the same order, same help
 * term (name, alias, `[options]`, arguments), same summary.
 */
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { addressedModule, buildProgram } from '../../src/cli/program.js';
import { COMMAND_TABLE } from '../../src/cli/command-table.js';

const io = { env: {}, cwd: process.cwd(), streams: { stdout: { write: () => true }, stderr: { write: () => true } }, stdinIsTTY: false, stderrIsTTY: false };

describe('the command table', () => {
  it('lists every top-level command the modules register, in order, with their help line', async () => {
    const program = await buildProgram(io, () => undefined);
    const help = new Help();
    const registered = program.commands.map((command) => ({ name: command.name(), term: help.subcommandTerm(command), summary: command.description(), aliases: command.aliases() }));
    expect(registered).toEqual(COMMAND_TABLE.map((entry) => ({ name: entry.name, term: entry.term, summary: entry.summary, aliases: entry.aliases ?? [] })));
  });

  it('top-level help is the same whether the commands are stubs or registered in full', async () => {
    const render = async (argv: string[] | undefined): Promise<string> => {
      const program = await buildProgram(io, () => undefined, {}, argv);
      return program.helpInformation();
    };
    expect(await render(['--help'])).toBe(await render(undefined));
  });

  it('finds the module a command line addresses', () => {
    expect(addressedModule(['--help'])).toBeUndefined();
    expect(addressedModule(['help'])).toBeUndefined();
    expect(addressedModule([])).toBe('deploy');
    expect(addressedModule(['--json', '--name', 'shop'])).toBe('deploy');
    expect(addressedModule(['./api', '--subdomain', 'x'])).toBe('deploy');
    expect(addressedModule(['stauts'])).toBe('deploy');
    expect(addressedModule(['--project', 'p1', 'env', 'set', 'A=1'])).toBe('env');
    expect(addressedModule(['--env=staging', 'ls', '--limit', '2'])).toBe('deployments');
    expect(addressedModule(['help', 'whoami'])).toBe('auth-login');
    expect(addressedModule(['unlink', '--yes'])).toBe('link');
    expect(addressedModule(['--gateway', 'status', 'logs'])).toBe('logs');
  });
});
