/**
 * Which credential a run uses, minting a local agent credential when there is none.
 *
 * Order: `OPENDEPLOY_TOKEN` (used as is, never written) → the credential file (flag /
 * `OPDEPLOY_AUTH_FILE` / `OPENDEPLOY_AUTH_FILE` / `<home>/auth.json`) → register a new agent
 * (interactive runs, or `--yes`; never silently in CI).
 * Gateway: `--gateway` > `OD_GATEWAY` > project.json > auth.json > built-in default; a gateway
 * returned by register overrides the effective one and is persisted.
 *
 * HTTP goes through the caller's client factory (the gateway client), so this module stays testable
 * against a real server without importing the transport.
 */
import { OdError, isOdError } from '../core/errors.js';
import { isCiEnv } from '../core/session.js';
import { registerSecret } from '../core/redact.js';
import type { AuditLogger } from '../audit/logger.js';
import { readAuthFile, writeAuthFile, type AuthFileData, type ReadAuthFileResult } from './file.js';
import { sweepTempCredentials } from './pending.js';
import { normaliseGatewayUrl } from '../gateway/base-url.js';
import { DEFAULT_GATEWAY, displayPath, isInHome, resolveAuthFile } from './paths.js';
import { apiKeysUrl, dashboardBase, describeToken, tokenKind, type TokenKind } from './token.js';

export interface RegisterResponse {
  api_key?: string | null | undefined;
  agent_id?: string | null | undefined;
  /** Newer gateways name the agent `guest_id`; accepted as an alias of `agent_id`. */
  guest_id?: string | null | undefined;
  bind_sig?: string | null | undefined;
  claim_url?: string | null | undefined;
  gateway?: string | null | undefined;
}

/** The two gateway calls this module needs (implemented by src/gateway/client.ts). */
export interface RegisterClient {
  register(body: { source_hint: string }): Promise<RegisterResponse>;
  getProfile(): Promise<unknown>;
}

export interface ResolvedCredential {
  token: string;
  kind: TokenKind;
  source: 'env' | 'file' | 'minted';
  /** null when the token came from OPENDEPLOY_TOKEN. */
  authFile: string | null;
  /** The effective gateway base URL (with `/api`). */
  gateway: string;
  agentId?: string;
  bindSig?: string;
  /** True when the credential was minted in this run. */
  fresh: boolean;
}

export interface ResolveCredentialInput {
  env: NodeJS.ProcessEnv;
  flagAuthFile?: string | undefined;
  flagGateway?: string | undefined;
  projectGateway?: string | undefined;
  home: string;
  /** stdin/stdout are a TTY and this is not CI. CI in `env` forces non-interactive regardless. */
  interactive: boolean;
  yes: boolean;
  clientFor: (gateway: string, token?: string) => RegisterClient;
  cliVersion: string;
  audit?: AuditLogger | undefined;
  warn?: ((message: string) => void) | undefined;
  /**
   * Optional consent question asked before creating a local credential on an interactive run
   * without `--yes`. Resolving false stops with `auth_missing` and writes nothing.
   */
  confirmMint?: (() => Promise<boolean>) | undefined;
}

const NON_INTERACTIVE_MESSAGE =
  'No opendeploy credential found and this is a non-interactive run, so none was created: set OPENDEPLOY_TOKEN to a dashboard token (od_k…) or pass --yes to create a free local credential.';

function nonEmpty(value: string | undefined | null): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A gateway URL returned by the server, normalised; the fallback when it is not usable. */
function normaliseOr(value: string, fallback: string): string {
  try {
    return normaliseGatewayUrl(value);
  } catch {
    return fallback;
  }
}


/** The `interactive` input for resolveCredential: a TTY on both ends and not CI. */
export function isInteractiveRun(env: NodeJS.ProcessEnv, stdinIsTty: boolean, stdoutIsTty: boolean): boolean {
  return stdinIsTty && stdoutIsTty && !isCiEnv(env);
}

