import type { Command } from 'commander';
import { globalOptionsHelp, OUTPUT_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerPlan(program: Command, wiring: Wiring): void {
  program
    .command('plan [path]')
    .description('what a deploy of the folder would do, with where every value comes from (no credential, no network, writes nothing)')
    .option('--name <name>', 'project name a first deploy would use (default: from the package manifest or folder name)')
    .option('--vars-file <file>', 'runtime variables the deploy would send, in dotenv format (only their names are shown)')
    .option('--env-file <file>', 'the same as --vars-file (older name)')
    .addHelpText('after', globalOptionsHelp(['env', ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy plan                       the plan for the current folder\n  $ opendeploy plan ./api --vars-file .env.production\n  $ opendeploy plan --json                one {"type":"result",...} line\n  $ opendeploy deploy --dry-run           the same plan\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/plan.js')).default, { leanV8: true }));
}
