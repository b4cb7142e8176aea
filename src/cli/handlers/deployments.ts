import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanDeployments, listDeployments, parseLimit } from '../../ops/deployments.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface DeploymentsOptions extends OpsOptions {
  status?: string;
  limit?: string;
}

export default async function deploymentsCommand({ options, io }: Invocation<DeploymentsOptions>): Promise<number> {
  return runHandler(options, io, async ({ reporter, session }) => {
    // A bad --limit is a usage error before any credential or request.
    const limit = parseLimit(options.limit);
    const target = await resolveOpsTarget({ session, options, needService: true });
    try {
      const report = await listDeployments(target, { status: options.status, limit });
      reporter.result(report as unknown as Record<string, unknown>, humanDeployments(report));
      return 0;
    } finally {
      await target.close();
    }
  });
}
