/**
 * JSON with comments and trailing commas (deno.jsonc, deno.json, which Deno also reads this way,
 * tsconfig.json and Nx project.json), read with jsonc-parser.
 *
 * jsonc-parser is loaded on first use with a synchronous require: most folders have no JSONC file,
 * and analysis of those does not pay for loading it.
 */
import { createRequire } from 'node:module';

type JsoncParser = typeof import('jsonc-parser');
type ParseError = import('jsonc-parser').ParseError;

let loaded: JsoncParser | undefined;
function jsonc(): JsoncParser {
  loaded ??= createRequire(import.meta.url)('jsonc-parser') as JsoncParser;
  return loaded;
}

/** The text without comments and without trailing commas (valid JSON when the JSONC was valid). */
export function stripJsonc(text: string): string {
  const { createScanner, SyntaxKind } = jsonc();
  // Tokens are kept as written (trivia included) so strings and offsets stay intact; a comma is
  // dropped when the next significant token closes its object or array.
  const scanner = createScanner(text, false);
  const tokens: Array<{ kind: number; text: string }> = [];
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    if (kind === SyntaxKind.LineCommentTrivia || kind === SyntaxKind.BlockCommentTrivia) continue;
    const offset = scanner.getTokenOffset();
    tokens.push({ kind, text: text.slice(offset, offset + scanner.getTokenLength()) });
  }
  // Walking backwards, the next significant token after each comma is known in one pass.
  const kept: string[] = [];
  let next: number = SyntaxKind.EOF;
  for (let index = tokens.length - 1; index >= 0; index -= 1) {
    const token = tokens[index] as { kind: number; text: string };
    const closes = next === SyntaxKind.CloseBraceToken || next === SyntaxKind.CloseBracketToken;
    if (!(token.kind === SyntaxKind.CommaToken && closes)) kept.push(token.text);
    if (token.kind !== SyntaxKind.Trivia && token.kind !== SyntaxKind.LineBreakTrivia) next = token.kind;
  }
  return kept.reverse().join('');
}

/**
 * Parses JSONC into an object, or returns an error message: `syntax error at position N` (an offset
 * in the text as written), or `syntax error` when the text ends before the value does.
 */
export function parseJsonc(text: string): { value: Record<string, unknown> } | { error: string } {
  const source = text.replace(/^\uFEFF/, '');
  const errors: ParseError[] = [];
  const value: unknown = jsonc().parse(source, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) return { error: first.offset >= source.length ? 'syntax error' : `syntax error at position ${first.offset}` };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'not a JSON object' };
  return { value: value as Record<string, unknown> };
}
