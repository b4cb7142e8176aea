/**
 * The one error type of opendeploy. Every failure that reaches the user is an OdError whose `code`
 * belongs to the closed set of the command-line contract; the CLI maps it to an exit code and an
 * output shape in exactly one place (src/cli/run.ts).
 */

export const ERROR_CODES = [
  'auth_missing',
  'auth_invalid',
  'bind_required',
  'quota_exceeded',
  'rate_limited',
  'consent_required',
  'invalid_input',
  'not_found',
  'conflict',
  'refused',
  'analysis_incomplete',
  'gateway_unreachable',
  'server_error',
  'build_failed',
  'runtime_crash',
  'deploy_failed',
  'cancelled',
  'interrupted',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The exit code of each error code: what scripts and agents branch on, so it never changes. */
const EXIT_CODES: Record<ErrorCode, number> = {
  internal: 1,
  server_error: 1,
  not_found: 1,
  conflict: 1,
  invalid_input: 2,
  analysis_incomplete: 2,
  auth_missing: 3,
  auth_invalid: 3,
  bind_required: 4,
  quota_exceeded: 4,
  rate_limited: 4,
  build_failed: 5,
  runtime_crash: 5,
  deploy_failed: 5,
  cancelled: 5,
  gateway_unreachable: 6,
  refused: 7,
  consent_required: 7,
  interrupted: 130,
};

/** Codes whose failure may go away by itself when the same request is tried again later. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'gateway_unreachable',
  'server_error',
  'interrupted',
]);

export interface OdErrorOptions {
  /** Whether trying the same thing again later may succeed. Defaults per code. */
  retryable?: boolean;
  /** What the user (or agent) should do next: one sentence or an exact command. */
  nextAction?: string;
  /** Structured extras for JSON output (never secrets). */
  details?: Record<string, unknown>;
  /** HTTP status that produced this error, when there was one. */
  status?: number;
  cause?: unknown;
}

export class OdError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly nextAction: string;
  readonly details: Record<string, unknown>;
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: OdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OdError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.nextAction = options.nextAction ?? '';
    this.details = options.details ?? {};
    this.status = options.status;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isOdError(value: unknown): value is OdError {
  return value instanceof OdError;
}

/** Wraps anything thrown into an OdError, so the CLI always has one shape to report. */
export function toOdError(value: unknown): OdError {
  if (value instanceof OdError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new OdError('internal', `Unexpected error: ${message}`, {
    nextAction: 'Re-run with --verbose and report the output if it happens again.',
    cause: value,
  });
}
