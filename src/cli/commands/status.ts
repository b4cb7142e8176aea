import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerStatus(program: Command, wiring: Wiring): void {
  program
    .command('status')
    .description('the linked project: services, databases, latest deployment, URL and claim state')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy status\n  $ opendeploy status --project <id> --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/status.js')).default));
}
