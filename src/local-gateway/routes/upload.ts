/**
 * Source upload in two steps: `upload-only` parks an archive (streamed to disk, never
 * buffered) and `update-source` binds it to a project — copied into the project's storage and
 * extracted synchronously, with zip-slip / symlink / size guards.
 */

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nowIso } from '../app.js';
import { extractZip, ExtractError } from '../extract.js';
import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import type { FileSink, PartInfo } from '../multipart.js';
import { MultipartError, multipartBoundary, parseMultipart } from '../multipart.js';
import { isActiveRegion } from '../regions.js';
import type { UploadRow } from '../store.js';
import { optString } from '../validate.js';
import { serviceView } from '../views.js';
import { ownedProject } from './lookup.js';
import { registerMultipartUploadRoutes } from './multipart-upload.js';

/** Parked uploads expire like the hosted temp files; update-source after that must re-upload. */
export const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;
const EXPIRED = 'Uploaded file not found or expired, please upload again';

/** ZIP local-file header, or the end-of-central-directory record of an empty archive. */
function isZipMagic(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 0x03 && head[3] === 0x04) || (head[2] === 0x05 && head[3] === 0x06));
}

interface ParkedFile {
  path: string;
  filename: string;
  size: number;
  head: Buffer;
}

/** Streams the `project_file` part to disk, remembering the first bytes for the magic check. */
function fileSink(target: string, part: PartInfo, done: (file: ParkedFile) => void): FileSink {
  const out = createWriteStream(target, { mode: 0o600 });
  let size = 0;
  let head = Buffer.alloc(0);
  let failed: Error | null = null;
  out.on('error', (err) => {
    failed = err;
  });
  return {
    async write(chunk) {
      if (failed) throw failed;
      if (head.length < 8) head = Buffer.concat([head, chunk.subarray(0, 8 - head.length)]);
      size += chunk.length;
      if (!out.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = (): void => {
            out.off('error', onError);
            resolve();
          };
          const onError = (err: Error): void => {
            out.off('drain', onDrain);
            reject(err);
          };
          out.once('drain', onDrain);
          out.once('error', onError);
        });
      }
    },
    async end() {
      await new Promise<void>((resolve, reject) => {
        out.end(() => (failed ? reject(failed) : resolve()));
      });
      done({ path: target, filename: part.filename ?? '', size, head });
    },
    async abort() {
      out.destroy();
      await rm(target, { force: true });
    },
  };
}

async function uploadOnly(ctx: RequestContext): Promise<void> {
  const boundary = multipartBoundary(ctx.req.headers['content-type']);
  if (!boundary) throw httpError(400, "request Content-Type isn't multipart/form-data");
  const app = ctx.app;
  await mkdir(app.uploadsDir, { recursive: true, mode: 0o700 });

  const id = randomUUID();
  const target = path.join(app.uploadsDir, `${id}.zip`);
  let parked: ParkedFile | null = null;
  let sinkOpened = false;
  const onFile = (part: PartInfo): FileSink | null => {
    // Only the first project_file part is kept; any other file part is discarded unread.
    if (part.name !== 'project_file' || sinkOpened) return null;
    sinkOpened = true;
    return fileSink(target, part, (file) => {
      parked = file;
    });
  };

  let fields: Map<string, string>;
  try {
    const result = await parseMultipart(ctx.req, boundary, onFile);
    fields = result.fields;
    if (ctx.entry) {
      ctx.entry.form_fields = result.partNames;
      ctx.entry.body_keys = result.partNames;
    }
  } catch (err) {
    await rm(target, { force: true });
    if (err instanceof MultipartError) throw httpError(err.status, err.message);
    throw err;
  }

  const file = parked as ParkedFile | null;
  try {
    const projectName = (fields.get('project_name') ?? '').trim();
    const regionId = (fields.get('region_id') ?? '').trim();
    const gitUrl = (fields.get('git_url') ?? '').trim();
    const branch = (fields.get('branch') ?? '').trim();
    if (!projectName) throw httpError(400, 'project_name is required');
    if (!isActiveRegion(regionId)) throw httpError(400, 'invalid region');
    if (!file && !gitUrl) throw httpError(400, 'project_file or git_url is required');

    const row: UploadRow = {
      id,
      temp_file_path: '',
      filename: '',
      size: 0,
      is_git: false,
      git_url: '',
      branch: '',
      project_name: projectName,
      region_id: regionId,
      owner_id: ctx.caller.ownerId,
      created_at: nowIso(),
    };
    if (file) {
      if (file.size === 0) throw httpError(400, 'uploaded file is empty');
      if (!isZipMagic(file.head)) throw httpError(400, 'only zip archives are supported');
      row.temp_file_path = file.path;
      row.filename = file.filename;
      row.size = file.size;
    } else {
      if (!/^(https?|ssh|git):\/\/\S+$/.test(gitUrl) && !/^git@[^\s:]+:\S+$/.test(gitUrl)) {
        throw httpError(400, 'Git validation failed', { error_code: 'invalid_repository_url', error_message: `not a Git URL: ${gitUrl}` });
      }
      // No network: a Git source is parked as a small descriptor instead of a clone.
      row.is_git = true;
      row.git_url = gitUrl;
      row.branch = branch || 'main';
      row.temp_file_path = path.join(app.uploadsDir, `${id}.git.json`);
      row.filename = '';
      await writeFile(row.temp_file_path, JSON.stringify({ git_url: gitUrl, branch: row.branch }), { mode: 0o600 });
    }
    app.store.state.uploads.push(row);
    app.store.changed();
    ctx.send(200, {
      temp_file_path: row.temp_file_path,
      filename: row.filename,
      git_url: row.git_url,
      branch: row.branch,
      is_git: row.is_git,
    });
  } catch (err) {
    await rm(target, { force: true });
    throw err;
  }
}

