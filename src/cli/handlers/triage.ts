import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanTriage, runTriage } from '../../ops/triage.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export default async function triageCommand({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter, session }) => {
    const target = await resolveOpsTarget({ session, options, needService: !deployment });
    try {
      // The fix it prints acts on the service this run was pointed at (same --project, --local, …):
      // the target carries this run's flags into the diagnosis.
      const outcome = await runTriage(target, deployment);
      reporter.document(outcome.report, humanTriage(outcome, { projectId: target.projectId, auditLog: target.audit.path }));
      return 0;
    } finally {
      await target.close();
    }
  });
}
