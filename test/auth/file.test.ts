import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { readAuthFile, writeAuthFile, type AuthFileData } from '../../src/auth/index.js';
import { OdError } from '../../src/core/errors.js';
import { modeOf } from './helpers.js';

const KEY = 'od_aFILEtest0123456789abcdefghijklmnopqrstuvwx';

let root: string;
const savedHome = process.env['HOME'];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'od-authfile-'));
  process.env['HOME'] = root; // so messages show ~/.opendeploy/auth.json
});

afterEach(() => {
  process.env['HOME'] = savedHome;
  rmSync(root, { recursive: true, force: true });
});

function place(content: string, mode = 0o600): string {
  const dir = join(root, '.opendeploy');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'auth.json');
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

async function expectOdError(promise: Promise<unknown>): Promise<OdError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OdError);
    return err as OdError;
  }
  throw new Error('expected an OdError');
}

describe('readAuthFile', () => {
  it('reports a missing file', async () => {
    expect(await readAuthFile(join(root, 'nope', 'auth.json'))).toEqual({ status: 'missing' });
  });

  it('reads a valid file and accepts guest_id as agent_id', async () => {
    const path = place(JSON.stringify({ version: 1, api_key: KEY, gateway: 'https://g.example/api', guest_id: 'g-1', bind_sig: 'abc123', env_consent: {} }));
    expect(await readAuthFile(path)).toEqual({
      status: 'ok',
      data: { version: 1, api_key: KEY, gateway: 'https://g.example/api', agent_id: 'g-1', bind_sig: 'abc123' },
      tightened: false,
      dirTightened: false,
    });
  });

  it('tightens a 0644 file to 0600 and says so; leaves 0400 alone', async () => {
    const path = place(JSON.stringify({ version: 1, api_key: KEY }), 0o644);
    const result = await readAuthFile(path);
    expect(result.status === 'ok' && result.tightened).toBe(true);
    expect(modeOf(path)).toBe(0o600);

    chmodSync(path, 0o400);
    const again = await readAuthFile(path);
    expect(again.status === 'ok' && again.tightened).toBe(false);
    expect(modeOf(path)).toBe(0o400);
  });

  it('tightens the folder only when asked (the home folder)', async () => {
    const path = place(JSON.stringify({ version: 1, api_key: KEY }));
    const dir = join(root, '.opendeploy');
    chmodSync(dir, 0o755);
    const untouched = await readAuthFile(path);
    expect(untouched.status === 'ok' && untouched.dirTightened).toBe(false);
    expect(modeOf(dir)).toBe(0o755);
    const tightened = await readAuthFile(path, { tightenDir: true });
    expect(tightened.status === 'ok' && tightened.dirTightened).toBe(true);
    expect(modeOf(dir)).toBe(0o700);
  });

  it('rejects malformed JSON with the line number, leaving the bytes untouched', async () => {
    const content = `{\n  "version": 1,\n  "api_key": "${KEY}",,\n}\n`;
    const path = place(content);
    const err = await expectOdError(readAuthFile(path));
    expect(err.code).toBe('auth_invalid');
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      '~/.opendeploy/auth.json is not valid JSON (line 3): fix or move it away; opendeploy never rewrites or deletes it.',
    );
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('rejects an unknown version, leaving the bytes untouched', async () => {
    const content = JSON.stringify({ version: 7, api_key: KEY, future: true });
    const path = place(content);
    const err = await expectOdError(readAuthFile(path));
    expect(err.code).toBe('auth_invalid');
    expect(err.message).toBe(
      '~/.opendeploy/auth.json has version 7, which this opendeploy does not understand: upgrade opendeploy or restore a version 1 file.',
    );
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('treats a zero-byte file as invalid, not missing (never overwritten)', async () => {
    const path = place('');
    const err = await expectOdError(readAuthFile(path));
    expect(err.code).toBe('auth_invalid');
    expect(err.message).toBe('~/.opendeploy/auth.json is empty: fix or move it away; opendeploy never rewrites or deletes it.');
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('rejects files without a usable api_key, a missing version, or a non-object', async () => {
    const noKey = await expectOdError(readAuthFile(place(JSON.stringify({ version: 1, gateway: 'https://g/api' }))));
    expect(noKey.message).toBe(
      '~/.opendeploy/auth.json has no usable api_key (expected a string starting with od_): fix or move it away; opendeploy never rewrites or deletes it.',
    );
    const badKey = await expectOdError(readAuthFile(place(JSON.stringify({ version: 1, api_key: 'ghp_123' }))));
    expect(badKey.code).toBe('auth_invalid');
    const noVersion = await expectOdError(readAuthFile(place(JSON.stringify({ api_key: KEY }))));
    expect(noVersion.message).toBe('~/.opendeploy/auth.json has no "version" field: fix or move it away; opendeploy never rewrites or deletes it.');
    const array = await expectOdError(readAuthFile(place('[1,2]')));
    expect(array.message).toBe('~/.opendeploy/auth.json does not contain a JSON object: fix or move it away; opendeploy never rewrites or deletes it.');
    const badField = await expectOdError(readAuthFile(place(JSON.stringify({ version: 1, api_key: KEY, gateway: 5 }))));
    expect(badField.message).toBe('~/.opendeploy/auth.json has an invalid "gateway" field: fix or move it away; opendeploy never rewrites or deletes it.');
  });

  it('still tightens a loose malformed file (bytes untouched) and reports it in details', async () => {
    const path = place('{oops', 0o664);
    const err = await expectOdError(readAuthFile(path));
    expect(err.details['permissions_tightened']).toBe(true);
    expect(modeOf(path)).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('{oops');
  });

  it('rejects a directory in place of the file', async () => {
    const path = join(root, '.opendeploy', 'auth.json');
    mkdirSync(path, { recursive: true });
    const err = await expectOdError(readAuthFile(path));
    expect(err.code).toBe('auth_invalid');
    expect(err.message).toBe('~/.opendeploy/auth.json is not a regular file: fix or move it away; opendeploy never rewrites or deletes it.');
  });
});

describe('writeAuthFile', () => {
  const data: AuthFileData = {
    version: 1,
    api_key: KEY,
    gateway: 'https://g.example/api',
    agent_id: 'a-1',
    bind_sig: 'beef01',
    claim_url: 'https://g.example/claim/a-1?h=beef01',
  };

  it('creates the folder 0700 and the file 0600 with exact content, leaving no temp files', async () => {
    const dir = join(root, 'new', '.opendeploy');
    const path = join(dir, 'auth.json');
    await writeAuthFile(path, data);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(data);
    expect(readdirSync(dir)).toEqual(['auth.json']);
    expect(await readAuthFile(path)).toEqual({ status: 'ok', data, tightened: false, dirTightened: false });
  });

  it('replaces an existing file atomically (new inode, 0600 even if the old one was 0644)', async () => {
    const path = place('{"version":1,"api_key":"od_aOLD"}', 0o644);
    const before = statSync(path).ino;
    await writeAuthFile(path, data);
    expect(statSync(path).ino).not.toBe(before);
    expect(modeOf(path)).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(data);
  });

  it('with overwrite: false never replaces an existing file', async () => {
    const content = '{"version":7}';
    const path = place(content);
    const err = await expectOdError(writeAuthFile(path, data, { overwrite: false }));
    expect(err.code).toBe('conflict');
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(readdirSync(join(root, '.opendeploy'))).toEqual(['auth.json']);

    const fresh = join(root, 'other', 'auth.json');
    await writeAuthFile(fresh, data, { overwrite: false });
    expect(JSON.parse(readFileSync(fresh, 'utf8'))).toEqual(data);
    expect(modeOf(fresh)).toBe(0o600);
    expect(readdirSync(join(root, 'other'))).toEqual(['auth.json']);
  });

  it('tightens an existing loose folder only when asked', async () => {
    const dir = join(root, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await writeAuthFile(join(dir, 'auth.json'), data);
    expect(modeOf(dir)).toBe(0o755);
    await writeAuthFile(join(dir, 'auth.json'), data, { tightenDir: true });
    expect(modeOf(dir)).toBe(0o700);
  });

  it('fails with internal (no temp file left) when the folder cannot be created', async () => {
    writeFileSync(join(root, 'blocker'), 'x');
    const err = await expectOdError(writeAuthFile(join(root, 'blocker', 'auth.json'), data));
    expect(err.code).toBe('internal');
    expect(readFileSync(join(root, 'blocker'), 'utf8')).toBe('x');
  });

  it('refuses to write invalid data', async () => {
    const err = await expectOdError(writeAuthFile(join(root, 'x.json'), { version: 1, api_key: 'nope' }));
    expect(err.code).toBe('internal');
    expect(readdirSync(root)).toEqual([]);
  });
});
