import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, noRedeployOption, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

/** The engines `db add` accepts, for its help (a test keeps it equal to the list ops/db.ts validates with). */
export const DB_ENGINE_NAMES = ['postgres', 'mysql', 'mongodb', 'redis'] as const;

export function registerDb(program: Command, wiring: Wiring): void {
  const db = program
    .command('db')
    .description('managed databases of the linked project')
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy db add postgres\n  $ opendeploy db add redis --no-redeploy --json\n');
  db.command('add <engine>')
    .description(`add a managed database (${DB_ENGINE_NAMES.join(', ')}), merge its variables into the service env, and redeploy`)
    .option('--overwrite', 'replace service variables that already exist with the database values (default: keep them)')
    .addOption(noRedeployOption('only merge the variables; they reach the app with the next deployment'))
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy db add postgres\n  $ opendeploy db add redis --no-redeploy --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/db.js')).add));
}
