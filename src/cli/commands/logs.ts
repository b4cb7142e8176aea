import type { Command } from 'commander';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { parseSince, parseTail, runLogs } from '../../ops/logs.js';
import { runHandler, type RunIo } from '../run.js';
import { withInterrupt } from '../interrupt.js';

interface LogsOptions extends OpsOptions {
  tail?: string;
  since?: string;
  build?: boolean;
  follow?: boolean;
}

export function registerLogs(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('logs [deployment]')
    .description('deployment logs (default: the latest deployment of the service)')
    .option('--tail <n>', 'how many of the last lines to show (default 100)')
    .option('--since <time>', 'only lines from this RFC3339 time, or this long ago (10m, 1h)')
    .option('--build', 'only build lines')
    .option('-f, --follow', 'stream new lines until the deployment is over (Ctrl-C stops)')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy logs --tail 50\n  $ opendeploy logs --build --since 10m\n  $ opendeploy logs <deployment-id> --follow --json\n')
    .action(async (deployment: string | undefined, _options: LogsOptions, command: Command) => {
      const options = command.optsWithGlobals<LogsOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const tail = parseTail(options.tail);
          const since = options.since !== undefined ? parseSince(options.since) : undefined;
          const target = await resolveOpsTarget({ exec, reporter, options, needService: !deployment });
          try {
            const result = await withInterrupt((signal) =>
              runLogs({ target, exec, reporter, deploymentId: deployment, tail, since, build: options.build === true, follow: options.follow === true, signal }),
            );
            reporter.result(result, []);
            return 0;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
