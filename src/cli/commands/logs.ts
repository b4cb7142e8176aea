import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerLogs(program: Command, wiring: Wiring): void {
  program
    .command('logs [deployment]')
    .description("the running app's output, or a deployment's logs (a deployment named, or --build)")
    .option('--tail <n>', 'how many of the last lines to show (default 100)')
    .option('--since <time>', 'only lines from this RFC3339 time, or this long ago (10m, 1h)')
    .option('--build', 'build lines of the latest (or named) deployment')
    .option('-f, --follow', 'stream new lines: the app\'s until Ctrl-C; a named deployment\'s until it is over')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy logs --tail 50\n  $ opendeploy logs --follow\n  $ opendeploy logs --build --since 10m\n  $ opendeploy logs <deployment-id> --follow --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/logs.js')).default));
}
