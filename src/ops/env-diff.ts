/** Key-level differences between two env maps: names only, never values. */

export interface EnvDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export function diffEnv(before: Record<string, string>, after: Record<string, string>): EnvDiff {
  const diff: EnvDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const key of Object.keys(after).sort()) {
    if (!Object.hasOwn(before, key)) diff.added.push(key);
    else if (before[key] !== after[key]) diff.changed.push(key);
    else diff.unchanged.push(key);
  }
  for (const key of Object.keys(before).sort()) if (!Object.hasOwn(after, key)) diff.removed.push(key);
  return diff;
}

export function isEmptyDiff(diff: EnvDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/** `+NEW`, `-GONE`, `~CHANGED` — the form shown in confirmations and consent_required details. */
export function diffLines(diff: EnvDiff): string[] {
  return [...diff.added.map((k) => `+${k}`), ...diff.removed.map((k) => `-${k}`), ...diff.changed.map((k) => `~${k}`)];
}

/** One line for people: "2 added (A, B), 1 removed (C), 1 changed (D)". */
export function describeDiff(diff: EnvDiff): string {
  const parts: string[] = [];
  if (diff.added.length) parts.push(`${diff.added.length} added (${diff.added.join(', ')})`);
  if (diff.removed.length) parts.push(`${diff.removed.length} removed (${diff.removed.join(', ')})`);
  if (diff.changed.length) parts.push(`${diff.changed.length} changed (${diff.changed.join(', ')})`);
  return parts.length ? parts.join(', ') : 'no changes';
}
