/**
 * Upload and bind: archive → upload-only (parks the file) → update-source (binds it to the project;
 * skipping this is the classic "fails at progress 10" mistake). Archives over the multipart
 * threshold go up in resumable parts instead, bound by `complete`. An unchanged source (same digest
 * as the last upload) is not sent again unless forced.
 *
 * It writes no project state: the caller learns what was bound through `onBound` (called as soon
 * as the gateway holds the source, before any wait for extraction) and decides where to record it.
 * The deploy pipeline's source stage and `redeploy --source` both use it.
 */
import { OdError } from '../core/errors.js';
import { stripUrlCredentials } from '../core/redact.js';
import { formatBytes } from '../core/text.js';
import type { AuditSink } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { buildArchive, excludeSecretFiles, removeArchive, selectFiles, type Selection } from '../archive/index.js';
import type { Analysis } from '../analyze/index.js';
import type { GatewayClient } from '../gateway/index.js';
import { chunkedUpload, multipartSettings } from '../gateway/multipart-upload.js';

export interface UploadSourceInput {
  client: GatewayClient;
  reporter: Reporter;
  audit: AuditSink;
  signal: AbortSignal;
  /** The run's environment (multipart threshold, part size and concurrency overrides). */
  env: NodeJS.ProcessEnv;
  projectId: string;
  projectName: string;
  regionId: string;
  /** The folder to archive. */
  root: string;
  /** Register this repository instead of uploading the folder. */
  git?: { url: string; branch?: string };
  /** The file selection the analysis already made (else the folder is walked here). */
  selection?: Selection;
  /** Sent with update-source / complete so the gateway knows the services. */
  analysis?: Analysis;
  /** Files never archived whatever their name (the --env-file inside the folder). */
  secretFiles: string[];
  /** What the last upload of this source was: an equal digest means nothing is sent again. */
  last?: { digest?: string | undefined; tempFilePath?: string | undefined };
  force: boolean;
  /** Where a multipart upload keeps its resume journal (`upload.json`). */
  uploadStateDir: string;
  /** The gateway now holds and binds this source: record it (the only place state may change). */
  onBound?: (bound: BoundSource) => Promise<void>;
}

export interface BoundSource {
  tempFilePath: string;
  /** The archive digest; undefined for a repository. */
  digest?: string;
}

export interface UploadSourceResult extends BoundSource {
  /** False when the source was unchanged and not sent again. */
  changed: boolean;
}

/** Thrown by an upload whose archive the gateway could not extract: it must never be reused. */
export function extractionFailed(error: unknown): boolean {
  return (error as { details?: Record<string, unknown> }).details?.source_status === 'failed';
}

export async function uploadAndBind(input: UploadSourceInput): Promise<UploadSourceResult> {
  const { client, reporter, audit, projectId, projectName, regionId } = input;

  if (input.git) {
    // A token in the URL (`https://user:TOKEN@host/...`) goes to the gateway, never to a log or screen.
    const shownUrl = stripUrlCredentials(input.git.url);
    reporter.stageStart('upload', `Registering ${shownUrl}`);
    const parked = await client.uploadOnly({
      projectName,
      regionId,
      gitUrl: input.git.url,
      ...(input.git.branch ? { branch: input.git.branch } : {}),
    });
    audit.info('upload', { project_id: projectId, source: 'git', git_url: shownUrl });
    reporter.stageDone('upload', `Repository registered`, { source: 'git' });
    await bind(input, { tempFilePath: parked.temp_file_path });
    return { tempFilePath: parked.temp_file_path, changed: true };
  }

  reporter.stageStart('archive', 'Packing source');
  const selection = await excludeSecretFiles(input.selection ?? (await selectFiles(input.root)), input.secretFiles);
  const sourceBytes = selection.files.reduce((sum, file) => sum + file.size, 0);
  const archive = await buildArchive(input.root, {
    selection,
    onProgress: (done) => reporter.transfer('archive', 'Packing', done, sourceBytes),
    signal: input.signal,
  });
  try {
    const secrets = archive.excludedSecrets;
    audit.info('archive', {
      files: archive.files,
      source_bytes: archive.sourceBytes,
      zip_bytes: archive.bytes,
      digest: archive.digest,
      excluded_secrets: secrets,
    });
    reporter.stageDone(
      'archive',
      `Packed ${archive.files} files (${formatBytes(archive.sourceBytes)} → ${formatBytes(archive.bytes)} zip)` +
        (secrets.length > 0 ? `; left out secret-like files: ${secrets.join(', ')}` : ''),
      { files: archive.files, bytes: archive.sourceBytes, zip_bytes: archive.bytes, excluded_secrets: secrets, digest: archive.digest },
    );
    for (const link of archive.skippedSymlinks) reporter.warn(`Left out ${link}: it links outside the project.`);
    for (const warning of archive.warnings) reporter.warn(`Archive: ${warning}`);

    if (!input.force && input.last?.digest === archive.digest && input.last.tempFilePath) {
      reporter.stageSkip('upload', 'Source unchanged since the last upload; not sending it again (use --force to re-upload)', {
        digest: archive.digest,
      });
      return { tempFilePath: input.last.tempFilePath, digest: archive.digest, changed: false };
    }
    const chunked = multipartSettings(input.env);
    if (archive.bytes > chunked.threshold) {
      const tempFilePath = await uploadInParts(input, archive.path, archive.bytes, archive.digest, chunked);
      return { tempFilePath, digest: archive.digest, changed: true };
    }

    reporter.stageStart('upload', `Uploading ${formatBytes(archive.bytes)}`);
    const parked = await client.uploadOnly({
      projectName,
      regionId,
      filePath: archive.path,
      fileName: `${projectName}.zip`,
      onProgress: (sent: number) => reporter.transfer('upload', 'Uploading', sent, archive.bytes),
    });
    audit.info('upload', { project_id: projectId, zip_bytes: archive.bytes, temp_file_path: parked.temp_file_path });
    reporter.stageDone('upload', `Uploaded ${formatBytes(archive.bytes)}`, { zip_bytes: archive.bytes });
    await bind(input, { tempFilePath: parked.temp_file_path, digest: archive.digest });
    return { tempFilePath: parked.temp_file_path, digest: archive.digest, changed: true };
  } finally {
    await removeArchive(archive);
  }
}

