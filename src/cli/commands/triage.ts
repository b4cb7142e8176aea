import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerTriage(program: Command, wiring: Wiring): void {
  program
    .command('triage [deployment]')
    .description('read the logs and state of a failed deployment, name the cause and the fix (changes nothing)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy triage                   the latest failed deployment of the service\n  $ opendeploy triage <deployment-id> --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/triage.js')).default));
}
