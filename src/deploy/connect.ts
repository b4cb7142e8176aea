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
}

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
  const credential = await resolveCredential({ ...input.resolve, clientFor, cliVersion: VERSION });
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
