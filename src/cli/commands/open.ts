import type { Command } from 'commander';
import { Option } from '../commander.js';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerOpen(program: Command, wiring: Wiring): void {
  program
    .command('open')
    .description('open the live URL of the linked service (or with --dashboard the project page) in a browser; prints it where there is none')
    .addOption(new Option('--dashboard', 'the project page in the dashboard instead of the app'))
    .addOption(new Option('--print', 'print the URL only, never start a browser'))
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nOn a terminal with a browser the URL is opened; in CI, with --json, --print or without a display it is printed on stdout.\n' +
        '\nExamples:\n  $ opendeploy open\n  $ opendeploy open --dashboard\n  $ opendeploy open --print --service web\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/open.js')).default));
}
