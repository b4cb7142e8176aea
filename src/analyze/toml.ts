/**
 * The TOML parser, loaded on first use: most projects have no TOML manifest, and importing the
 * parser's 25 ES modules costs start-up on every run. Its CommonJS build is required synchronously,
 * so every caller stays synchronous.
 */
import type * as SmolToml from 'smol-toml';
import { requireCjs } from '../core/cjs.js';

let loaded: typeof SmolToml | undefined;

export function parseToml(text: string): Record<string, unknown> {
  loaded ??= requireCjs('smol-toml') as typeof SmolToml;
  return loaded.parse(text);
}
