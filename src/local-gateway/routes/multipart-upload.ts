/**
 * The chunked ("multipart") upload, for archives over 100 MiB: init with an
 * Idempotency-Key, PUT numbered raw parts (streamed to disk, hashed as they arrive, never buffered),
 * complete with another key (409 `missing_parts` when some are absent), abort. `complete` assembles
 * the archive, sets the project's `source_status` to `extracting` and extracts in the background;
 * deployment create answers 409 + Retry-After meanwhile, 422 if extraction failed.
 *
 * Sessions live in memory per gateway (like the hosted GC, a restart forgets them) and expire after
 * a period of inactivity: 24 h, or OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS for tests. Faults reach
 * single parts through the ordinary fault queue: `PUT /api/v1/upload/multipart/:id/parts/3`.
 */

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { App } from '../app.js';
import { nowIso } from '../app.js';
import { extractZip, ExtractError } from '../extract.js';
import type { RequestContext, Router } from '../http.js';
import { HttpError, httpError } from '../http.js';
import { isActiveRegion } from '../regions.js';
import { serviceView } from '../views.js';
import { ownedProject } from './lookup.js';

export const DEFAULT_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/** Below this a part is refused (tests use small parts; the contract recommends 16–90 MiB). */
export const MIN_PART_SIZE = 64 * 1024;
export const MAX_PART_SIZE = 128 * 1024 * 1024;
export const MAX_PARTS = 10_000;
export const MAX_TOTAL_SIZE = 20 * 1024 * 1024 * 1024;
export const MAX_OPEN_SESSIONS = 5;

type SessionState = 'open' | 'finalizing' | 'complete' | 'aborted';

interface Session {
  id: string;
  owner_id: string;
  project_id: string;
  init_key: string;
  total_size: number;
  part_size: number;
  total_parts: number;
  total_sha256: string;
  state: SessionState;
  dir: string;
  parts: Map<number, string>;
  expires_at: number;
  last_activity: number;
  init_response: Record<string, unknown>;
  complete_key?: string;
  complete_response?: Record<string, unknown>;
}

interface Sessions {
  byId: Map<string, Session>;
  /** `<owner> <project> <key>` → upload id: the init replay index. */
  byKey: Map<string, string>;
}

const registry = new WeakMap<App, Sessions>();

function sessionsOf(app: App): Sessions {
  let s = registry.get(app);
  if (!s) {
    s = { byId: new Map(), byKey: new Map() };
    registry.set(app, s);
  }
  return s;
}

function ttlMs(): number {
  const raw = Number(process.env.OPENDEPLOY_LOCAL_UPLOAD_SESSION_TTL_MS);
  return Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_SESSION_TTL_MS;
}

/** Test hook: hold extraction this long so the 409-while-extracting path can be seen. */
function extractDelayMs(): number {
  const raw = Number(process.env.OPENDEPLOY_LOCAL_EXTRACT_DELAY_MS);
  return Number.isFinite(raw) && raw > 0 ? raw : 0;
}

/** Drops open sessions idle past their TTL (their parts too); completed ones keep their replay. */
async function expire(app: App): Promise<void> {
  const sessions = sessionsOf(app);
  const now = Date.now();
  for (const session of [...sessions.byId.values()]) {
    // The TTL is read now, not at the last touch, so a test can shorten it for a session already open.
    if (session.state === 'open' && now - session.last_activity > ttlMs()) {
      sessions.byId.delete(session.id);
      sessions.byKey.delete(`${session.owner_id} ${session.project_id} ${session.init_key}`);
      await rm(session.dir, { recursive: true, force: true });
    }
  }
}

function idempotencyKey(ctx: RequestContext): string {
  const raw = ctx.req.headers['idempotency-key'];
  const key = (Array.isArray(raw) ? raw[0] : raw)?.trim() ?? '';
  if (!key) throw httpError(400, 'Idempotency-Key header is required');
  if (key.length > 200) throw httpError(400, 'Idempotency-Key is too long');
  return key;
}

function positiveInt(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw httpError(400, `${field} must be a positive integer`);
  return v;
}

async function ownedSession(ctx: RequestContext): Promise<Session> {
  await expire(ctx.app);
  const session = sessionsOf(ctx.app).byId.get(ctx.param('upload_id'));
  if (!session || session.owner_id !== ctx.caller.ownerId) throw httpError(404, 'upload session not found or expired');
  return session;
}

function touch(session: Session): void {
  session.last_activity = Date.now();
  session.expires_at = session.last_activity + ttlMs();
}

