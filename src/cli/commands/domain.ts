import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerDomain(program: Command, wiring: Wiring): void {
  const domain = program
    .command('domain')
    .description('the generated <prefix>.opendeploy.run domain of the linked service')
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nOn the local gateway (--local) the names are <prefix>.localhost:<port>, where it serves the app.\n' +
        '\nExamples:\n  $ opendeploy domain check my-app\n  $ opendeploy domain rename my-app --json\n',
    );
  domain
    .command('check <prefix>')
    .description('is <prefix>.opendeploy.run available? (available, taken or reserved)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nWith --local the name is <prefix>.localhost:<port>, as the local gateway serves it.\n' +
        '\nExamples:\n  $ opendeploy domain check my-app\n  $ opendeploy domain check my-app --local --json\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/domain.js')).check));
  domain
    .command('rename <prefix>')
    .description('rename the generated production domain to <prefix>.opendeploy.run (a taken name is an error)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy domain rename my-app\n  $ opendeploy domain rename my-app --service web --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/domain.js')).rename));
}
