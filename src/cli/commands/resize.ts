import type { Command } from 'commander';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { resizeBody } from '../../ops/quantity.js';
import { humanResize, resizeService } from '../../ops/resize.js';
import { runHandler, type RunIo } from '../run.js';

interface ResizeOptions extends OpsOptions {
  cpu?: string;
  memory?: string;
  replicas?: string;
}

export function registerResize(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('resize')
    .description('change the CPU, memory and replicas of the linked service (no redeploy)')
    .option('--cpu <quantity>', 'CPU limit: cores or millicores (500m, 0.5, 1, 2); request = min(limit, 500m)')
    .option('--memory <quantity>', 'memory limit with a unit (512Mi, 1Gi, 1.5Gi, 2G); request = half the limit')
    .option('--replicas <n>', 'number of replicas, 1 to 20')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy resize --cpu 1 --memory 1Gi\n  $ opendeploy resize --cpu 2 --memory 4Gi --replicas 2 --json\n')
    .action(async (_options: ResizeOptions, command: Command) => {
      const options = command.optsWithGlobals<ResizeOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          // Validated before anything is resolved or sent.
          const body = resizeBody({
            ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
            ...(options.memory !== undefined ? { memory: options.memory } : {}),
            ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
          });
          const target = await resolveOpsTarget({ exec, reporter, options, needService: true });
          try {
            const result = await resizeService(target, body);
            reporter.document(result, humanResize(result));
            return 0;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
