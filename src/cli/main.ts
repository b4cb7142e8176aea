import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../core/version.js';
import { OdError } from '../core/errors.js';
import { defaultIo, runHandler, type RunIo } from './run.js';
import { registerDeploy } from './commands/deploy.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerLocalGateway } from './commands/local-gateway.js';
import { registerRollback } from './commands/rollback.js';
import { registerCancel } from './commands/cancel.js';
import { registerLogs } from './commands/logs.js';
import { registerStatus } from './commands/status.js';
import { registerTriage } from './commands/triage.js';
import { registerRedeploy } from './commands/redeploy.js';
import { registerResize } from './commands/resize.js';
import { registerDb } from './commands/db.js';
import { registerDomain } from './commands/domain.js';
import { registerEnv } from './commands/env.js';
import { registerAuth } from './commands/auth.js';

/** Commander wiring only: every command is metadata plus a handler that returns an exit code. */
export function buildProgram(runIo: RunIo, setExit: (code: number) => void): Command {
  const io = (): RunIo => runIo;
  const program = new Command();
  // Before any command is added, so every subcommand inherits it: usage errors are reported through
  // the one JSON-aware error path in main(), never as raw text on stderr.
  program.configureOutput({
    writeOut: (text) => runIo.streams.stdout.write(text),
    writeErr: () => undefined,
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
  registerDeploy(program, io, setExit);
  registerAnalyze(program, io, setExit);
  registerLocalGateway(program, io, setExit);
  registerRollback(program, io, setExit);
  registerCancel(program, io, setExit);
  registerLogs(program, io, setExit);
  registerStatus(program, io, setExit);
  registerTriage(program, io, setExit);
  registerRedeploy(program, io, setExit);
  registerResize(program, io, setExit);
  registerDb(program, io, setExit);
  registerDomain(program, io, setExit);
  registerEnv(program, io, setExit);
  registerAuth(program, io, setExit);
  return program;
}

/** Entry point used by bin/opendeploy.js. Returns the exit code; never calls process.exit itself. */
export async function main(argv: string[], io: RunIo = defaultIo()): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      const json = argv.includes('--json');
      const message = error.message.replace(/^error:\s*/i, '');
      return runHandler({ json }, io, async () => {
        throw new OdError('invalid_input', `${capitalise(message)}${message.endsWith('.') ? '' : '.'}`, {
          nextAction: 'Run `opendeploy --help` for usage.',
        });
      });
    }
    throw error;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
