import { OdError } from '../../core/errors.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { runCancel } from '../../ops/cancel.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';
import { withInterrupt } from '../interrupt.js';

export default async function cancelCommand({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter }) => {
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
  });
}
