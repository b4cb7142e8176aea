import { localGatewayStartCommand, resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { collectStatus, humanStatus, withLocalGatewayStopped } from '../../ops/status.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export default async function statusCommand({ options, io }: Invocation<OpsOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter, session }) => {
    const target = await resolveOpsTarget({ session, options, needService: false });
    try {
      let report = await collectStatus(target, options.service);
      // A local project whose gateway is not running was read through a gateway started for this
      // command alone: its app URLs die with it, so the report says how to start one instead.
      if (target.embedded && target.embedded.background !== true) {
        report = withLocalGatewayStopped(report, localGatewayStartCommand(target, options.dataDir));
      }
      // One JSON object; the claim URL (which embeds bind_sig) is the one string allowed through scrubbing.
      reporter.document(report, humanStatus(report), report.claim_url ? [report.claim_url] : []);
      return 0;
    } finally {
      await target.close();
    }
  });
}
