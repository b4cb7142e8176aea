import { claimUrl, describeToken, displayPath, type ResolvedCredential } from '../../auth/index.js';
import { readProjectState, type ProjectState } from '../../deploy/state.js';
import { connectExistingCredential } from '../../ops/target.js';
import type { GlobalOptions } from '../../core/session.js';
import { OdError } from '../../core/errors.js';
import { runHandler, type CommandEnv } from '../run.js';
import type { Invocation } from '../lazy.js';
import { emitDocument } from './env.js';

export interface AuthOptions extends GlobalOptions {
  dataDir?: string;
}

const KIND_LABEL: Record<ResolvedCredential['kind'], string> = {
  pat: 'dashboard token',
  agent: 'local agent credential',
  unknown: 'unrecognised token',
};

export async function status({ options, io }: Invocation<AuthOptions>): Promise<number> {
  return runHandler(options, io, (ctx) => authStatus(ctx, options));
}

/**
 * Resolves the credential exactly as a day-2 command would (never minting one), proves it with
 * `GET /v1/regions/` (401 → auth_invalid), and asks `GET /v1/profile` whether an agent credential is
 * bound. Only the kind and the last 4 characters of the token are ever shown.
 */
async function authStatus(ctx: CommandEnv, options: AuthOptions): Promise<number> {
  const { exec } = ctx;
  let state: ProjectState | undefined;
  try {
    state = await readProjectState(exec.cwd);
  } catch {
    // A broken link file must not hide which credential is in use; the gateway precedence just skips it.
    state = undefined;
  }
  const { credential, bound, audit, embedded, close } = await connectExistingCredential({ session: ctx.session, options, state }).catch((error: unknown) => {
    // Without a credential nothing is resolved, so nothing can be minted here: a person at a terminal
    // is told the two ways to get one (CI and agents keep the message about OPENDEPLOY_TOKEN / --yes).
    if (exec.interactive && error instanceof OdError && error.code === 'auth_missing') {
      throw new OdError('auth_missing', 'No opendeploy credential found on this machine.', {
        nextAction: 'Log in with a dashboard token: `opendeploy login`. Or run `opendeploy deploy` in your app folder: it offers to create a free local credential.',
        details: error.details,
      });
    }
    throw error;
  });
  try {
    const claim = !bound && credential.agentId && credential.bindSig ? claimUrl(credential.gateway, credential.agentId, credential.bindSig) : null;
    const token = describeToken(credential.token);
    const data = {
      source: credential.source,
      kind: credential.kind,
      token,
      auth_file: credential.authFile,
      gateway: credential.gateway,
      bound,
      claim_url: claim,
    };
    const human = [
      `Credential  ${token} (${KIND_LABEL[credential.kind]})`,
      `Source      ${credential.source === 'env' ? 'OPENDEPLOY_TOKEN' : `file ${displayPath(credential.authFile ?? '')}`}`,
      `Gateway     ${credential.gateway}${embedded ? ' (embedded local gateway)' : ''}`,
      `State       ${bound ? 'bound to an account' : 'pending: not bound to an account yet (capped resources; idle projects are removed after 6 hours)'}`,
    ];
    if (claim) human.push(`Claim URL   ${claim}`, '            Open it and sign in to keep this credential and its projects.');
    else if (!bound) human.push('Claim URL   unknown: this credential comes without its agent id and bind signature (they are in the auth.json created with it).');
    audit.info('auth.status', { source: credential.source, kind: credential.kind, gateway: credential.gateway, bound });
    emitDocument(ctx, data, human, claim ? [claim] : []);
    return 0;
  } finally {
    await close();
  }
}

