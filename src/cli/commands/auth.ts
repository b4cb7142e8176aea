import type { Command } from 'commander';
import { OdError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { authInvalidError, claimUrl, describeToken, displayPath, isBound, resolveCredential, resolveHome, type ResolvedCredential } from '../../auth/index.js';
import { GatewayClient } from '../../gateway/index.js';
import { createAuditLogger } from '../../audit/index.js';
import { LOCAL_GATEWAY_MARKER, readProjectState, type ProjectState } from '../../deploy/state.js';
import { VERSION } from '../../version.js';
import type { GlobalOptions } from '../context.js';
import type { Reporter } from '../output/index.js';
import { startEmbeddedGateway, type EmbeddedGateway } from '../local.js';
import { runHandler, type CommandEnv, type RunIo } from '../run.js';
import { emitDocument } from './env.js';

interface AuthOptions extends GlobalOptions {
  dataDir?: string;
}

const KIND_LABEL: Record<ResolvedCredential['kind'], string> = {
  pat: 'dashboard token',
  agent: 'local agent credential',
  unknown: 'unrecognised token',
};

export function registerAuth(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  const auth = program.command('auth').description('the credential opendeploy uses');
  auth
    .command('status', { isDefault: true })
    .description('which credential is in use (redacted), whether it is bound to an account, and the claim URL while it is not')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy auth status\n  $ opendeploy auth status --json\n')
    .action(async (_options: AuthOptions, command: Command) => {
      const options = command.optsWithGlobals<AuthOptions>();
      setExit(await runHandler(options, io(), (ctx) => authStatus(ctx, options)));
    });
}

/**
 * Resolves the credential exactly as a day-2 command would (never minting one), proves it with
 * `GET /v1/regions/` (401 → auth_invalid), and asks `GET /v1/profile` whether an agent credential is
 * bound. Only the kind and the last 4 characters of the token are ever shown.
 */
async function authStatus(ctx: CommandEnv, options: AuthOptions): Promise<number> {
  const { exec, reporter } = ctx;
  let state: ProjectState | undefined;
  try {
    state = await readProjectState(exec.cwd);
  } catch {
    // A broken link file must not hide which credential is in use; the gateway precedence just skips it.
    state = undefined;
  }
  const home = resolveHome(exec.env);
  const useLocal = options.local === true || (state?.gateway === LOCAL_GATEWAY_MARKER && !options.gateway && !exec.env.OD_GATEWAY);
  let embedded: EmbeddedGateway | undefined;
  let env = exec.env;
  let flagGateway = options.gateway;
  let flagAuthFile = options.authFile;
  const audit = createAuditLogger({ home });
  let client: GatewayClient | undefined;
  try {
    if (useLocal) {
      embedded = await startEmbeddedGateway(options.dataDir);
      flagGateway = embedded.gateway.url;
      flagAuthFile = embedded.authFile;
      env = { ...exec.env };
      delete env.OPENDEPLOY_TOKEN;
    }
    const credential = await resolveCredential({
      env,
      flagAuthFile,
      flagGateway,
      projectGateway: state && state.gateway !== LOCAL_GATEWAY_MARKER ? state.gateway : undefined,
      home,
      interactive: false,
      yes: false,
      // A status command reports; it never creates a credential.
      confirmMint: async () => false,
      clientFor: (gateway: string, token?: string) => newClient(gateway, token, reporter),
      cliVersion: VERSION,
      audit,
      warn: (message: string) => reporter.warn(message),
    });
    registerSecret(credential.token);
    registerSecret(credential.bindSig);
    client = newClient(credential.gateway, credential.token, reporter);

    let bound: boolean;
    try {
      await client.listRegions();
      bound = await isBound(credential, client);
    } catch (error) {
      if (error instanceof OdError && error.code === 'auth_invalid' && error.status === 401) throw authInvalidError(credential);
      throw error;
    }
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
    await client?.close().catch(() => undefined);
    await audit.flush();
    await embedded?.gateway.close();
  }
}

function newClient(gateway: string, token: string | undefined, reporter: Reporter): GatewayClient {
  return new GatewayClient({
    baseUrl: gateway,
    ...(token === undefined ? {} : { token }),
    userAgent: `opendeploy/${VERSION} (${process.platform}; node ${process.versions.node})`,
    onRequest: (info) =>
      reporter.debug(`${info.method} ${info.path} → ${info.status ?? info.error ?? '?'} in ${Math.round(info.ms)} ms (attempt ${info.attempt})`),
  });
}
