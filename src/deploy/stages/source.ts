import { OdError } from '../../errors.js';
import { buildArchive, excludeSecretFiles, removeArchive, selectFiles } from '../../archive/index.js';
import { stripUrlCredentials } from '../../redact.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';

/** Archives above this size must use the multipart protocol (the gateway buffers upload-only bodies). */
export const SINGLE_UPLOAD_LIMIT = 100 * 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Stages 8–10: archive → upload-only (parks the file) → update-source (binds it to the project;
 * skipping this is the classic "fails at progress 10" mistake). An unchanged source is not sent
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
  const archive = await buildArchive(ctx.inputs.root, { selection });
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
    if (archive.bytes > SINGLE_UPLOAD_LIMIT) {
      throw new OdError('invalid_input', `The archive is ${formatBytes(archive.bytes)}; uploads above 100 MiB need the multipart protocol, which this version does not send yet.`, {
        nextAction: 'Add large generated or data files to .opendeployignore, then re-run.',
        details: { zip_bytes: archive.bytes },
      });
    }

    ctx.reporter.stageStart('upload', `Uploading ${formatBytes(archive.bytes)}`);
    let lastShown = 0;
    const parked = await client.uploadOnly({
      projectName,
      regionId: region.id,
      filePath: archive.path,
      fileName: `${projectName}.zip`,
      onProgress: (sent: number, total: number) => {
        const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
        if (percent >= lastShown + 10 || sent === total) {
          lastShown = percent;
          ctx.reporter.progress('upload', `Uploading ${formatBytes(sent)} / ${formatBytes(total)} (${percent}%)`, { sent, total });
        }
      },
    });
    ctx.audit.info('upload', { project_id: projectId, zip_bytes: archive.bytes, temp_file_path: parked.temp_file_path });
    ctx.reporter.stageDone('upload', `Uploaded ${formatBytes(archive.bytes)}`, { zip_bytes: archive.bytes });
    await bind(ctx, parked.temp_file_path, archive.digest);
  } finally {
    await removeArchive(archive);
  }
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
