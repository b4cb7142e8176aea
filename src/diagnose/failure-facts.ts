/**
 * What is known about a failed deployment besides its logs: the phase it died in, its service's
 * port, memory limit and variable names, the project's databases, and which required variables the
 * service lacks. The deploy pipeline (right after a failure) and `opendeploy triage` (later) both
 * gather them here, so the one playbook sees the same facts and names the same cause.
 */
import type { Deployment, GatewayClient } from '../gateway/index.js';
import { missingRequiredVars } from './required-vars.js';
import type { PlaybookFacts } from './playbook.js';

/** The phase a deployment failed in, from `error_context.phase` or the build percent. */
export function failedPhase(deployment: Deployment): string | undefined {
  const context = deployment.error_context;
  const phase = context && typeof context === 'object' ? (context as Record<string, unknown>).phase : undefined;
  if (phase === 'build') return 'building';
  if (phase === 'deploy' || phase === 'runtime') return 'deploying';
  if (phase === 'source') return 'pending';
  if (typeof deployment.build_percent === 'number') return deployment.build_percent < 100 ? 'building' : 'deploying';
  return undefined;
}

export interface FailureScope {
  projectId: string;
  /** Whether the credential is claimed (an unclaimed one is capped). */
  bound?: boolean;
  /** The names the analysis marks required for this service; undefined when unknown. */
  requiredVars?: string[];
  /**
   * The flags that reached the service (`--project`, `--local`, `--data-dir`, …): not a fact of the
   * failure, but what the diagnosis writes its commands with.
   */
  targetFlags?: readonly string[];
}

export interface FailureFactsInput extends Partial<FailureScope> {
  client: GatewayClient;
  deployment: Deployment;
  /** The service when the deployment row does not name it. */
  serviceId?: string;
  /** The last non-terminal status seen while watching, used when the row does not say. */
  lastPhase?: string;
  durationSeconds?: number;
}

/** Reads the service and the project's databases (each read may fail: then that fact is unknown). */
export async function gatherFailureFacts(input: FailureFactsInput): Promise<PlaybookFacts> {
  const { client, deployment } = input;
  const facts: PlaybookFacts = {
    status: deployment.status,
    progress: deployment.progress ?? null,
    error_msg: deployment.error_msg || deployment.message || null,
  };
  if (input.bound !== undefined) facts.bound = input.bound;
  const phase = failedPhase(deployment) ?? input.lastPhase;
  if (phase) facts.lastPhase = phase;
  if (input.durationSeconds !== undefined) facts.durationSeconds = input.durationSeconds;
  const serviceId = deployment.service_id ?? input.serviceId;
  if (serviceId) {
    const service = await client.getService(serviceId).catch(() => undefined);
    if (service) {
      const env = service.runtime_variables ?? {};
      facts.service = {
        port: service.port ?? null,
        memoryLimit: service.memory_limit ?? null,
        buildCommand: service.build_command ?? null,
        startCommand: service.start_command ?? null,
        envKeys: Object.keys(env),
        portEnv: env.PORT ?? null,
      };
      if (input.requiredVars) facts.missingRequired = missingRequiredVars(input.requiredVars, env);
    }
  }
  if (input.projectId) {
    const dependencies = await client.getDependencyStatus(input.projectId).catch(() => undefined);
    if (dependencies) facts.dependencies = dependencies.map((d) => ({ engine: d.dependency_id ?? d.name ?? d.type ?? 'database', id: d.id, status: d.status ?? 'unknown' }));
  }
  return facts;
}
