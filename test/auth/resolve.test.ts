import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createAuditLogger, type AuditLogger } from '../../src/audit/index.js';
import {
  DEFAULT_GATEWAY,
  authInvalidError,
  isBound,
  isInteractiveRun,
  resolveCredential,
  type ResolveCredentialInput,
  type ResolvedCredential,
} from '../../src/auth/index.js';
import { OdError } from '../../src/core/errors.js';
import { isCiEnv } from '../../src/core/session.js';
import { clearRegisteredSecrets, scrubText } from '../../src/core/redact.js';
import {
  CANARY_AGENT_ID,
  CANARY_BIND_SIG,
  CANARY_TOKEN,
  FetchRegisterClient,
  allFiles,
  allText,
  modeOf,
  startFakeGateway,
  type FakeGateway,
} from './helpers.js';

const FILE_KEY = 'od_aSAVEDfile0123456789abcdefghijklmnopqrsX9kQ';
const PAT = 'od_kDASHBOARDpat0123456789abcdefghijklmnopqrstu';
const ENV_TOKEN = 'od_kENVIRONMENTtoken0123456789abcdefghijklmnop';

let gw: FakeGateway;
let root: string;
let home: string;
let audit: AuditLogger;
let warnings: string[];
const savedHome = process.env['HOME'];

beforeAll(async () => {
  gw = await startFakeGateway();
});

afterAll(async () => {
  await gw.close();
});

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'od-resolve-'));
  process.env['HOME'] = root;
  home = join(root, '.opendeploy');
  audit = createAuditLogger({ home });
  warnings = [];
  clearRegisteredSecrets();
  Object.assign(gw.state, {
    registerMode: 'ok',
    registerCalls: 0,
    registerBodies: [],
    profileCalls: 0,
    profileAuth: [],
    boundTokens: new Set<string>(),
    profileStatus: undefined,
    returnGateway: undefined,
    retryAfter: '120',
  });
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
    interactive: true,
    yes: false,
    clientFor: (gateway, token) => new FetchRegisterClient(gateway, token),
    cliVersion: '9.8.7',
    audit,
    warn: (message) => warnings.push(message),
    ...overrides,
  };
}

function writeCred(path: string, data: Record<string, unknown>, mode = 0o600): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(data), { mode });
  chmodSync(path, mode);
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

