import path from 'node:path';
import type { Command } from 'commander';
import { OdError } from '../../core/errors.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanRedeploy, redeploy } from '../../ops/redeploy.js';
import { runHandler, type RunIo } from '../run.js';
import { withInterrupt } from '../interrupt.js';

interface RedeployOptions extends OpsOptions {
  source?: string;
  force?: boolean;
}

export function registerRedeploy(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('redeploy')
    .description('redeploy the linked service from its current source (no upload); --source <path> uploads a folder first')
    .option('--source <path>', 'archive and upload this folder, bind it, then deploy')
    .option('--force', 'with --source: upload even when the source is unchanged since the last upload')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy redeploy                 rebuild the current source\n  $ opendeploy redeploy --source .      upload the folder again (skipped if unchanged), then deploy\n  $ opendeploy redeploy --json          NDJSON events and a final result line\n',
    )
    .action(async (_options: RedeployOptions, command: Command) => {
      const options = command.optsWithGlobals<RedeployOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          if (options.force && options.source === undefined) {
            throw new OdError('invalid_input', '--force only applies together with --source.', {
              nextAction: 'Add --source <path> to upload a folder, or drop --force.',
            });
          }
          const target = await resolveOpsTarget({ exec, reporter, options, needService: true });
          try {
            const result = await withInterrupt((signal) =>
              redeploy(target, {
                exec,
                reporter,
                signal,
                ...(options.source !== undefined ? { source: path.resolve(exec.cwd, options.source) } : {}),
                ...(options.force ? { force: true } : {}),
              }),
            );
            reporter.result(result, humanRedeploy(result, target.service!.name));
            return 0;
          } catch (error) {
            if (error instanceof OdError) target.audit.error('redeploy', { project_id: target.projectId, service_id: target.service?.id ?? null, error_code: error.code });
            throw error;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
