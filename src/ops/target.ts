import path from 'node:path';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { resolveCredential, isBound, authInvalidError, resolveHome, type ResolvedCredential } from '../auth/index.js';
import type { GatewayClient, Service } from '../gateway/index.js';
import { createAuditLogger, type AuditLogger } from '../audit/index.js';
import { readProjectState, LOCAL_GATEWAY_MARKER, type ProjectState } from '../deploy/state.js';
import type { ExecutionContext, GlobalOptions } from '../core/session.js';
import type { Reporter } from '../cli/output/index.js';
import type { EmbeddedGateway } from '../cli/local.js';
import { selectGateway } from '../cli/gateway-selection.js';
import { createGatewayClient } from '../gateway/factory.js';
import { askChoice } from '../cli/prompt.js';
import { resolveEnvironment } from '../cli/options.js';
import { VERSION } from '../core/version.js';
import type { Environment } from '../deploy/context.js';

/**
 * Everything a day-2 operation acts on, resolved once: the linked folder (or --project/--service),
 * the credential, a gateway client, and the service. Never mints a credential: a new one would not
 * own the project.
 */
export interface OpsTarget {
  root: string;
  state: ProjectState | undefined;
  environment: Environment;
  gatewayUrl: string;
  credential: ResolvedCredential;
  client: GatewayClient;
  bound: boolean;
  audit: AuditLogger;
  projectId: string;
  /** Set when the operation needs a service (most do). */
  service?: { id: string; name: string };
  /** The embedded gateway when the folder is linked to the local gateway (or --local). */
  embedded?: EmbeddedGateway;
  /** Stops the embedded gateway (if any) and flushes the audit log. */
  close(): Promise<void>;
}

export interface OpsOptions extends GlobalOptions {
  dataDir?: string;
}

export interface ResolveTargetInput {
  exec: ExecutionContext;
  reporter: Reporter;
  options: OpsOptions;
  /** Whether the operation acts on one service (env, resize, redeploy…) or the project (status). */
  needService: boolean;
  /** The folder whose .opendeploy/project.json links it (default: cwd). */
  root?: string;
}

/** A credential that already exists, proven against the gateway, with the client that uses it. */
export interface ConnectedCredential {
  credential: ResolvedCredential;
  client: GatewayClient;
  bound: boolean;
  audit: AuditLogger;
  embedded?: EmbeddedGateway;
  /** Flushes the audit log and stops the embedded gateway, if one was started. */
  close(): Promise<void>;
}

/**
 * Resolves the credential a day-2 command (or `auth status`) uses — never minting one, since a new
 * credential could not own the project — proves it with `GET /v1/regions/` (401 → auth_invalid,
 * auth.json untouched) and learns whether it is bound.
 */
export async function connectExistingCredential(input: {
  exec: ExecutionContext;
  reporter: Reporter;
  options: OpsOptions;
  state: ProjectState | undefined;
}): Promise<ConnectedCredential> {
  const { exec, reporter, options, state } = input;
  const home = resolveHome(exec.env);
  const { embedded, env, flagGateway, flagAuthFile } = await selectGateway(options, exec.env, state);
  const audit = createAuditLogger({ home });
  const close = async (): Promise<void> => {
    await audit.flush();
    await embedded?.gateway.close();
  };
  try {
    const credential = await resolveCredential({
      env,
      flagAuthFile,
      flagGateway,
      projectGateway: state && state.gateway !== LOCAL_GATEWAY_MARKER ? state.gateway : undefined,
      home,
      interactive: false,
      yes: false,
      confirmMint: async () => false,
      clientFor: (gateway: string, token?: string) => createGatewayClient(gateway, token, (line) => reporter.debug(line)),
      cliVersion: VERSION,
      audit,
      warn: (message: string) => reporter.warn(message),
    });
    registerSecret(credential.token);
    registerSecret(credential.bindSig);
    const client = createGatewayClient(credential.gateway, credential.token, (line) => reporter.debug(line));
    let bound: boolean;
    try {
      // The same sanity check as deploy: a rejected token stops here, before any mutation.
      await client.listRegions();
      bound = await isBound(credential, client);
    } catch (error) {
      if (error instanceof OdError && error.code === 'auth_invalid') throw authInvalidError(credential, error);
      throw error;
    }
    return { credential, client, bound, audit, close, ...(embedded ? { embedded } : {}) };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function resolveOpsTarget(input: ResolveTargetInput): Promise<OpsTarget> {
  const { exec, reporter, options } = input;
  const root = path.resolve(exec.cwd, input.root ?? '.');
  const state = await readProjectState(root);
  const projectId = options.project ?? state?.project_id;
  if (!projectId) {
    throw new OdError('invalid_input', `No project is linked to ${root}.`, {
      nextAction: 'Run `opendeploy` here to deploy it first, or pass --project <id>.',
    });
  }
  const environment = resolveEnvironment(options.env, exec.env, state?.environment);
  const connection = await connectExistingCredential({ exec, reporter, options, state });
  const { credential, client, bound, audit, embedded, close } = connection;
  try {
    const target: OpsTarget = {
      root,
      state,
      environment,
      gatewayUrl: credential.gateway,
      credential,
      client,
      bound,
      audit,
      projectId,
      close,
      ...(embedded ? { embedded } : {}),
    };
    if (input.needService) target.service = await pickService(target, exec, options.service);
    return target;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * --service (id or name) wins; one linked service is used as is; several → ask on a TTY, otherwise
 * `invalid_input` listing them so an agent can re-run with --service.
 */
async function pickService(target: OpsTarget, exec: ExecutionContext, wanted: string | undefined): Promise<{ id: string; name: string }> {
  const linked = target.state?.project_id === target.projectId ? target.state.services : [];
  let candidates: { id: string; name: string }[] = linked.map((link) => ({ id: link.service_id, name: link.name }));
  if (candidates.length === 0 || wanted) {
    const remote: Service[] = await target.client.listServices(target.projectId);
    candidates = remote.map((service) => ({ id: service.id, name: service.name ?? service.id }));
  }
  if (wanted) {
    const match = candidates.find((service) => service.id === wanted || service.name === wanted);
    if (!match) {
      throw new OdError('not_found', `Project ${target.projectId} has no service "${wanted}".`, {
        nextAction: candidates.length ? `Use one of: ${candidates.map((s) => `${s.name} (${s.id})`).join(', ')}.` : 'Deploy the folder first.',
      });
    }
    return match;
  }
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new OdError('not_found', `Project ${target.projectId} has no services yet.`, { nextAction: 'Run `opendeploy` to deploy it first.' });
  }
  if (exec.interactive && !exec.json) {
    const index = await askChoice('Which service?', candidates.map((s) => `${s.name} (${s.id})`));
    if (index !== undefined) return candidates[index]!;
  }
  throw new OdError('invalid_input', `Project ${target.projectId} has ${candidates.length} services; say which one.`, {
    nextAction: `Add --service with one of: ${candidates.map((s) => s.name).join(', ')}.`,
    details: { services: candidates },
  });
}