function auditLines(): Record<string, unknown>[] {
  const dir = join(home, 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const NON_INTERACTIVE =
  'No opendeploy credential found and this is a non-interactive run, so none was created: set OPENDEPLOY_TOKEN to a dashboard token (od_k…) or pass --yes to create a free local credential.';

describe('OPENDEPLOY_TOKEN', () => {
  it('is used as is, wins over every auth file, and is never written anywhere', async () => {
    writeCred(join(home, 'auth.json'), { version: 1, api_key: FILE_KEY });
    const cred = await resolveCredential(
      input({ env: { OPENDEPLOY_TOKEN: ENV_TOKEN, OPDEPLOY_AUTH_FILE: join(root, 'x.json'), CI: 'true' } }),
    );
    expect(cred).toEqual({
      token: ENV_TOKEN,
      kind: 'pat',
      source: 'env',
      authFile: null,
      gateway: DEFAULT_GATEWAY,
      fresh: false,
    });
    expect(gw.state.registerCalls).toBe(0);
    expect(scrubText(`x ${ENV_TOKEN} y`)).toBe('x od_k*** y');
    expect(allText(root)).not.toContain(ENV_TOKEN);
    expect(allText(root)).not.toContain('ENVIRONMENTtoken');
    expect(auditLines()).toEqual([
      expect.objectContaining({ level: 'info', step: 'auth.resolve', source: 'env', kind: 'pat', gateway: DEFAULT_GATEWAY, fresh: false }),
    ]);
  });

  it('never causes a file to be created, even in a fresh home', async () => {
    const cred = await resolveCredential(input({ env: { OPENDEPLOY_TOKEN: ENV_TOKEN }, audit: undefined }));
    expect(cred.source).toBe('env');
    expect(existsSync(root) ? allFiles(root) : []).toEqual([]);
  });

  it('warns about a token that does not look like an opendeploy token, without showing it', async () => {
    const cred = await resolveCredential(input({ env: { OPENDEPLOY_TOKEN: 'ghp_0123456789abcdefghijWXYZ' } }));
    expect(cred.kind).toBe('unknown');
    expect(warnings).toEqual([
      'OPENDEPLOY_TOKEN (?…WXYZ) does not look like an opendeploy token (od_k… or od_a…); using it anyway.',
    ]);
  });
});

describe('auth file precedence: flag > OPDEPLOY_AUTH_FILE > OPENDEPLOY_AUTH_FILE > home', () => {
  const keys = {
    flag: 'od_kFLAGfile0123456789abcdefghijklmnopqrstuvw',
    env: 'od_kENVfile0123456789abcdefghijklmnopqrstuvwx',
    alias: 'od_kALIASfile0123456789abcdefghijklmnopqrstuv',
    home: 'od_kHOMEfile0123456789abcdefghijklmnopqrstuvw',
  };
  let paths: Record<keyof typeof keys, string>;

  beforeEach(() => {
    paths = {
      flag: join(root, 'flag', 'auth.json'),
      env: join(root, 'env', 'auth.json'),
      alias: join(root, 'alias', 'auth.json'),
      home: join(home, 'auth.json'),
    };
    for (const name of Object.keys(keys) as (keyof typeof keys)[]) writeCred(paths[name], { version: 1, api_key: keys[name] });
  });

  it('flag wins', async () => {
    const cred = await resolveCredential(
      input({ flagAuthFile: paths.flag, env: { OPDEPLOY_AUTH_FILE: paths.env, OPENDEPLOY_AUTH_FILE: paths.alias } }),
    );
    expect([cred.token, cred.authFile, cred.source]).toEqual([keys.flag, paths.flag, 'file']);
  });
  it('OPDEPLOY_AUTH_FILE next', async () => {
    const cred = await resolveCredential(input({ env: { OPDEPLOY_AUTH_FILE: paths.env, OPENDEPLOY_AUTH_FILE: paths.alias } }));
    expect([cred.token, cred.authFile]).toEqual([keys.env, paths.env]);
  });
  it('OPENDEPLOY_AUTH_FILE (alias) next', async () => {
    const cred = await resolveCredential(input({ env: { OPENDEPLOY_AUTH_FILE: paths.alias } }));
    expect([cred.token, cred.authFile]).toEqual([keys.alias, paths.alias]);
  });
  it('home last', async () => {
    const cred = await resolveCredential(input({ env: {} }));
    expect(cred).toEqual({
      token: keys.home,
      kind: 'pat',
      source: 'file',
      authFile: paths.home,
      gateway: DEFAULT_GATEWAY,
      fresh: false,
    });
    expect(gw.state.registerCalls).toBe(0);
  });
});

describe('gateway precedence: flag > OD_GATEWAY > project.json > auth.json > default', () => {
  beforeEach(() => {
    writeCred(join(home, 'auth.json'), { version: 1, api_key: FILE_KEY, gateway: 'https://file.example/api' });
  });
  const all = { flagGateway: 'https://flag.example/api/', projectGateway: 'https://project.example/api' };

  it('flag', async () => {
    expect((await resolveCredential(input({ ...all, env: { OD_GATEWAY: 'https://env.example/api' } }))).gateway).toBe(
      'https://flag.example/api',
    );
  });
  it('OD_GATEWAY', async () => {
    expect(
      (await resolveCredential(input({ projectGateway: all.projectGateway, env: { OD_GATEWAY: 'https://env.example/api' } }))).gateway,
    ).toBe('https://env.example/api');
  });
  it('project.json', async () => {
    expect((await resolveCredential(input({ projectGateway: all.projectGateway, env: {} }))).gateway).toBe('https://project.example/api');
  });
  it('auth.json', async () => {
    expect((await resolveCredential(input({ env: {} }))).gateway).toBe('https://file.example/api');
  });
  it('default', async () => {
    rmSync(join(home, 'auth.json'));
    writeCred(join(home, 'auth.json'), { version: 1, api_key: FILE_KEY });
    expect((await resolveCredential(input({ env: {} }))).gateway).toBe(DEFAULT_GATEWAY);
  });
});

describe('saved credential', () => {
  it('returns agent fields, registers its secrets, and keeps the file unchanged', async () => {
    const path = join(home, 'auth.json');
    writeCred(path, { version: 1, api_key: FILE_KEY, agent_id: 'agent-9', bind_sig: 'feedface99' });
    const before = readFileSync(path, 'utf8');
    const cred = await resolveCredential(input());
    expect(cred).toEqual({
      token: FILE_KEY,
      kind: 'agent',
      source: 'file',
      authFile: path,
      gateway: gw.url,
      agentId: 'agent-9',
      bindSig: 'feedface99',
      fresh: false,
    });
    expect(scrubText('sig feedface99')).toBe('sig ***');
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(warnings).toEqual([]);
  });

  it('tightens a 0644 file to 0600 and a loose home folder to 0700, with a warning', async () => {
    const path = join(home, 'auth.json');
    writeCred(path, { version: 1, api_key: FILE_KEY }, 0o644);
    chmodSync(home, 0o755);
    await resolveCredential(input());
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(home)).toBe(0o700);
    expect(warnings).toEqual(['~/.opendeploy/auth.json was readable by other users; its permissions were tightened to 0600.']);
    expect(auditLines().map((l) => [l['level'], l['step']])).toEqual([
      ['warn', 'auth.permissions_tightened'],
      ['warn', 'auth.folder_tightened'],
      ['info', 'auth.resolve'],
    ]);
  });

  it('tightens an explicit --auth-file but leaves the user folder alone', async () => {
    const dir = join(root, 'mine');
    const path = join(dir, 'creds.json');
    writeCred(path, { version: 1, api_key: FILE_KEY }, 0o644);
    chmodSync(dir, 0o755);
    await resolveCredential(input({ flagAuthFile: path }));
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(dir)).toBe(0o755);
    expect(warnings).toEqual([`${path.replace(root, '~')} was readable by other users; its permissions were tightened to 0600.`]);
  });

  it('a malformed file is auth_invalid (exit 3), untouched byte-for-byte, and nothing is minted', async () => {
    const path = join(home, 'auth.json');
    const content = '{\n  "version": 1,\n  "api_key": \n}\n';
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(path, content, { mode: 0o600 });
    const err = await rejection(resolveCredential(input({ yes: true })));
    expect(err.code).toBe('auth_invalid');
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe('~/.opendeploy/auth.json is not valid JSON (line 4): fix or move it away; opendeploy never rewrites or deletes it.');
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(readdirSync(home).sort()).toEqual(['auth.json']);
    expect(gw.state.registerCalls).toBe(0);
  });

  it('a version 7 file is auth_invalid, untouched byte-for-byte, and nothing is minted', async () => {
    const path = join(home, 'auth.json');
    const content = '{"version":7,"api_key":"od_aFUTURE","extra":[1,2,3]}';
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(path, content, { mode: 0o600 });
    const err = await rejection(resolveCredential(input({ yes: true })));
    expect(err.code).toBe('auth_invalid');
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      '~/.opendeploy/auth.json has version 7, which this opendeploy does not understand: upgrade opendeploy or restore a version 1 file.',
    );
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(gw.state.registerCalls).toBe(0);
  });

  it('an empty file is auth_invalid and is not overwritten by a mint', async () => {
    const path = join(home, 'auth.json');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(path, '', { mode: 0o600 });
    const err = await rejection(resolveCredential(input({ yes: true })));
    expect(err.code).toBe('auth_invalid');
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(gw.state.registerCalls).toBe(0);
  });
});

