import { readFile } from 'node:fs/promises';
import { stateDir, writeJsonAtomic } from './state-files.js';
import path from 'node:path';
import { z } from 'zod';
import { OdError } from '../core/errors.js';

/**
 * `.opendeploy/project.json` links a folder to what was created for it. It holds ids only (no
 * tokens, no env values), so it is safe to commit and share with a team. It is saved after every
 * stage, so a re-run after a crash, Ctrl-C or a failed build continues where the last one stopped.
 */

export { stateDir, writeAnalysisFile, writeJsonAtomic } from './state-files.js';

export const LOCAL_GATEWAY_MARKER = 'local';

const ServiceLinkSchema = z.object({
  name: z.string(),
  service_id: z.string(),
  source_path: z.string().default('.'),
});

const DependencyLinkSchema = z.object({
  engine: z.string(),
  dependency_id: z.string(),
});

const DeploymentLinkSchema = z.object({
  id: z.string(),
  service_id: z.string(),
  status: z.string(),
  created_at: z.string().optional(),
});

const ProjectStateSchema = z.object({
  version: z.literal(1),
  /** The gateway the ids belong to, or "local" for the embedded local gateway. */
  gateway: z.string(),
  environment: z.enum(['production', 'staging']),
  project_id: z.string().optional(),
  project_name: z.string().optional(),
  region_id: z.string().optional(),
  services: z.array(ServiceLinkSchema).default([]),
  dependencies: z.array(DependencyLinkSchema).default([]),
  /** Digest of the last archive that update-source bound to the project. */
  last_source_digest: z.string().optional(),
  /** The gateway's path of that archive; deployments record it as a hint. */
  last_temp_file_path: z.string().optional(),
  last_deployment: DeploymentLinkSchema.optional(),
  /**
   * A rollback that was requested but not seen through: its intended target and the deployments
   * that existed before it. A re-run adopts the rollback deployment it started (or rolls back to
   * the same target), never one release further.
   */
  pending_rollback: z
    .object({ service_id: z.string(), to: z.string(), from: z.string().nullable(), known: z.array(z.string()) })
    .optional(),
  url: z.string().optional(),
  updated_at: z.string().optional(),
});

export type ProjectState = z.infer<typeof ProjectStateSchema>;
export type ServiceLink = z.infer<typeof ServiceLinkSchema>;

function statePath(root: string): string {
  return path.join(stateDir(root), 'project.json');
}

/** Reads the link; `undefined` when the folder was never deployed. A broken file stops the run. */
export async function readProjectState(root: string): Promise<ProjectState | undefined> {
  const file = statePath(root);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OdError('invalid_input', `Could not read ${file}: ${(error as Error).message}.`, {
      nextAction: 'Check the file permissions, then re-run.',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new OdError('invalid_input', `${file} is not valid JSON, so opendeploy cannot tell what this folder is linked to.`, {
      nextAction: 'Fix the file (or move it away to deploy this folder as a new project), then re-run.',
    });
  }
  const parsed = ProjectStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown problem';
    throw new OdError('invalid_input', `${file} does not look like an opendeploy link file (${where}).`, {
      nextAction: 'Fix the file (or move it away to deploy this folder as a new project), then re-run.',
    });
  }
  return parsed.data;
}

export async function writeProjectState(root: string, state: ProjectState): Promise<void> {
  const next: ProjectState = { ...state, updated_at: new Date().toISOString() };
  await writeJsonAtomic(statePath(root), next);
}
