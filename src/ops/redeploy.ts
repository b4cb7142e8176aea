/**
 * `opendeploy redeploy`: a new deployment of the linked service.
 *
 * - Without `--source`: the project's current (already bound) source is rebuilt — no upload.
 *   `deployCurrentSource` (src/ops/deploy-current.ts) does the create + watch + diagnosis.
 * - With `--source <path>`: the folder goes through the deploy pipeline's own source stage
 *   (archive → upload-only → update-source, skipped when the digest equals the last upload unless
 *   --force), then the same deployment.
 *
 * project.json (last source digest, temp path, last deployment, URL) is only ever written in the
 * linked folder; a `--source` folder elsewhere keeps its own `.opendeploy/` exactly as it was.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../cli/output/index.js';
import { pollIntervalFor } from '../cli/options.js';
import { resolveHome } from '../auth/index.js';
import type { Region } from '../gateway/index.js';
import type { DeployContext } from '../deploy/context.js';
import { sourceStage } from '../deploy/stages/source.js';
import { stateDir, statePath, writeProjectState, type ProjectState } from '../deploy/state.js';
import { urlOf, waitForAutoDomain } from '../deploy/subdomain.js';
import { deployCurrentSource } from './deploy-current.js';
import type { OpsTarget } from './target.js';

/** How long to look for the service's generated domain after the deployment succeeded. */
const DOMAIN_WAIT_MS = 10_000;

export interface RedeployOptions {
  exec: ExecutionContext;
  reporter: Reporter;
  signal: AbortSignal;
  /** Absolute path of a folder to upload first (`--source`). */
  source?: string;
  /** Re-upload even when the source digest is unchanged (`--force`, with `--source`). */
  force?: boolean;
  /** false: always start a new deployment, even when an earlier run left one unfinished. */
  resume?: boolean;
}

export interface RedeployResult {
  status: 'success';
  project_id: string;
  service_id: string;
  deployment_id: string;
  url: string | null;
  [key: string]: unknown;
}

