import type { Command } from 'commander';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { collectStatus, humanStatus } from '../../ops/status.js';
import { runHandler, type RunIo } from '../run.js';

export function registerStatus(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('status')
    .description('the linked project: services, databases, latest deployment, URL and claim state')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy status\n  $ opendeploy status --project <id> --json\n')
    .action(async (_options: OpsOptions, command: Command) => {
      const options = command.optsWithGlobals<OpsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const target = await resolveOpsTarget({ exec, reporter, options, needService: false });
          try {
            const report = await collectStatus(target, options.service);
            // One JSON object; the claim URL (which embeds bind_sig) is the one string allowed through scrubbing.
            reporter.document(report, humanStatus(report), report.claim_url ? [report.claim_url] : []);
            return 0;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