/** Gateway precedence: flag > OD_GATEWAY > project.json > auth.json > built-in default. */
export function effectiveGateway(input: {
  flagGateway?: string | undefined;
  env: NodeJS.ProcessEnv;
  projectGateway?: string | undefined;
  fileGateway?: string | undefined;
}): string {
  const candidates: [string | undefined, string][] = [
    [nonEmpty(input.flagGateway), '--gateway'],
    [nonEmpty(input.env['OD_GATEWAY']), 'OD_GATEWAY'],
    [nonEmpty(input.projectGateway), 'the gateway in .opendeploy/project.json'],
    [nonEmpty(input.fileGateway), 'the gateway in auth.json'],
  ];
  const chosen = candidates.find(([value]) => value !== undefined);
  if (chosen === undefined) return DEFAULT_GATEWAY;
  // One canonical form, so `http://host:4000`, `http://host:4000/` and `http://host:4000/api` are
  // the same gateway everywhere (requests, auth.json, the folder link).
  return normaliseGatewayUrl(chosen[0] as string, chosen[1]);
}

/** `opendeploy-cli/<version> (<platform>-<arch>; node <version>)`. */
export function sourceHint(cliVersion: string): string {
  return `opendeploy-cli/${cliVersion} (${process.platform}-${process.arch}; node ${process.versions.node})`;
}

