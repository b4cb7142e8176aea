import { OdError, toOdError } from '../core/errors.js';
import { normaliseGatewayUrl } from '../gateway/base-url.js';
import { buildExecutionContext, type ExecutionContext, type GlobalOptions } from '../core/session.js';
import { createReporter, type Reporter, type Streams } from './output/index.js';
import type { RunIo } from './io.js';

export interface CommandEnv {
  exec: ExecutionContext;
  reporter: Reporter;
  streams: Streams;
}

export { defaultIo, type RunIo } from './io.js';

/**
 * The one place where errors become exit codes and output. Handlers return an exit code (0 on
 * success) or throw; only `main` exits.
 */
export async function runHandler(
  options: GlobalOptions,
  io: RunIo,
  handler: (env: CommandEnv) => Promise<number | void>,
): Promise<number> {
  const exec = buildExecutionContext(options, io.env, { stdinIsTTY: io.stdinIsTTY, stderrIsTTY: io.stderrIsTTY }, io.cwd);
  const reporter = createReporter(exec, io.streams);
  try {
    // A malformed --gateway is a usage error before any work (analysis, credential) starts.
    if (options.gateway !== undefined) normaliseGatewayUrl(options.gateway, '--gateway');
    const code = await handler({ exec, reporter, streams: io.streams });
    reporter.close();
    return code ?? 0;
  } catch (thrown) {
    const error = toOdError(thrown);
    reporter.error(error);
    reporter.close();
    return error.exitCode;
  }
}

export function usageError(message: string, nextAction = 'Run `opendeploy --help` for usage.'): OdError {
  return new OdError('invalid_input', message, { nextAction });
}
