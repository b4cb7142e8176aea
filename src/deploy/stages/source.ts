import { OdError } from '../../core/errors.js';
import { buildArchive, excludeSecretFiles, removeArchive, selectFiles } from '../../archive/index.js';
import { stripUrlCredentials } from '../../core/redact.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { stateDir } from '../state.js';
import { chunkedUpload, multipartSettings } from '../../gateway/multipart-upload.js';
import { ProgressMeter, progressFields, progressText } from '../../cli/output/progress.js';

/** Archives above this size use the multipart protocol (the gateway buffers upload-only bodies). */
export const SINGLE_UPLOAD_LIMIT = 100 * 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Stages 8–10: archive → upload-only (parks the file) → update-source (binds it to the project;
 * skipping this is the classic "fails at progress 10" mistake). Archives over the multipart
 * threshold go up in resumable parts instead, bound by `complete`. An unchanged source is not sent
 * again unless --force.
 */
export async function sourceStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const projectId = ctx.state.project_id!;
  const region = ctx.region!;
  const projectName = ctx.state.project_name!;

  if (ctx.inputs.git) {
    // A token in the URL (`https://user:TOKEN@host/...`) goes to the gateway, never to a log or screen.
    const shownUrl = stripUrlCredentials(ctx.inputs.git.url);
    ctx.reporter.stageStart('upload', `Registering ${shownUrl}`);
    const parked = await client.uploadOnly({
      projectName,
      regionId: region.id,
      gitUrl: ctx.inputs.git.url,
      ...(ctx.inputs.git.branch ? { branch: ctx.inputs.git.branch } : {}),
    });
    ctx.audit.info('upload', { project_id: projectId, source: 'git', git_url: shownUrl });
    ctx.reporter.stageDone('upload', `Repository registered`, { source: 'git' });
    await bind(ctx, parked.temp_file_path, undefined);
    return;
  }

  ctx.reporter.stageStart('archive', 'Packing source');
  // The --env-file holds this run's secret values: inside the folder it is never archived, whatever
  // its name (the selection may come from the analyze stage, so it is filtered here).
  const secretFiles = ctx.inputs.envFilePath ? [ctx.inputs.envFilePath] : [];
  const selection = await excludeSecretFiles(ctx.selection ?? (await selectFiles(ctx.inputs.root)), secretFiles);
  const packing = new ProgressMeter(selection.files.reduce((sum, file) => sum + file.size, 0));
  const archive = await buildArchive(ctx.inputs.root, {
    selection,
    onProgress: (done) => {
      const p = packing.update(done);
      ctx.reporter.progress('archive', progressText('Packing', p), progressFields(p));
    },
  });
  ctx.archive = archive;
  try {
    const secrets = archive.excludedSecrets;
    ctx.audit.info('archive', {
      files: archive.files,
      source_bytes: archive.sourceBytes,
      zip_bytes: archive.bytes,
      digest: archive.digest,
      excluded_secrets: secrets,
    });
    ctx.reporter.stageDone(
      'archive',
      `Packed ${archive.files} files (${formatBytes(archive.sourceBytes)} → ${formatBytes(archive.bytes)} zip)` +
        (secrets.length > 0 ? `; left out secret-like files: ${secrets.join(', ')}` : ''),
      { files: archive.files, bytes: archive.sourceBytes, zip_bytes: archive.bytes, excluded_secrets: secrets, digest: archive.digest },
    );
    for (const link of archive.skippedSymlinks) ctx.reporter.warn(`Left out ${link}: it links outside the project.`);
    for (const warning of archive.warnings) ctx.reporter.warn(`Archive: ${warning}`);

    if (!ctx.inputs.force && ctx.state.last_source_digest === archive.digest && ctx.state.last_temp_file_path) {
      ctx.reporter.stageSkip('upload', 'Source unchanged since the last upload; not sending it again (use --force to re-upload)', {
        digest: archive.digest,
      });
      ctx.tempFilePath = ctx.state.last_temp_file_path;
      return;
    }
    const chunked = multipartSettings();
    if (archive.bytes > chunked.threshold) {
      await uploadInParts(ctx, archive.path, archive.bytes, archive.digest, chunked);
      return;
    }

    ctx.reporter.stageStart('upload', `Uploading ${formatBytes(archive.bytes)}`);
    const meter = new ProgressMeter(archive.bytes);
    const parked = await client.uploadOnly({
      projectName,
      regionId: region.id,
      filePath: archive.path,
      fileName: `${projectName}.zip`,
      onProgress: (sent: number) => {
        const p = meter.update(sent);
        ctx.reporter.progress('upload', progressText('Uploading', p), progressFields(p));
      },
    });
    ctx.audit.info('upload', { project_id: projectId, zip_bytes: archive.bytes, temp_file_path: parked.temp_file_path });
    ctx.reporter.stageDone('upload', `Uploaded ${formatBytes(archive.bytes)}`, { zip_bytes: archive.bytes });
    await bind(ctx, parked.temp_file_path, archive.digest);
  } finally {
    await removeArchive(archive);
  }
}

