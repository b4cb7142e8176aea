import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, OUTPUT_GLOBALS, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerResize(program: Command, wiring: Wiring): void {
  program
    .command('resize')
    .description('change the CPU, memory and replicas of the linked service (no redeploy)')
    .option('--cpu <quantity>', 'CPU limit: cores or millicores (500m, 0.5, 1, 2); request = min(limit, 500m)')
    .option('--memory <quantity>', 'memory limit with a unit (512Mi, 1Gi, 1.5Gi, 2G); request = half the limit')
    .option('--replicas <n>', 'number of replicas, 1 to 20')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp([...TARGET_GLOBALS, ...OUTPUT_GLOBALS]))
    .addHelpText('after', '\nExamples:\n  $ opendeploy resize --cpu 1 --memory 1Gi\n  $ opendeploy resize --cpu 2 --memory 4Gi --replicas 2 --json\n')
    .action(lazyAction(wiring, async () => (await import('../handlers/resize.js')).default));
}
