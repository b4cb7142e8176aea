/**
 * Which gateway, which credential, bound or pending: the connect step of every day-2 command (and
 * `auth status`). The credential part is the deploy pipeline's own (src/deploy/connect.ts); this
 * adds what only commands that act on existing things need: the local-gateway choice, the
 * environment, and the rule that no credential is ever minted (a new one would not own the project).
 */
import { OdError } from '../core/errors.js';
import type { GlobalOptions, LocalGatewayLease, Session, StartLocalGateway } from '../core/session.js';
import { resolveHome, type ResolvedCredential } from '../auth/index.js';
import type { AuditLogger } from '../audit/index.js';
import type { GatewayClient } from '../gateway/index.js';
import { connectCredential } from '../deploy/connect.js';
import type { Environment } from '../deploy/context.js';
import { LOCAL_GATEWAY_MARKER, rememberedDataDir, type ProjectState } from '../deploy/state.js';

/** `--env` > `OD_ENVIRONMENT` > the linked environment > production; anything else is an error. */
export function resolveEnvironment(flag: string | undefined, env: NodeJS.ProcessEnv, linked?: string): Environment {
  const source = flag !== undefined ? '--env' : env.OD_ENVIRONMENT !== undefined && env.OD_ENVIRONMENT !== '' ? 'OD_ENVIRONMENT' : undefined;
  const value = flag ?? (env.OD_ENVIRONMENT || undefined) ?? linked ?? 'production';
  if (value === 'production' || value === 'staging') return value;
  throw new OdError('invalid_input', `${source ?? 'The environment'} is "${value}", but only "production" and "staging" exist.`, {
    nextAction: `Use ${source ?? '--env'} production (the default) or staging.`,
  });
}

/** Polling cadence: the embedded gateway answers in microseconds, the hosted one wants restraint. */
export function pollIntervalFor(gateway: string | undefined): number {
  if (!gateway) return 2000;
  try {
    const host = new URL(gateway).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' ? 250 : 2000;
  } catch {
    return 2000;
  }
}

export interface GatewayChoice {
  local?: boolean;
  gateway?: string;
  authFile?: string;
  dataDir?: string;
  simulate?: boolean;
  detach?: boolean;
}

export interface GatewaySelection<L extends LocalGatewayLease = LocalGatewayLease> {
  useLocal: boolean;
  embedded?: L;
  /** The environment credential resolution should see (no hosted token when local). */
  env: NodeJS.ProcessEnv;
  flagGateway?: string;
  flagAuthFile?: string;
}

/**
 * Decides which gateway a command talks to. `--local`, or a folder linked to the local gateway
 * (unless --gateway/OD_GATEWAY say otherwise), uses the local gateway `start` supplies, with its own
 * credential file; a hosted OPENDEPLOY_TOKEN is then withheld so it is never sent to it.
 */
export async function selectGateway<L extends LocalGatewayLease>(
  options: GatewayChoice,
  env: NodeJS.ProcessEnv,
  linked: ProjectState | undefined,
  start: ((request: { dataDir?: string; simulate?: boolean; detach?: boolean }, env: NodeJS.ProcessEnv) => Promise<L>) | undefined,
): Promise<GatewaySelection<L>> {
  const useLocal = options.local === true || (linked?.gateway === LOCAL_GATEWAY_MARKER && !options.gateway && !env.OD_GATEWAY);
  if (!useLocal) {
    return {
      useLocal,
      env,
      ...(options.gateway ? { flagGateway: options.gateway } : {}),
      ...(options.authFile ? { flagAuthFile: options.authFile } : {}),
    };
  }
  if (!start) {
    throw new OdError('invalid_input', 'This run cannot start the local gateway.', {
      nextAction: 'Run the command through the opendeploy CLI, or pass --gateway with the URL of a running gateway.',
    });
  }
  // A folder deployed with --local --data-dir remembers the folder, so plain commands reach the same gateway.
  const dataDir = options.dataDir ?? rememberedDataDir(linked);
  const embedded = await start(
    {
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(options.simulate ? { simulate: true } : {}),
      ...(options.detach ? { detach: true } : {}),
    },
    env,
  );
  const localEnv = { ...env };
  delete localEnv.OPENDEPLOY_TOKEN;
  return { useLocal, embedded, env: localEnv, flagGateway: embedded.url, flagAuthFile: embedded.authFile };
}

export interface OpsOptions extends GlobalOptions {
  dataDir?: string;
}

/** What a day-2 command needs from its session (the abort signal and prompts are not used here). */
export type ConnectSession = Pick<Session, 'exec' | 'reporter' | 'audit'> & { startLocalGateway?: StartLocalGateway | undefined };

/** A credential that already exists, proven against the gateway, with the client that uses it. */
export interface ConnectedCredential {
  credential: ResolvedCredential;
  client: GatewayClient;
  bound: boolean;
  audit: AuditLogger;
  /** The local gateway when the folder is linked to it (or --local). */
  embedded?: LocalGatewayLease;
  /** Flushes the audit log and lets go of the local gateway, if one was started. */
  close(): Promise<void>;
}

/**
 * Resolves the credential a day-2 command (or `auth status`) uses — never minting one, since a new
 * credential could not own the project — proves it with `GET /v1/regions/` (401 → auth_invalid,
 * auth.json untouched) and learns whether it is bound.
 */
export async function connectExistingCredential(input: {
  session: ConnectSession;
  options: OpsOptions;
  state: ProjectState | undefined;
}): Promise<ConnectedCredential> {
  const { session, options, state } = input;
  const { exec, reporter, audit } = session;
  const home = resolveHome(exec.env);
  const { embedded, env, flagGateway, flagAuthFile } = await selectGateway(options, exec.env, state, session.startLocalGateway);
  const close = async (): Promise<void> => {
    await audit.flush();
    await embedded?.close();
  };
  try {
    const { credential, client, bound } = await connectCredential({
      resolve: {
        env,
        flagAuthFile,
        flagGateway,
        projectGateway: state && state.gateway !== LOCAL_GATEWAY_MARKER ? state.gateway : undefined,
        home,
        interactive: false,
        yes: false,
        confirmMint: async () => false,
        audit,
        warn: (message: string) => reporter.warn(message),
      },
      debug: (line) => reporter.debug(line),
      explainLoginWhenMissing: exec.interactive,
    });
    return { credential, client, bound, audit, close, ...(embedded ? { embedded } : {}) };
  } catch (error) {
    await close();
    throw error;
  }
}

