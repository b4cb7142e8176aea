import path from 'node:path';
import type { Command } from 'commander';
import { readProjectState } from '../../deploy/state.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { assertProductionForRename, checkDomain, humanCheck, humanRename, renameDomain, validatePrefix } from '../../ops/domain.js';
import { resolveEnvironment } from '../options.js';
import { runHandler, type RunIo } from '../run.js';
import { withInterrupt } from '../interrupt.js';

export function registerDomain(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  const domain = program.command('domain').description('the generated <prefix>.opendeploy.run domain of the linked service');
  domain
    .command('check <prefix>')
    .description('is <prefix>.opendeploy.run available? (available, taken or reserved)')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExample:\n  $ opendeploy domain check my-app --json\n')
    .action(async (prefix: string, _options: OpsOptions, command: Command) => {
      const options = command.optsWithGlobals<OpsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          validatePrefix(prefix, { allowReserved: true });
          const target = await resolveOpsTarget({ exec, reporter, options, needService: false });
          try {
            const result = await checkDomain(target, prefix);
            reporter.document(result, humanCheck(result));
            return 0;
          } finally {
            await target.close();
          }
        }),
      );
    });
  domain
    .command('rename <prefix>')
    .description('rename the generated production domain to <prefix>.opendeploy.run (a taken name is an error)')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExample:\n  $ opendeploy domain rename my-app\n')
    .action(async (prefix: string, _options: OpsOptions, command: Command) => {
      const options = command.optsWithGlobals<OpsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          // Both checks run before anything is resolved or sent.
          validatePrefix(prefix, { allowReserved: false });
          const linked = await readProjectState(path.resolve(exec.cwd));
          assertProductionForRename(resolveEnvironment(options.env, exec.env, linked?.environment), prefix);
          const target = await resolveOpsTarget({ exec, reporter, options, needService: true });
          try {
            const result = await withInterrupt((signal) => renameDomain(target, prefix, signal));
            reporter.document(result, humanRename(result));
            return 0;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
