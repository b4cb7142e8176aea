import { readFile, rm } from 'node:fs/promises';
import { stateDir, writeJsonAtomic, writeStateGitignore } from './state-files.js';
import path from 'node:path';
import { z } from 'zod';
import { OdError } from '../core/errors.js';

/**
 * The folder's link to what was created for it lives in two files:
 *
 * - `.opendeploy/project.json` — what a teammate or a CI job on another machine needs to act on the
 *   same project: the gateway, the environment, the project/service/database ids and names, the
 *   region. No tokens, no env values and nothing that changes on every run, so it is safe to commit.
 * - `.opendeploy/local.json` — what this machine remembers between runs: the last archive it bound,
 *   the last deployment it started, an unfinished rollback, the URL it last saw, when it last wrote.
 *   A fresh checkout has none of it and reads all of it back from the gateway when it needs it.
 *
 * Code works with one merged `ProjectState`; the split happens only here. Both files are saved after
 * every stage, so a re-run after a crash, Ctrl-C or a failed build continues where the last one
 * stopped.
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

/** The fields that describe this machine's runs, not the project: they go to local.json. */
const MachineLocalShape = {
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
  /**
   * The local gateway's data folder (absolute) when the folder was deployed or linked with
   * `--local --data-dir`: later commands here reach the same gateway without repeating the flag.
   */
  data_dir: z.string().optional(),
  updated_at: z.string().optional(),
};

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
  // A project.json written before local.json existed still carries these; they are read from it
  // (when local.json has nothing for this link) and moved out on the next write.
  ...MachineLocalShape,
});

/**
 * local.json names the link its fields belong to: after the folder is linked to another project
 * or environment (or project.json is replaced by a `git pull`), the old machine-local fields
 * describe something else and are not used.
 */
const LocalStateSchema = z.object({
  version: z.literal(1),
  gateway: z.string(),
  environment: z.enum(['production', 'staging']),
  project_id: z.string().nullable(),
  ...MachineLocalShape,
});

export type ProjectState = z.infer<typeof ProjectStateSchema>;
export type ServiceLink = z.infer<typeof ServiceLinkSchema>;
type LocalState = z.infer<typeof LocalStateSchema>;

const MACHINE_LOCAL_KEYS = Object.keys(MachineLocalShape) as (keyof typeof MachineLocalShape)[];
/** project.json's keys, in the order the file lists them. */
const SHARED_KEYS = Object.keys(ProjectStateSchema.shape).filter((key) => !(key in MachineLocalShape)) as (keyof ProjectState)[];

function statePath(root: string): string {
  return path.join(stateDir(root), 'project.json');
}

/** `.opendeploy/local.json`: this machine's side of the link. */
function localStatePath(root: string): string {
  return path.join(stateDir(root), 'local.json');
}

/** How the errors of a state file name it. */
interface StateFileWords {
  /** "…is not valid JSON, so opendeploy cannot tell <unknown>." */
  unknown: string;
  /** "…does not look like <kind> (…)." */
  kind: string;
  nextAction: string;
}

const LINK_WORDS: StateFileWords = {
  unknown: 'what this folder is linked to',
  kind: 'an opendeploy link file',
  nextAction: 'Fix the file (or move it away to deploy this folder as a new project), then re-run.',
};

const LOCAL_WORDS: StateFileWords = {
  unknown: 'what this machine last did here',
  kind: "opendeploy's machine-local state",
  nextAction: 'Delete the file (it holds only what this machine remembers; the next run reads the rest from the gateway), then re-run.',
};

/** Reads and validates one state file; `undefined` when it does not exist. */
async function readStateFile<T>(file: string, schema: z.ZodType<T>, words: StateFileWords): Promise<T | undefined> {
  const { nextAction } = words;
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
    throw new OdError('invalid_input', `${file} is not valid JSON, so opendeploy cannot tell ${words.unknown}.`, { nextAction });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown problem';
    throw new OdError('invalid_input', `${file} does not look like ${words.kind} (${where}).`, { nextAction });
  }
  return parsed.data;
}

function belongsTo(local: LocalState, shared: ProjectState): boolean {
  return local.gateway === shared.gateway && local.environment === shared.environment && local.project_id === (shared.project_id ?? null);
}

/**
 * Reads the link (project.json and this machine's local.json, merged); `undefined` when the folder
 * was never deployed or linked. A broken file stops the run.
 */
export async function readProjectState(root: string): Promise<ProjectState | undefined> {
  const shared = await readStateFile(statePath(root), ProjectStateSchema, LINK_WORDS);
  if (!shared) return undefined;
  const local = await readStateFile(localStatePath(root), LocalStateSchema, LOCAL_WORDS);
  if (!local || !belongsTo(local, shared)) return shared;
  const merged: ProjectState = { ...shared };
  // local.json is written before project.json, so where both carry a field local.json is the newer.
  for (const key of MACHINE_LOCAL_KEYS) delete merged[key];
  for (const key of MACHINE_LOCAL_KEYS) {
    if (local[key] !== undefined) (merged as Record<string, unknown>)[key] = local[key];
  }
  return merged;
}

/**
 * Saves the link: the machine-local fields to local.json first, then the rest to project.json.
 * A crash in between leaves an old project.json next to a new local.json, which reads back as the
 * new state (local.json wins), so moving the fields out of an older project.json loses nothing.
 * Each file is replaced atomically. `.opendeploy/.gitignore` is written once, if absent.
 */
export async function writeProjectState(root: string, state: ProjectState): Promise<void> {
  const next: ProjectState = { ...state, updated_at: new Date().toISOString() };
  const local: Record<string, unknown> = {
    version: 1,
    gateway: next.gateway,
    environment: next.environment,
    project_id: next.project_id ?? null,
  };
  // One key order whichever command wrote the file, so a committed project.json only shows a diff
  // when the link itself changed.
  const shared: Record<string, unknown> = {};
  for (const key of SHARED_KEYS) if (next[key] !== undefined) shared[key] = next[key];
  for (const key of MACHINE_LOCAL_KEYS) if (next[key] !== undefined) local[key] = next[key];
  await writeJsonAtomic(localStatePath(root), local, 0o600);
  await writeJsonAtomic(statePath(root), shared);
  await writeStateGitignore(root);
}

/** The data folder a link made with `--local --data-dir` remembers; undefined for any other link. */
export function rememberedDataDir(state: ProjectState | undefined): string | undefined {
  return state?.gateway === LOCAL_GATEWAY_MARKER ? state.data_dir : undefined;
}

/** Removes the link and this machine's state of it (`unlink`); the .gitignore stays. */
export async function removeProjectState(root: string): Promise<void> {
  await rm(statePath(root), { force: true });
  await rm(localStatePath(root), { force: true });
}