async function fileExists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function updateSource(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const app = ctx.app;
  const projectId = optString(body, 'project_id', 'UpdateSourceRequest');
  const tempPath = optString(body, 'temp_file_path', 'UpdateSourceRequest');
  const analysis = body['analysis'];
  if (!projectId) throw httpError(400, 'project_id is required');
  if (!tempPath) throw httpError(400, 'temp_file_path is required');
  if (analysis !== undefined && analysis !== null && (typeof analysis !== 'object' || Array.isArray(analysis))) {
    throw httpError(400, 'json: cannot unmarshal non-object into Go struct field UpdateSourceRequest.analysis of type models.ProjectAnalysisResult');
  }
  const project = ownedProject(ctx, projectId);

  // Only paths this gateway handed out are accepted: the client never names arbitrary files.
  const upload = app.store.state.uploads.find((u) => u.temp_file_path === tempPath && u.owner_id === ctx.caller.ownerId);
  const expired = !upload || Date.now() - Date.parse(upload.created_at) > UPLOAD_TTL_MS;
  if (!upload || expired || !(await fileExists(upload.temp_file_path))) throw httpError(400, EXPIRED);

  const versionDir = path.join(app.projectsDir, project.id, randomUUID());
  const sourceDir = path.join(versionDir, 'source');
  await mkdir(versionDir, { recursive: true, mode: 0o700 });
  let archivePath = '';
  let size = 0;
  if (upload.is_git) {
    // Simulated clone: the bound source is a directory describing the repository.
    await mkdir(sourceDir, { recursive: true, mode: 0o755 });
    await copyFile(upload.temp_file_path, path.join(sourceDir, '.opendeploy-git-source.json'));
  } else {
    archivePath = path.join(versionDir, 'source.zip');
    await copyFile(upload.temp_file_path, archivePath);
    size = (await stat(archivePath)).size;
    try {
      await extractZip(archivePath, sourceDir);
    } catch (err) {
      if (!(err instanceof ExtractError)) throw err;
      await rm(versionDir, { recursive: true, force: true });
      // A bad archive never replaces a good bound source; it is recorded for diagnosis.
      project.extraction_error = err.message;
      if (project.source_status !== 'ready') project.source_status = 'failed';
      project.updated_at = nowIso();
      app.store.changed();
      throw httpError(422, 'archive could not be extracted', { extraction_error: err.message, source_status: 'failed' });
    }
  }

  project.source_path = sourceDir;
  project.source_status = 'ready';
  project.original_file_path = archivePath;
  project.original_file_size = size;
  project.extraction_error = null;
  if (analysis !== undefined && analysis !== null) project.analyze_config = analysis;
  project.updated_at = nowIso();
  app.store.changed();
  ctx.send(200, {
    project_id: project.id,
    source_path: project.source_path,
    source_status: 'ready',
    services: app.store.state.services.filter((s) => s.project_id === project.id).map(serviceView),
    message: 'Project source updated successfully',
  });
}

/** Removes parked uploads past their TTL (run at startup; the hosted GC runs periodically). */
export async function pruneExpiredUploads(ctx: { store: { state: { uploads: UploadRow[] }; changed(): void } }): Promise<void> {
  const now = Date.now();
  const keep: UploadRow[] = [];
  for (const upload of ctx.store.state.uploads) {
    if (now - Date.parse(upload.created_at) > UPLOAD_TTL_MS) await rm(upload.temp_file_path, { force: true });
    else keep.push(upload);
  }
  if (keep.length !== ctx.store.state.uploads.length) {
    ctx.store.state.uploads.splice(0, ctx.store.state.uploads.length, ...keep);
    ctx.store.changed();
  }
}

export function registerUploadRoutes(api: Router): void {
  api.add('POST', '/api/v1/upload/upload-only', uploadOnly);
  api.add('POST', '/api/v1/upload/update-source', updateSource);
  registerMultipartUploadRoutes(api);
}

export { isZipMagic };
