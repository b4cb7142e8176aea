/**
 * The reporter of one tool call. stdout belongs to the MCP protocol, so nothing is printed there:
 * what the operations report is kept for the tool result (the final result or document, log lines,
 * warnings), human lines go to stderr (where MCP hosts collect a server's logs), and build progress
 * becomes MCP progress notifications when the client asked for them. Every string is scrubbed.
 */
import type { OdError } from '../core/errors.js';
import { scrubText } from '../core/redact.js';
import type { LogEvent, Reporter } from '../core/reporter.js';

export interface Warning {
  code: string | null;
  message: string;
}

export interface CapturedOutput {
  /** The op's final `result` or `document` payload, when it reported one. */
  result: Record<string, unknown> | undefined;
  /** Exact strings (the claim URL) the op allowed through scrubbing. */
  allowed: string[];
  logs: LogEvent[];
  warnings: Warning[];
}

export interface ProgressSink {
  (progress: number, message: string): void;
}

export class CapturingReporter implements Reporter {
  readonly captured: CapturedOutput = { result: undefined, allowed: [], logs: [], warnings: [] };
  private lastProgress = -1;

  constructor(
    private readonly stderr: { write(text: string): unknown },
    private readonly tool: string,
    private readonly onProgress?: ProgressSink,
  ) {}

  private line(text: string): void {
    this.stderr.write(`[opendeploy ${this.tool}] ${scrubText(text)}\n`);
  }

  stageStart(): void {}

  stageDone(_stage: string, text: string): void {
    this.line(text);
  }

  stageSkip(_stage: string, text: string): void {
    this.line(text);
  }

  progress(_stage: string, text: string, fields?: Record<string, unknown>): void {
    const value = fields?.progress ?? fields?.percent;
    // MCP progress must increase: a repeated or lower percent is not sent again.
    if (typeof value === 'number' && value > this.lastProgress) {
      this.lastProgress = value;
      this.onProgress?.(value, scrubText(text));
    }
  }

  transfer(): void {}

  log(event: LogEvent): void {
    this.captured.logs.push({ ...event, message: scrubText(event.message) });
  }

  warn(message: string): void {
    this.captured.warnings.push({ code: null, message: scrubText(message) });
    this.line(`warning: ${message}`);
  }

  warning(code: string, message: string): void {
    this.captured.warnings.push({ code, message: scrubText(message) });
    this.line(`warning: ${message}`);
  }

  info(message: string): void {
    this.line(message);
  }

  debug(): void {}

  result(data: Record<string, unknown>, _human: string[], allowed: string[] = []): void {
    this.captured.result = data;
    this.captured.allowed.push(...allowed);
  }

  document(data: unknown, _human: string[], allowed: string[] = []): void {
    if (data !== null && typeof data === 'object' && !Array.isArray(data)) this.captured.result = data as Record<string, unknown>;
    this.captured.allowed.push(...allowed);
  }

  error(error: OdError): void {
    this.line(`error: ${error.message}`);
  }

  close(): void {}
}
