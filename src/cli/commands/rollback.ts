import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerRollback(program: Command, wiring: Wiring): void {
  program
    .command('rollback [deployment]')
    .description('roll back to the previous successful deployment (or the one named)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, 'yes', ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy rollback                 back to the release before the current one\n  $ opendeploy rollback <deployment-id> --yes --json\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/rollback.js')).default));
}
