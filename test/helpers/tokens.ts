import { randomInt } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh, well-formed dashboard token (`od_k` + 43 base62 chars). The local gateway accepts any
 * such token as its own claimed user, so each call is a separate account.
 */
export function patToken(): string {
  let out = 'od_k';
  for (let i = 0; i < 43; i += 1) out += BASE62[randomInt(BASE62.length)];
  return out;
}
