/**
 * `opendeploy link` / `unlink`: write or remove `.opendeploy/project.json` for a project that already
 * exists, so a fresh checkout (a CI job, a teammate's clone) can run day-2 commands and `deploy`
 * against it without a committed link file.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import { confirmAction } from '../core/consent.js';
import { askChoice, mayPrompt, type Prompter } from '../core/session.js';
import type { Service } from '../gateway/index.js';
import { LOCAL_GATEWAY_MARKER, readProjectState, removeProjectState, stateDir, writeProjectState, type ProjectState } from '../deploy/state.js';
import { connectExistingCredential, resolveEnvironment, type ConnectSession, type OpsOptions } from './connect.js';

export interface LinkSession extends ConnectSession {
  prompter: Prompter;
}

export interface LinkResult {
  /** The link file written (absolute). */
  file: string;
  project: { id: string; name: string };
  /** The linked service, or null when the project has none yet (the next deploy creates it). */
  service: { id: string; name: string } | null;
  environment: string;
  gateway: string;
  /** The project this folder was linked to before, when it was another one. */
  replaced: string | null;
  state: ProjectState;
}

export function linkFile(root: string): string {
  return path.join(stateDir(root), 'project.json');
}

/** The command that repeats a link with consent, carrying the flags that reach the same target. */
function resumeLink(options: OpsOptions, root: string, cwd: string): string {
  const parts = ['opendeploy', 'link'];
  if (path.resolve(cwd) !== root) parts.push(JSON.stringify(root));
  if (options.project) parts.push('--project', options.project);
  if (options.service) parts.push('--service', options.service);
  if (options.env) parts.push('--env', options.env);
  if (options.local) parts.push('--local');
  if (options.dataDir) parts.push('--data-dir', JSON.stringify(options.dataDir));
  if (options.gateway) parts.push('--gateway', options.gateway);
  parts.push('--yes');
  return parts.join(' ');
}

/**
 * Reads the project, its services and databases from the gateway (read-only) and writes the link.
 * The project comes from --project (or the folder's current link, to refresh it); the service from
 * --service (id or name), the only one, a question on a terminal, or else an `invalid_input` error
 * listing them. Replacing a link to another project needs consent.
 */
export async function linkProject(input: {
  session: LinkSession;
  options: OpsOptions;
  root?: string;
  /** Several services and no --service: ask/refuse (`link`), or link them all (a deploy acts on every service of the folder). */
  several?: 'choose' | 'all';
}): Promise<LinkResult> {
  const { session, options } = input;
  const { exec } = session;
  const root = path.resolve(exec.cwd, input.root ?? '.');
  const existing = await readProjectState(root);
  const projectId = options.project ?? existing?.project_id;
  if (!projectId) {
    throw new OdError('invalid_input', `Which project should ${root} be linked to?`, {
      nextAction: 'Pass --project <id> (the id is in the dashboard URL of the project, and in `opendeploy status` where it is linked).',
    });
  }
  const sameProject = existing?.project_id === projectId;
  const replaced = existing?.project_id && !sameProject ? existing.project_id : null;
  if (replaced) {
    await confirmAction(session, {
      action: `Link ${root} to project ${projectId} instead of ${replaced}`,
      changes: [`project ${replaced} -> ${projectId}`],
      resumeCommand: resumeLink(options, root, exec.cwd),
    });
  }
  const linked = sameProject ? existing : undefined;
  const environment = resolveEnvironment(options.env, exec.env, linked?.environment);
  const { client, credential, embedded, audit, close } = await connectExistingCredential({ session, options, state: linked });
  try {
    const project = await client.getProject(projectId).catch((error: unknown) => {
      if (error instanceof OdError && error.code === 'not_found') {
        throw new OdError('not_found', `There is no project ${projectId} for this credential (404).`, {
          status: 404,
          nextAction: 'Check the id, and that the credential in use (`opendeploy auth status`) owns the project.',
          details: { project_id: projectId },
        });
      }
      throw error;
    });
    const [services, dependencies] = await Promise.all([client.listServices(projectId), client.getDependencyStatus(projectId)]);
    const inEnvironment = services.filter((service) => !service.environment || service.environment === environment);
    const chosen =
      input.several === 'all' && !options.service && inEnvironment.length > 1
        ? inEnvironment
        : [await chooseService(session, projectId, inEnvironment, options.service)].filter((s): s is Service => s !== null);
    const service = chosen.length === 1 ? chosen[0]! : null;
    const gateway = embedded ? LOCAL_GATEWAY_MARKER : credential.gateway;
    const dataDir = options.dataDir !== undefined ? path.resolve(exec.cwd, options.dataDir) : linked?.data_dir;
    const state: ProjectState = {
      version: 1,
      gateway,
      environment,
      project_id: project.id,
      project_name: project.name,
      ...(project.region_id ? { region_id: project.region_id } : {}),
      services: chosen.map((s) => ({ name: s.name, service_id: s.id, source_path: s.source_path ?? '.' })),
      dependencies: dependencies
        .filter((dep) => !dep.environment || dep.environment === environment)
        .map((dep) => ({ engine: dep.dependency_id ?? dep.type ?? dep.name ?? 'database', dependency_id: dep.id })),
      ...(embedded && dataDir !== undefined ? { data_dir: dataDir } : {}),
    };
    await writeProjectState(root, state);
    audit.info('link', { project_id: project.id, service_id: service?.id ?? null, environment, replaced });
    return {
      file: linkFile(root),
      project: { id: project.id, name: project.name },
      service: service ? { id: service.id, name: service.name } : null,
      environment,
      gateway,
      replaced,
      state: (await readProjectState(root))!,
    };
  } finally {
    await close();
  }
}

