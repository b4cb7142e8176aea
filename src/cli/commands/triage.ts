import type { Command } from 'commander';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanTriage, runTriage } from '../../ops/triage.js';
import { runHandler, type RunIo } from '../run.js';

export function registerTriage(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('triage [deployment]')
    .description('read the logs and state of a failed deployment, name the cause and the fix (changes nothing)')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy triage                   the latest failed deployment of the service\n  $ opendeploy triage <deployment-id> --json\n')
    .action(async (deployment: string | undefined, _options: OpsOptions, command: Command) => {
      const options = command.optsWithGlobals<OpsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const target = await resolveOpsTarget({ exec, reporter, options, needService: !deployment });
          try {
            const outcome = await runTriage(target, deployment);
            reporter.document(outcome.report, humanTriage(outcome, { projectId: target.projectId, auditLog: target.audit.path }));
            return 0;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
