import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerDeployments(program: Command, wiring: Wiring): void {
  program
    .command('deployments')
    .alias('ls')
    .description("the service's deployments, newest first: status, source, created and finished time, which one is live")
    .option('--status <status>', 'only deployments with this status (success, failed, building, cancelled, rolled_back, …)')
    .option('--limit <n>', 'at most this many rows (default 20)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy deployments\n  $ opendeploy ls --status failed --limit 5\n  $ opendeploy deployments --project <id> --service api --json\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/deployments.js')).default));
}
