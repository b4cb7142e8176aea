import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import type { AuditLogger } from '../audit/index.js';
import { throwIfAborted } from '../core/sleep.js';
import type { DeployContext, DeployInputs } from './context.js';
import { readProjectState, LOCAL_GATEWAY_MARKER, type ProjectState } from './state.js';
import { saveState } from './persist.js';
import { authStage } from './stages/auth.js';
import { analyzeStage } from './stages/analyze.js';
import { projectStage } from './stages/project.js';
import { dependenciesStage } from './stages/dependencies.js';
import { serviceStage } from './stages/service.js';
import { sourceStage } from './stages/source.js';
import { requiredVarsStage } from './stages/required.js';
import { deploymentStage } from './stages/deployment.js';
import { subdomainStage, reportStage, startedReportStage } from './stages/finish.js';

export interface PipelineDeps {
  exec: ExecutionContext;
  reporter: Reporter;
  audit: AuditLogger;
  signal: AbortSignal;
  /** "local" when the embedded local gateway serves this run. */
  gatewayLabel?: string;
}

type Stage = (ctx: DeployContext) => Promise<void> | void;

/**
 * The order is the contract: each stage reads only what the ones before it produced. Analysis comes
 * first: a refused or empty folder stops before any credential is read or minted.
 */
const STAGES: Stage[] = [
  analyzeStage,
  authStage,
  projectStage,
  dependenciesStage,
  serviceStage,
  requiredVarsStage,
  sourceStage,
  deploymentStage,
  subdomainStage,
  reportStage,
];

export async function createDeployContext(inputs: DeployInputs, deps: PipelineDeps): Promise<DeployContext> {
  const saved = await readProjectState(inputs.root);
  const state: ProjectState = saved ?? {
    version: 1,
    gateway: deps.gatewayLabel ?? '',
    environment: inputs.environment,
    services: [],
    dependencies: [],
  };
  if (saved && saved.environment !== inputs.environment && saved.project_id) {
    const { OdError } = await import('../core/errors.js');
    throw new OdError(
      'conflict',
      `This folder is linked to the ${saved.environment} environment of project ${saved.project_id}, but this run targets ${inputs.environment}.`,
      { nextAction: `Pass --env ${saved.environment}, or move .opendeploy/project.json away to deploy ${inputs.environment} as a new project.` },
    );
  }
  return {
    inputs,
    exec: deps.exec,
    reporter: deps.reporter,
    audit: deps.audit,
    signal: deps.signal,
    gatewayUrl: inputs.flagGateway ?? '',
    gatewayLabel: deps.gatewayLabel ?? '',
    state,
    resumed: saved !== undefined,
    dependencyEnv: {},
    sourceChanged: false,
    deployments: [],
    requiredVars: {},
    missingRequired: {},
  };
}

/**
 * Runs every stage in order. project.json is saved after each stage (stages save their own ids
 * as soon as they exist), so Ctrl-C or a crash at any point leaves a state the next run resumes.
 */
export async function runDeployPipeline(ctx: DeployContext): Promise<void> {
  for (const stage of STAGES) {
    throwIfAborted(ctx.signal);
    await stage(ctx);
    // From here on the folder is linked (the gateway is known once auth ran): later runs read back
    // by name before creating anything.
    if (stage === authStage) await saveState(ctx);
    // `--no-wait`: nothing is followed, so there is no URL to claim or read yet.
    if (stage === deploymentStage && ctx.started) {
      await startedReportStage(ctx);
      return;
    }
  }
}

export { LOCAL_GATEWAY_MARKER };
