import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanNextRedeploy, runRollback } from '../../ops/rollback.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export default async function rollbackCommand({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    const target = await resolveOpsTarget({ session, options, needService: true });
    session.failureAudit = { step: 'deploy.rollback', fields: {}, include: ['message', 'status'] };
    try {
      const result = await interruptible((signal) => runRollback({ target, exec, reporter, prompter: session.prompter, options, deploymentId: deployment, signal }));
      reporter.result(result, [
        `Rolled back ${target.service!.name} to deployment ${result.rolled_back_to}`,
        `  deployment  ${result.deployment_id}  success`,
        `  previous    ${result.previous ?? '(none)'}`,
        ...humanNextRedeploy(result.next_redeploy_source),
      ]);
      session.failureAudit = undefined;
      return 0;
    } finally {
      await target.close();
    }
  });
}
