import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { resizeBody } from '../../ops/quantity.js';
import { humanResize, resizeService } from '../../ops/resize.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

interface ResizeOptions extends OpsOptions {
  cpu?: string;
  memory?: string;
  replicas?: string;
}

export default async function resizeCommand({ options, io }: Invocation<ResizeOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter, session }) => {
    // Validated before anything is resolved or sent.
    const body = resizeBody({
      ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
      ...(options.memory !== undefined ? { memory: options.memory } : {}),
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    });
    const target = await resolveOpsTarget({ session, options, needService: true });
    try {
      const result = await resizeService(target, body);
      reporter.document(result, humanResize(result));
      return 0;
    } finally {
      await target.close();
    }
  });
}
