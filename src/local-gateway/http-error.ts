/**
 * The error route handlers throw; the dispatcher turns it into a JSON (or text) response. Kept
 * apart from the request toolkit so modules below the request context (the fault queue) can
 * throw it without importing the context.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      typeof body === 'object' && body !== null && 'error' in body
        ? String((body as { error: unknown }).error)
        : `HTTP ${status}`,
    );
  }
}

/** `{"error": message, ...extra}` — the default downstream error body of the contract. */
export function httpError(status: number, error: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(status, { error, ...extra });
}
