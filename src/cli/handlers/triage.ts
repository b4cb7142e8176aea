import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanTriage, runTriage } from '../../ops/triage.js';
import { runHandler } from '../run.js';
import { diagnosisWithTargetFlags } from '../../core/target-flags.js';
import type { Invocation } from '../lazy.js';

export default async function triageCommand({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const deployment = args[0] as string | undefined;
  return runHandler(options, io, async ({ exec, reporter, session }) => {
    const target = await resolveOpsTarget({ session, options, needService: !deployment });
    try {
      const found = await runTriage(target, deployment);
      // The fix it prints acts on the service this run was pointed at (same --project, --local, …).
      const { diagnosis: report, nextAction } = diagnosisWithTargetFlags(found.report, found.report.next_action, options);
      const outcome = { ...found, report: { ...report, next_action: nextAction } };
      reporter.document(outcome.report, humanTriage(outcome, { projectId: target.projectId, auditLog: target.audit.path }));
      return 0;
    } finally {
      await target.close();
    }
  });
}
