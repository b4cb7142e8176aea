import type { Command } from 'commander';
import { Command as CommandClass, Option } from './commander.js';

export { CommanderError } from './commander.js';
import { VERSION } from '../core/version.js';
import type { RunIo } from './io.js';
import type { Wiring } from './lazy.js';
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
import { registerMcp } from './commands/mcp.js';
import { registerPlan } from './commands/plan.js';
import { registerDeployments } from './commands/deployments.js';
import { registerLink } from './commands/link.js';
import { registerLogin } from './commands/auth-login.js';
import { registerOpen } from './commands/open.js';
import { registerCompletion } from './commands/completion.js';

/**
 * Commander wiring only: every command is metadata plus a handler module that is imported when the
 * command runs, so building the program loads nothing but commander.
 */
export function buildProgram(runIo: RunIo, setExit: (code: number) => void, output: { json?: boolean } = {}): Command {
  const wiring: Wiring = { io: () => runIo, setExit };
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
  registerDeploy(program, wiring);
  registerAnalyze(program, wiring);
  registerLocalGateway(program, wiring);
  registerRollback(program, wiring);
  registerCancel(program, wiring);
  registerLogs(program, wiring);
  registerStatus(program, wiring);
  registerTriage(program, wiring);
  registerRedeploy(program, wiring);
  registerResize(program, wiring);
  registerDb(program, wiring);
  registerDomain(program, wiring);
  registerEnv(program, wiring);
  registerAuth(program, wiring);
  registerMcp(program, wiring);
  registerPlan(program, wiring);
  registerDeployments(program, wiring);
  registerLink(program, wiring);
  registerLogin(program, wiring);
  registerOpen(program, wiring);
  registerCompletion(program, wiring);
  return program;
}
