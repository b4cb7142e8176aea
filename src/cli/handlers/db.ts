import { targetFlags } from '../../core/target-flags.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { addDatabase, humanDbAdd, parseEngine } from '../../ops/db.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export interface DbAddOptions extends OpsOptions {
  overwrite?: boolean;
  /** commander's --no-redeploy sets this to false. */
  redeploy?: boolean;
}

export async function add({ args, options, io }: Invocation<DbAddOptions>): Promise<number> {
  const engineName = args[0] as string;
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    const engine = parseEngine(engineName);
    const target = await resolveOpsTarget({ session, options, needService: true });
    session.failureAudit = { step: 'db.add', fields: { project_id: target.projectId, service_id: target.service?.id ?? null, engine }, include: [] };
    try {
      const result = await interruptible((signal) =>
        addDatabase(target, engine, {
          exec,
          reporter,
          signal,
          overwrite: options.overwrite === true,
          redeploy: options.redeploy !== false,
          targetFlags: targetFlags(options),
        }),
      );
      reporter.result(result, humanDbAdd(result, target.service!.name));
      session.failureAudit = undefined;
      return 0;
    } finally {
      await target.close();
    }
  });
}
