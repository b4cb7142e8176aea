import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { stateDir } from '../state.js';
import { extractionFailed, uploadAndBind } from '../upload.js';

/**
 * Stages 8–10: upload and bind the folder (or register the repository), recording in project.json
 * what the gateway now holds as soon as it holds it. An unchanged source is not sent again unless
 * --force.
 */
export async function sourceStage(ctx: DeployContext): Promise<void> {
  try {
    const result = await uploadAndBind({
      client: requireClient(ctx),
      reporter: ctx.reporter,
      audit: ctx.audit,
      signal: ctx.signal,
      env: ctx.exec.env,
      projectId: ctx.state.project_id!,
      projectName: ctx.state.project_name!,
      regionId: ctx.region!.id,
      root: ctx.inputs.root,
      ...(ctx.inputs.git ? { git: ctx.inputs.git } : {}),
      ...(ctx.selection ? { selection: ctx.selection } : {}),
      ...(ctx.analysis ? { analysis: ctx.analysis } : {}),
      // The --env-file holds this run's secret values: inside the folder it is never archived,
      // whatever its name (the selection may come from the analyze stage, so it is filtered there).
      secretFiles: ctx.inputs.envFilePath ? [ctx.inputs.envFilePath] : [],
      last: { digest: ctx.state.last_source_digest, tempFilePath: ctx.state.last_temp_file_path },
      force: ctx.inputs.force,
      uploadStateDir: stateDir(ctx.inputs.root),
      onBound: async (bound) => {
        ctx.tempFilePath = bound.tempFilePath;
        ctx.sourceChanged = true;
        ctx.state.last_temp_file_path = bound.tempFilePath;
        if (bound.digest) ctx.state.last_source_digest = bound.digest;
        await saveState(ctx);
      },
    });
    ctx.tempFilePath = result.tempFilePath;
  } catch (error) {
    if (extractionFailed(error)) {
      // An archive the gateway could not extract is never reused: the next run sends a fresh one.
      delete ctx.state.last_source_digest;
      delete ctx.state.last_temp_file_path;
      await saveState(ctx);
    }
    throw error;
  }
}
