import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createAuditLogger, formatAuditLine, utcDate, utcTimestamp } from '../../src/audit/index.js';
import { OdError } from '../../src/core/errors.js';
import { clearRegisteredSecrets, registerSecret } from '../../src/core/redact.js';

const TOKEN = 'od_aCANARYaudit0123456789abcdefghijklmnopqrstu';
const PAT = 'od_kCANARYpat0123456789abcdefghijklmnopqrstuvw';

let home: string;
const savedTz = process.env['TZ'];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'od-audit-'));
  clearRegisteredSecrets();
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  clearRegisteredSecrets();
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
});

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function fixedClock(iso: string): () => Date {
  return () => new Date(iso);
}

describe('audit log file', () => {
  it('writes one JSON line with ts/level/step first, file 0600, folder 0700', async () => {
    const audit = createAuditLogger({ home, now: fixedClock('2026-11-23T19:04:05.678Z') });
    audit.info('auth.resolve', { source: 'file', kind: 'agent', fresh: false, count: 3 });
    await audit.flush();

    const path = join(home, 'logs', '2026-11-23.log');
    expect(audit.path).toBe(path);
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(
      '{"ts":"2026-11-23T19:04:05Z","level":"info","step":"auth.resolve","source":"file","kind":"agent","fresh":false,"count":3}\n',
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'logs')).mode & 0o777).toBe(0o700);
    expect(audit.lastError).toBeUndefined();
  });

  it('names files by UTC date and rolls across midnight (two files), whatever the local time zone', () => {
    process.env['TZ'] = 'America/Los_Angeles';
    let now = new Date('2026-11-23T23:59:59.900Z');
    const audit = createAuditLogger({ home, now: () => now });
    audit.info('deploy.create', { deployment_id: 'd1' });
    now = new Date('2026-11-24T00:00:00.100Z');
    audit.warn('deploy.terminal', { deployment_id: 'd1', status: 'failed' });

    const files = readdirSync(join(home, 'logs')).sort();
    expect(files).toEqual(['2026-11-23.log', '2026-11-24.log']);
    expect(lines(join(home, 'logs', '2026-11-23.log'))).toEqual([
      { ts: '2026-11-23T23:59:59Z', level: 'info', step: 'deploy.create', deployment_id: 'd1' },
    ]);
    expect(lines(join(home, 'logs', '2026-11-24.log'))).toEqual([
      { ts: '2026-11-24T00:00:00Z', level: 'warn', step: 'deploy.terminal', deployment_id: 'd1', status: 'failed' },
    ]);
    expect(audit.path).toBe(join(home, 'logs', '2026-11-24.log'));
  });

  it('appends to an existing file without rewriting it, and tightens a loose file and folder', () => {
    const logs = join(home, 'logs');
    mkdirSync(logs, { mode: 0o755 });
    chmodSync(logs, 0o755);
    const path = join(logs, '2026-01-02.log');
    const existing = '{"ts":"2026-01-02T00:00:00Z","level":"info","step":"earlier.run"}\nnot even json, kept as is\n';
    writeFileSync(path, existing, { mode: 0o644 });
    chmodSync(path, 0o644);
    const inode = statSync(path).ino;

    const audit = createAuditLogger({ home, now: fixedClock('2026-01-02T10:00:00Z') });
    audit.info('project.create', { project_id: 'p1' });
    audit.error('deploy.terminal', { status: 500 });

    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(existing)).toBe(true);
    expect(text.slice(existing.length)).toBe(
      '{"ts":"2026-01-02T10:00:00Z","level":"info","step":"project.create","project_id":"p1"}\n' +
        '{"ts":"2026-01-02T10:00:00Z","level":"error","step":"deploy.terminal","status":500}\n',
    );
    expect(statSync(path).ino).toBe(inode);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(logs).mode & 0o777).toBe(0o700);
  });

  it('keeps lines in call order', async () => {
    const audit = createAuditLogger({ home, now: fixedClock('2026-03-04T05:06:07Z') });
    for (let i = 0; i < 200; i += 1) audit.info('step.n', { i });
    await audit.flush();
    expect(lines(audit.path).map((line) => line['i'])).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('honours a log folder override', () => {
    const dir = join(home, 'elsewhere');
    const audit = createAuditLogger({ home, logDir: dir, now: fixedClock('2026-03-04T05:06:07Z') });
    audit.info('x.y');
    expect(audit.path).toBe(join(dir, '2026-03-04.log'));
    expect(lines(audit.path)).toEqual([{ ts: '2026-03-04T05:06:07Z', level: 'info', step: 'x.y' }]);
  });

  it('swallows write failures and exposes lastError', () => {
    writeFileSync(join(home, 'logs'), 'a file where the folder should be');
    const audit = createAuditLogger({ home, now: fixedClock('2026-03-04T05:06:07Z') });
    expect(() => audit.error('deploy.terminal', { status: 500 })).not.toThrow();
    expect(audit.lastError).toBeInstanceOf(Error);
    expect((audit.lastError as NodeJS.ErrnoException).code).toMatch(/^(EEXIST|ENOTDIR)$/);
    expect(readFileSync(join(home, 'logs'), 'utf8')).toBe('a file where the folder should be');
  });
});

