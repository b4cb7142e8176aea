import { OdError } from '../../errors.js';
import type { Deployment, CreateDeploymentBody } from '../../gateway/index.js';
import { sleep } from '../../util/sleep.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { TERMINAL_STATUSES, failureError, watchDeployment } from '../watch.js';

/** How long to wait out "source still extracting" (409 + Retry-After) before giving up. */
const EXTRACTION_WAIT_MS = 180_000;

/** Stages 11–12: one deployment per service (never a `resources` block), watched to the end. */
export async function deploymentStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  for (const link of ctx.state.services) {
    let deploymentId: string | undefined;
    const previous = ctx.state.last_deployment;
    // An unchanged source and an unfinished deployment from an interrupted run: keep watching it.
    if (!ctx.sourceChanged && previous && previous.service_id === link.service_id && !TERMINAL_STATUSES.has(previous.status)) {
      const current = await client.getDeployment(previous.id).catch(() => undefined);
      if (current && !TERMINAL_STATUSES.has(current.status)) {
        deploymentId = current.id;
        ctx.reporter.stageSkip('deploy.create', `Following deployment ${current.id} started by the previous run`, { deployment_id: current.id });
      }
    }
    if (!deploymentId) {
      ctx.reporter.stageStart('deploy.create', `Starting deployment of ${link.name}`);
      const created = await createWithExtractionWait(ctx, {
        project_id: ctx.state.project_id!,
        service_id: link.service_id,
        environment: ctx.inputs.environment,
        source: ctx.inputs.git ? 'git' : 'zip',
        temp_file_path: ctx.tempFilePath ?? ctx.state.last_temp_file_path ?? '',
        ...(ctx.inputs.git ? { branch: ctx.inputs.git.branch ?? 'main' } : {}),
        dependencies: ctx.state.dependencies.map((dep) => dep.dependency_id),
      });
      deploymentId = created.id;
      ctx.state.last_deployment = { id: created.id, service_id: link.service_id, status: created.status, created_at: created.created_at ?? new Date().toISOString() };
      await saveState(ctx);
      ctx.audit.info('deploy.create', { project_id: ctx.state.project_id, service_id: link.service_id, deployment_id: created.id });
      ctx.reporter.stageDone('deploy.create', `Deployment ${created.id} started`, { deployment_id: created.id, service_id: link.service_id });
    }

    ctx.reporter.stageStart('deploy.watch', 'Building and deploying');
    const result = await watchDeployment(deploymentId, {
      client,
      reporter: ctx.reporter,
      audit: ctx.audit,
      signal: ctx.signal,
      pollIntervalMs: ctx.inputs.pollIntervalMs,
      streamLogs: !ctx.exec.quiet,
    });
    const status = result.deployment.status;
    ctx.state.last_deployment = { id: deploymentId, service_id: link.service_id, status, created_at: ctx.state.last_deployment?.created_at };
    ctx.audit[status === 'success' ? 'info' : 'error']('deploy.terminal', {
      deployment_id: deploymentId,
      service_id: link.service_id,
      status,
      duration_seconds: result.durationSeconds,
    });
    if (status !== 'success') {
      const failure = await failureError(client, result);
      if (failure.rebindSource) {
        // The bound source is unusable: forget its digest so the next run uploads and binds again.
        delete ctx.state.last_source_digest;
        delete ctx.state.last_temp_file_path;
      }
      await saveState(ctx);
      for (const line of failure.evidence) ctx.reporter.log({ message: line, source: 'evidence' });
      throw failure.error;
    }
    await saveState(ctx);
    ctx.deployments.push(result.deployment);
    ctx.reporter.stageDone('deploy.terminal', `Deployment ${deploymentId} succeeded in ${result.durationSeconds} s`, {
      deployment_id: deploymentId,
      status,
      duration_seconds: result.durationSeconds,
    });
  }
}

async function createWithExtractionWait(ctx: DeployContext, body: CreateDeploymentBody): Promise<Deployment> {
  const client = requireClient(ctx);
  const deadline = Date.now() + EXTRACTION_WAIT_MS;
  for (;;) {
    try {
      return await client.createDeployment(body);
    } catch (error) {
      if (!(error instanceof OdError)) throw error;
      const retryAfter = Number(error.details.retry_after ?? 0);
      const extracting = error.code === 'conflict' && (error.details.source_status === 'extracting' || retryAfter > 0);
      if (extracting && Date.now() < deadline) {
        ctx.reporter.progress('deploy.create', 'The gateway is still extracting the source; waiting', { retry_after: retryAfter || 5 });
        await sleep(Math.max(1, retryAfter || 5) * 1000, ctx.signal);
        continue;
      }
      if (error.status === 422) {
        delete ctx.state.last_source_digest;
        delete ctx.state.last_temp_file_path;
        await saveState(ctx);
        throw new OdError('deploy_failed', `The gateway could not extract the uploaded archive: ${error.message}`, {
          nextAction: 'Run `opendeploy` again to upload a fresh archive.',
          status: 422,
        });
      }
      ctx.audit.error('deploy.create', { status: error.status ?? null, error_code: error.code, message: error.message });
      throw error;
    }
  }
}
