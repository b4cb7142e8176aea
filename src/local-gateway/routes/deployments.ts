/**
 * Deployments: create (handing the row to the executor), read, list, cancel and rollback.
 * `/v1/deployments/:id/status` and `/v1/deployments/status/:id` are deliberately not registered:
 * the hosted gateway answers them with its plain 404.
 */

import { randomUUID } from 'node:crypto';
import { nowIso } from '../app.js';
import type { JsonObject, RequestContext, Router } from '../http.js';
import { goTypeName, httpError } from '../http.js';
import type { DeploymentRow } from '../store.js';
import { TERMINAL_STATUSES } from '../store.js';
import { environmentOf, optBool, optString, optStringArray, optStringMap } from '../validate.js';
import { deploymentCreatedView, deploymentView } from '../views.js';
import { ownedDeployment, ownedProject, ownedProjectIds } from './lookup.js';
import { assertSourceDeployable } from './multipart-upload.js';

const STRUCT = 'CreateDeploymentRequest';
const SOURCES = ['zip', 'git', 'upload'];
const STRATEGIES = ['rolling', 'recreate', 'blue_green', 'blue-green', 'canary'];
const VERSION_TYPES = ['major', 'minor', 'patch'];

/**
 * deployment-service's ResourceLimits holds numeric cores/GiB; Kubernetes strings fail the JSON
 * decode with the exact Go message the hosted gateway answers, so clients meet it here first.
 */
function checkResources(body: JsonObject): void {
  const resources = body['resources'];
  if (resources === undefined || resources === null) return;
  if (typeof resources !== 'object' || Array.isArray(resources)) {
    throw httpError(400, `json: cannot unmarshal ${goTypeName(resources)} into Go struct field ${STRUCT}.resources of type models.ResourceLimits`);
  }
  for (const [field, value] of Object.entries(resources as Record<string, unknown>)) {
    if (value !== null && typeof value !== 'number') {
      throw httpError(400, `json: cannot unmarshal ${goTypeName(value)} into Go struct field ResourceLimits.resources.${field} of type float64`);
    }
  }
}

async function createDeployment(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  checkResources(body);
  const projectId = optString(body, 'project_id', STRUCT);
  const serviceId = optString(body, 'service_id', STRUCT);
  const source = optString(body, 'source', STRUCT);
  const tempFilePath = optString(body, 'temp_file_path', STRUCT);
  const branch = optString(body, 'branch', STRUCT);
  const strategy = optString(body, 'strategy', STRUCT) ?? '';
  const versionType = optString(body, 'version_type', STRUCT) ?? 'patch';
  const description = optString(body, 'description', STRUCT) ?? '';
  const fileName = optString(body, 'file_name', STRUCT) ?? '';
  const dependencies = optStringArray(body, 'dependencies', STRUCT) ?? [];
  optStringMap(body, 'runtime_variables', STRUCT);
  optStringMap(body, 'build_variables', STRUCT);
  optBool(body, 'is_rollback', STRUCT);
  optBool(body, 'use_github_token', STRUCT);

  if (!projectId) throw httpError(400, "Key: 'CreateDeploymentRequest.ProjectID' Error:Field validation for 'ProjectID' failed on the 'required' tag");
  if (!serviceId) throw httpError(400, "Key: 'CreateDeploymentRequest.ServiceID' Error:Field validation for 'ServiceID' failed on the 'required' tag");
  if (!tempFilePath) throw httpError(400, 'temp_file_path is required');
  if (!source) throw httpError(400, "Key: 'CreateDeploymentRequest.Source' Error:Field validation for 'Source' failed on the 'required' tag");
  if (!SOURCES.includes(source)) throw httpError(400, `invalid source "${source}": must be zip or git`);
  if (strategy && !STRATEGIES.includes(strategy)) throw httpError(400, `invalid strategy "${strategy}"`);
  if (!VERSION_TYPES.includes(versionType)) throw httpError(400, `invalid version_type "${versionType}"`);
  const environment = environmentOf(body, STRUCT);

  const app = ctx.app;
  const state = app.store.state;
  const project = ownedProject(ctx, projectId);
  // A source still extracting (409 + Retry-After) or that failed to extract (422) is not built.
  assertSourceDeployable(project);
  const service = state.services.find((s) => s.id === serviceId && s.project_id === project.id);
  if (!service) throw httpError(404, 'service not found');
  for (const depId of dependencies) {
    if (!state.dependencies.some((d) => d.id === depId && d.project_id === project.id)) {
      throw httpError(400, `dependency not found: ${depId}`);
    }
  }

  const now = nowIso();
  const dep: DeploymentRow = {
    id: randomUUID(),
    project_id: project.id,
    service_id: service.id,
    environment,
    source,
    branch: branch || project.branch || 'main',
    temp_file_path: tempFilePath,
    file_name: fileName,
    // The build reads the project's bound source, never temp_file_path: an upload is deployable only once update-source bound it.
    source_path: project.source_path,
    strategy: strategy || 'rolling',
    version_type: versionType,
    description,
    dependencies,
    status: 'pending',
    progress: 0,
    build_percent: 0,
    message: 'Deployment created',
    error_msg: '',
    error_context: null,
    is_current: false,
    is_rollback: false,
    rollback_from: null,
    runtime_variables: JSON.stringify(service.runtime_variables),
    build_variables: JSON.stringify(service.build_variables),
    source_code_info: JSON.stringify({ source, file_name: fileName, source_path: project.source_path, branch: branch ?? '' }),
    plan: app.scripts.planFor(project.source_path !== ''),
    sim_step: 0,
    created_at: now,
    updated_at: now,
    completed_at: null,
  };
  state.deployments.push(dep);
  touchAgent(ctx);
  app.store.changed();
  app.executor.start(dep);
  ctx.send(201, deploymentCreatedView(dep, ctx.caller));
}