describe('audit redaction at write time', () => {
  it('drops secret-named keys at any depth and scrubs od_ tokens under innocent keys', () => {
    const audit = createAuditLogger({ home, now: fixedClock('2026-05-06T07:08:09Z') });
    audit.info('env.replace', {
      api_key: TOKEN,
      bind_sig: 'deadbeefcafe0001',
      Token: PAT,
      password: 'hunter22',
      private_key: '-----BEGIN KEY-----',
      client_secret: 'shh-secret-value',
      request: {
        headers: { Authorization: `Bearer ${TOKEN}`, 'X-Authorization-Extra': 'x', accept: 'json' },
        keys: ['DATABASE_URL', 'SECRET_KEY_BASE'],
      },
      items: [{ password: 'p', DB_SECRET: 'q', name: 'ok' }],
      note: `used ${TOKEN} and ${PAT} today`,
      count: 2,
    });
    const [line] = lines(audit.path);
    expect(line).toEqual({
      ts: '2026-05-06T07:08:09Z',
      level: 'info',
      step: 'env.replace',
      request: { headers: { accept: 'json' }, keys: ['DATABASE_URL', 'SECRET_KEY_BASE'] },
      items: [{ name: 'ok' }],
      note: 'used od_a*** and od_k*** today',
      count: 2,
    });
    const raw = readFileSync(audit.path, 'utf8');
    for (const secret of [TOKEN, PAT, 'deadbeefcafe0001', 'hunter22', 'BEGIN KEY', 'shh-secret-value']) {
      expect(raw).not.toContain(secret);
    }
  });

  it('scrubs registered secrets that do not look like tokens', () => {
    registerSecret('s3cr3t-env-value');
    const audit = createAuditLogger({ home, now: fixedClock('2026-05-06T07:08:09Z') });
    audit.warn('deploy.note', { message: 'value s3cr3t-env-value leaked?', nested: { deep: ['s3cr3t-env-value'] } });
    const [line] = lines(audit.path);
    expect(line).toEqual({
      ts: '2026-05-06T07:08:09Z',
      level: 'warn',
      step: 'deploy.note',
      message: 'value *** leaked?',
      nested: { deep: ['***'] },
    });
  });

  it('logs errors with status and a scrubbed body excerpt of at most 256 characters', () => {
    const body = `{"error":"boom","api_key":"${TOKEN}","detail":"${'x'.repeat(1000)}"}`;
    const audit = createAuditLogger({ home, now: fixedClock('2026-05-06T07:08:09Z') });
    audit.error('deploy.create', { status: 502, body });
    const [line] = lines(audit.path);
    expect(line?.['status']).toBe(502);
    const excerpt = line?.['body'] as string;
    expect(excerpt.startsWith('{"error":"boom","api_key":"od_a***","detail":"xxx')).toBe(true);
    expect(excerpt.length).toBe(257);
    expect(excerpt.endsWith('…')).toBe(true);
    expect(readFileSync(audit.path, 'utf8')).not.toContain(TOKEN);
  });

  it('turns Error values into name, code, status and a scrubbed message', () => {
    const error = new OdError('auth_invalid', `rejected ${TOKEN}`, { status: 401 });
    const audit = createAuditLogger({ home, now: fixedClock('2026-05-06T07:08:09Z') });
    audit.error('auth.check', { error, at: new Date('2026-05-06T07:08:00Z'), big: 12n });
    const [line] = lines(audit.path);
    expect(line).toEqual({
      ts: '2026-05-06T07:08:09Z',
      level: 'error',
      step: 'auth.check',
      error: { name: 'OdError', message: 'rejected od_a***', code: 'auth_invalid', status: 401 },
      at: '2026-05-06T07:08:00.000Z',
      big: '12',
    });
  });

  it('does not let fields overwrite ts, level or step', () => {
    const text = formatAuditLine(new Date('2026-05-06T07:08:09.999Z'), 'info', 'a.b', { ts: 'x', level: 'error', step: 'c', ok: true });
    expect(text).toBe('{"ts":"2026-05-06T07:08:09Z","level":"info","step":"a.b","ok":true}');
  });

  it('survives circular structures', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop['self'] = loop;
    const audit = createAuditLogger({ home, now: fixedClock('2026-05-06T07:08:09Z') });
    audit.info('x.y', { loop });
    expect(lines(audit.path)[0]?.['loop']).toEqual({ name: 'loop', self: '[circular]' });
    expect(audit.lastError).toBeUndefined();
  });
});

describe('UTC helpers', () => {
  it('formats dates and timestamps in UTC', () => {
    const date = new Date('2026-12-31T23:59:59.999Z');
    expect(utcDate(date)).toBe('2026-12-31');
    expect(utcTimestamp(date)).toBe('2026-12-31T23:59:59Z');
  });
});
