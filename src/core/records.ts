/** Narrowing helpers for values read from JSON, YAML or a thrown error: one definition each. */

/** The value as a plain object, or undefined for arrays, null and primitives. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A Node error's `code` (`ENOENT`, `EACCES`, …), or `error` when it has none. */
export function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}
