import path from 'node:path';
import { OdError } from '../../core/errors.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';

/** DNS-safe project name: lowercase, [a-z0-9-], no leading/trailing hyphen, at most 63 chars. */
export function dnsSafeName(raw: string): string {
  const name = raw
    .toLowerCase()
    .replace(/^@[^/]+\//, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return name || 'app';
}

/**
 * One service: the project is named after it (its manifest name). Several (compose, workspaces,
 * Procfile): after the folder, since no single service speaks for the whole project.
 */
function defaultProjectName(ctx: DeployContext): string {
  return projectNameFor(ctx.analysis?.services ?? [], ctx.inputs.root);
}

export function projectNameFor(services: readonly { name: string }[], root: string): string {
  if (services.length === 1) return dnsSafeName(services[0]!.name);
  return dnsSafeName(path.basename(root));
}

/**
 * Stage 5: the project. Saved ids are verified, never recreated. A create is never retried
 * blindly: after an ambiguous failure (or a run that died mid-create) we read back by name.
 */
export async function projectStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const region = ctx.region!;
  const name = ctx.state.project_name ?? ctx.inputs.name ?? defaultProjectName(ctx);

  if (ctx.state.project_id) {
    try {
      const project = await client.getProject(ctx.state.project_id);
      ctx.reporter.stageSkip('project.create', `Using project ${project.name} (${project.id})`, { project_id: project.id });
      return;
    } catch (error) {
      if (error instanceof OdError && error.code === 'not_found') {
        throw new OdError(
          'not_found',
          `Project ${ctx.state.project_id} saved in .opendeploy/project.json no longer exists on the gateway (unclaimed projects are removed after 6 idle hours).`,
          { nextAction: 'Move .opendeploy/project.json away and re-run to deploy this folder as a new project.' },
        );
      }
      throw error;
    }
  }

  ctx.reporter.stageStart('project.create', `Creating project ${name}`);
  // A link file without a project id means an earlier run stopped around this create: the create
  // may have committed, so look for it by name before creating another.
  if (ctx.resumed) {
    const existing = await client.findProjectByName(name);
    if (existing) {
      await adopt(ctx, existing.id, name, 'found by name after an interrupted run');
      return;
    }
  }

  const body = {
    name,
    repo_url: ctx.inputs.git?.url ?? 'file://upload',
    branch: ctx.inputs.git?.branch ?? 'main',
    region_id: region.id,
    skip_validation: ctx.inputs.git === undefined,
  };
  try {
    const project = await client.createProject(body);
    ctx.audit.info('project.create', { project_id: project.id, name });
    await adopt(ctx, project.id, name, 'created');
  } catch (error) {
    if (!(error instanceof OdError)) throw error;
    if (error.code === 'conflict') {
      const existingId = typeof error.details.project_id === 'string' ? error.details.project_id : undefined;
      // A pending agent may own one live project: the 409 names it, and it is this agent's own.
      if (existingId && ctx.bound === false) {
        ctx.reporter.warn(
          `This unclaimed credential already has a live project (${existingId}); deploying into it. Claim it to create more projects.`,
        );
        ctx.audit.warn('project.create', { project_id: existingId, reused: true, status: 409 });
        await adopt(ctx, existingId, name, 'reused (one live project per unclaimed credential)');
        return;
      }
      throw new OdError('conflict', `A project named ${name} already exists on this account.`, {
        nextAction: `Deploy under another name with --name ${name}-2, or link this folder to the existing project by writing its id into .opendeploy/project.json.`,
        status: error.status,
      });
    }
    if (error.code === 'gateway_unreachable' || error.code === 'server_error') {
      // Ambiguous: the create may have committed before the failure. Read back once by name.
      const existing = await client.findProjectByName(name).catch(() => undefined);
      if (existing) {
        await adopt(ctx, existing.id, name, 'found by name after an ambiguous failure');
        return;
      }
    }
    ctx.audit.error('project.create', { status: error.status ?? null, error_code: error.code, message: error.message });
    throw error;
  }
}

async function adopt(ctx: DeployContext, projectId: string, name: string, how: string): Promise<void> {
  ctx.state.project_id = projectId;
  ctx.state.project_name = name;
  ctx.state.region_id = ctx.region?.id;
  await saveState(ctx);
  ctx.reporter.stageDone('project.create', `Project ${name} ${how} (${projectId})`, { project_id: projectId });
}
