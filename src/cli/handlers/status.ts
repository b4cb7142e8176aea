import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { collectStatus, humanStatus } from '../../ops/status.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export default async function statusCommand({ options, io }: Invocation<OpsOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter, session }) => {
    const target = await resolveOpsTarget({ session, options, needService: false });
    try {
      const report = await collectStatus(target, options.service);
      // One JSON object; the claim URL (which embeds bind_sig) is the one string allowed through scrubbing.
      reporter.document(report, humanStatus(report), report.claim_url ? [report.claim_url] : []);
      return 0;
    } finally {
      await target.close();
    }
  });
}
