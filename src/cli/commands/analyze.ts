import type { Command } from 'commander';
import { globalOptionsHelp, OUTPUT_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerAnalyze(program: Command, wiring: Wiring): void {
  program
    .command('analyze [path]')
    .description('analyze a folder locally and print the deploy plan (never touches the network)')
    .option('--explain', 'show the evidence behind every decision')
    .addHelpText('after', globalOptionsHelp(OUTPUT_GLOBALS))
    .addHelpText('after', '\nExamples:\n  $ opendeploy analyze                  the current folder\n  $ opendeploy analyze ./api --explain  with the file and line behind every decision\n  $ opendeploy analyze --json           the analysis as one JSON document\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/analyze.js')).default, { leanV8: true }));
}
