import type { Command } from 'commander';
import { Option } from '../commander.js';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerLogin(program: Command, wiring: Wiring): void {
  program
    .command('login')
    .description('store a dashboard token (pasted with hidden input, or from stdin) after the gateway accepts it')
    .addOption(new Option('--token-stdin', 'read the token from stdin (for CI and scripts) instead of asking'))
    .addHelpText('after', globalOptionsHelp(['gateway', 'authFile', 'local', 'yes', ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nThe token is checked with the gateway (--gateway / OD_GATEWAY) and saved 0600 in the credential file (--auth-file, default ~/.opendeploy/auth.json); it is never printed.\n' +
        '\nExamples:\n  $ opendeploy login\n  $ printenv OPENDEPLOY_TOKEN | opendeploy login --token-stdin --json\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/auth-login.js')).login));
  program
    .command('logout')
    .description('forget the stored credential (deletes the credential file after confirmation; nothing is revoked on the gateway)')
    .addHelpText('after', globalOptionsHelp(['authFile', 'yes', ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy logout\n  $ opendeploy logout --yes --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/auth-login.js')).logout));
  program
    .command('whoami')
    .description('which credential is in use (redacted) and whether it is bound to an account: the same as `auth status`')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp(['gateway', 'authFile', 'local', ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy whoami\n  $ opendeploy whoami --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/auth.js')).status));
}
