/**
 * Credential temp files left by an interrupted mint, and an auth.json that is a symbolic link
 * (issue 11, "Credentials"). Real files, a real HTTP gateway (test/auth/helpers.ts).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { resolveCredential, type ResolveCredentialInput } from '../../src/auth/index.js';
import { sweepTempCredentials } from '../../src/auth/pending.js';
import { OdError } from '../../src/core/errors.js';
import { clearRegisteredSecrets } from '../../src/core/redact.js';
import { FetchRegisterClient, modeOf, startFakeGateway, type FakeGateway } from './helpers.js';

const KEY = 'od_aRECOVEREDkey0123456789abcdefghijklmnopqrsA';
const OTHER = 'od_aOTHERkey000123456789abcdefghijklmnopqrstuB';
/** A pid that cannot be running (above Linux's pid_max limit). */
const DEAD_PID = 4_194_999;

let gw: FakeGateway;
let root: string;
let home: string;
let warnings: string[];
const savedHome = process.env['HOME'];

beforeAll(async () => {
  gw = await startFakeGateway();
});
afterAll(async () => {
  await gw.close();
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'od-pending-'));
  process.env['HOME'] = root;
  home = join(root, '.opendeploy');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  warnings = [];
  clearRegisteredSecrets();
  gw.state.registerMode = 'ok';
  gw.state.registerCalls = 0;
});
afterEach(() => {
  process.env['HOME'] = savedHome;
  rmSync(root, { recursive: true, force: true });
  clearRegisteredSecrets();
});

function input(overrides: Partial<ResolveCredentialInput> = {}): ResolveCredentialInput {
  return {
    env: { OD_GATEWAY: gw.url },
    home,
    interactive: false,
    yes: true,
    clientFor: (gateway, token) => new FetchRegisterClient(gateway, token),
    cliVersion: '9.8.7',
    warn: (message) => warnings.push(message),
    ...overrides,
  };
}

function credential(apiKey: string): string {
  return `${JSON.stringify({ version: 1, api_key: apiKey, gateway: gw.url, agent_id: 'agent-1', bind_sig: 'ab'.repeat(20) }, null, 2)}\n`;
}

function writeTemp(name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<OdError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OdError);
    return err as OdError;
  }
  throw new Error('expected rejection');
}

describe('temp files of an interrupted mint', () => {
  it('a complete temp file of a dead run becomes auth.json, with no register call', async () => {
    writeTemp(`auth.json.${DEAD_PID}.0a1b2c3d4e5f.tmp`, credential(KEY));
    const cred = await resolveCredential(input());
    expect(cred.token).toBe(KEY);
    expect(cred.source).toBe('file');
    expect(gw.state.registerCalls).toBe(0);
    expect(readFileSync(join(home, 'auth.json'), 'utf8')).toBe(credential(KEY));
    expect(modeOf(join(home, 'auth.json'))).toBe(0o600);
    expect(readdirSync(home).sort()).toEqual(['auth.json']);
    expect(warnings).toEqual([`Recovered the credential of an interrupted opendeploy run into ${join('~', '.opendeploy', 'auth.json')}.`]);
  });

  it('incomplete temp files of dead runs are removed, then a credential is minted', async () => {
    writeTemp(`auth.json.${DEAD_PID}.111111111111.tmp`, '{"version": 1, "api_key": "od_aHALFwritten');
    writeTemp(`auth.json.${DEAD_PID}.222222222222.tmp`, '');
    // Complete JSON but not a whole credential (no agent_id / bind_sig): not recoverable either.
    writeTemp(`auth.json.${DEAD_PID}.333333333333.tmp`, JSON.stringify({ version: 1, api_key: OTHER }));
    const cred = await resolveCredential(input());
    expect(cred.source).toBe('minted');
    expect(gw.state.registerCalls).toBe(1);
    expect(readdirSync(home).filter((name) => name !== 'logs').sort()).toEqual(['auth.json']);
  });

  it('a temp file next to an existing auth.json is removed and auth.json is kept', async () => {
    writeFileSync(join(home, 'auth.json'), credential(OTHER), { mode: 0o600 });
    writeTemp(`auth.json.${DEAD_PID}.444444444444.tmp`, credential(KEY));
    const cred = await resolveCredential(input());
    expect(cred.token).toBe(OTHER);
    expect(readdirSync(home).sort()).toEqual(['auth.json']);
  });

  it('never touches the temp file of a run that is still writing (a live pid, recent)', async () => {
    const live = writeTemp(`auth.json.${process.pid}.555555555555.tmp`, '{"version": 1');
    const result = await sweepTempCredentials(join(home, 'auth.json'));
    expect(result).toEqual({ removed: [] });
    expect(existsSync(live)).toBe(true);
  });

  it('removes even a live pid\'s temp file once it is older than any mint could take', async () => {
    const old = writeTemp(`auth.json.${process.pid}.666666666666.tmp`, '{"version": 1');
    const result = await sweepTempCredentials(join(home, 'auth.json'), Date.now() + 11 * 60 * 1000);
    expect(result).toEqual({ removed: [old] });
  });

  it('leaves files that only look similar alone', async () => {
    const other = writeTemp('auth.json.backup.tmp', credential(KEY));
    const result = await sweepTempCredentials(join(home, 'auth.json'));
    expect(result).toEqual({ removed: [] });
    expect(existsSync(other)).toBe(true);
    expect(existsSync(join(home, 'auth.json'))).toBe(false);
  });
});

