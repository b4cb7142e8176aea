import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import type { AuditLogger } from '../audit/index.js';
import type { ResolvedCredential } from '../auth/index.js';
import type { GatewayClient, Region, Deployment } from '../gateway/index.js';
import type { Analysis } from '../analyze/index.js';
import type { Selection } from '../archive/index.js';
import type { ProjectState } from './state.js';

export type Environment = 'production' | 'staging';

/** What the user asked for (flags and environment), after validation. */
export interface DeployInputs {
  /** Absolute path of the folder to deploy. */
  root: string;
  environment: Environment;
  /** Project name override (`--name`). */
  name?: string;
  /** Auto-subdomain prefix to claim after a successful deploy (`--subdomain`). */
  subdomain?: string;
  /** Deploy from a Git repository instead of uploading the folder (`--git`). */
  git?: { url: string; branch?: string };
  /** Values from `--env-file`: the highest-precedence runtime variables. Never logged. */
  userEnv: Record<string, string>;
  /** Absolute path of the `--env-file`: never archived when it lies inside the folder. */
  envFilePath?: string;
  /** Re-upload even when the source digest matches the last upload (`--force`). */
  force: boolean;
  regionId?: string;
  flagAuthFile?: string;
  flagGateway?: string;
  /**
   * The app stays in a background local gateway after the run (`--local --detach`, or a gateway
   * that was already running): the command that stops it, reported with the result.
   */
  stopCommand?: string;
  /** The run detached on its own (`--local --json` with no terminal attached): said in the result. */
  detached?: boolean;
  /**
   * Return once the deployment is created (`--no-wait`): no watch, no subdomain claim. The next run
   * of an unchanged folder follows that deployment instead of starting another.
   */
  noWait?: boolean;
  /** The target flags of this run (`--local`, `--data-dir`, `--env`, …), for the printed follow and fix commands. */
  targetFlags?: string[];
  /** Home for auth.json and logs (`OPENDEPLOY_HOME` or ~/.opendeploy). */
  home: string;
  /** How often to poll deployment status. */
  pollIntervalMs: number;
  /** How long to wait for the auto domain to appear after success. */
  domainWaitMs: number;
}

/**
 * The one context object of a deploy. Each stage reads what earlier stages produced and adds its
 * own result; nothing reaches back. `state` mirrors .opendeploy/project.json and is saved after
 * every stage.
 */
export interface DeployContext {
  inputs: DeployInputs;
  exec: ExecutionContext;
  reporter: Reporter;
  audit: AuditLogger;
  signal: AbortSignal;
  /** The gateway URL requests go to, and what project.json records for it. */
  gatewayUrl: string;
  gatewayLabel: string;
  state: ProjectState;
  /** True when state came from an earlier run of this folder. */
  resumed: boolean;
  credential?: ResolvedCredential;
  client?: GatewayClient;
  bound?: boolean;
  analysis?: Analysis;
  selection?: Selection;
  region?: Region;
  /** Connection variables returned by created dependencies (secret values, memory only). */
  dependencyEnv: Record<string, string>;
  tempFilePath?: string;
  /** True when this run bound a new source (an unchanged source is not re-sent). */
  sourceChanged: boolean;
  /** True when this run changed the service's port or variables (a deployment must pick them up). */
  configChanged?: boolean;
  deployments: Deployment[];
  /** `--no-wait`: the deployment this run started (or found running) and did not follow. */
  started?: { deploymentId: string; serviceId: string; status: string };
  url?: string;
  /** Per service id: the variable names the analysis marks required. */
  requiredVars: Record<string, string[]>;
  /** Per service id: the required names the service does not have (warned before the build). */
  missingRequired: Record<string, string[]>;
}

export function requireClient(ctx: DeployContext): GatewayClient {
  if (!ctx.client) throw new Error('internal: gateway client used before the auth stage');
  return ctx.client;
}
