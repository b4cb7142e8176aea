/**
 * Ownership-checked lookups. Another owner's row answers exactly like a missing one (404), so ids
 * cannot be probed across tenants.
 */

import type { RequestContext } from '../http.js';
import { httpError } from '../http.js';
import type { DeploymentRow, DomainRow, ProjectRow, ServiceRow } from '../store.js';

export function findProject(ctx: RequestContext, id: string): ProjectRow | undefined {
  const owner = ctx.caller.ownerId;
  return ctx.app.store.state.projects.find((p) => p.id === id && p.owner_id === owner);
}

export function ownedProject(ctx: RequestContext, id: string): ProjectRow {
  const project = findProject(ctx, id);
  if (!project) throw httpError(404, 'project not found');
  return project;
}

export function ownedService(ctx: RequestContext, id: string): ServiceRow {
  const service = ctx.app.store.state.services.find((s) => s.id === id);
  if (!service || !findProject(ctx, service.project_id)) throw httpError(404, 'service not found');
  return service;
}

export function ownedDeployment(ctx: RequestContext, id: string): DeploymentRow {
  const dep = ctx.app.store.state.deployments.find((d) => d.id === id);
  if (!dep || !findProject(ctx, dep.project_id)) throw httpError(404, 'deployment not found');
  return dep;
}

export function ownedDomain(ctx: RequestContext, id: string): DomainRow {
  const domain = ctx.app.store.state.domains.find((d) => d.id === id);
  if (!domain || !findProject(ctx, domain.project_id)) throw httpError(404, 'domain not found');
  return domain;
}

/** Ids of every project the caller owns (for list filters). */
export function ownedProjectIds(ctx: RequestContext): Set<string> {
  const owner = ctx.caller.ownerId;
  return new Set(ctx.app.store.state.projects.filter((p) => p.owner_id === owner).map((p) => p.id));
}
