import path from 'node:path';
import { OdError } from '../../core/errors.js';
import { targetFlags } from '../../core/target-flags.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanRedeploy, redeploy } from '../../ops/redeploy.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface RedeployOptions extends OpsOptions {
  source?: string;
  force?: boolean;
}

export default async function redeployCommand({ options, io }: Invocation<RedeployOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    if (options.force && options.source === undefined) {
      throw new OdError('invalid_input', '--force only applies together with --source.', {
        nextAction: 'Add --source <path> to upload a folder, or drop --force.',
      });
    }
    const target = await resolveOpsTarget({ session, options, needService: true });
    session.failureAudit = { step: 'redeploy', fields: { project_id: target.projectId, service_id: target.service?.id ?? null }, include: [] };
    try {
      const result = await interruptible((signal) =>
        redeploy(target, {
          exec,
          reporter,
          signal,
          ...(options.source !== undefined ? { source: path.resolve(exec.cwd, options.source) } : {}),
          ...(options.force ? { force: true } : {}),
          afterRollback: { targetFlags: targetFlags(options) },
        }),
      );
      reporter.result(result, humanRedeploy(result, target.service!.name));
      session.failureAudit = undefined;
      return 0;
    } finally {
      await target.close();
    }
  });
}
