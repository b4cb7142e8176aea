import { OdError } from '../../core/errors.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { runRollback } from '../../ops/rollback.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';
import { withInterrupt } from '../interrupt.js';

export default async function rollbackCommand({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter }) => {
    const target = await resolveOpsTarget({ exec, reporter, options, needService: true });
    try {
      const result = await withInterrupt((signal) => runRollback({ target, exec, reporter, options, deploymentId: deployment, signal }));
      reporter.result(result, [
        `Rolled back ${target.service!.name} to deployment ${result.rolled_back_to}`,
        `  deployment  ${result.deployment_id}  success`,
        `  previous    ${result.previous ?? '(none)'}`,
      ]);
      return 0;
    } catch (error) {
      if (error instanceof OdError) target.audit.error('deploy.rollback', { error_code: error.code, message: error.message, status: error.status ?? null });
      throw error;
    } finally {
      await target.close();
    }
  });
}
