import type { Command } from 'commander';
import { dataDirOption } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerDomain(program: Command, wiring: Wiring): void {
  const domain = program.command('domain').description('the generated <prefix>.opendeploy.run domain of the linked service');
  domain
    .command('check <prefix>')
    .description('is <prefix>.opendeploy.run available? (available, taken or reserved)')
    .addOption(dataDirOption())
    .addHelpText('after', '\nExample:\n  $ opendeploy domain check my-app --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/domain.js')).check));
  domain
    .command('rename <prefix>')
    .description('rename the generated production domain to <prefix>.opendeploy.run (a taken name is an error)')
    .addOption(dataDirOption())
    .addHelpText('after', '\nExample:\n  $ opendeploy domain rename my-app\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/domain.js')).rename));
}