describe('minting', () => {
  it('CI without a credential → auth_missing (exit 3) and zero register calls', async () => {
    const err = await rejection(resolveCredential(input({ env: { OD_GATEWAY: gw.url, CI: 'true' }, interactive: true })));
    expect(err.code).toBe('auth_missing');
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(NON_INTERACTIVE);
    expect(gw.state.registerCalls).toBe(0);
    expect(existsSync(join(home, 'auth.json'))).toBe(false);
  });

  it('no TTY without a credential → auth_missing and zero register calls', async () => {
    const err = await rejection(resolveCredential(input({ interactive: false })));
    expect(err.code).toBe('auth_missing');
    expect(err.message).toBe(NON_INTERACTIVE);
    expect(gw.state.registerCalls).toBe(0);
  });

  it('--yes in CI mints: 0600 file in a 0700 folder, exact content, secrets never in the audit log', async () => {
    const cred = await resolveCredential(input({ env: { OD_GATEWAY: gw.url, CI: '1' }, interactive: false, yes: true }));
    expect(cred).toEqual({
      token: CANARY_TOKEN,
      kind: 'agent',
      source: 'minted',
      authFile: join(home, 'auth.json'),
      gateway: gw.url,
      agentId: CANARY_AGENT_ID,
      bindSig: CANARY_BIND_SIG,
      fresh: true,
    });
    expect(gw.state.registerCalls).toBe(1);
    expect(gw.state.registerBodies).toEqual([
      { source_hint: `opendeploy-cli/9.8.7 (${process.platform}-${process.arch}; node ${process.versions.node})` },
    ]);
    const path = join(home, 'auth.json');
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(home)).toBe(0o700);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      api_key: CANARY_TOKEN,
      gateway: gw.url,
      agent_id: CANARY_AGENT_ID,
      bind_sig: CANARY_BIND_SIG,
      claim_url: `https://dash.example/claim/${CANARY_AGENT_ID}?h=${CANARY_BIND_SIG}`,
    });
    expect(readdirSync(home).sort()).toEqual(['auth.json', 'logs']);

    const logText = readdirSync(join(home, 'logs'))
      .map((file) => readFileSync(join(home, 'logs', file), 'utf8'))
      .join('');
    expect(logText).not.toContain(CANARY_TOKEN);
    expect(logText).not.toContain(CANARY_TOKEN.slice(4));
    expect(logText).not.toContain(CANARY_BIND_SIG);
    expect(auditLines().map((l) => [l['level'], l['step']])).toEqual([
      ['info', 'auth.mint'],
      ['info', 'auth.resolve'],
    ]);
    expect(auditLines()[1]).toEqual(
      expect.objectContaining({ source: 'minted', kind: 'agent', gateway: gw.url, fresh: true }),
    );
    // registered at once: any later message is scrubbed
    expect(scrubText(`k=${CANARY_TOKEN} s=${CANARY_BIND_SIG}`)).toBe('k=od_a*** s=***');

    // the next run reuses the saved credential without registering again
    const again = await resolveCredential(input({ env: { CI: 'true' }, interactive: false }));
    expect([again.source, again.token, again.fresh, again.gateway]).toEqual(['file', CANARY_TOKEN, false, gw.url]);
    expect(gw.state.registerCalls).toBe(1);
  });

  it('an interactive run mints without --yes; a declined confirmation mints nothing', async () => {
    const declined = await rejection(resolveCredential(input({ confirmMint: async () => false })));
    expect(declined.code).toBe('auth_missing');
    expect(gw.state.registerCalls).toBe(0);
    expect(existsSync(join(home, 'auth.json'))).toBe(false);

    let asked = 0;
    const cred = await resolveCredential(input({ confirmMint: async () => ((asked += 1), true) }));
    expect(asked).toBe(1);
    expect(cred.source).toBe('minted');
    expect(gw.state.registerCalls).toBe(1);
  });

  it('a gateway returned by register overrides the effective one and is persisted', async () => {
    gw.state.returnGateway = 'https://elsewhere.example/api/';
    const cred = await resolveCredential(input({ yes: true, flagGateway: gw.url }));
    expect(cred.gateway).toBe('https://elsewhere.example/api');
    expect((JSON.parse(readFileSync(join(home, 'auth.json'), 'utf8')) as { gateway: string }).gateway).toBe(
      'https://elsewhere.example/api',
    );
  });

  it('accepts guest_id as agent_id in the register response', async () => {
    gw.state.registerMode = 'guest_id';
    const cred = await resolveCredential(input({ yes: true }));
    expect(cred.agentId).toBe(CANARY_AGENT_ID);
    expect((JSON.parse(readFileSync(join(home, 'auth.json'), 'utf8')) as { agent_id: string }).agent_id).toBe(CANARY_AGENT_ID);
  });

  it('a replay without api_key → auth_missing with the friendly explanation, nothing written', async () => {
    gw.state.registerMode = 'replay';
    const err = await rejection(resolveCredential(input({ yes: true })));
    expect(err.code).toBe('auth_missing');
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      'The gateway did not return a new key: this machine already registered a local credential within the last 24 hours, and the plaintext key is returned only once. Restore the previous auth.json to ~/.opendeploy/auth.json, wait up to 24 h and run again, or set OPENDEPLOY_TOKEN to a dashboard token (od_k…).',
    );
    expect(existsSync(join(home, 'auth.json'))).toBe(false);
    expect(readdirSync(home)).toEqual(['logs']);
    expect(allText(home)).not.toContain(CANARY_BIND_SIG);
  });

  it('a response without bind_sig or agent_id → server_error, nothing written', async () => {
    for (const mode of ['no_bind_sig', 'no_agent_id'] as const) {
      gw.state.registerMode = mode;
      const err = await rejection(resolveCredential(input({ yes: true })));
      expect(err.code).toBe('server_error');
      expect(err.exitCode).toBe(1);
      expect(err.message).toBe(
        'The gateway registration response was missing agent_id or bind_sig, so no credential was saved: try again later, and report it if it keeps happening.',
      );
      expect(existsSync(join(home, 'auth.json'))).toBe(false);
    }
    expect(allText(home)).not.toContain(CANARY_TOKEN);
  });

  it('429 → rate_limited (exit 4) with the Retry-After wait, one call only, nothing written', async () => {
    gw.state.registerMode = 'rate_limited';
    gw.state.retryAfter = '120';
    const err = await rejection(resolveCredential(input({ yes: true })));
    expect(err.code).toBe('rate_limited');
    expect(err.exitCode).toBe(4);
    expect(err.status).toBe(429);
    expect(err.retryable).toBe(false);
    expect(err.details['retry_after_seconds']).toBe(120);
    expect(err.message).toBe(
      'The gateway is limiting new local credentials from this network: try again in 2 minutes (Retry-After), or set OPENDEPLOY_TOKEN to a dashboard token (od_k…) instead. opendeploy does not retry registration by itself, because retries extend the cooldown.',
    );
    expect(gw.state.registerCalls).toBe(1);
    expect(existsSync(join(home, 'auth.json'))).toBe(false);
    expect(auditLines().at(-1)).toEqual(expect.objectContaining({ level: 'error', step: 'auth.mint', status: 429, retry_after_seconds: 120 }));

    gw.state.retryAfter = '3600';
    const hour = await rejection(resolveCredential(input({ yes: true })));
    expect(hour.message).toContain('try again in 60 minutes (Retry-After)');
  });

  it('if another run created the file while registering, that file wins and is left untouched', async () => {
    const path = join(home, 'auth.json');
    const other = JSON.stringify({ version: 1, api_key: FILE_KEY, gateway: gw.url });
    const cred = await resolveCredential(
      input({
        yes: true,
        clientFor: (gateway, token) => {
          const real = new FetchRegisterClient(gateway, token);
          return {
            register: async (body) => {
              const response = await real.register(body);
              writeCred(path, JSON.parse(other) as Record<string, unknown>);
              return response;
            },
            getProfile: () => real.getProfile(),
          };
        },
      }),
    );
    expect([cred.source, cred.token, cred.fresh]).toEqual(['file', FILE_KEY, false]);
    expect(readFileSync(path, 'utf8')).toBe(other);
    expect(readdirSync(home).sort()).toEqual(['auth.json', 'logs']);
    expect(warnings).toEqual([
      '~/.opendeploy/auth.json was created by another opendeploy run meanwhile; using it (the credential registered by this run was not saved).',
    ]);
  });
});