async function init(ctx: RequestContext): Promise<void> {
  const key = idempotencyKey(ctx);
  const body = await ctx.json();
  const projectId = typeof body.project_id === 'string' ? body.project_id : '';
  if (!projectId) throw httpError(400, 'project_id is required');
  const project = ownedProject(ctx, projectId);
  const regionId = typeof body.region_id === 'string' ? body.region_id : '';
  if (regionId && !isActiveRegion(regionId)) throw httpError(400, 'invalid region');
  await expire(ctx.app);
  const sessions = sessionsOf(ctx.app);
  const indexKey = `${ctx.caller.ownerId} ${project.id} ${key}`;
  const replay = sessions.byKey.get(indexKey);
  const earlier = replay ? sessions.byId.get(replay) : undefined;
  if (earlier) {
    if (earlier.state === 'open') touch(earlier);
    ctx.send(200, { ...earlier.init_response, expires_at: new Date(earlier.expires_at).toISOString() });
    return;
  }

  const totalSize = positiveInt(body, 'total_size');
  const partSize = positiveInt(body, 'part_size');
  const totalParts = positiveInt(body, 'total_parts');
  const sha = typeof body.total_sha256 === 'string' ? body.total_sha256.toLowerCase() : '';
  if (!/^[0-9a-f]{64}$/.test(sha)) throw httpError(400, 'total_sha256 must be the hex sha256 of the archive');
  if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) throw httpError(400, `part_size must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes`);
  if (totalParts !== Math.ceil(totalSize / partSize)) throw httpError(400, 'total_parts must equal ceil(total_size / part_size)');
  if (totalParts > MAX_PARTS) throw httpError(409, `too many parts (at most ${MAX_PARTS})`);
  if (totalSize > MAX_TOTAL_SIZE) throw httpError(409, `archive too large (at most ${MAX_TOTAL_SIZE} bytes)`);
  const open = [...sessions.byId.values()].filter((s) => s.owner_id === ctx.caller.ownerId && s.state === 'open').length;
  if (open >= MAX_OPEN_SESSIONS) throw httpError(409, `too many concurrent upload sessions (at most ${MAX_OPEN_SESSIONS})`);

  const id = randomUUID();
  const dir = path.join(ctx.app.uploadsDir, `multipart-${id}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const session: Session = {
    id,
    owner_id: ctx.caller.ownerId,
    project_id: project.id,
    init_key: key,
    total_size: totalSize,
    part_size: partSize,
    total_parts: totalParts,
    total_sha256: sha,
    state: 'open',
    dir,
    parts: new Map(),
    expires_at: 0,
    last_activity: 0,
    init_response: { upload_id: id, part_size: partSize },
  };
  touch(session);
  sessions.byId.set(id, session);
  sessions.byKey.set(indexKey, id);
  ctx.send(200, { ...session.init_response, expires_at: new Date(session.expires_at).toISOString() });
}

function expectedSize(session: Session, n: number): number {
  return n < session.total_parts ? session.part_size : session.total_size - (session.total_parts - 1) * session.part_size;
}

async function putPart(ctx: RequestContext): Promise<void> {
  const session = await ownedSession(ctx);
  if (session.state !== 'open') throw httpError(409, `upload session is ${session.state}`, { state: session.state });
  const n = Number(ctx.param('part_number'));
  if (!Number.isInteger(n) || n < 1 || n > session.total_parts) {
    throw httpError(416, `part_number must be between 1 and ${session.total_parts}`);
  }
  const rawSha = ctx.req.headers['x-part-sha256'];
  const sha = (Array.isArray(rawSha) ? rawSha[0] : rawSha)?.trim().toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha)) throw httpError(400, 'X-Part-SHA256 header is required (hex sha256 of the part)');
  const declared = Number(ctx.req.headers['content-length']);
  if (!Number.isInteger(declared) || declared < 0) throw httpError(400, 'Content-Length header is required');
  if (declared > session.part_size) throw httpError(413, `part larger than part_size ${session.part_size}`);
  const expected = expectedSize(session, n);
  if (declared !== expected) throw httpError(400, `part ${n} must be ${expected} bytes, got ${declared}`);
  touch(session);

  // Same part, same hash: already stored, nothing to write (the body is drained by the server).
  if (session.parts.get(n) === sha) {
    ctx.req.resume();
    ctx.send(200, { received: true, part_number: n });
    return;
  }
  // Streamed to a temp file while hashing; renamed into place only when size and hash match.
  const temp = path.join(session.dir, `part-${n}.${randomUUID().slice(0, 8)}.tmp`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(ctx.req, meter, createWriteStream(temp, { mode: 0o600 }));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  if (size !== expected) {
    await rm(temp, { force: true });
    throw httpError(400, `part ${n} size mismatch: expected ${expected} bytes, received ${size}`);
  }
  if (hash.digest('hex') !== sha) {
    await rm(temp, { force: true });
    throw httpError(400, `part ${n} sha256 mismatch; part not stored`);
  }
  // The session may have been completed or aborted while this part streamed in.
  if (session.state !== 'open') {
    await rm(temp, { force: true });
    throw httpError(409, `upload session is ${session.state}`, { state: session.state });
  }
  await rename(temp, path.join(session.dir, `part-${n}`));
  session.parts.set(n, sha);
  touch(session);
  ctx.send(200, { received: true, part_number: n });
}

/** Concatenates the parts in order into `target`, returning its sha256. */
async function assemble(session: Session, target: string): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(target, { mode: 0o600 });
  try {
    for (let n = 1; n <= session.total_parts; n++) {
      for await (const chunk of createReadStream(path.join(session.dir, `part-${n}`)) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  return hash.digest('hex');
}

async function complete(ctx: RequestContext): Promise<void> {
  const key = idempotencyKey(ctx);
  const session = await ownedSession(ctx);
  const body = await ctx.json();
  if (session.state === 'complete' && session.complete_key === key && session.complete_response) {
    ctx.send(200, session.complete_response);
    return;
  }
  if (session.state !== 'open') throw httpError(409, `upload session is ${session.state}`, { state: session.state });
  if (key === session.init_key) throw httpError(400, 'complete needs its own Idempotency-Key (not the init key)');
  const sha = typeof body.total_sha256 === 'string' ? body.total_sha256.toLowerCase() : '';
  if (sha !== session.total_sha256) throw httpError(400, 'total_sha256 does not match the one given at init');
  const analysis = body.analysis;
  const missing: number[] = [];
  for (let n = 1; n <= session.total_parts; n++) if (!session.parts.has(n)) missing.push(n);
  if (missing.length > 0) {
    touch(session);
    throw httpError(409, 'upload incomplete: some parts are missing', { missing_parts: missing });
  }

  const app = ctx.app;
  const project = ownedProject(ctx, session.project_id);
  session.state = 'finalizing';
  const versionDir = path.join(app.projectsDir, project.id, randomUUID());
  await mkdir(versionDir, { recursive: true, mode: 0o700 });
  const archivePath = path.join(versionDir, 'source.zip');
  let actual: string;
  try {
    actual = await assemble(session, archivePath);
  } catch (err) {
    session.state = 'open';
    await rm(versionDir, { recursive: true, force: true });
    throw err;
  }
  if (actual !== session.total_sha256) {
    // Server re-hash disagrees: nothing is bound; the client may re-send parts and complete again.
    session.state = 'open';
    await rm(versionDir, { recursive: true, force: true });
    throw httpError(400, 'total_sha256 mismatch: the assembled archive has a different hash');
  }
  session.state = 'complete';
  session.complete_key = key;
  await rm(session.dir, { recursive: true, force: true });

  project.source_path = '';
  project.source_status = 'extracting';
  project.original_file_path = archivePath;
  project.original_file_size = (await stat(archivePath)).size;
  project.extraction_error = null;
  if (analysis !== undefined && analysis !== null && typeof analysis === 'object' && !Array.isArray(analysis)) project.analyze_config = analysis;
  project.updated_at = nowIso();
  app.store.changed();
  session.complete_response = {
    project_id: project.id,
    source_path: '',
    source_status: 'extracting',
    services: app.store.state.services.filter((s) => s.project_id === project.id).map(serviceView),
    message: 'Source upload accepted, extraction in progress',
  };
  ctx.send(200, session.complete_response);

  // Extraction runs after the answer, like the hosted worker; the project row says when it is done.
  app.timers.after(extractDelayMs(), () => {
    void extractInBackground(app, project.id, archivePath, path.join(versionDir, 'source'));
  });
}

async function extractInBackground(app: App, projectId: string, archivePath: string, sourceDir: string): Promise<void> {
  const project = app.store.state.projects.find((p) => p.id === projectId);
  if (!project || project.original_file_path !== archivePath) return;
  try {
    await extractZip(archivePath, sourceDir);
    project.source_path = sourceDir;
    project.source_status = 'ready';
    project.extraction_error = null;
  } catch (err) {
    project.source_status = 'failed';
    project.extraction_error = err instanceof ExtractError || err instanceof Error ? err.message : String(err);
  }
  project.updated_at = nowIso();
  app.store.changed();
}

async function abort(ctx: RequestContext): Promise<void> {
  idempotencyKey(ctx);
  const session = await ownedSession(ctx);
  if (session.state === 'complete') throw httpError(409, 'upload session is complete; the archive is preserved', { state: 'complete' });
  if (session.state === 'finalizing') throw httpError(409, 'upload session is finalizing', { state: 'finalizing' });
  if (session.state === 'open') {
    session.state = 'aborted';
    await rm(session.dir, { recursive: true, force: true });
    session.parts.clear();
  }
  ctx.send(200, { aborted: true });
}

/** Deployment create's gate on the project's source: 409 + Retry-After while it extracts, 422 once extraction failed. */
export function assertSourceDeployable(project: { source_status: string | null; extraction_error: string | null }): void {
  if (project.source_status === 'extracting') {
    throw new HttpError(409, { error: 'project source is still being extracted, retry shortly', source_status: 'extracting' }, { 'retry-after': '5' });
  }
  if (project.source_status === 'failed') {
    throw httpError(422, 'project source could not be extracted; upload it again', { extraction_error: project.extraction_error ?? '', source_status: 'failed' });
  }
}

export function registerMultipartUploadRoutes(api: Router): void {
  api.add('POST', '/api/v1/upload/multipart/init', init);
  api.add('PUT', '/api/v1/upload/multipart/:upload_id/parts/:part_number', putPart);
  api.add('POST', '/api/v1/upload/multipart/:upload_id/complete', complete);
  api.add('POST', '/api/v1/upload/multipart/:upload_id/abort', abort);
}
