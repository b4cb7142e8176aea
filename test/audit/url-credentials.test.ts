/**
 * URL credentials (`https://user:TOKEN@host/…`) never reach the audit log or any scrubbed text:
 * the userinfo is masked, the scheme, host and path stay so the line still says what was used.
 */
import { describe, expect, it } from 'vitest';
import { formatAuditLine } from '../../src/audit/index.js';
import { scrubText, stripUrlCredentials } from '../../src/core/redact.js';

const TOKEN = 'ghp_CanaryUrlToken9f8e7d6c5b4a';

describe('URL credentials', () => {
  it.each([
    [`https://deployer:${TOKEN}@github.com/acme/app.git`, 'https://***@github.com/acme/app.git'],
    [`https://${TOKEN}@github.com/acme/app.git`, 'https://***@github.com/acme/app.git'],
    [`git+https://x-access-token:${TOKEN}@github.com/a/b`, 'git+https://***@github.com/a/b'],
    [`postgres://app:${TOKEN}@db.internal:5432/app?sslmode=require`, 'postgres://***@db.internal:5432/app?sslmode=require'],
    ['ssh://git@github.com/acme/app.git', 'ssh://***@github.com/acme/app.git'],
    [`clone "https://u:${TOKEN}@h/x" failed; retry https://h/y`, 'clone "https://***@h/x" failed; retry https://h/y'],
    ['https://github.com/acme/app.git', 'https://github.com/acme/app.git'],
    ['https://h/users/@me and mail a@b.c', 'https://h/users/@me and mail a@b.c'],
    ['git@github.com:acme/app.git', 'git@github.com:acme/app.git'],
  ])('%s → %s', (input, expected) => {
    expect(stripUrlCredentials(input)).toBe(expected);
    expect(scrubText(input)).toBe(expected);
  });

  it('the audit line masks the token in fields, nested values and the step name', () => {
    const url = `https://deployer:${TOKEN}@git.example.com/acme/app.git`;
    const line = formatAuditLine(new Date('2026-01-02T03:04:05Z'), 'info', `upload ${url}`, { git_url: url, nested: { urls: [url] } });
    expect(line).not.toContain(TOKEN);
    expect(JSON.parse(line)).toEqual({
      ts: '2026-01-02T03:04:05Z',
      level: 'info',
      step: 'upload https://***@git.example.com/acme/app.git',
      git_url: 'https://***@git.example.com/acme/app.git',
      nested: { urls: ['https://***@git.example.com/acme/app.git'] },
    });
  });
});
