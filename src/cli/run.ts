import { OdError, toOdError } from '../core/errors.js';
import { normaliseGatewayUrl } from '../gateway/base-url.js';
import { buildExecutionContext, type ExecutionContext, type GlobalOptions, type Session } from '../core/session.js';
import { resolveHome } from '../auth/paths.js';
import { lazyAuditSink } from '../audit/lazy.js';
import { createReporter, type Reporter, type Streams } from './output/index.js';
import { createPrompter } from './prompt.js';
import { INTERRUPT_GRACE_MS, withInterrupt } from './interrupt.js';
import type { RunIo } from './io.js';

export interface CommandEnv {
  exec: ExecutionContext;
  reporter: Reporter;
  streams: Streams;
  /** The session ops and deploy run in (the same exec and reporter, plus prompts, audit, abort). */
  session: Session;
  /** Runs a long step so that Ctrl-C aborts `session.signal` (the signal `run` receives). */
  interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export { defaultIo, type RunIo } from './io.js';


/** The session of one command: built once here, from the injected I/O. */
function buildSession(options: GlobalOptions, io: RunIo): { session: Session; abort: AbortController } {
  const exec = buildExecutionContext(options, io.env, { stdinIsTTY: io.stdinIsTTY, stderrIsTTY: io.stderrIsTTY }, io.cwd);
  const abort = new AbortController();
  const session: Session = {
    exec,
    reporter: createReporter(exec, io.streams),
    prompter: createPrompter(io.stdin ?? process.stdin, io.streams.stderr),
    audit: lazyAuditSink(() => resolveHome(io.env)),
    signal: abort.signal,
    // Only the CLI may start the embedded gateway; its module loads when a command needs it.
    startLocalGateway: async (request, env) => (await import('./gateway-selection.js')).startLocalGatewayLease(request, env),
  };
  return { session, abort };
}

/** The failure audit line a command asked for (`session.failureAudit`), for our own errors only. */
function auditFailure(session: Session, thrown: unknown): void {
  const wanted = session.failureAudit;
  if (!wanted || !(thrown instanceof OdError)) return;
  session.audit.error(wanted.step, {
    ...wanted.fields,
    error_code: thrown.code,
    ...(wanted.include.includes('message') ? { message: thrown.message } : {}),
    ...(wanted.include.includes('status') ? { status: thrown.status ?? null } : {}),
  });
}

/**
 * The one place where errors become exit codes and output — and the failure audit line. Handlers
 * return an exit code (0 on success) or throw; only `main` exits.
 */
export async function runHandler(
  options: GlobalOptions,
  io: RunIo,
  handler: (env: CommandEnv) => Promise<number | void>,
): Promise<number> {
  const { session, abort } = buildSession(options, io);
  const { exec, reporter } = session;
  try {
    // A malformed --gateway is a usage error before any work (analysis, credential) starts.
    if (options.gateway !== undefined) normaliseGatewayUrl(options.gateway, '--gateway');
    const interruptible = <T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> => withInterrupt(run, INTERRUPT_GRACE_MS, abort);
    const code = await handler({ exec, reporter, streams: io.streams, session, interruptible });
    reporter.close();
    return code ?? 0;
  } catch (thrown) {
    auditFailure(session, thrown);
    const error = toOdError(thrown);
    reporter.error(error);
    reporter.close();
    return error.exitCode;
  } finally {
    await session.audit.flush();
  }
}

export function usageError(message: string, nextAction = 'Run `opendeploy --help` for usage.'): OdError {
  return new OdError('invalid_input', message, { nextAction });
}
