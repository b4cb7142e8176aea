/**
 * The connect step every command that talks to a gateway goes through, written once: resolve the
 * credential (deploy may mint one, day-2 commands never do), register its secrets for scrubbing,
 * prove it with `GET /v1/regions/` — the one sanity check that works for pending agents too; a
 * 401 becomes `auth_invalid` naming where the credential came from, with auth.json untouched —
 * and learn whether it is bound to an account.
 */
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { VERSION } from '../core/version.js';
import { authInvalidError, isBound, resolveCredential, type ResolveCredentialInput, type ResolvedCredential } from '../auth/index.js';
import { createGatewayClient } from '../gateway/factory.js';
import type { GatewayClient, Region } from '../gateway/index.js';

export interface ConnectInput {
  /** Where to look for the credential and whether one may be created. */
  resolve: Omit<ResolveCredentialInput, 'clientFor' | 'cliVersion'>;
  /** The request log line for --verbose. */
  debug: (line: string) => void;
  /**
   * Runs once the credential (and so the gateway) is known, before the first request: a check that
   * must stop the run before anything is sent (deploy: saved ids belong to another gateway).
   */
  beforeRequests?: (credential: ResolvedCredential) => void;
  /**
   * A person is at the terminal of a run that never mints (the day-2 commands): a missing credential
   * is then answered with the two ways to get one, not with the OPENDEPLOY_TOKEN / --yes advice meant
   * for CI and agents.
   */
  explainLoginWhenMissing?: boolean;
}

/** What a person at a terminal is told when no credential exists and this command may not create one. */
export const NO_CREDENTIAL_AT_TERMINAL = 'No opendeploy credential found on this machine.';
export const LOG_IN_ACTION =
  'Log in with a dashboard token: `opendeploy login`. Or run `opendeploy deploy` in your app folder: it offers to create a free local credential.';

export interface Connection {
  credential: ResolvedCredential;
  client: GatewayClient;
  /** The gateway's regions, as the sanity check returned them. */
  regions: Region[];
  bound: boolean;
}

export async function connectCredential(input: ConnectInput): Promise<Connection> {
  const env = input.resolve.env;
  const clientFor = (gateway: string, token?: string): GatewayClient => createGatewayClient(gateway, token, input.debug, env);
  const credential = await resolveCredential({ ...input.resolve, clientFor, cliVersion: VERSION }).catch((error: unknown) => {
    if (input.explainLoginWhenMissing === true && error instanceof OdError && error.code === 'auth_missing') {
      throw new OdError('auth_missing', NO_CREDENTIAL_AT_TERMINAL, { nextAction: LOG_IN_ACTION, details: error.details });
    }
    throw error;
  });
  registerSecret(credential.token);
  registerSecret(credential.bindSig);
  input.beforeRequests?.(credential);
  const client = clientFor(credential.gateway, credential.token);
  try {
    const regions = await client.listRegions();
    const bound = await isBound(credential, client);
    return { credential, client, regions, bound };
  } catch (error) {
    if (error instanceof OdError && error.code === 'auth_invalid') throw authInvalidError(credential, error);
    throw error;
  }
}
