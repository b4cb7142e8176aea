/**
 * Public JSON shapes of stored rows. Internal bookkeeping (owners, scripted outcomes, token
 * hashes) never leaves through the API; only these projections do.
 */

import type { Principal } from './app.js';
import type { DependencyRow, DeploymentRow, DomainRow, ProjectRow, ServiceRow } from './store.js';
import { TERMINAL_STATUSES } from './store.js';

export function projectView(p: ProjectRow): Record<string, unknown> {
  const { owner_id: _owner, ...rest } = p;
  return rest;
}

export function serviceView(s: ServiceRow): Record<string, unknown> {
  return { ...s, build_variables: { ...s.build_variables }, runtime_variables: { ...s.runtime_variables } };
}

/** `progress_percent` mirrors `progress` with terminal defaults (100 on success). */
export function deploymentView(d: DeploymentRow, caller?: Principal): Record<string, unknown> {
  const terminal = TERMINAL_STATUSES.has(d.status);
  const progressPercent = d.status === 'success' ? 100 : d.progress;
  return {
    id: d.id,
    project_id: d.project_id,
    service_id: d.service_id,
    environment: d.environment,
    source: d.source,
    branch: d.branch,
    status: d.status,
    progress: d.progress,
    progress_percent: progressPercent,
    build_percent: d.build_percent,
    message: d.message,
    error_msg: d.error_msg,
    error_context: d.error_context,
    temp_file_path: d.temp_file_path,
    file_name: d.file_name,
    source_path: d.source_path,
    strategy: d.strategy,
    version_type: d.version_type,
    description: d.description,
    dependencies: d.dependencies,
    is_current: d.is_current,
    is_rollback: d.is_rollback,
    rollback_from: d.rollback_from,
    is_terminal: terminal,
    runtime_logs_query: `GET /v1/deployments/${d.id}/logs?tail=300`,
    created_at: d.created_at,
    updated_at: d.updated_at,
    completed_at: d.completed_at,
    ...(caller ? { is_bound: caller.bound } : {}),
  };
}

/** The create response also carries the JSON-string env snapshots of the contract. */
export function deploymentCreatedView(d: DeploymentRow, caller: Principal): Record<string, unknown> {
  return {
    ...deploymentView(d, caller),
    runtime_variables: d.runtime_variables,
    build_variables: d.build_variables,
    source_code_info: d.source_code_info,
  };
}

export function domainView(d: DomainRow): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: d.id,
    service_id: d.service_id,
    project_id: d.project_id,
    domain: d.domain,
    subdomain: d.subdomain,
    environment: d.environment,
    type: d.type,
    status: d.status,
    ssl_enabled: d.ssl_enabled,
    is_primary: d.is_primary,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
  if (d.type === 'custom') view['cname_target'] = d.cname_target;
  return view;
}

/** Status reads omit `env_vars`: credentials are returned once, by the create call. */
export function dependencyStatusView(d: DependencyRow): Record<string, unknown> {
  const { env_vars: _env, ...rest } = d;
  return rest;
}
