import type { Command } from 'commander';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerAnalyze(program: Command, wiring: Wiring): void {
  program
    .command('analyze [path]')
    .description('analyze a folder locally and print the deploy plan (never touches the network)')
    .option('--explain', 'show the evidence behind every decision')
    .action(lazyAction(wiring, async () => (await import('../handlers/analyze.js')).default));
}
