/**
 * `opendeploy completion bash|zsh|fish`: the bash script is exercised in a real bash (the same
 * COMP_WORDS/COMP_CWORD protocol bash's `complete -F` uses); zsh and fish, which are not installed
 * here, are checked line by line against the program they are generated from.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { buildProgram } from '../../src/cli/program.js';

let bashFile: string;
let bashScript: string;

const program = await buildProgram(
  { env: {}, cwd: '.', streams: { stdout: { write: () => true }, stderr: { write: () => true } }, stdinIsTTY: false, stderrIsTTY: false },
  () => undefined,
);
const topLevel = program.commands.flatMap((command) => [command.name(), ...command.aliases()]);
const globalFlags = program.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => typeof flag === 'string'));

/** What bash offers for the words typed so far (`line` ends with a space: completing a new word). */
function complete(line: string): string[] {
  const words = line.split(' ');
  const script = `source ${JSON.stringify(bashFile)}
COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')})
COMP_CWORD=${words.length - 1}
_opendeploy_complete
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', cwd: path.dirname(bashFile) });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter((word) => word !== '');
}

beforeAll(async () => {
  const run = await runCli(['completion', 'bash']);
  expect(run.code).toBe(0);
  bashScript = run.stdout;
  const dir = await tempDir('od-completion-');
  bashFile = path.join(dir, 'opendeploy.bash');
  await writeFile(bashFile, bashScript);
  await writeFile(path.join(dir, 'server.js'), '');
});

afterAll(async () => {
  await cleanupTempDirs();
});

describe('opendeploy completion bash', () => {
  it('completes command names, subcommands and aliases', () => {
    expect(complete('opendeploy ')).toEqual(topLevel);
    expect(complete('opendeploy st')).toEqual(['status']);
    expect(complete('opendeploy lo')).toEqual(['local-gateway', 'logs', 'login', 'logout']);
    expect(complete('opendeploy env ')).toEqual(['list', 'get', 'set', 'unset', 'rotate', 'pull']);
    expect(complete('opendeploy env s')).toEqual(['set']);
    expect(complete('opendeploy domain ')).toEqual(['check', 'rename']);
    expect(complete('opendeploy completion ')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('skips global options and their values to find the command', () => {
    expect(complete('opendeploy --json env l')).toEqual(['list']);
    expect(complete('opendeploy --project prj-1 --service web env u')).toEqual(['unset']);
    expect(complete('opendeploy --gateway=http://x st')).toEqual(['status']);
  });

  it('completes the options of the command and the global ones', () => {
    expect(complete('opendeploy deploy --f')).toEqual(['--force', '--foreground']);
    expect(complete('opendeploy logs --tail 5 --f')).toEqual(['--follow']);
    expect(complete('opendeploy ls --l')).toEqual(['--limit', '--local']);
    expect(complete('opendeploy link --')).toEqual(['--data-dir', ...globalFlags.filter((flag) => flag.startsWith('--'))]);
    expect(complete('opendeploy --')).toEqual(globalFlags.filter((flag) => flag.startsWith('--')));
  });

  it('a command without subcommands completes file names (its path argument)', () => {
    expect(complete('opendeploy deploy ser')).toEqual(['server.js']);
  });

  it('registers the function for the opendeploy command; --json wraps the same script in a result', async () => {
    expect(bashScript.endsWith('complete -o default -F _opendeploy_complete opendeploy\n')).toBe(true);
    const run = await runCli(['completion', 'bash', '--json']);
    expect(run.code).toBe(0);
    expect(run.events).toEqual([{ type: 'result', shell: 'bash', script: bashScript }]);
  });

  it('an unknown shell is a usage error', async () => {
    const run = await runCli(['completion', 'tcsh', '--json']);
    expect(run.code).toBe(2);
    expect(run.events.at(-1)).toMatchObject({ type: 'error', error_code: 'invalid_input' });
  });
});

describe('opendeploy completion zsh and fish', () => {
  it('zsh: a #compdef file that loads the same completion through bashcompinit', async () => {
    const run = await runCli(['completion', 'zsh']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('#compdef opendeploy');
    expect(lines).toContain('autoload -U +X bashcompinit && bashcompinit');
    const body = bashScript
      .split('\n')
      .filter((line) => !line.startsWith('# '))
      .join('\n');
    expect(run.stdout.endsWith(body)).toBe(true);
  });

  it('fish: one complete line per word, subcommands only after their parent', async () => {
    const run = await runCli(['completion', 'fish']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const env = program.commands.find((command) => command.name() === 'env')!;
    const set = env.commands.find((command) => command.name() === 'set')!;
    expect(lines.slice(0, 2)).toEqual(['# opendeploy completion for fish (generated by `opendeploy completion fish`).', 'complete -c opendeploy -f']);
    expect(lines).toContain(`complete -c opendeploy -n '__fish_use_subcommand' -a status -d 'the linked project: services, databases, latest deployment, URL and claim state'`);
    expect(lines).toContain(`complete -c opendeploy -n '__fish_use_subcommand' -a ls -d ${quote(program.commands.find((c) => c.name() === 'deployments')!.description())}`);
    expect(lines).toContain(
      `complete -c opendeploy -n '__fish_seen_subcommand_from env; and not __fish_seen_subcommand_from list get set unset rotate pull' -a set -d ${quote(set.description())}`,
    );
    expect(lines).toContain(`complete -c opendeploy -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
    expect(lines).toContain(`complete -c opendeploy -n '__fish_seen_subcommand_from logs' -l follow -s f -d ${quote(flagDescription('logs', '--follow'))}`);
    expect(lines).toContain(`complete -c opendeploy -l gateway -r -d ${quote(flagDescription(null, '--gateway'))}`);
    expect(lines).toContain(`complete -c opendeploy -l yes -s y -d ${quote(flagDescription(null, '--yes'))}`);
  });
});

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function flagDescription(command: string | null, flag: string): string {
  const owner = command === null ? program : program.commands.find((c) => c.name() === command)!;
  return owner.options.find((option) => option.long === flag)!.description;
}
