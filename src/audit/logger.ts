/**
 * JSONL audit trail: `<home>/logs/<UTC YYYY-MM-DD>.log`, one JSON object per line.
 *
 * - Folder 0700, file 0600 (created 0600; an existing file with any other mode is chmod-ed back).
 * - Append-only: every line is written with an `a`-flag descriptor; nothing is ever rewritten or pruned.
 * - Daily roll by the UTC date of each line's own timestamp (decided at write time).
 * - Secrets are removed at write time: secret-named keys are dropped and every string is scrubbed of
 *   `od_`-shaped tokens and registered secrets (src/redact.ts). Bodies are cut to a 256-char excerpt.
 * - A logging failure never throws: it is remembered in `lastError` and the deploy goes on.
 *
 * Writes are synchronous (`appendFileSync` semantics on an `a` descriptor), so lines are ordered
 * exactly as the calls were made; `flush()` exists for callers that want an explicit barrier.
 */
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, statSync, chmodSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { excerpt, redact, scrubText } from '../core/redact.js';
import type { AuditSink } from '../core/session.js';

export type AuditLevel = 'info' | 'warn' | 'error';

/** The JSONL logger is the session's audit sink: one interface, declared in core. */
export type AuditLogger = AuditSink;

export interface AuditLoggerOptions {
  /** The opendeploy home folder (`OPENDEPLOY_HOME` or `~/.opendeploy`); lines go to `<home>/logs/`. */
  home: string;
  /** Clock, injectable for tests. */
  now?: () => Date;
  /** Folder override for the log files (e.g. `OD_LOG_DIR`); defaults to `<home>/logs`. */
  logDir?: string;
}

/** Keys that carry response bodies: always cut to a short scrubbed excerpt. */
const BODY_KEYS = new Set(['body', 'response_body', 'raw_body']);
/** Keys owned by the line shape itself; fields with these names are ignored. */
const RESERVED_KEYS = new Set(['ts', 'level', 'step']);

/** `YYYY-MM-DD` of a date in UTC. */
export function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds). */
export function utcTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** File a line written at `date` belongs to. */
export function auditFilePath(logDir: string, date: Date): string {
  return join(logDir, `${utcDate(date)}.log`);
}

/**
 * Turns values JSON cannot carry faithfully into plain data before redaction: Errors keep their
 * name, code, status and a scrubbed excerpt of the message; Dates become ISO strings; bigints
 * become strings; functions and symbols vanish.
 */
function plain(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (depth > 20) return '[depth]';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Error) {
    const err = value as Error & { code?: unknown; status?: unknown };
    const out: Record<string, unknown> = { name: err.name, message: excerpt(err.message) };
    if (err.code !== undefined) out['code'] = plain(err.code, depth + 1, seen);
    if (err.status !== undefined) out['status'] = plain(err.status, depth + 1, seen);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    let out: unknown;
    if (Array.isArray(value)) {
      out = value.map((item) => plain(item, depth + 1, seen));
    } else if (value instanceof Map) {
      out = plain(Object.fromEntries(value), depth + 1, seen);
    } else if (value instanceof Set) {
      out = plain([...value], depth + 1, seen);
    } else {
      const obj: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        const converted = plain(inner, depth + 1, seen);
        if (converted !== undefined) obj[key] = converted;
      }
      out = obj;
    }
    seen.delete(value);
    return out;
  }
  return value;
}

/**
 * Builds one audit line (without the trailing newline). Exported for tests and for reporters
 * that want to show the exact redacted shape.
 */
export function formatAuditLine(
  date: Date,
  level: AuditLevel,
  step: string,
  fields: Record<string, unknown> = {},
): string {
  const line: Record<string, unknown> = { ts: utcTimestamp(date), level, step: scrubText(step) };
  const clean = redact(plain(fields, 0, new WeakSet())) as Record<string, unknown>;
  for (const [key, value] of Object.entries(clean)) {
    if (RESERVED_KEYS.has(key) || value === undefined) continue;
    if (BODY_KEYS.has(key.toLowerCase())) {
      line[key] = excerpt(typeof value === 'string' ? value : JSON.stringify(value) ?? '');
      continue;
    }
    line[key] = value;
  }
  return JSON.stringify(line);
}

class FileAuditLogger implements AuditLogger {
  private readonly logDir: string;
  private readonly now: () => Date;
  private dirReady = false;
  private failure: unknown = undefined;

  constructor(options: AuditLoggerOptions) {
    this.logDir = options.logDir ?? join(options.home, 'logs');
    this.now = options.now ?? (() => new Date());
  }

  get path(): string {
    return auditFilePath(this.logDir, this.now());
  }

  get lastError(): unknown {
    return this.failure;
  }

  info(step: string, fields?: Record<string, unknown>): void {
    this.write('info', step, fields);
  }

  warn(step: string, fields?: Record<string, unknown>): void {
    this.write('warn', step, fields);
  }

  error(step: string, fields?: Record<string, unknown>): void {
    this.write('error', step, fields);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const mode = statSync(this.logDir).mode & 0o777;
    if (mode !== 0o700) chmodSync(this.logDir, 0o700);
    this.dirReady = true;
  }

  private write(level: AuditLevel, step: string, fields?: Record<string, unknown>): void {
    try {
      const date = this.now();
      const text = `${formatAuditLine(date, level, step, fields)}\n`;
      this.ensureDir();
      const fd = openSync(auditFilePath(this.logDir, date), 'a', 0o600);
      try {
        if ((fstatSync(fd).mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
        const bytes = Buffer.from(text, 'utf8');
        let offset = 0;
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      // Logging must never abort a deploy: remember the failure for --verbose and tests.
      this.failure = err;
      this.dirReady = false;
    }
  }
}

export function createAuditLogger(options: AuditLoggerOptions): AuditLogger {
  return new FileAuditLogger(options);
}

/** A logger that writes nothing (for commands and tests that do not want an audit trail). */
export function createNullAuditLogger(): AuditLogger {
  return {
    info() {},
    warn() {},
    error() {},
    path: '',
    lastError: undefined,
    flush: () => Promise.resolve(),
  };
}
