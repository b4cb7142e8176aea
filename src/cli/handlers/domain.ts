import path from 'node:path';
import { readProjectState } from '../../deploy/state.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { assertProductionForRename, checkDomain, humanCheck, humanRename, renameDomain, validatePrefix } from '../../ops/domain.js';
import { resolveEnvironment } from '../../ops/connect.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export async function check({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const prefix = args[0] as string;
  return runHandler(options, io, async ({ reporter, session }) => {
    validatePrefix(prefix, { allowReserved: true });
    const target = await resolveOpsTarget({ session, options, needService: false });
    try {
      const result = await checkDomain(target, prefix);
      reporter.document(result, humanCheck(result));
      return 0;
    } finally {
      await target.close();
    }
  });
}

export async function rename({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  const prefix = args[0] as string;
  return runHandler(options, io, async ({ exec, reporter, session, interruptible }) => {
    // Both checks run before anything is resolved or sent.
    validatePrefix(prefix, { allowReserved: false });
    const linked = await readProjectState(path.resolve(exec.cwd));
    assertProductionForRename(resolveEnvironment(options.env, exec.env, linked?.environment), prefix);
    const target = await resolveOpsTarget({ session, options, needService: true });
    try {
      const result = await interruptible((signal) => renameDomain(target, prefix, signal));
      reporter.document(result, humanRename(result));
      return 0;
    } finally {
      await target.close();
    }
  });
}
