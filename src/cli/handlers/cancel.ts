import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { runCancel } from '../../ops/cancel.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export default async function cancelCommand({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    const target = await resolveOpsTarget({ session, options, needService: !deployment });
    session.failureAudit = { step: 'deploy.cancel', fields: {}, include: ['message', 'status'] };
    try {
      const result = await interruptible((signal) => runCancel({ target, exec, reporter, prompter: session.prompter, options, deploymentId: deployment, signal }));
      reporter.document(result, [`Cancelled deployment ${result.deployment_id} (it was ${result.previous_status}${result.progress !== null ? ` at ${result.progress}%` : ''}).`]);
      session.failureAudit = undefined;
      return 0;
    } finally {
      await target.close();
    }
  });
}
