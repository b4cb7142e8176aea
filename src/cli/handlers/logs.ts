import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { parseSince, parseTail, runLogs, StoppedFollowing } from '../../ops/logs.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface LogsOptions extends OpsOptions {
  tail?: string;
  since?: string;
  build?: boolean;
  follow?: boolean;
}

/** Exit code of an interrupted command (Ctrl-C), as for every other command. */
const INTERRUPTED_EXIT = 130;

export default async function logsCommand({ args, options, io }: Invocation<LogsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    const tail = parseTail(options.tail);
    const since = options.since !== undefined ? parseSince(options.since) : undefined;
    const target = await resolveOpsTarget({ session, options, needService: !deployment });
    try {
      const result = await interruptible((signal) =>
        runLogs({
          target,
          exec,
          reporter,
          deploymentId: deployment,
          tail,
          since,
          build: options.build === true,
          follow: options.follow === true,
          runtime: true,
          signal,
        }),
      );
      reporter.result(result, []);
      return 0;
    } catch (error) {
      // Ctrl-C is how a person ends `--follow`: plain lines saying nothing changed, not a red error.
      // Programs (--json) still get the `interrupted` error object; the exit code is 130 either way.
      if (error instanceof StoppedFollowing && !exec.json) {
        reporter.info(error.message);
        reporter.info(`  ${error.nextAction}`);
        return INTERRUPTED_EXIT;
      }
      throw error;
    } finally {
      await target.close();
    }
  });
}
