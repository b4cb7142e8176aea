import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { humanPort, parsePort, setPort, showPort } from '../../ops/port.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface PortOptions extends OpsOptions {
  redeploy?: boolean;
}

export default async function portCommand({ args, options, io }: Invocation<PortOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    const text = args[0] as string | undefined;
    // Validated before anything is resolved or sent.
    const port = text === undefined ? undefined : parsePort(text);
    const target = await resolveOpsTarget({ session, options, needService: true });
    try {
      if (port === undefined) {
        const result = await showPort(target);
        reporter.document(result, humanPort(result, target.targetFlags));
        return 0;
      }
      session.failureAudit = { step: 'service.port', fields: { project_id: target.projectId, service_id: target.service?.id ?? null, port }, include: [] };
      const result = await interruptible((signal) => setPort(target, port, options.redeploy ? { redeploy: { exec, reporter, signal } } : {}));
      reporter.result(result, humanPort(result, target.targetFlags));
      session.failureAudit = undefined;
      return 0;
    } finally {
      await target.close();
    }
  });
}