describe('isBound', () => {
  function cred(token: string): ResolvedCredential {
    return { token, kind: token.startsWith('od_k') ? 'pat' : 'agent', source: 'file', authFile: '/x', gateway: gw.url, fresh: false };
  }

  it('a dashboard token is bound without any call', async () => {
    expect(await isBound(cred(PAT), new FetchRegisterClient(gw.url, PAT))).toBe(true);
    expect(gw.state.profileCalls).toBe(0);
  });

  it('an agent token is bound on profile 200 and pending on 401', async () => {
    gw.state.boundTokens.add(FILE_KEY);
    expect(await isBound(cred(FILE_KEY), new FetchRegisterClient(gw.url, FILE_KEY))).toBe(true);
    expect(await isBound(cred(CANARY_TOKEN), new FetchRegisterClient(gw.url, CANARY_TOKEN))).toBe(false);
    expect(gw.state.profileCalls).toBe(2);
    expect(gw.state.profileAuth).toEqual([`Bearer ${FILE_KEY}`, `Bearer ${CANARY_TOKEN}`]);
  });

  it('other profile errors propagate', async () => {
    gw.state.profileStatus = 503;
    const err = await rejection(isBound(cred(FILE_KEY), new FetchRegisterClient(gw.url, FILE_KEY)));
    expect(err.code).toBe('server_error');
    expect(err.status).toBe(503);
  });
});

