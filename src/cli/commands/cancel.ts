import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerCancel(program: Command, wiring: Wiring): void {
  program
    .command('cancel [deployment]')
    .description('cancel a running deployment (default: the newest unfinished one of the service)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, 'yes', ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy cancel                   cancel the deployment in progress\n  $ opendeploy cancel <deployment-id> --yes --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/cancel.js')).default));
}