async function chooseService(session: LinkSession, projectId: string, services: Service[], wanted: string | undefined): Promise<Service | null> {
  const listed = services.map((s) => `${s.name} (${s.id})`).join(', ');
  if (wanted) {
    const match = services.find((s) => s.id === wanted || s.name === wanted);
    if (!match) {
      throw new OdError('not_found', `Project ${projectId} has no service "${wanted}".`, {
        nextAction: services.length ? `Use one of: ${listed}.` : 'Drop --service: the project has no services yet, and the next deploy creates them.',
        details: { services: services.map((s) => ({ id: s.id, name: s.name })) },
      });
    }
    return match;
  }
  if (services.length <= 1) return services[0] ?? null;
  if (mayPrompt(session.exec)) {
    const index = await askChoice(session.prompter, 'Which service should this folder deploy to?', services.map((s) => `${s.name} (${s.id})`));
    if (index !== undefined) return services[index]!;
  }
  throw new OdError('invalid_input', `Project ${projectId} has ${services.length} services; say which one this folder deploys to.`, {
    nextAction: `Add --service with one of: ${services.map((s) => s.name).join(', ')}.`,
    details: { services: services.map((s) => ({ id: s.id, name: s.name })) },
  });
}

/**
 * `deploy --project <id>`: a folder without a link is linked to that project first (every service
 * of it, since a deploy acts on all the folder's services), so a fresh checkout deploys to the
 * existing project instead of creating a new one. A folder linked to another project is a conflict:
 * switching is `opendeploy link`'s job, with its consent.
 */
export async function linkBeforeDeploy(input: { session: LinkSession; options: OpsOptions; root: string }): Promise<LinkResult | undefined> {
  const { options, root } = input;
  if (!options.project) return undefined;
  const existing = await readProjectState(root);
  if (existing?.project_id === options.project) return undefined;
  if (existing?.project_id) {
    throw new OdError('conflict', `This folder is linked to project ${existing.project_id}, but --project names ${options.project}.`, {
      nextAction: `Run \`opendeploy link --project ${options.project}\` to switch the folder to it, or drop --project to deploy to ${existing.project_id}.`,
    });
  }
  return linkProject({ ...input, several: 'all' });
}

export interface UnlinkResult {
  file: string;
  /** The project the folder was linked to; null when there was no link file. */
  project_id: string | null;
  removed: boolean;
}

/**
 * Removes the link file after consent (`--yes`). Local only: the project, its services and the
 * credential stay as they are, and the gateway is never called.
 */
export async function unlinkProject(input: { session: { exec: LinkSession['exec']; prompter: Prompter }; root?: string }): Promise<UnlinkResult> {
  const { session } = input;
  const root = path.resolve(session.exec.cwd, input.root ?? '.');
  const file = linkFile(root);
  let projectId: string | null = null;
  try {
    projectId = (await readProjectState(root))?.project_id ?? null;
  } catch {
    // An unreadable link file is still this folder's link: removing it is what unlink is for.
    projectId = null;
  }
  let exists = true;
  try {
    await access(file);
  } catch {
    exists = false;
  }
  if (!exists) return { file, project_id: null, removed: false };
  const here = path.resolve(session.exec.cwd) === root ? '' : ` ${JSON.stringify(root)}`;
  await confirmAction(session, {
    action: `Remove the link of ${root}${projectId ? ` to project ${projectId}` : ''}`,
    changes: [path.relative(session.exec.cwd, file) || file],
    resumeCommand: `opendeploy unlink${here} --yes`,
  });
  await removeProjectState(root);
  return { file, project_id: projectId, removed: true };
}
