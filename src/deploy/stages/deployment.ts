import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { TERMINAL_STATUSES } from '../watch.js';
import { followDeployment, needsRebind, startDeployment, type DeploymentRunner } from '../run-deployment.js';

/** Stages 11–12: one deployment per service (never a `resources` block), watched to the end. */
export async function deploymentStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const runner: DeploymentRunner = {
    client,
    reporter: ctx.reporter,
    audit: ctx.audit,
    signal: ctx.signal,
    pollIntervalMs: ctx.inputs.pollIntervalMs,
    streamLogs: !ctx.exec.quiet,
  };
  for (const link of ctx.state.services) {
    // The failure diagnosis reads the same facts as `opendeploy triage`, required variables included.
    const required = ctx.requiredVars[link.service_id];
    runner.scope = {
      projectId: ctx.state.project_id!,
      ...(ctx.bound !== undefined ? { bound: ctx.bound } : {}),
      ...(required ? { requiredVars: required } : {}),
      ...(ctx.inputs.targetFlags ? { targetFlags: ctx.inputs.targetFlags } : {}),
    };
    let deploymentId: string | undefined;
    let startedStatus = '';
    const previous = ctx.state.last_deployment;
    // An unchanged source and a deployment the previous run started but never saw end: keep
    // watching it, or, when it already succeeded and nothing changed since, finish with it
    // instead of building the same thing again.
    if (!ctx.sourceChanged && previous && previous.service_id === link.service_id && !TERMINAL_STATUSES.has(previous.status)) {
      const current = await client.getDeployment(previous.id).catch(() => undefined);
      if (current && (!TERMINAL_STATUSES.has(current.status) || (current.status === 'success' && !ctx.configChanged))) {
        deploymentId = current.id;
        startedStatus = current.status;
        ctx.reporter.stageSkip('deploy.create', `Following deployment ${current.id} started by the previous run`, { deployment_id: current.id });
      }
    }
    try {
      if (!deploymentId) {
        const created = await startDeployment(
          runner,
          {
            project_id: ctx.state.project_id!,
            service_id: link.service_id,
            environment: ctx.inputs.environment,
            source: ctx.inputs.git ? 'git' : 'zip',
            temp_file_path: ctx.tempFilePath ?? ctx.state.last_temp_file_path ?? '',
            ...(ctx.inputs.git ? { branch: ctx.inputs.git.branch ?? 'main' } : {}),
            dependencies: ctx.state.dependencies.map((dep) => dep.dependency_id),
          },
          `Starting deployment of ${link.name}`,
        );
        deploymentId = created.id;
        startedStatus = created.status;
        ctx.state.last_deployment = { id: created.id, service_id: link.service_id, status: created.status, created_at: created.created_at ?? new Date().toISOString() };
        await saveState(ctx);
      }
      if (ctx.inputs.noWait) {
        // Created (or still running from the previous run) and saved: the run ends here, and the
        // next run of an unchanged folder follows this deployment.
        ctx.started = { deploymentId, serviceId: link.service_id, status: startedStatus };
        continue;
      }
      const result = await followDeployment(runner, deploymentId, link.service_id);
      ctx.state.last_deployment = { id: deploymentId, service_id: link.service_id, status: 'success', created_at: ctx.state.last_deployment?.created_at };
      await saveState(ctx);
      ctx.deployments.push(result.deployment);
    } catch (error) {
      if (deploymentId && ctx.state.last_deployment?.id === deploymentId) {
        const status = (error as { details?: Record<string, unknown> }).details?.status;
        if (typeof status === 'string') ctx.state.last_deployment.status = status;
      }
      if (needsRebind(error)) {
        // The bound source is unusable: forget its digest so the next run uploads and binds again.
        delete ctx.state.last_source_digest;
        delete ctx.state.last_temp_file_path;
      }
      await saveState(ctx);
      throw error;
    }
  }
}
