import type { AuditSink } from '../core/session.js';
import { createAuditLogger } from './logger.js';

/**
 * The audit trail of one run, opened on first use under the home `home()` names: a command that
 * never audits (analyze, --help) never resolves a home or creates a log file.
 */
export function lazyAuditSink(home: () => string): AuditSink {
  let logger: AuditSink | undefined;
  const get = (): AuditSink => (logger ??= createAuditLogger({ home: home() }));
  return {
    info: (step, fields) => get().info(step, fields),
    warn: (step, fields) => get().warn(step, fields),
    error: (step, fields) => get().error(step, fields),
    get path() {
      return get().path;
    },
    get lastError() {
      return logger?.lastError;
    },
    flush: async () => logger?.flush(),
  };
}