export async function redeploy(target: OpsTarget, options: RedeployOptions): Promise<RedeployResult> {
  const service = target.service;
  if (!service) throw new OdError('internal', 'redeploy needs a resolved service.');
  const linked = linkedState(target);

  let deployTarget: OpsTarget = target;
  let scratch: string | undefined;
  try {
    if (options.source !== undefined) {
      const uploaded = await uploadSource(target, options);
      if (!linked) {
        // Not linked: the new temp path still has to reach the deployment body, but nothing may be
        // written into the caller's folder. deployCurrentSource records into a throwaway folder.
        scratch = await mkdtemp(path.join(os.tmpdir(), 'od-redeploy-'));
        deployTarget = { ...target, root: scratch, state: uploaded };
      }
    }
    // A re-run of a plain redeploy finishes the deployment an interrupted one started.
    const deployed = await deployCurrentSource(deployTarget, options.exec, options.reporter, options.signal, { resume: options.source === undefined && options.resume !== false });
    const deploymentId = deployed.deployment.id;

    const domain = await waitForAutoDomain(target.client, service.id, target.environment, DOMAIN_WAIT_MS, options.signal).catch(() => undefined);
    const url = domain ? urlOf(domain) : (deployed.url ?? linked?.url ?? null);
    if (linked && url && linked.url !== url) {
      linked.url = url;
      await writeProjectState(target.root, linked);
    }
    target.audit.info('redeploy', {
      project_id: target.projectId,
      service_id: service.id,
      deployment_id: deploymentId,
      source: options.source === undefined ? 'current' : 'uploaded',
    });
    return { status: 'success', project_id: target.projectId, service_id: service.id, deployment_id: deploymentId, url };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

export function humanRedeploy(result: RedeployResult, serviceName: string): string[] {
  return [
    '',
    `Redeployed ${serviceName} → ${result.url ?? '(the generated domain is not ready yet; run `opendeploy status` shortly)'}`,
    `  project     ${result.project_id}`,
    `  service     ${serviceName}  ${result.service_id}`,
    `  deployment  ${result.deployment_id}  success`,
  ];
}

function linkedState(target: OpsTarget): ProjectState | undefined {
  return target.state?.project_id === target.projectId ? target.state : undefined;
}

/**
 * Runs the pipeline's source stage over `options.source`. Returns the state it updated: the linked
 * one (saved in the linked folder), or a fresh one when nothing is linked (saved nowhere).
 */
async function uploadSource(target: OpsTarget, options: RedeployOptions): Promise<ProjectState> {
  const sourceRoot = options.source!;
  const info = await stat(sourceRoot).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new OdError('invalid_input', `--source ${sourceRoot} is not a folder.`, { nextAction: 'Pass the project folder to upload, e.g. --source .' });
  }
  const linked = linkedState(target);
  let projectName = linked?.project_name;
  let regionId = linked?.region_id;
  if (!projectName || !regionId) {
    const project = await target.client.getProject(target.projectId);
    projectName ??= project.name;
    regionId ??= project.region_id;
  }
  if (!regionId) {
    const regions = await target.client.listRegions();
    regionId = (regions.find((region) => region.status === 'active') ?? regions[0])?.id;
  }
  if (!regionId) {
    throw new OdError('server_error', 'The gateway lists no region to upload to.', { retryable: true, nextAction: 'Try again in a few minutes.' });
  }
  const state: ProjectState = linked ?? {
    version: 1,
    gateway: target.gatewayUrl,
    environment: target.environment,
    project_id: target.projectId,
    project_name: projectName,
    region_id: regionId,
    services: target.service ? [{ name: target.service.name, service_id: target.service.id, source_path: '.' }] : [],
    dependencies: [],
  };
  if (!state.project_name && projectName) state.project_name = projectName;
  const region: Region = { id: regionId, status: 'active' };
  const ctx: DeployContext = {
    inputs: {
      root: sourceRoot,
      environment: target.environment,
      userEnv: {},
      force: options.force === true,
      home: resolveHome(options.exec.env),
      pollIntervalMs: pollIntervalFor(target.gatewayUrl),
      domainWaitMs: DOMAIN_WAIT_MS,
    },
    exec: options.exec,
    reporter: options.reporter,
    audit: target.audit,
    signal: options.signal,
    gatewayUrl: target.gatewayUrl,
    gatewayLabel: state.gateway,
    state,
    resumed: true,
    dependencyEnv: {},
    sourceChanged: false,
    deployments: [],
    requiredVars: {},
    missingRequired: {},
    credential: target.credential,
    client: target.client,
    bound: target.bound,
    region,
  };
  // The stage saves project.json under its root (the source folder). Keep that folder's link as it
  // was unless it is the linked folder itself; the linked folder gets the new state below.
  const sameFolder = path.resolve(sourceRoot) === path.resolve(target.root) && linked !== undefined;
  if (sameFolder) await sourceStage(ctx);
  else await keepLinkFile(sourceRoot, () => sourceStage(ctx));

  // The stage updated `state` in place (digest, temp path); the linked folder must hold it.
  if (linked && !sameFolder) await writeProjectState(target.root, linked);
  return state;
}

/** Runs `fn`, then puts `<folder>/.opendeploy/project.json` back exactly as it was (or absent). */
async function keepLinkFile<T>(folder: string, fn: () => Promise<T>): Promise<T> {
  const file = statePath(folder);
  const before = await readFile(file).catch(() => undefined);
  const dirExisted = await stat(stateDir(folder)).then(
    () => true,
    () => false,
  );
  try {
    return await fn();
  } finally {
    if (before !== undefined) await writeFile(file, before);
    else if (dirExisted) await rm(file, { force: true });
    else await rm(stateDir(folder), { recursive: true, force: true });
  }
}

