/**
 * `opendeploy redeploy`: a new deployment of the linked service.
 *
 * - Without `--source`: the project's current (already bound) source is rebuilt — no upload.
 *   `deployCurrentSource` (src/ops/deploy-current.ts) does the create + watch + diagnosis.
 * - With `--source <path>`: the folder goes through the pipeline's upload-and-bind step
 *   (archive → upload-only → update-source, skipped when the digest equals the last upload unless
 *   --force), then the same deployment of what was just bound.
 *
 * project.json (last source digest, temp path, last deployment, URL) is only ever written in the
 * linked folder; a `--source` folder elsewhere keeps its own `.opendeploy/` exactly as it was.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { extractionFailed, uploadAndBind } from '../deploy/upload.js';
import { stateDir, writeProjectState, type ProjectState } from '../deploy/state.js';
import { urlOf, waitForAutoDomain } from '../deploy/subdomain.js';
import { deployCurrentSource } from './deploy-current.js';
import { checkLiveSource, type LiveSourceCheck } from './live-source.js';
import { currentRelease } from './rollback.js';
import { serviceDeployments } from './status.js';
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
  /**
   * The `redeploy` command itself (CLI, MCP): refuse a plain redeploy that would build a source
   * newer than the rolled-back live release. Carries the run's target flags for the printed command.
   */
  afterRollback?: { targetFlags: string[] };
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

  if (options.source === undefined && options.afterRollback) await refuseNewerSourceAfterRollback(target, options.afterRollback.targetFlags);

  let scratch: string | undefined;
  try {
    const tempFilePath =
      options.source === undefined
        ? undefined
        : await uploadSource(target, options, async () => (scratch = await mkdtemp(path.join(os.tmpdir(), 'od-redeploy-'))));
    // A re-run of a plain redeploy finishes the deployment an interrupted one started.
    const deployed = await deployCurrentSource(target, options.exec, options.reporter, options.signal, {
      resume: options.source === undefined && options.resume !== false,
      ...(tempFilePath !== undefined ? { tempFilePath } : {}),
    });
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

/**
 * After a rollback to an older upload, a plain redeploy would build the newer bound source and
 * silently undo the rollback; it cannot rebuild the older one (see live-source.ts). It refuses and
 * names both releases and the command that deploys the newer source on purpose.
 */
async function refuseNewerSourceAfterRollback(target: OpsTarget, flags: string[]): Promise<void> {
  const service = target.service!;
  const check = await newerSourceAfterRollback(target, flags);
  if (!check) return;
  const newer = check.next.deployment_id ? ` (deployment ${check.next.deployment_id})` : '';
  throw new OdError(
    'conflict',
    `The live release of ${service.name} is rollback deployment ${check.live.deployment_id}, which runs the source of deployment ${check.live.runs}; the project's current source is newer${newer}. A redeploy can only build the current source, so it would undo the rollback; nothing was deployed.`,
    {
      nextAction: `To deploy the newer source, run \`${check.next.command}\`; to keep the rolled-back release, leave it running.`,
      details: { live_deployment: check.live.deployment_id, live_runs: check.live.runs, newer_deployment: check.next.deployment_id, command: check.next.command },
    },
  );
}

/**
 * The live-source check when a plain redeploy would build a source newer than the rolled-back live
 * release (and so refuses); undefined when it would rebuild the live release. Commands that redeploy
 * after a change of their own (`db add`, `env rotate`) ask this before changing anything.
 */
export async function newerSourceAfterRollback(target: OpsTarget, flags: string[]): Promise<LiveSourceCheck | undefined> {
  const deployments = await serviceDeployments(target, target.service!.id);
  const live = currentRelease(deployments, linkedState(target)?.last_deployment?.id);
  const check = await checkLiveSource(target, deployments, live, flags);
  return check?.next.source === 'newer_source' ? check : undefined;
}

function linkedState(target: OpsTarget): ProjectState | undefined {
  return target.state?.project_id === target.projectId ? target.state : undefined;
}

/**
 * Uploads and binds `options.source` (no deployment yet). Only the linked folder's project.json
 * records the new source; a folder elsewhere keeps its own `.opendeploy/` exactly as it was.
 */
async function uploadSource(target: OpsTarget, options: RedeployOptions, scratch: () => Promise<string>): Promise<string> {
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
  if (linked && !linked.project_name && projectName) linked.project_name = projectName;
  // The digest of the last upload lives in the linked folder; a multipart upload's resume journal
  // goes there too, or (nothing linked) into a scratch folder removed afterwards.
  const uploadStateDir = linked ? stateDir(target.root) : await scratch();
  try {
    const result = await uploadAndBind({
      client: target.client,
      reporter: options.reporter,
      audit: target.audit,
      signal: options.signal,
      env: options.exec.env,
      projectId: target.projectId,
      projectName: projectName ?? target.projectId,
      regionId,
      root: sourceRoot,
      secretFiles: [],
      last: { digest: linked?.last_source_digest, tempFilePath: linked?.last_temp_file_path },
      force: options.force === true,
      uploadStateDir,
      onBound: async (bound) => {
        if (!linked) return;
        linked.last_temp_file_path = bound.tempFilePath;
        if (bound.digest) linked.last_source_digest = bound.digest;
        await writeProjectState(target.root, linked);
      },
    });
    return result.tempFilePath;
  } catch (error) {
    if (linked && extractionFailed(error)) {
      // An archive the gateway could not extract is never reused: the next run sends a fresh one.
      delete linked.last_source_digest;
      delete linked.last_temp_file_path;
      await writeProjectState(target.root, linked);
    }
    throw error;
  }
}
