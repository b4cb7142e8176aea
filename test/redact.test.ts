import { afterEach, describe, expect, it } from 'vitest';
import { clearRegisteredSecrets, excerpt, isSecretKey, redact, registerSecret, scrubText, scrubTextExcept } from '../src/core/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('redaction', () => {
  const token = `od_a${'Q'.repeat(39)}zz99`;

  it('scrubs od_ tokens wherever they appear, keeping only the kind', () => {
    expect(scrubText(`Bearer ${token} failed`)).toBe('Bearer od_a*** failed');
  });

  it('scrubs registered secrets, ignoring values too short to scrub safely', () => {
    registerSecret('hunter2-long-secret');
    registerSecret('abc');
    expect(scrubText('pw=hunter2-long-secret abc')).toBe('pw=*** abc');
  });

  it('never registers loopback hosts or environment names (they are config, not secrets)', () => {
    registerSecret('production');
    registerSecret('127.0.0.1');
    expect(scrubText('production at 127.0.0.1')).toBe('production at 127.0.0.1');
  });

  it('keeps an allowed string (the claim URL) intact while scrubbing the rest', () => {
    registerSecret('deadbeefcafe0123');
    const claim = 'https://x/claim/1?h=deadbeefcafe0123&url=y';
    expect(scrubTextExcept(`claim ${claim} sig deadbeefcafe0123`, [claim])).toBe(`claim ${claim} sig ***`);
  });

  it('drops secret keys at any depth and scrubs tokens under innocent keys', () => {
    expect(
      redact({ api_key: token, nested: { client_secret: 'x', Authorization: 'y', note: `key ${token}`, list: [{ password: 'p', ok: 1 }] } }),
    ).toEqual({ nested: { note: 'key od_a***', list: [{ ok: 1 }] } });
  });

  it('classifies secret key names', () => {
    for (const key of ['api_key', 'bind_sig', 'password', 'token', 'authorization', 'X-Authorization-Extra', 'STRIPE_SECRET', 'private_key']) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['project_id', 'status', 'tokens_used_count_display']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });

  it('truncates and scrubs body excerpts', () => {
    const body = `{"error":"bad", "api_key":"${token}", "pad":"${'x'.repeat(400)}"}`;
    const out = excerpt(body, 64);
    expect(out.length).toBe(65);
    expect(out.endsWith('…')).toBe(true);
    expect(out).not.toContain(token);
  });
});
