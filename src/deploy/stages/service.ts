import { OdError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import type { AnalyzedService } from '../../analyze/index.js';
import type { CreateServiceBody } from '../../gateway/index.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { clearPendingDependencyEnv } from './dependencies.js';
import { dnsSafeName } from './project.js';
import { reconcileLinkedService } from './reconcile.js';

/** Resources of the service row. Unclaimed credentials are capped by the gateway; bound ones get more. */
export const PENDING_RESOURCES = { cpu_request: '500m', cpu_limit: '1', memory_request: '512Mi', memory_limit: '1Gi', replicas: 1 };
export const BOUND_RESOURCES = { cpu_request: '500m', cpu_limit: '2', memory_request: '1Gi', memory_limit: '4Gi', replicas: 1 };

/**
 * Runtime variables, later sources winning: the port the analysis found < analysis defaults <
 * dependency connection variables < the user's own values.
 */
export function mergeRuntimeVariables(
  service: Pick<AnalyzedService, 'port' | 'runtime_vars'>,
  dependencyEnv: Record<string, string>,
  userEnv: Record<string, string>,
): Record<string, string> {
  const merged: Record<string, string> = {};
  if (service.port !== null) merged.PORT = String(service.port);
  for (const variable of service.runtime_vars) {
    // An empty default is no value at all: sending "" would override the app's own fallback.
    if (variable.default !== '') merged[variable.name] = variable.default;
  }
  Object.assign(merged, dependencyEnv, userEnv);
  return merged;
}

export function buildVariables(service: Pick<AnalyzedService, 'build_time_vars'>, userEnv: Record<string, string>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const variable of service.build_time_vars) {
    const value = userEnv[variable.name] ?? variable.default;
    if (value !== '') vars[variable.name] = value;
  }
  return vars;
}

export function serviceBody(ctx: DeployContext, service: AnalyzedService): CreateServiceBody {
  const resources = ctx.bound ? BOUND_RESOURCES : PENDING_RESOURCES;
  const runtime = mergeRuntimeVariables(service, ctx.dependencyEnv, ctx.inputs.userEnv);
  for (const value of Object.values(runtime)) registerSecret(value);
  const body: CreateServiceBody = {
    name: dnsSafeName(service.name),
    type: service.project_type,
    environment: ctx.inputs.environment,
    language: service.language,
    framework: service.framework,
    source_path: service.source_path,
    build_command: service.scripts_build,
    start_command: service.scripts_start,
    build_variables: buildVariables(service, ctx.inputs.userEnv),
    runtime_variables: runtime,
    ...resources,
  };
  if (service.port !== null) body.port = service.port;
  if (service.health_check_path) body.health_check_path = service.health_check_path;
  if (service.dockerfile) body.dockerfile_path = service.dockerfile;
  return body;
}

/** Stage 7: one service per analyzed service, read back to prove its variables arrived. */
export async function serviceStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const projectId = ctx.state.project_id!;
  for (const service of ctx.analysis?.services ?? []) {
    const name = dnsSafeName(service.name);
    const linked = ctx.state.services.find((link) => link.name === name);
    if (linked) {
      ctx.reporter.stageSkip('service.create', `Using service ${name} (${linked.service_id})`, { service_id: linked.service_id });
      await reconcileLinkedService(ctx, linked, service);
      continue;
    }
    ctx.reporter.stageStart('service.create', `Creating service ${name}`);
    const body = serviceBody(ctx, service);
    let serviceId: string | undefined;
    if (ctx.resumed) serviceId = (await client.findServiceByName(projectId, name))?.id;
    const adopted = serviceId !== undefined;
    if (!serviceId) {
      try {
        serviceId = (await client.createService(projectId, body)).service_id;
      } catch (error) {
        if (error instanceof OdError && (error.code === 'gateway_unreachable' || error.code === 'server_error')) {
          serviceId = (await client.findServiceByName(projectId, name).catch(() => undefined))?.id;
        }
        if (!serviceId) {
          if (error instanceof OdError) {
            ctx.audit.error('service.create', { project_id: projectId, status: error.status ?? null, error_code: error.code, message: error.message });
          }
          throw error;
        }
      }
    }
    ctx.state.services.push({ name, service_id: serviceId, source_path: service.source_path });
    await saveState(ctx);
    if (!adopted) await verifyService(ctx, serviceId, body);
    ctx.audit.info('service.create', {
      project_id: projectId,
      service_id: serviceId,
      name,
      port: body.port ?? null,
      runtime_keys: Object.keys(body.runtime_variables ?? {}),
      cpu_limit: body.cpu_limit,
      memory_limit: body.memory_limit,
    });
    ctx.reporter.stageDone('service.create', `Service ${name} created (${serviceId}), ${body.cpu_limit} CPU / ${body.memory_limit}`, {
      service_id: serviceId,
      runtime_keys: Object.keys(body.runtime_variables ?? {}),
    });
  }
  await clearPendingDependencyEnv(ctx.inputs.root);
}

/** Read-back: the gateway silently drops misnamed env fields, so check the key names arrived. */
async function verifyService(ctx: DeployContext, serviceId: string, body: CreateServiceBody): Promise<void> {
  const service = await requireClient(ctx).getService(serviceId);
  const stored = service.runtime_variables ?? {};
  const missing = Object.keys(body.runtime_variables ?? {}).filter((key) => !(key in stored));
  if (missing.length > 0) {
    throw new OdError('internal', `The service was created but its variables ${missing.join(', ')} did not arrive.`, {
      nextAction: 'Re-run the deploy; if it happens again, report it with the audit log.',
      details: { service_id: serviceId, missing },
    });
  }
}