/**
 * An archive over the threshold goes up in numbered parts (resumable through `upload.json`);
 * `complete` binds it to the project, so there is no update-source. The deployment create then
 * waits out the extraction (409 + Retry-After) in run-deployment.
 */
async function uploadInParts(
  input: UploadSourceInput,
  archivePath: string,
  bytes: number,
  digest: string,
  settings: { partSize: number; concurrency: number },
): Promise<string> {
  const { client, reporter, audit, projectId } = input;
  reporter.stageStart('upload', `Uploading ${formatBytes(bytes)} in parts of ${formatBytes(settings.partSize)}`);
  const uploaded = await chunkedUpload({
    client,
    archivePath,
    projectId,
    projectName: input.projectName,
    regionId: input.regionId,
    analysis: input.analysis,
    stateDir: input.uploadStateDir,
    partSize: settings.partSize,
    concurrency: settings.concurrency,
    signal: input.signal,
    onProgress: (sent) => reporter.transfer('upload', 'Uploading', sent, bytes),
    onNotice: (message) => reporter.info(message),
  });
  // The deployment body still needs a temp_file_path (stored as a hint only); the chunked path has
  // none, so the upload id stands in for it.
  const marker = `multipart:${uploaded.uploadId}`;
  await input.onBound?.({ tempFilePath: marker, digest });
  const fields = {
    zip_bytes: bytes,
    upload_id: uploaded.uploadId,
    parts_sent: new Set(uploaded.sentParts).size,
    parts_reused: uploaded.reusedParts.length,
    resumed: uploaded.resumed,
    expired_session: uploaded.expiredSession,
    source_status: uploaded.result.source_status ?? null,
  };
  audit.info('upload', { project_id: projectId, ...fields });
  reporter.stageDone(
    'upload',
    `Uploaded ${formatBytes(bytes)} in parts` + (uploaded.resumed ? ` (resumed: ${uploaded.reusedParts.length} parts were already sent)` : ''),
    fields,
  );
  if (uploaded.result.source_status !== 'ready') await waitForExtraction(input);
  return marker;
}

/** How long the extraction of a completed upload is waited for (3 s × 60). */
const EXTRACTION_WAIT_MS = 3 * 60 * 1000;

/**
 * The build reads the project's extracted source: no deployment is created before
 * `source_status` is `ready`. `failed` means the archive must be sent again (a re-run does).
 */
async function waitForExtraction(input: UploadSourceInput): Promise<void> {
  const { client, reporter, projectId } = input;
  reporter.stageStart('extract', 'Waiting for the gateway to extract the source');
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
  reporter.stageDone('extract', 'Source extracted by the gateway', { source_status: 'ready' });
}

async function bind(input: UploadSourceInput, source: BoundSource): Promise<void> {
  const { client, reporter, audit, projectId } = input;
  reporter.stageStart('update_source', 'Binding source to the project');
  const bound = await client.updateSource({ project_id: projectId, temp_file_path: source.tempFilePath, analysis: input.analysis });
  await input.onBound?.(source);
  audit.info('update_source', { project_id: projectId, source_status: bound.source_status ?? null });
  reporter.stageDone('update_source', 'Source bound to the project', { source_status: bound.source_status ?? null });
}
