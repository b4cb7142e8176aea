import { scrubText, scrubTextExcept, scrubTokens } from '../../core/redact.js';
import type { OdError } from '../../core/errors.js';
import { errorAllowList, type LogEvent, type Reporter } from '../../core/reporter.js';
import { isByteProgress, Throttle, TransferMeters } from './progress.js';

export interface Streams {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/**
 * Scrubs every string value before the object is serialised, not the serialised line: a secret
 * holding a quote or a newline would not match its JSON-escaped form, and keys are names that
 * must survive (a variable whose value is "changed" must not rename `keys_changed`). Keys are
 * still cleared of token-shaped strings.
 */
function scrubJson(value: unknown, allowed: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return allowed.length > 0 ? scrubTextExcept(value, allowed) : scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 32) return '[depth]';
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, allowed, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return scrubJson(JSON.parse(JSON.stringify(value)), allowed, depth + 1);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) out[scrubTokens(key)] = scrubJson(inner, allowed, depth + 1);
  return out;
}

/**
 * NDJSON on stdout, human warnings on stderr. Every stdout line is one JSON object with a `type`:
 * events (`stage`, `progress`, `log`, `warning`), then one `result` or one `error`. Every line is
 * scrubbed before it is written.
 */
export class JsonReporter implements Reporter {
  /** Byte progress arrives per network chunk; programs get at most four events a second per stage. */
  private readonly throttle = new Throttle(250);
  private readonly meters = new TransferMeters();

  constructor(
    private readonly streams: Streams,
    private readonly verbose: boolean,
  ) {}

  private emit(event: Record<string, unknown>, allowed: string[] = []): void {
    this.streams.stdout.write(`${JSON.stringify(scrubJson(event, allowed))}\n`);
  }

  stageStart(): void {
    // JSON consumers get one event per finished stage; a start event would only be noise.
  }

  stageDone(stage: string, text: string, fields: Record<string, unknown> = {}): void {
    this.emit({ type: 'stage', stage, status: 'done', message: text, ...fields });
  }

  stageSkip(stage: string, text: string, fields: Record<string, unknown> = {}): void {
    this.emit({ type: 'stage', stage, status: 'skipped', message: text, ...fields });
  }

  progress(stage: string, text: string, fields: Record<string, unknown> = {}): void {
    if (isByteProgress(fields) && !this.throttle.allow(stage, fields.sent >= fields.total)) return;
    this.emit({ type: 'progress', stage, message: text, ...fields });
  }

  transfer(stage: string, verb: string, sent: number, total: number): void {
    const { text, fields } = this.meters.update(stage, verb, sent, total);
    this.progress(stage, text, fields);
  }

  log(event: LogEvent): void {
    this.emit({ type: 'log', ...event });
  }

  warn(message: string): void {
    this.streams.stderr.write(`warning: ${scrubText(message)}\n`);
  }

  warning(code: string, message: string, fields: Record<string, unknown> = {}): void {
    this.emit({ type: 'warning', code, message, ...fields });
    this.warn(message);
  }

  info(message: string): void {
    this.streams.stderr.write(`${scrubText(message)}\n`);
  }

  debug(message: string): void {
    if (this.verbose) this.streams.stderr.write(`debug: ${scrubText(message)}\n`);
  }

  /**
   * The one `{"type":"result",...}` line that ends a successful run: the data's fields sit beside
   * `type` in the envelope (result data never has a field named `type`).
   */
  result(data: Record<string, unknown>, _human: string[], allowed: string[] = []): void {
    this.emit({ type: 'result', ...data }, allowed);
  }

  /**
   * A one-shot command's answer is a result like any other: one single-line `{"type":"result",...}`
   * object, so every stdout line of every `--json` run parses alone and says what it is.
   */
  document(data: object, human: string[], allowed: string[] = []): void {
    this.result({ ...data }, human, allowed);
  }

  error(error: OdError): void {
    const event: Record<string, unknown> = {
      type: 'error',
      error_code: error.code,
      message: error.message,
      retryable: error.retryable,
      next_action: error.nextAction,
    };
    if (Object.keys(error.details).length > 0) event.details = error.details;
    this.emit(event, errorAllowList(error));
  }

  close(): void {}
}
