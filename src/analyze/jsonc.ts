/**
 * JSON with comments and trailing commas (deno.jsonc, and deno.json, which Deno also reads this way).
 * Comments and trailing commas are removed outside strings, then JSON.parse does the parsing.
 */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else {
      out += c;
      i += 1;
    }
  }
  return removeTrailingCommas(out);
}

/** Drops a comma that only whitespace separates from a closing `}` or `]` (outside strings). */
function removeTrailingCommas(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === ',') {
      let j = i + 1;
      while (j < n && /\s/.test(text[j] as string)) j += 1;
      if (text[j] === '}' || text[j] === ']') {
        i += 1;
        continue;
      }
    }
    out += c;
    i += 1;
  }
  return out;
}

/** Parses JSONC into an object, or returns an error message. */
export function parseJsonc(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    const value: unknown = JSON.parse(stripJsonc(text.replace(/^\uFEFF/, '')));
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'not a JSON object' };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    const position = /position \d+/.exec(error instanceof Error ? error.message : '')?.[0];
    return { error: position ? `syntax error at ${position}` : 'syntax error' };
  }
}