function retryAfterSeconds(err: OdError): number | undefined {
  const raw = err.details['retry_after_seconds'] ?? err.details['retryAfterSeconds'];
  const seconds = typeof raw === 'string' ? Number(raw) : raw;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function rateLimitedError(err: OdError): OdError {
  const seconds = retryAfterSeconds(err);
  const when =
    seconds === undefined
      ? 'try again later'
      : `try again in ${Math.max(1, Math.ceil(seconds / 60))} minute${Math.ceil(seconds / 60) <= 1 ? '' : 's'} (Retry-After)`;
  return new OdError(
    'rate_limited',
    `The gateway is limiting new local credentials from this network: ${when}, or set OPENDEPLOY_TOKEN to a dashboard token (od_k…) instead. opendeploy does not retry registration by itself, because retries extend the cooldown.`,
    {
      retryable: false,
      nextAction:
        seconds === undefined
          ? 'Wait, then run again once; or use a dashboard token in OPENDEPLOY_TOKEN.'
          : `Wait ${seconds} seconds, then run again once; or use a dashboard token in OPENDEPLOY_TOKEN.`,
      details: { ...err.details, ...(seconds === undefined ? {} : { retry_after_seconds: seconds }) },
      status: err.status ?? 429,
      cause: err,
    },
  );
}

/**
 * The gateway's own words for a rejection (`details.reason` of the mapped 401), so the user learns
 * why: an unknown key, a revoked one, a key from another gateway.
 */
function rejectionReason(cause: unknown): string | undefined {
  if (!isOdError(cause)) return undefined;
  const reason = cause.details['reason'];
  return typeof reason === 'string' && reason.trim() !== '' && reason !== '[withheld]' ? reason.trim().replace(/[.!\s]+$/, '') : undefined;
}

/**
 * Where to get a new token. Only the hosted dashboard has an API-keys page; a local or self-run
 * gateway has none, so no URL is invented for it.
 */
function newTokenAction(cred: ResolvedCredential): string {
  if (dashboardBase(cred.gateway) === dashboardBase(DEFAULT_GATEWAY)) return `Create a dashboard token at ${apiKeysUrl(cred.gateway)}.`;
  if (cred.authFile === null) return `Unset OPENDEPLOY_TOKEN or set it to a token issued by ${cred.gateway}.`;
  return `Move ${displayPath(cred.authFile)} away and run again to create a new local credential, or set OPENDEPLOY_TOKEN to a token issued by ${cred.gateway}.`;
}

/** The exact `auth_invalid` error for a credential the gateway rejected (401). File untouched. */
export function authInvalidError(cred: ResolvedCredential, cause?: unknown): OdError {
  const hint = describeToken(cred.token);
  const reason = rejectionReason(cause);
  const because = reason === undefined ? '' : ` (the gateway said: ${reason})`;
  const nextAction = newTokenAction(cred);
  const details = { source: cred.source, kind: cred.kind, ...(reason === undefined ? {} : { reason }) };
  if (cred.authFile === null) {
    return new OdError(
      'auth_invalid',
      `The gateway rejected the credential in OPENDEPLOY_TOKEN (${hint})${because}: set OPENDEPLOY_TOKEN to a valid dashboard token (od_k…).`,
      { status: 401, nextAction, details, cause },
    );
  }
  return new OdError(
    'auth_invalid',
    `The gateway rejected the saved credential (${hint}) in ${displayPath(cred.authFile)}${because}. opendeploy left the file untouched: replace api_key with a valid dashboard token, or move the file away to start fresh.`,
    { status: 401, nextAction, details: { ...details, auth_file: cred.authFile }, cause },
  );
}

/**
 * Whether the credential is bound to an account: a dashboard token always is; an agent token is
 * bound when `GET /v1/profile` answers 200 and pending when it answers 401. Other errors propagate.
 */
export async function isBound(cred: ResolvedCredential, client: RegisterClient): Promise<boolean> {
  if (cred.kind === 'pat') return true;
  try {
    await client.getProfile();
    return true;
  } catch (err) {
    if (isOdError(err) && err.status === 401) return false;
    throw err;
  }
}

function finish(cred: ResolvedCredential, audit: AuditLogger | undefined): ResolvedCredential {
  audit?.info('auth.resolve', {
    source: cred.source,
    kind: cred.kind,
    gateway: cred.gateway,
    fresh: cred.fresh,
    ...(cred.authFile === null ? {} : { auth_file: cred.authFile }),
  });
  return cred;
}

function fromFile(authFile: string, data: AuthFileData, gateway: string): ResolvedCredential {
  const cred: ResolvedCredential = {
    token: data.api_key,
    kind: tokenKind(data.api_key),
    source: 'file',
    authFile,
    gateway,
    fresh: false,
  };
  if (data.agent_id !== undefined) cred.agentId = data.agent_id;
  if (data.bind_sig !== undefined) cred.bindSig = data.bind_sig;
  return cred;
}

/** How long a run whose register call was answered as a replay waits for a concurrent run's file. */
const CONCURRENT_MINT_WAIT_MS = 5_000;

/**
 * The credential a concurrent run is saving (its auth.json, or its temp file once that run is
 * gone), polled for a few seconds; undefined when none appears.
 */
async function waitForConcurrentMint(authFile: string, options: { tightenDir: boolean; chmodRoot: string }): Promise<AuthFileData | undefined> {
  const deadline = Date.now() + CONCURRENT_MINT_WAIT_MS;
  for (;;) {
    await sweepTempCredentials(authFile);
    let read: ReadAuthFileResult;
    try {
      read = await readAuthFile(authFile, options);
    } catch {
      return undefined;
    }
    if (read.status === 'ok') return read.data;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * OD_TEST_MINT_PAUSE_MS: a pause after the minted credential is durable in its temp file and before
 * it is linked into place, so a test can kill -9 the process inside that window deterministically.
 * The write path itself is the same with or without it.
 */
function testPauseBeforeCommit(env: NodeJS.ProcessEnv): { beforeCommit?: () => Promise<void> } {
  const ms = Number(env['OD_TEST_MINT_PAUSE_MS']);
  if (!Number.isFinite(ms) || ms <= 0) return {};
  return { beforeCommit: () => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 60_000))) };
}

