import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerLink(program: Command, wiring: Wiring): void {
  program
    .command('link [path]')
    .description('link this folder to an existing project (writes .opendeploy/project.json; reads the gateway, changes nothing there)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, 'yes', ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nUses the global --project <id> and --service <id|name>; with several services and no --service, a terminal is asked and anyone else gets the list.\n' +
        '\nExamples:\n  $ opendeploy link --project <project-id>\n  $ opendeploy link --project <project-id> --service web --json\n  $ opendeploy link --local --project <project-id>\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/link.js')).link));
  program
    .command('unlink [path]')
    .description('remove the folder\'s link file (.opendeploy/project.json) after confirmation; the project itself is untouched')
    .addHelpText('after', globalOptionsHelp(['yes', ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy unlink\n  $ opendeploy unlink --yes --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/link.js')).unlink));
}
