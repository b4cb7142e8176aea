import path from 'node:path';
import { OdError } from '../core/errors.js';
import { askChoice, mayPrompt, type LocalGatewayLease, type Prompter } from '../core/session.js';
import type { ResolvedCredential } from '../auth/index.js';
import type { GatewayClient, Service } from '../gateway/index.js';
import type { AuditLogger } from '../audit/index.js';
import { targetFlags } from '../core/target-flags.js';
import { readProjectState, rememberedDataDir, type ProjectState } from '../deploy/state.js';
import { shellQuote } from '../core/text.js';
import type { Environment } from '../deploy/context.js';
import { connectExistingCredential, resolveEnvironment, type ConnectSession, type OpsOptions } from './connect.js';

export { connectExistingCredential, type ConnectedCredential, type OpsOptions } from './connect.js';

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
  /** The local gateway when the folder is linked to it (or --local). */
  embedded?: LocalGatewayLease;
  /** The flags that reached this target (`--project`, `--local`, …): printed commands carry them. */
  targetFlags?: string[];
  /** Lets go of the local gateway (if any) and flushes the audit log. */
  close(): Promise<void>;
}

export interface ResolveTargetInput {
  session: ConnectSession & { prompter: Prompter };
  options: OpsOptions;
  /** Whether the operation acts on one service (env, resize, redeploy…) or the project (status). */
  needService: boolean;
  /** The folder whose .opendeploy/project.json links it (default: cwd). */
  root?: string;
}

export async function resolveOpsTarget(input: ResolveTargetInput): Promise<OpsTarget> {
  const { session, options } = input;
  const { exec } = session;
  const root = path.resolve(exec.cwd, input.root ?? '.');
  const state = await readProjectState(root);
  const projectId = options.project ?? state?.project_id;
  if (!projectId) {
    throw new OdError('invalid_input', `No project is linked to ${root}.`, {
      nextAction: 'Run `opendeploy` here to deploy it first, or pass --project <id>.',
    });
  }
  const environment = resolveEnvironment(options.env, exec.env, state?.environment);
  const connection = await connectExistingCredential({ session, options, state });
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
      targetFlags: targetFlags(options),
    };
    if (input.needService) target.service = await pickService(target, session, options.service);
    return target;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The project's services. A 404 here means the project itself is unknown to this gateway (a
 * mistyped --project, a project deleted since, or one another account owns): say that, rather
 * than naming the services route.
 */
async function listServicesOf(target: OpsTarget): Promise<Service[]> {
  try {
    return await target.client.listServices(target.projectId);
  } catch (error) {
    if (error instanceof OdError && error.code === 'not_found') {
      throw new OdError('not_found', `Project ${target.projectId} was not found on ${target.gatewayUrl}.`, {
        nextAction: 'Check the project id (the dashboard shows it), the gateway (--gateway or OD_GATEWAY) and that this credential belongs to the owning account (`opendeploy auth status`).',
        details: { project_id: target.projectId },
      });
    }
    throw error;
  }
}

/**
 * The command that starts the local gateway this target's project lives on, for the data folder the
 * run used: the flag, or the one the folder's link remembers.
 */
export function localGatewayStartCommand(target: OpsTarget, dataDirFlag: string | undefined): string {
  const dataDir = dataDirFlag ?? rememberedDataDir(target.state);
  return shellQuote(['opendeploy', 'local-gateway', ...(dataDir ? ['--data-dir', dataDir] : [])]);
}

/**
 * --service (id or name) wins; one linked service is used as is; several → ask on a TTY, otherwise
 * `invalid_input` listing them so an agent can re-run with --service.
 */
async function pickService(target: OpsTarget, session: ResolveTargetInput['session'], wanted: string | undefined): Promise<{ id: string; name: string }> {
  const linked = target.state?.project_id === target.projectId ? target.state.services : [];
  let candidates: { id: string; name: string }[] = linked.map((link) => ({ id: link.service_id, name: link.name }));
  if (candidates.length === 0 || wanted) {
    const remote: Service[] = await listServicesOf(target);
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
  if (mayPrompt(session.exec)) {
    const index = await askChoice(session.prompter, 'Which service?', candidates.map((s) => `${s.name} (${s.id})`));
    if (index !== undefined) return candidates[index]!;
  }
  throw new OdError('invalid_input', `Project ${target.projectId} has ${candidates.length} services; say which one.`, {
    nextAction: `Add --service with one of: ${candidates.map((s) => s.name).join(', ')}.`,
    details: { services: candidates },
  });
}
