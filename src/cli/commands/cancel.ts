import type { Command } from 'commander';
import { OdError } from '../../core/errors.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { runCancel } from '../../ops/cancel.js';
import { runHandler, type RunIo } from '../run.js';
import { withInterrupt } from '../interrupt.js';

export function registerCancel(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('cancel [deployment]')
    .description('cancel a running deployment (default: the newest unfinished one of the service)')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy cancel                   cancel the deployment in progress\n  $ opendeploy cancel <deployment-id> --yes --json\n')
    .action(async (deployment: string | undefined, _options: OpsOptions, command: Command) => {
      const options = command.optsWithGlobals<OpsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const target = await resolveOpsTarget({ exec, reporter, options, needService: !deployment });
          try {
            const result = await withInterrupt((signal) => runCancel({ target, exec, reporter, options, deploymentId: deployment, signal }));
            reporter.document(result, [`Cancelled deployment ${result.deployment_id} (it was ${result.previous_status}${result.progress !== null ? ` at ${result.progress}%` : ''}).`]);
            return 0;
          } catch (error) {
            if (error instanceof OdError) target.audit.error('deploy.cancel', { error_code: error.code, message: error.message, status: error.status ?? null });
            throw error;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