describe('auth.json that is a symbolic link', () => {
  it('a dangling link is refused with a clear message and no credential is minted', async () => {
    symlinkSync(join(root, 'nowhere', 'auth.json'), join(home, 'auth.json'));
    const err = await rejection(resolveCredential(input()));
    expect(err.code).toBe('auth_invalid');
    expect(err.message).toBe(
      `~/.opendeploy/auth.json is a symbolic link to ${join(root, 'nowhere', 'auth.json')}, which does not exist: opendeploy does not create a credential through a link. Point the link at a credential file or remove it, then run again.`,
    );
    expect(err.details['reason']).toBe('dangling_symlink');
    expect(gw.state.registerCalls).toBe(0);
    expect(existsSync(join(root, 'nowhere'))).toBe(false);
  });

  it('a loose target outside the home folder is never chmod-ed: refused, its mode unchanged', async () => {
    const outside = join(root, 'elsewhere.json');
    writeFileSync(outside, credential(KEY));
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(home, 'auth.json'));
    const err = await rejection(resolveCredential(input()));
    expect(err.code).toBe('auth_invalid');
    expect(err.message).toBe(
      '~/.opendeploy/auth.json is a symbolic link to ~/elsewhere.json, which is readable by other users and lies outside ~/.opendeploy: opendeploy does not change permissions through a link. Run chmod 600 on it yourself, or replace the link with the file.',
    );
    expect(err.nextAction).toBe('chmod 600 ~/elsewhere.json, then run again.');
    expect(modeOf(outside)).toBe(0o644);
    expect(gw.state.registerCalls).toBe(0);
  });

  it('a private (0600) target outside the home folder is used as is', async () => {
    const outside = join(root, 'private.json');
    writeFileSync(outside, credential(KEY), { mode: 0o600 });
    symlinkSync(outside, join(home, 'auth.json'));
    const cred = await resolveCredential(input());
    expect(cred.token).toBe(KEY);
    expect(modeOf(outside)).toBe(0o600);
  });

  it('a loose target inside the home folder is tightened like a plain file', async () => {
    const inside = join(home, 'real-auth.json');
    writeFileSync(inside, credential(KEY));
    chmodSync(inside, 0o644);
    symlinkSync(inside, join(home, 'auth.json'));
    const cred = await resolveCredential(input());
    expect(cred.token).toBe(KEY);
    expect(modeOf(inside)).toBe(0o600);
    expect(warnings).toEqual(['~/.opendeploy/auth.json was readable by other users; its permissions were tightened to 0600.']);
  });
});
