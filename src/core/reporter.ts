import type { OdError } from './errors.js';

/** A deploy log line as shown to the user (timestamps kept). */
export interface LogEvent {
  timestamp?: string;
  level?: string;
  message: string;
  source?: string;
}

/**
 * Commands never print directly: they hand events to a reporter. The human reporter draws stage
 * lines and spinners on stderr and the final report on stdout; the JSON reporter writes NDJSON
 * events on stdout. Both scrub every string they write.
 */
/** Exact strings an error may show despite scrubbing: only the full claim URL. */
export function errorAllowList(error: OdError): string[] {
  const claim = error.details.claim_url;
  return typeof claim === 'string' && claim !== '' ? [claim] : [];
}

export interface Reporter {
  /** A stage starts (spinner on a TTY; nothing in JSON mode). */
  stageStart(stage: string, text: string): void;
  /** A stage finished: one line in human mode, one `{"type":"stage"}` event in JSON mode. */
  stageDone(stage: string, text: string, fields?: Record<string, unknown>): void;
  /** A stage was skipped because saved state already covers it. */
  stageSkip(stage: string, text: string, fields?: Record<string, unknown>): void;
  /** Progress inside a running stage (upload bytes, build percent). */
  progress(stage: string, text: string, fields?: Record<string, unknown>): void;
  /**
   * Bytes moved inside a running stage (packing, uploading): the reporter meters rate and time left
   * and draws it (a bar on a terminal, throttled `progress` events in JSON mode).
   */
  transfer(stage: string, verb: string, sent: number, total: number): void;
  /** A deploy/build log line. */
  log(event: LogEvent): void;
  /** Human text for stderr (both modes); never on stdout in JSON mode. */
  warn(message: string): void;
  /**
   * A warning a program must be able to act on: the same stderr line as `warn`, plus (JSON mode) one
   * `{"type":"warning","code":...}` event on stdout carrying `fields` (names, never values).
   */
  warning(code: string, message: string, fields?: Record<string, unknown>): void;
  info(message: string): void;
  /** Verbose-only diagnostics on stderr. */
  debug(message: string): void;
  /**
   * The final result. `human` is the report printed on stdout in human mode; `data` is the JSON
   * result object. `allowed` lists exact strings (the claim URL) that must survive scrubbing.
   */
  result(data: Record<string, unknown>, human: string[], allowed?: string[]): void;
  /**
   * A one-shot command's answer: in JSON mode the same single `{"type":"result",...}` line as
   * `result` (the data's fields beside `type`, so data is an object and never has its own `type`);
   * in human mode the `human` text. `allowed` lists exact strings the user asked to see
   * (`--show-secrets`) that must survive scrubbing.
   */
  document(data: object, human: string[], allowed?: string[]): void;
  /**
   * The error that ends the command. A `details.claim_url` (the one place bind_sig may appear,
   * inside the full URL) survives scrubbing; everything else is scrubbed.
   */
  error(error: OdError): void;
  /** Stops any running spinner (called before exit or on Ctrl-C). */
  close(): void;
}
