/**
 * `opendeploy login` / `logout`: store a dashboard token the user pasted (after the gateway accepted
 * it), or forget the stored credential. Both act on the credential file only: login reads the
 * gateway to prove the token, logout never calls it (nothing is revoked or deleted server-side).
 */
import { access, unlink } from 'node:fs/promises';
import { OdError } from '../core/errors.js';
import { confirmAction } from '../core/consent.js';
import type { ExecutionContext, Prompter } from '../core/session.js';
import {
  describeToken,
  displayPath,
  effectiveGateway,
  isInHome,
  readAuthFile,
  resolveAuthFile,
  resolveHome,
  tokenKind,
  writeAuthFile,
  type TokenKind,
} from '../auth/index.js';
import { createGatewayClient } from '../gateway/factory.js';

export interface LoginSession {
  exec: ExecutionContext;
  prompter: Prompter;
  audit: { info(step: string, fields?: Record<string, unknown>): void };
}

export interface LoginOptions {
  gateway?: string;
  authFile?: string;
  local?: boolean;
}

export interface LoginResult {
  /** The token as it may be shown: kind prefix and last 4 characters. */
  token: string;
  kind: TokenKind;
  auth_file: string;
  gateway: string;
  /** The account the gateway names for the token (`GET /v1/profile`), when it answers. */
  profile: { id: string; email: string | null } | null;
  /** A different credential was in the file before (the user agreed to replace it). */
  replaced: string | null;
}

/**
 * Proves `token` with `GET /v1/regions/` (401 → `auth_invalid`, nothing written), then writes it
 * with its gateway to the credential file (0600, atomically). Replacing a different stored
 * credential needs consent: an unclaimed local credential is the only key to its projects.
 */
export async function login(input: { session: LoginSession; options: LoginOptions; token: string; resumeCommand: string }): Promise<LoginResult> {
  const { session, options } = input;
  const { exec } = session;
  if (options.local) {
    throw new OdError('invalid_input', 'The local gateway issues its own key; there is nothing to log in to.', {
      nextAction: 'Drop --local: `opendeploy login` stores a token of the hosted gateway (or of --gateway).',
    });
  }
  const token = input.token.trim();
  if (token === '') {
    throw new OdError('invalid_input', 'No token was given.', { nextAction: 'Paste a dashboard token (od_k…), or pipe it: `printenv OPENDEPLOY_TOKEN | opendeploy login --token-stdin`.' });
  }
  if (!/^od_[A-Za-z0-9_]+$/.test(token)) {
    throw new OdError('invalid_input', 'That is not an opendeploy token: a dashboard token starts with od_k and has no spaces.', {
      nextAction: 'Copy the whole token from the dashboard\'s API keys page and try again.',
    });
  }
  const gateway = effectiveGateway({ flagGateway: options.gateway, env: exec.env });
  const authFile = resolveAuthFile({ flagAuthFile: options.authFile, env: exec.env, home: resolveHome(exec.env) });
  const home = resolveHome(exec.env);

  const client = createGatewayClient(gateway, token, () => undefined, exec.env);
  let profile: LoginResult['profile'] = null;
  try {
    try {
      await client.listRegions();
    } catch (error) {
      if (error instanceof OdError && error.code === 'auth_invalid') {
        throw new OdError('auth_invalid', `${gateway} rejected this token (${describeToken(token)}, 401); nothing was saved.`, {
          status: 401,
          nextAction: 'Check that the token is complete, not revoked, and issued by this gateway (--gateway / OD_GATEWAY).',
          details: { kind: tokenKind(token) },
        });
      }
      throw error;
    }
    try {
      const answer = await client.getProfile();
      profile = { id: answer.id, email: answer.email ?? null };
    } catch {
      // Who the token belongs to is a courtesy: a gateway without /v1/profile still accepted the token.
      profile = null;
    }
  } finally {
    await client.close();
  }

  const existing = await readAuthFile(authFile).catch(() => undefined);
  const previous = existing?.status === 'ok' ? existing.data.api_key : undefined;
  const replaced = previous !== undefined && previous !== token ? describeToken(previous) : null;
  if (replaced) {
    await confirmAction(session, {
      action: `Replace the credential ${replaced} in ${displayPath(authFile)} with ${describeToken(token)}`,
      changes: [`${replaced} -> ${describeToken(token)}`],
      resumeCommand: input.resumeCommand,
    });
  }
  await writeAuthFile(authFile, { version: 1, api_key: token, gateway }, { tightenDir: isInHome(authFile, home), chmodRoot: home });
  session.audit.info('auth.login', { kind: tokenKind(token), gateway, auth_file: authFile, replaced: replaced !== null });
  return { token: describeToken(token), kind: tokenKind(token), auth_file: authFile, gateway, profile, replaced };
}

export interface LogoutResult {
  auth_file: string;
  /** The forgotten credential as it may be shown; null when there was no file. */
  token: string | null;
  removed: boolean;
  /** OPENDEPLOY_TOKEN is set: it still authenticates this shell after the file is gone. */
  env_token_set: boolean;
}

/**
 * Deletes the credential file after consent (`--yes`). Never calls the gateway: the token stays
 * valid there (revoke it in the dashboard), only this machine forgets it.
 */
export async function logout(input: { session: LoginSession; options: LoginOptions }): Promise<LogoutResult> {
  const { session, options } = input;
  const { exec } = session;
  const authFile = resolveAuthFile({ flagAuthFile: options.authFile, env: exec.env, home: resolveHome(exec.env) });
  const envTokenSet = (exec.env.OPENDEPLOY_TOKEN ?? '').trim() !== '';
  const present = await access(authFile).then(
    () => true,
    () => false,
  );
  if (!present) return { auth_file: authFile, token: null, removed: false, env_token_set: envTokenSet };
  // A file opendeploy cannot parse is still the credential file: it is named, never printed.
  const read = await readAuthFile(authFile).catch(() => undefined);
  const data = read?.status === 'ok' ? read.data : undefined;
  const shown = data ? describeToken(data.api_key) : null;
  const unclaimed = data !== undefined && tokenKind(data.api_key) === 'agent';
  const flags = options.authFile ? ` --auth-file ${JSON.stringify(options.authFile)}` : '';
  await confirmAction(session, {
    action: `Forget the credential${shown ? ` ${shown}` : ''} in ${displayPath(authFile)}${unclaimed ? ' (a local credential: unless it was claimed, its projects cannot be reached without it)' : ''}`,
    changes: [displayPath(authFile)],
    resumeCommand: `opendeploy logout${flags} --yes`,
  });
  await unlink(authFile);
  session.audit.info('auth.logout', { auth_file: authFile, kind: data ? tokenKind(data.api_key) : null });
  return { auth_file: authFile, token: shown, removed: true, env_token_set: envTokenSet };
}
