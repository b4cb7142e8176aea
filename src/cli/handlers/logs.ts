import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { parseSince, parseTail, runLogs } from '../../ops/logs.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface LogsOptions extends OpsOptions {
  tail?: string;
  since?: string;
  build?: boolean;
  follow?: boolean;
}

export default async function logsCommand({ args, options, io }: Invocation<LogsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    const tail = parseTail(options.tail);
    const since = options.since !== undefined ? parseSince(options.since) : undefined;
    const target = await resolveOpsTarget({ session, options, needService: !deployment });
    try {
      const result = await interruptible((signal) =>
        runLogs({ target, exec, reporter, deploymentId: deployment, tail, since, build: options.build === true, follow: options.follow === true, signal }),
      );
      reporter.result(result, []);
      return 0;
    } finally {
      await target.close();
    }
  });
}