/** Deploy activity resets the pending agent's idle clock (the 6-hour GC horizon). */
function touchAgent(ctx: RequestContext): void {
  const agentId = ctx.caller.agentId;
  if (!agentId) return;
  const agent = ctx.app.store.state.agents.find((a) => a.id === agentId);
  if (agent) agent.last_deployed_at = nowIso();
}

/**
 * One deployment, to its owner, with the snapshot of the service's runtime variables taken when it
 * was created (a rollback carries the snapshot of the release it re-runs): what the running app was
 * given, as a JSON string like the create response. Lists leave it out.
 */
function getDeployment(ctx: RequestContext): void {
  const dep = ownedDeployment(ctx, ctx.param('id'));
  ctx.send(200, { ...deploymentView(dep, ctx.caller), runtime_variables: dep.runtime_variables });
}

function listDeployments(ctx: RequestContext): void {
  const owned = ownedProjectIds(ctx);
  const projectId = ctx.query.get('project_id');
  const serviceId = ctx.query.get('service_id');
  const status = ctx.query.get('status');
  const environment = ctx.query.get('environment');
  const rows = ctx.app.store.state.deployments
    .filter(
      (d) =>
        owned.has(d.project_id) &&
        (!projectId || d.project_id === projectId) &&
        (!serviceId || d.service_id === serviceId) &&
        (!status || d.status === status) &&
        (!environment || d.environment === environment),
    )
    .slice()
    .reverse()
    .map((d) => deploymentView(d, ctx.caller));
  ctx.send(200, { data: rows, total: rows.length });
}

function cancelDeployment(ctx: RequestContext): void {
  const dep = ownedDeployment(ctx, ctx.param('id'));
  if (TERMINAL_STATUSES.has(dep.status)) {
    throw httpError(409, `deployment is already ${dep.status}`, { status: dep.status });
  }
  ctx.app.executor.cancel(dep);
  ctx.send(200, deploymentView(dep, ctx.caller));
}

/**
 * `:id` is the rollback target: an earlier successful release of the same service. A new
 * deployment re-runs that release; when it succeeds the release it replaced becomes `rolled_back`.
 */
function rollbackDeployment(ctx: RequestContext): void {
  const target = ownedDeployment(ctx, ctx.param('id'));
  const state = ctx.app.store.state;
  if (target.status !== 'success') {
    throw httpError(409, 'only a successful deployment can be a rollback target', { status: target.status });
  }
  if (target.is_current) throw httpError(409, 'deployment is already the current release');
  const inFlight = state.deployments.find((d) => d.service_id === target.service_id && !TERMINAL_STATUSES.has(d.status));
  if (inFlight) throw httpError(409, 'another deployment of this service is in progress', { deployment_id: inFlight.id });

  const now = nowIso();
  const dep: DeploymentRow = {
    ...target,
    id: randomUUID(),
    status: 'pending',
    progress: 0,
    build_percent: 0,
    message: `Rollback to deployment ${target.id}`,
    error_msg: '',
    error_context: null,
    is_current: false,
    is_rollback: true,
    rollback_from: target.id,
    plan: { outcome: 'success' },
    sim_step: 0,
    created_at: now,
    updated_at: now,
    completed_at: null,
  };
  state.deployments.push(dep);
  touchAgent(ctx);
  ctx.app.store.changed();
  ctx.app.executor.start(dep);
  ctx.send(201, { ...deploymentView(dep, ctx.caller), deployment_id: dep.id });
}

export function registerDeploymentRoutes(api: Router): void {
  api.add('POST', '/api/v1/deployments/', createDeployment);
  api.add('GET', '/api/v1/deployments/', listDeployments);
  api.add('GET', '/api/v1/deployments/:id', getDeployment);
  api.add('POST', '/api/v1/deployments/:id/cancel', cancelDeployment);
  api.add('POST', '/api/v1/deployments/:id/rollback', rollbackDeployment);
}