describe('authInvalidError', () => {
  it('names the saved file, the redacted token and leaves the file alone', () => {
    const err = authInvalidError({
      token: FILE_KEY,
      kind: 'agent',
      source: 'file',
      authFile: join(root, '.opendeploy', 'auth.json'),
      gateway: 'https://dashboard.dev.opendeploy.dev/api',
      fresh: false,
    });
    expect(err.code).toBe('auth_invalid');
    expect(err.exitCode).toBe(3);
    expect(err.status).toBe(401);
    expect(err.message).toBe(
      'The gateway rejected the saved credential (od_a…X9kQ) in ~/.opendeploy/auth.json. opendeploy left the file untouched: replace api_key with a valid dashboard token, or move the file away to start fresh.',
    );
    expect(err.nextAction).toBe('Create a dashboard token at https://dashboard.dev.opendeploy.dev/account/api-keys.');
    expect(JSON.stringify({ m: err.message, d: err.details, n: err.nextAction })).not.toContain(FILE_KEY);
  });

  it('mentions OPENDEPLOY_TOKEN for an environment token', () => {
    const err = authInvalidError({ token: ENV_TOKEN, kind: 'pat', source: 'env', authFile: null, gateway: DEFAULT_GATEWAY, fresh: false });
    expect(err.code).toBe('auth_invalid');
    expect(err.message).toBe(
      'The gateway rejected the credential in OPENDEPLOY_TOKEN (od_k…mnop): set OPENDEPLOY_TOKEN to a valid dashboard token (od_k…).',
    );
  });
});

describe('interactivity helpers', () => {
  it('CI counts when set to anything but empty, false or 0', () => {
    expect(isCiEnv({})).toBe(false);
    expect(isCiEnv({ CI: '' })).toBe(false);
    expect(isCiEnv({ CI: 'false' })).toBe(false);
    expect(isCiEnv({ CI: '0' })).toBe(false);
    expect(isCiEnv({ CI: 'true' })).toBe(true);
    expect(isCiEnv({ CI: '1' })).toBe(true);
    expect(isCiEnv({ CI: 'woodpecker' })).toBe(true);
    expect(isInteractiveRun({}, true, true)).toBe(true);
    expect(isInteractiveRun({ CI: 'true' }, true, true)).toBe(false);
    expect(isInteractiveRun({}, false, true)).toBe(false);
  });
});
