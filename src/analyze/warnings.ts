/**
 * Longest warning kept, in characters. A warning quotes what it found (a port list, file names), and
 * hostile input made that quote huge: a 10,000-line EXPOSE produced a 122 KB warning. Longer
 * messages are cut to MAX_WARNING_CHARS - 1 characters plus `...`.
 */
export const MAX_WARNING_CHARS = 500;

/** Most warnings an analysis reports; the rest are counted in one closing line (see `boundWarnings`). */
export const MAX_WARNINGS = 50;

/** Cuts a message to MAX_WARNING_CHARS, marking the cut with `...`. */
export function capWarning(message: string): string {
  return message.length > MAX_WARNING_CHARS ? `${message.slice(0, MAX_WARNING_CHARS - 1)}\u2026` : message;
}

/**
 * The warnings an analysis reports: each cut to MAX_WARNING_CHARS, each once, at most MAX_WARNINGS
 * of them, followed by `N more warning(s) not shown` when some were dropped. Keeps analysis.json
 * and the terminal readable whatever the project holds.
 */
export function boundWarnings(messages: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  let omitted = 0;
  for (const message of messages) {
    const capped = capWarning(message);
    if (seen.has(capped)) continue;
    seen.add(capped);
    if (out.length >= MAX_WARNINGS) omitted += 1;
    else out.push(capped);
  }
  if (omitted > 0) out.push(`${omitted} more warning(s) not shown`);
  return out;
}

/**
 * Collects analysis warnings in the order they were found, each message once and each cut to
 * MAX_WARNING_CHARS (so one huge quote never sits in memory twice). The count is bounded where the
 * analysis is assembled, with `boundWarnings`.
 */
export class Warnings {
  private readonly seen = new Set<string>();
  private readonly list: string[] = [];

  add(message: string): void {
    const capped = capWarning(message);
    if (this.seen.has(capped)) return;
    this.seen.add(capped);
    this.list.push(capped);
  }

  all(): string[] {
    return [...this.list];
  }
}
