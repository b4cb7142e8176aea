import type { Command } from 'commander';
import { OdError } from '../../core/errors.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { runRollback } from '../../ops/rollback.js';
import { runHandler, type RunIo } from '../run.js';
import { withInterrupt } from '../interrupt.js';

export function registerRollback(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('rollback [deployment]')
    .description('roll back to the previous successful deployment (or the one named)')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy rollback                 back to the release before the current one\n  $ opendeploy rollback <deployment-id> --yes --json\n',
    )
    .action(async (deployment: string | undefined, _options: OpsOptions, command: Command) => {
      const options = command.optsWithGlobals<OpsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const target = await resolveOpsTarget({ exec, reporter, options, needService: true });
          try {
            const result = await withInterrupt((signal) => runRollback({ target, exec, reporter, options, deploymentId: deployment, signal }));
            reporter.result(result, [
              `Rolled back ${target.service!.name} to deployment ${result.rolled_back_to}`,
              `  deployment  ${result.deployment_id}  success`,
              `  previous    ${result.previous ?? '(none)'}`,
            ]);
            return 0;
          } catch (error) {
            if (error instanceof OdError) target.audit.error('deploy.rollback', { error_code: error.code, message: error.message, status: error.status ?? null });
            throw error;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
