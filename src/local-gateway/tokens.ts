/**
 * Token shapes of the gateway contract: `od_` + one kind letter + 43 base62 characters.
 * `od_k` = dashboard token (PAT), `od_a` = agent credential. Only hashes are ever stored.
 */

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN_BODY_LENGTH = 43;
export const TOKEN_SHAPE = /^od_([a-z])([A-Za-z0-9]{43})$/;

export type TokenKind = 'k' | 'a';

/** Uniform base62 string: bytes >= 248 are rejected so `% 62` has no bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function mintToken(kind: TokenKind): string {
  return `od_${kind}${randomBase62(TOKEN_BODY_LENGTH)}`;
}

/** The kind letter of a well-formed token, or null for anything else. */
export function tokenKind(token: string): string | null {
  const match = TOKEN_SHAPE.exec(token);
  return match ? (match[1] ?? null) : null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The hex MAC that seals a claim URL to one agent id (32 hex chars, like the hosted gateway's). */
export function bindSignature(secret: string, agentId: string): string {
  return createHmac('sha256', Buffer.from(secret, 'hex')).update(`bind:${agentId}`).digest('hex').slice(0, 32);
}

export function verifyBindSignature(secret: string, agentId: string, candidate: string): boolean {
  const expected = Buffer.from(bindSignature(secret, agentId));
  const given = Buffer.from(candidate);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Random lowercase alphanumerics, e.g. the 8-character auto subdomain. */
export function randomLowerAlnum(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252) out += alphabet[byte % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A password that is safe inside connection URLs (no characters that need escaping). */
export function randomPassword(length = 32): string {
  return randomBase62(length);
}
