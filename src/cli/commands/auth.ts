import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerAuth(program: Command, wiring: Wiring): void {
  const auth = program
    .command('auth')
    .description('the credential opendeploy uses')
    .addHelpText('after', globalOptionsHelp(['gateway', 'authFile', 'local', ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy auth                     the same as auth status\n  $ opendeploy auth status --json\n');
  auth
    .command('status', { isDefault: true })
    .description('which credential is in use (redacted), whether it is bound to an account, and the claim URL while it is not')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp(['gateway', 'authFile', 'local', ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy auth status\n  $ opendeploy auth status --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/auth.js')).status));
}
