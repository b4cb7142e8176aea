import type { Command } from 'commander';
import { Option } from '../commander.js';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerPort(program: Command, wiring: Wiring): void {
  program
    .command('port')
    .description("show or set the port the linked service's app listens on (takes effect with the next deployment)")
    .argument('[port]', 'the new port, 1 to 65535 (without it: show the current one)')
    .addOption(new Option('--redeploy', 'after the change, redeploy the current source so it takes effect now'))
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nWithout a port it shows the service\'s port and, in a linked folder, the one the analysis finds when they differ.\n' +
        'A PORT variable that names the old port follows the new one.\n' +
        '\nExamples:\n  $ opendeploy port\n  $ opendeploy port 8080\n  $ opendeploy port 8080 --redeploy --service web --json\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/port.js')).default));
}