export async function resolveCredential(input: ResolveCredentialInput): Promise<ResolvedCredential> {
  const { env, audit } = input;
  const warn = input.warn ?? (() => undefined);

  // 1. OPENDEPLOY_TOKEN: used as is, never written anywhere.
  const envToken = nonEmpty(env['OPENDEPLOY_TOKEN']);
  if (envToken !== undefined) {
    registerSecret(envToken);
    const kind = tokenKind(envToken);
    if (kind === 'unknown') {
      warn(`OPENDEPLOY_TOKEN (${describeToken(envToken)}) does not look like an opendeploy token (od_k… or od_a…); using it anyway.`);
    }
    return finish(
      {
        token: envToken,
        kind,
        source: 'env',
        authFile: null,
        gateway: effectiveGateway({ flagGateway: input.flagGateway, env, projectGateway: input.projectGateway }),
        fresh: false,
      },
      audit,
    );
  }

  // 2. The credential file.
  const authFile = resolveAuthFile({ flagAuthFile: input.flagAuthFile, env, home: input.home });
  const ownsDir = isInHome(authFile, input.home);
  const fileOptions = { tightenDir: ownsDir, chmodRoot: input.home };
  // A mint killed between the register answer and the final rename left its key in a temp file.
  const swept = await sweepTempCredentials(authFile);
  if (swept.recovered !== undefined) {
    warn(`Recovered the credential of an interrupted opendeploy run into ${displayPath(authFile)}.`);
    audit?.warn('auth.recovered', { auth_file: authFile });
  }
  if (swept.removed.length > 0) audit?.info('auth.temp_removed', { count: swept.removed.length });
  const read = await readAuthFile(authFile, fileOptions);
  if (read.status === 'ok') {
    registerSecret(read.data.api_key);
    registerSecret(read.data.bind_sig);
    if (read.tightened) {
      warn(`${displayPath(authFile)} was readable by other users; its permissions were tightened to 0600.`);
      audit?.warn('auth.permissions_tightened', { auth_file: authFile });
    }
    if (read.dirTightened) audit?.warn('auth.folder_tightened', { folder: input.home });
    const gateway = effectiveGateway({
      flagGateway: input.flagGateway,
      env,
      projectGateway: input.projectGateway,
      fileGateway: read.data.gateway,
    });
    return finish(fromFile(authFile, read.data, gateway), audit);
  }

  // 3. No credential: mint one, only with consent.
  const gateway = effectiveGateway({ flagGateway: input.flagGateway, env, projectGateway: input.projectGateway });
  const interactive = input.interactive && !isCiEnv(env);
  if (!input.yes) {
    if (!interactive) {
      audit?.warn('auth.missing', { interactive: false, gateway });
      throw new OdError('auth_missing', NON_INTERACTIVE_MESSAGE, {
        nextAction: 'Set OPENDEPLOY_TOKEN to a dashboard token (od_k…), or re-run with --yes.',
        details: { auth_file: authFile },
      });
    }
    if (input.confirmMint !== undefined && !(await input.confirmMint())) {
      audit?.info('auth.mint_declined', { gateway });
      throw new OdError(
        'auth_missing',
        'No opendeploy credential found and none was created: set OPENDEPLOY_TOKEN to a dashboard token (od_k…) or accept creating a free local credential.',
        { nextAction: 'Run again and accept, or set OPENDEPLOY_TOKEN.', details: { auth_file: authFile } },
      );
    }
  }

  const client = input.clientFor(gateway);
  let response: RegisterResponse;
  try {
    response = await client.register({ source_hint: sourceHint(input.cliVersion) });
  } catch (err) {
    if (isOdError(err) && (err.code === 'rate_limited' || err.status === 429)) {
      const limited = rateLimitedError(err);
      audit?.error('auth.mint', { gateway, status: limited.status, code: limited.code, ...limited.details });
      throw limited;
    }
    audit?.error('auth.mint', { gateway, error: err });
    throw err;
  }

  const body: RegisterResponse = response !== null && typeof response === 'object' ? response : {};
  const apiKey = nonEmpty(body.api_key);
  const agentId = nonEmpty(body.agent_id) ?? nonEmpty(body.guest_id);
  const bindSig = nonEmpty(body.bind_sig);
  registerSecret(apiKey);
  registerSecret(bindSig);

  if (apiKey === undefined) {
    // Usually another run on this machine registered a moment ago and is saving its key right now:
    // use the file it writes rather than failing.
    const winner = await waitForConcurrentMint(authFile, fileOptions);
    if (winner !== undefined) {
      registerSecret(winner.api_key);
      registerSecret(winner.bind_sig);
      audit?.info('auth.mint', { gateway, reason: 'concurrent_run_saved_credential' });
      const fileGateway = effectiveGateway({ flagGateway: input.flagGateway, env, projectGateway: input.projectGateway, fileGateway: winner.gateway });
      return finish(fromFile(authFile, winner, fileGateway), audit);
    }
    audit?.error('auth.mint', { gateway, reason: 'replay_without_api_key' });
    throw new OdError(
      'auth_missing',
      `The gateway did not return a new key: this machine already registered a local credential within the last 24 hours, and the plaintext key is returned only once. Restore the previous auth.json to ${displayPath(authFile)}, wait up to 24 h and run again, or set OPENDEPLOY_TOKEN to a dashboard token (od_k…).`,
      {
        nextAction: `Restore the previous ${displayPath(authFile)}, or use a dashboard token in OPENDEPLOY_TOKEN.`,
        details: { auth_file: authFile, reason: 'register_replay' },
      },
    );
  }
  if (!apiKey.startsWith('od_')) {
    audit?.error('auth.mint', { gateway, reason: 'api_key_not_od' });
    throw new OdError('server_error', 'The gateway returned a registration key that is not an opendeploy token, so nothing was saved: try again later.', {
      details: { reason: 'register_bad_key' },
    });
  }
  if (agentId === undefined || bindSig === undefined) {
    audit?.error('auth.mint', { gateway, reason: 'incomplete_register_response' });
    throw new OdError(
      'server_error',
      'The gateway registration response was missing agent_id or bind_sig, so no credential was saved: try again later, and report it if it keeps happening.',
      { details: { reason: 'register_incomplete', missing: agentId === undefined ? 'agent_id' : 'bind_sig' } },
    );
  }

  const returnedGateway = nonEmpty(body.gateway);
  const finalGateway =
    returnedGateway !== undefined && /^https?:\/\//i.test(returnedGateway) ? normaliseOr(returnedGateway, gateway) : gateway;
  const data: AuthFileData = { version: 1, api_key: apiKey, gateway: finalGateway, agent_id: agentId, bind_sig: bindSig };
  const claim = nonEmpty(body.claim_url);
  if (claim !== undefined) data.claim_url = claim;

  try {
    await writeAuthFile(authFile, data, { overwrite: false, tightenDir: ownsDir, ...testPauseBeforeCommit(env) });
  } catch (err) {
    if (isOdError(err) && err.code === 'conflict') {
      // Another run (or the user) created the file while we registered: theirs wins, ours is dropped.
      const again = await readAuthFile(authFile, fileOptions);
      if (again.status === 'ok') {
        registerSecret(again.data.api_key);
        registerSecret(again.data.bind_sig);
        warn(`${displayPath(authFile)} was created by another opendeploy run meanwhile; using it (the credential registered by this run was not saved).`);
        audit?.warn('auth.mint', { gateway: finalGateway, reason: 'file_created_concurrently' });
        const fileGateway = effectiveGateway({
          flagGateway: input.flagGateway,
          env,
          projectGateway: input.projectGateway,
          fileGateway: again.data.gateway,
        });
        return finish(fromFile(authFile, again.data, fileGateway), audit);
      }
    }
    audit?.error('auth.mint', { gateway: finalGateway, reason: 'write_failed', error: err });
    if (isOdError(err) && err.code === 'internal') {
      throw new OdError(
        'internal',
        `${err.message} A local credential was registered but could not be kept; the gateway will not show its key again for 24 hours.`,
        {
          nextAction: `${err.nextAction} If the next run says the key was already issued, use a dashboard token in OPENDEPLOY_TOKEN.`,
          details: err.details,
          cause: err,
        },
      );
    }
    throw err;
  }

  audit?.info('auth.mint', { gateway: finalGateway, agent_id: agentId, auth_file: authFile });
  return finish(
    {
      token: apiKey,
      kind: tokenKind(apiKey),
      source: 'minted',
      authFile,
      gateway: finalGateway,
      agentId,
      bindSig,
      fresh: true,
    },
    audit,
  );
}
