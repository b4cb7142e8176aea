import type { Command } from 'commander';
import { Command as CommandClass, Help, Option } from './commander.js';
import { COMMAND_TABLE, commandModules, loadRegister } from './command-table.js';

export { CommanderError } from './commander.js';
import { VERSION } from '../core/version.js';
import type { RunIo } from './io.js';
import type { Wiring } from './lazy.js';

/** Global options that take a value: skipped when looking for the command a line addresses. */
const GLOBAL_VALUE_OPTIONS = new Set(['--gateway', '--auth-file', '--env', '--project', '--service']);

/**
 * The command module a command line addresses: the one registering its first operand (after
 * `help`), the default command's (`deploy`) when the first operand is a path or missing, and none for
 * the top-level help.
 */
export function addressedModule(argv: string[]): string | undefined {
  const operands: string[] = [];
  for (let index = 0; index < argv.length && operands.length < 2; index += 1) {
    const arg = argv[index]!;
    if (arg === '--') break;
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.includes('=') && GLOBAL_VALUE_OPTIONS.has(arg)) index += 1;
      continue;
    }
    operands.push(arg);
  }
  const asksHelp = argv.includes('--help') || argv.includes('-h') || operands[0] === 'help';
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  if (name === undefined) return asksHelp ? undefined : 'deploy';
  return COMMAND_TABLE.find((entry) => entry.name === name || entry.aliases?.includes(name))?.module ?? 'deploy';
}

/**
 * Commander wiring only. Every command is metadata plus a handler module imported when it runs; on
 * top of that, given the command line, only the metadata module it addresses is loaded and every
 * other command is a stub with its name and help line (from the command table). Without `argv`
 * (tests, completion scripts) every command is registered in full.
 */
export async function buildProgram(
  runIo: RunIo,
  setExit: (code: number) => void,
  output: { json?: boolean } = {},
  argv?: string[],
): Promise<Command> {
  const wiring: Wiring = { io: () => runIo, setExit, fullProgram: () => buildProgram(runIo, () => undefined, output) };
  const program = new CommandClass();
  // Before any command is added, so every subcommand inherits it: usage errors are reported through
  // the one JSON-aware error path in main(), never as raw text on stderr. What commander still writes
  // to stderr is the help of a command group called without its subcommand (`opendeploy db`): a
  // person sees it; a --json run gets the usage error alone.
  program.configureOutput({
    writeOut: (text) => runIo.streams.stdout.write(text),
    writeErr: (text) => (output.json ? undefined : runIo.streams.stderr.write(text)),
    outputError: () => undefined,
  });
  program
    .name('opendeploy')
    .description('Deploy any project folder to a live URL.')
    .version(VERSION, '-v, --version')
    .option('--json', 'machine output: NDJSON events and a final result on stdout')
    .option('-y, --yes', 'assume yes to confirmations (and allow creating a credential when non-interactive)')
    .option('--gateway <url>', 'gateway base URL, e.g. https://host/api; a bare origin means <origin>/api (env: OD_GATEWAY)')
    .option('--auth-file <path>', 'credential file instead of ~/.opendeploy/auth.json (env: OPDEPLOY_AUTH_FILE)')
    .addOption(new Option('--env <environment>', 'production (default) or staging (env: OD_ENVIRONMENT)'))
    .option('--project <id>', 'project id (instead of .opendeploy/project.json)')
    .option('--service <id>', 'service id (when a project has several)')
    .option('-q, --quiet', 'only print the result and errors')
    .option('--verbose', 'print HTTP requests and stack traces on errors')
    .option('--no-color', 'disable colour')
    .option('--local', 'use the embedded local gateway instead of the hosted one')
    .showHelpAfterError(false)
    .exitOverride();
  const addressed = argv === undefined ? undefined : addressedModule(argv);
  const stubTerms = new Map<Command, string>();
  for (const module of commandModules()) {
    if (argv === undefined || module === addressed) {
      (await loadRegister(module))(program, wiring);
      continue;
    }
    for (const entry of COMMAND_TABLE.filter((candidate) => candidate.module === module)) {
      const stub = program.command(entry.name).description(entry.summary);
      for (const alias of entry.aliases ?? []) stub.alias(alias);
      stubTerms.set(stub, entry.term);
    }
  }
  // A stub has no options or arguments of its own: the help lists it with the table's term.
  const plain = new Help();
  program.configureHelp({ subcommandTerm: (command) => stubTerms.get(command) ?? plain.subcommandTerm(command) });
  return program;
}