/**
 * An archive over the threshold goes up in numbered parts (resumable through
 * `.opendeploy/upload.json`); `complete` binds it to the project, so there is no update-source.
 * The deployment create then waits out the extraction (409 + Retry-After) in run-deployment.
 */
async function uploadInParts(
  ctx: DeployContext,
  archivePath: string,
  bytes: number,
  digest: string,
  settings: { partSize: number; concurrency: number },
): Promise<void> {
  const client = requireClient(ctx);
  const projectId = ctx.state.project_id!;
  ctx.reporter.stageStart('upload', `Uploading ${formatBytes(bytes)} in parts of ${formatBytes(settings.partSize)}`);
  const meter = new ProgressMeter(bytes);
  const uploaded = await chunkedUpload({
    client,
    archivePath,
    projectId,
    projectName: ctx.state.project_name!,
    regionId: ctx.region!.id,
    analysis: ctx.analysis,
    stateDir: stateDir(ctx.inputs.root),
    partSize: settings.partSize,
    concurrency: settings.concurrency,
    signal: ctx.signal,
    onProgress: (sent) => {
      const p = meter.update(sent);
      ctx.reporter.progress('upload', progressText('Uploading', p), progressFields(p));
    },
    onNotice: (message) => ctx.reporter.info(message),
  });
  // The deployment body still needs a temp_file_path (stored as a hint only); the chunked path has
  // none, so the upload id stands in for it.
  const marker = `multipart:${uploaded.uploadId}`;
  ctx.tempFilePath = marker;
  ctx.sourceChanged = true;
  ctx.state.last_temp_file_path = marker;
  ctx.state.last_source_digest = digest;
  await saveState(ctx);
  const fields = {
    zip_bytes: bytes,
    upload_id: uploaded.uploadId,
    parts_sent: new Set(uploaded.sentParts).size,
    parts_reused: uploaded.reusedParts.length,
    resumed: uploaded.resumed,
    expired_session: uploaded.expiredSession,
    source_status: uploaded.result.source_status ?? null,
  };
  ctx.audit.info('upload', { project_id: projectId, ...fields });
  ctx.reporter.stageDone(
    'upload',
    `Uploaded ${formatBytes(bytes)} in parts` + (uploaded.resumed ? ` (resumed: ${uploaded.reusedParts.length} parts were already sent)` : ''),
    fields,
  );
  if (uploaded.result.source_status !== 'ready') {
    try {
      await waitForExtraction(ctx, projectId);
    } catch (error) {
      if ((error as { details?: Record<string, unknown> }).details?.source_status === 'failed') {
        // An archive the gateway could not extract is never reused: the next run sends a fresh one.
        delete ctx.state.last_source_digest;
        delete ctx.state.last_temp_file_path;
        await saveState(ctx);
      }
      throw error;
    }
  }
}

/** How long the extraction of a completed upload is waited for (R-deploy: 3 s × 60). */
const EXTRACTION_WAIT_MS = 3 * 60 * 1000;

/**
 * The build reads the project's extracted source: no deployment is created before
 * `source_status` is `ready`. `failed` means the archive must be sent again (a re-run does).
 */
async function waitForExtraction(ctx: DeployContext, projectId: string): Promise<void> {
  const client = requireClient(ctx);
  ctx.reporter.stageStart('extract', 'Waiting for the gateway to extract the source');
  const deadline = Date.now() + EXTRACTION_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    const project = (await client.getProject(projectId)) as Record<string, unknown>;
    const status = project.source_status;
    if (status === 'ready') break;
    if (status === 'failed') {
      const reason = typeof project.extraction_error === 'string' && project.extraction_error ? `: ${project.extraction_error}` : '';
      throw new OdError('deploy_failed', `The gateway could not extract the uploaded archive${reason}.`, {
        nextAction: 'Re-run the deploy: a fresh archive is uploaded.',
        details: { project_id: projectId, source_status: 'failed' },
      });
    }
    if (Date.now() > deadline) {
      throw new OdError('server_error', 'The gateway is still extracting the uploaded source after 3 minutes.', {
        retryable: true,
        nextAction: 'Re-run the deploy in a few minutes; the upload is not sent again.',
        details: { project_id: projectId, source_status: status ?? null },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(3000, 200 * 2 ** attempt)));
  }
  ctx.reporter.stageDone('extract', 'Source extracted by the gateway', { source_status: 'ready' });
}

async function bind(ctx: DeployContext, tempFilePath: string, digest: string | undefined): Promise<void> {
  const client = requireClient(ctx);
  const projectId = ctx.state.project_id!;
  ctx.reporter.stageStart('update_source', 'Binding source to the project');
  const bound = await client.updateSource({ project_id: projectId, temp_file_path: tempFilePath, analysis: ctx.analysis });
  ctx.tempFilePath = tempFilePath;
  ctx.sourceChanged = true;
  ctx.state.last_temp_file_path = tempFilePath;
  if (digest) ctx.state.last_source_digest = digest;
  await saveState(ctx);
  ctx.audit.info('update_source', { project_id: projectId, source_status: bound.source_status ?? null });
  ctx.reporter.stageDone('update_source', 'Source bound to the project', { source_status: bound.source_status ?? null });
}
