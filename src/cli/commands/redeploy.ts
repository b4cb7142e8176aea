import type { Command } from 'commander';
import { dataDirOption, forceUploadOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerRedeploy(program: Command, wiring: Wiring): void {
  program
    .command('redeploy')
    .description('redeploy the linked service from its current source (no upload); --source <path> uploads a folder first')
    .option('--source <path>', 'archive and upload this folder, bind it, then deploy')
    .addOption(forceUploadOption('with --source: '))
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy redeploy                 rebuild the current source\n  $ opendeploy redeploy --source .      upload the folder again (skipped if unchanged), then deploy\n  $ opendeploy redeploy --json          NDJSON events and a final result line\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/redeploy.js')).default, { leanV8: true }));
}
