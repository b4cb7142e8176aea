/**
 * Projects: create (with the pending-agent one-live-project rule), list, read, and the per-project
 * deployment list used to find a rollback target.
 */

import { randomUUID } from 'node:crypto';
import { nowIso, pendingOwner } from '../app.js';
import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import { ACTIVE_REGION_ID, findRegion } from '../regions.js';
import type { ProjectRow } from '../store.js';
import { optBool, optString, DNS_LABEL } from '../validate.js';
import { deploymentView, projectView } from '../views.js';
import { ownedProject } from './lookup.js';

const STRUCT = 'CreateProjectRequest';

/** Non-Git sources use a placeholder like `file://upload` with skip_validation. */
function looksLikeGitUrl(url: string): boolean {
  return /^(https?|ssh|git):\/\/[^\s/]+\/\S+$/.test(url) || /^git@[^\s:]+:\S+$/.test(url);
}

async function createProject(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const caller = ctx.caller;
  const state = ctx.app.store.state;

  // Gateway middleware: a pending agent may own one live project at a time.
  if (!caller.bound && caller.agentId) {
    const live = state.projects.find((p) => p.agent_id === caller.agentId && p.owner_id === pendingOwner(caller.agentId as string));
    if (live) throw httpError(409, 'agent already has a live project', { project_id: live.id });
  }

  const name = optString(body, 'name', STRUCT);
  const repoUrl = optString(body, 'repo_url', STRUCT);
  const branch = optString(body, 'branch', STRUCT);
  const regionId = optString(body, 'region_id', STRUCT);
  const skipValidation = optBool(body, 'skip_validation', STRUCT) ?? false;
  const description = optString(body, 'description', STRUCT) ?? '';
  const buildConfig = optString(body, 'build_config', STRUCT) ?? '';
  const deployConfig = optString(body, 'deploy_config', STRUCT) ?? '';
  optString(body, 'token', STRUCT); // accepted (private Git repos), never stored

  if (!name) throw httpError(400, "Key: 'CreateProjectRequest.Name' Error:Field validation for 'Name' failed on the 'required' tag");
  if (!repoUrl) throw httpError(400, "Key: 'CreateProjectRequest.RepoURL' Error:Field validation for 'RepoURL' failed on the 'required' tag");
  if (!DNS_LABEL.test(name)) {
    throw httpError(400, 'invalid project name: use lowercase letters, digits and hyphens (DNS label, at most 63 characters)');
  }
  if (regionId !== undefined && regionId !== '' && !findRegion(regionId)) throw httpError(400, 'invalid region');
  if (!skipValidation && !looksLikeGitUrl(repoUrl)) {
    // No network here: Git validation is reduced to the URL shape.
    throw httpError(400, 'Git validation failed', {
      error_code: 'invalid_repository_url',
      error_message: `repository URL is not a valid Git URL: ${repoUrl}`,
    });
  }

  const duplicate = state.projects.find((p) => p.owner_id === caller.ownerId && p.name === name);
  if (duplicate) throw httpError(409, 'project name already exists', { project_id: duplicate.id });

  const now = nowIso();
  const project: ProjectRow = {
    id: randomUUID(),
    name,
    description,
    repo_url: repoUrl,
    branch: branch || 'main',
    region_id: regionId || ACTIVE_REGION_ID,
    owner_id: caller.ownerId,
    agent_id: caller.agentId,
    skip_validation: skipValidation,
    build_config: buildConfig,
    deploy_config: deployConfig,
    source_path: '',
    source_status: null,
    original_file_path: '',
    original_file_size: 0,
    analyze_config: null,
    extraction_error: null,
    status: 'active',
    created_at: now,
    updated_at: now,
  };
  state.projects.push(project);
  ctx.app.store.changed();
  ctx.send(201, projectView(project));
}

function listProjects(ctx: RequestContext): void {
  const owner = ctx.caller.ownerId;
  ctx.send(200, ctx.app.store.state.projects.filter((p) => p.owner_id === owner).map(projectView));
}

function getProject(ctx: RequestContext): void {
  ctx.send(200, projectView(ownedProject(ctx, ctx.param('id'))));
}

/** Newest first, so `data[0]` is the latest release and later rows are rollback candidates. */
function projectDeployments(ctx: RequestContext): void {
  const project = ownedProject(ctx, ctx.param('id'));
  const status = ctx.query.get('status');
  const rows = ctx.app.store.state.deployments
    .filter((d) => d.project_id === project.id && (!status || d.status === status))
    .slice()
    .reverse()
    .map((d) => deploymentView(d, ctx.caller));
  ctx.send(200, { data: rows, total: rows.length });
}

export function registerProjectRoutes(api: Router): void {
  api.add('POST', '/api/v1/projects/', createProject);
  api.add('GET', '/api/v1/projects/', listProjects);
  api.add('GET', '/api/v1/projects/:id', getProject);
  api.add('GET', '/api/v1/projects/:id/deployments', projectDeployments);
  // Deliberately absent: PUT /api/v1/projects/:id/resources (not proxied by the hosted gateway → 404).
}
