/**
 * Every top-level command by name, with the line `opendeploy --help` shows for it and the module that
 * registers it. The program registers in full only the module the command line addresses; every other
 * command is a one-line stub carrying this text, so `--help` and any command's own `--help` load one
 * metadata module at most. test/cli/command-table.test.ts keeps this table equal to what the modules
 * register.
 */
import type { Command } from 'commander';
import type { Wiring } from './lazy.js';

export interface CommandEntry {
  /** The metadata module under cli/commands/ that registers this command. */
  module: string;
  name: string;
  /** The command as `--help` lists it (name, alias, `[options]`, arguments). */
  term: string;
  summary: string;
  aliases?: string[];
}

export const COMMAND_TABLE: readonly CommandEntry[] = [
  { module: 'deploy', name: 'deploy', term: 'deploy [options] [path]', summary: 'deploy a folder (first deploy, or a new-source redeploy of a linked folder)' },
  { module: 'analyze', name: 'analyze', term: 'analyze [options] [path]', summary: 'analyze a folder locally and print the deploy plan (never touches the network)' },
  { module: 'local-gateway', name: 'local-gateway', term: 'local-gateway [options]', summary: 'run the embedded local gateway on 127.0.0.1 (same HTTP contract as the hosted one)' },
  { module: 'rollback', name: 'rollback', term: 'rollback [options] [deployment]', summary: 'roll back to the previous successful deployment (or the one named)' },
  { module: 'cancel', name: 'cancel', term: 'cancel [options] [deployment]', summary: 'cancel a running deployment (default: the newest unfinished one of the service)' },
  { module: 'logs', name: 'logs', term: 'logs [options] [deployment]', summary: "the running app's output, or a deployment's logs (a deployment named, or --build)" },
  { module: 'status', name: 'status', term: 'status [options]', summary: 'the linked project: services, databases, latest deployment, URL and claim state' },
  { module: 'triage', name: 'triage', term: 'triage [options] [deployment]', summary: 'read the logs and state of a failed deployment, name the cause and the fix (changes nothing)' },
  { module: 'redeploy', name: 'redeploy', term: 'redeploy [options]', summary: 'redeploy the linked service from its current source (no upload); --source <path> uploads a folder first' },
  { module: 'resize', name: 'resize', term: 'resize [options]', summary: 'change the CPU, memory and replicas of the linked service (no redeploy)' },
  { module: 'port', name: 'port', term: 'port [options] [port]', summary: "show or set the port the linked service's app listens on (takes effect with the next deployment)" },
  { module: 'db', name: 'db', term: 'db', summary: 'managed databases of the linked project' },
  { module: 'domain', name: 'domain', term: 'domain', summary: 'the generated <prefix>.opendeploy.run domain of the linked service' },
  { module: 'env', name: 'env', term: 'env [options]', summary: 'runtime variables of the linked service (values redacted unless --show-secrets)' },
  { module: 'auth', name: 'auth', term: 'auth', summary: 'the credential opendeploy uses' },
  { module: 'mcp', name: 'mcp', term: 'mcp [options]', summary: 'serve the operations as Model Context Protocol tools on stdio (for AI agents)' },
  { module: 'plan', name: 'plan', term: 'plan [options] [path]', summary: 'what a deploy of the folder would do, with where every value comes from (no credential, no network, writes nothing)' },
  { module: 'deployments', name: 'deployments', term: 'deployments|ls [options]', summary: "the service's deployments, newest first: status, source, created and finished time, which one is live", aliases: ['ls'] },
  { module: 'link', name: 'link', term: 'link [options] [path]', summary: 'link this folder to an existing project (writes .opendeploy/project.json; reads the gateway, changes nothing there)' },
  { module: 'link', name: 'unlink', term: 'unlink [path]', summary: "remove the folder's link file (.opendeploy/project.json) after confirmation; the project itself is untouched" },
  { module: 'auth-login', name: 'login', term: 'login [options]', summary: 'store a dashboard token (pasted with hidden input, or from stdin) after the gateway accepts it' },
  { module: 'auth-login', name: 'logout', term: 'logout', summary: 'forget the stored credential (deletes the credential file after confirmation; nothing is revoked on the gateway)' },
  { module: 'auth-login', name: 'whoami', term: 'whoami [options]', summary: 'which credential is in use (redacted) and whether it is bound to an account: the same as `auth status`' },
  { module: 'open', name: 'open', term: 'open [options]', summary: 'open the live URL of the linked service (or with --dashboard the project page) in a browser; prints it where there is none' },
  { module: 'completion', name: 'completion', term: 'completion <shell>', summary: 'print a shell completion script (commands, subcommands and options) for bash, zsh or fish' },

];

type Register = (program: Command, wiring: Wiring) => void;

/** Imports the module's registration function (string literals, so the modules stay findable). */
export async function loadRegister(module: string): Promise<Register> {
  switch (module) {
    case 'deploy': return (await import('./commands/deploy.js')).registerDeploy;
    case 'analyze': return (await import('./commands/analyze.js')).registerAnalyze;
    case 'local-gateway': return (await import('./commands/local-gateway.js')).registerLocalGateway;
    case 'rollback': return (await import('./commands/rollback.js')).registerRollback;
    case 'cancel': return (await import('./commands/cancel.js')).registerCancel;
    case 'logs': return (await import('./commands/logs.js')).registerLogs;
    case 'status': return (await import('./commands/status.js')).registerStatus;
    case 'triage': return (await import('./commands/triage.js')).registerTriage;
    case 'redeploy': return (await import('./commands/redeploy.js')).registerRedeploy;
    case 'resize': return (await import('./commands/resize.js')).registerResize;
    case 'port': return (await import('./commands/port.js')).registerPort;
    case 'db': return (await import('./commands/db.js')).registerDb;
    case 'domain': return (await import('./commands/domain.js')).registerDomain;
    case 'env': return (await import('./commands/env.js')).registerEnv;
    case 'auth': return (await import('./commands/auth.js')).registerAuth;
    case 'mcp': return (await import('./commands/mcp.js')).registerMcp;
    case 'plan': return (await import('./commands/plan.js')).registerPlan;
    case 'deployments': return (await import('./commands/deployments.js')).registerDeployments;
    case 'link': return (await import('./commands/link.js')).registerLink;
    case 'auth-login': return (await import('./commands/auth-login.js')).registerLogin;
    case 'open': return (await import('./commands/open.js')).registerOpen;
    case 'completion': return (await import('./commands/completion.js')).registerCompletion;
    default: throw new Error(`unknown command module ${module}`);
  }
}

/** The modules in the order their commands are listed. */
export function commandModules(): string[] {
  return [...new Set(COMMAND_TABLE.map((entry) => entry.module))];
}
