/**
 * The chunked ("multipart") upload of an archive over the single-upload limit:
 * init → PUT numbered parts → complete, resumable across runs.
 *
 * - Parts are streamed from the archive file by byte range; nothing larger than a read buffer is
 *   held in memory, whatever the archive size.
 * - A few parts are in flight at once; each part is retried on its own with backoff, so one failed
 *   part never restarts the upload.
 * - `complete` answering 409 `missing_parts` re-sends exactly those parts, then completes again.
 * - Progress is saved in `<root>/.opendeploy/upload.json` (0600, written atomically) after every
 *   confirmed part. A later run with the same archive (same size and sha256) replays `init` with the
 *   saved Idempotency-Key: the same `upload_id` back means the session is still open and only the
 *   parts not yet confirmed are sent; another id (the session expired) starts over, and says so.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OdError, isOdError } from '../core/errors.js';
import type { GatewayClient } from './client.js';
import type { UpdateSourceResponse } from './types.js';

/** Archives above this use the chunked upload (the gateway buffers upload-only bodies). */
export const MULTIPART_THRESHOLD = 100 * 1024 * 1024;
/** The part size: the gateway accepts parts of 16–90 MiB. */
export const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 3;
/** Attempts per part before the upload gives up (the saved progress keeps what was confirmed). */
export const DEFAULT_PART_ATTEMPTS = 5;
/** Rounds of `complete` → 409 missing_parts → re-send before giving up. */
const MAX_COMPLETE_ROUNDS = 3;

export const UPLOAD_STATE_FILE = 'upload.json';

function positiveInt(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The production values, overridable for tests and unusual networks:
 * OPENDEPLOY_MULTIPART_THRESHOLD, OPENDEPLOY_MULTIPART_PART_SIZE (bytes), OPENDEPLOY_MULTIPART_CONCURRENCY.
 */
export function multipartSettings(env: NodeJS.ProcessEnv): { threshold: number; partSize: number; concurrency: number } {
  return {
    threshold: positiveInt(env.OPENDEPLOY_MULTIPART_THRESHOLD) ?? MULTIPART_THRESHOLD,
    partSize: positiveInt(env.OPENDEPLOY_MULTIPART_PART_SIZE) ?? DEFAULT_PART_SIZE,
    concurrency: Math.min(8, positiveInt(env.OPENDEPLOY_MULTIPART_CONCURRENCY) ?? DEFAULT_CONCURRENCY),
  };
}

/** What `.opendeploy/upload.json` holds: machine-local, never committed, no secrets. */
export interface SavedUpload {
  version: 1;
  project_id: string;
  upload_id: string;
  /** The init Idempotency-Key: replaying it is how a later run checks the session is still open. */
  init_key: string;
  part_size: number;
  total_size: number;
  total_parts: number;
  archive_sha256: string;
  confirmed_parts: number[];
  /** Set before the first complete, so a run that crashed after completing replays the same answer. */
  complete_key?: string;
  updated_at: string;
}

export interface ChunkedUploadOptions {
  client: GatewayClient;
  archivePath: string;
  projectId: string;
  projectName: string;
  regionId: string;
  analysis?: unknown;
  /** `<root>/.opendeploy`: where upload.json is kept. */
  stateDir: string;
  partSize?: number;
  concurrency?: number;
  partAttempts?: number;
  backoffBaseMs?: number;
  /** Bytes confirmed so far (resumed parts count as sent). */
  onProgress?: (sent: number, total: number) => void;
  /** One-line notices for the user (resumed, expired session). */
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
}

export interface ChunkedUploadResult {
  uploadId: string;
  result: UpdateSourceResponse;
  /** Part numbers this run sent, once per attempt (a retried part appears again). */
  sentParts: number[];
  /** Parts already confirmed by an earlier run and not sent again. */
  reusedParts: number[];
  resumed: boolean;
  expiredSession: boolean;
}

interface Hashes {
  size: number;
  sha256: string;
  parts: string[];
}

/**
 * One read of the archive: the whole-file sha256 and every part's sha256 (64 hex chars each).
 * Reads into one reused 1 MiB buffer: a stream would allocate a fresh buffer per chunk, and for a
 * 1 GiB archive that garbage alone lifts the peak memory by tens of MiB before the GC catches up.
 */
export async function hashArchive(filePath: string, partSize: number): Promise<Hashes> {
  const whole = createHash('sha256');
  const parts: string[] = [];
  let part = createHash('sha256');
  let inPart = 0;
  let size = 0;
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const handle = await open(filePath, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      whole.update(chunk);
      size += bytesRead;
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(partSize - inPart, chunk.length - offset);
        part.update(chunk.subarray(offset, offset + take));
        inPart += take;
        offset += take;
        if (inPart === partSize) {
          parts.push(part.digest('hex'));
          part = createHash('sha256');
          inPart = 0;
        }
      }
    }
  } finally {
    await handle.close();
  }
  if (inPart > 0 || parts.length === 0) parts.push(part.digest('hex'));
  return { size, sha256: whole.digest('hex'), parts };
}

export async function readSavedUpload(stateDir: string): Promise<SavedUpload | undefined> {
  try {
    const value = JSON.parse(await readFile(path.join(stateDir, UPLOAD_STATE_FILE), 'utf8')) as Partial<SavedUpload>;
    if (
      value.version !== 1 || typeof value.upload_id !== 'string' || typeof value.init_key !== 'string' ||
      typeof value.archive_sha256 !== 'string' || !Array.isArray(value.confirmed_parts) ||
      typeof value.part_size !== 'number' || typeof value.total_size !== 'number'
    ) {
      return undefined;
    }
    return value as SavedUpload;
  } catch {
    // Missing or unreadable: nothing to resume, the upload starts fresh.
    return undefined;
  }
}

/** Temp file + rename, 0600: a crash mid-write never leaves half a file, and nobody else reads it. */
async function writeSavedUpload(stateDir: string, saved: SavedUpload): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const target = path.join(stateDir, UPLOAD_STATE_FILE);
  const temp = `${target}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temp, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, target);
}

export async function clearSavedUpload(stateDir: string): Promise<void> {
  await rm(path.join(stateDir, UPLOAD_STATE_FILE), { force: true });
}

/** A part answer that means "this session is gone": start a new one. */
function sessionGone(error: unknown): boolean {
  return isOdError(error) && (error.status === 404 || error.status === 409 || error.status === 410);
}

/** Worth another attempt of the same part: network trouble, 5xx, 429, or a hash the server disputes (400 on a flaky link). */
function partRetryable(error: unknown): boolean {
  if (!isOdError(error)) return false;
  if (error.status === undefined) return true;
  return error.status >= 500 || error.status === 429 || error.status === 408 || error.status === 400;
}

export async function chunkedUpload(opts: ChunkedUploadOptions): Promise<ChunkedUploadResult> {
  const { client } = opts;
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  const attempts = Math.max(1, opts.partAttempts ?? DEFAULT_PART_ATTEMPTS);
  const backoffBase = opts.backoffBaseMs ?? 500;

  const hashes = await hashArchive(opts.archivePath, partSize);
  const totalParts = hashes.parts.length;
  const initBody = {
    project_id: opts.projectId,
    project_name: opts.projectName,
    region_id: opts.regionId,
    total_size: hashes.size,
    part_size: partSize,
    total_parts: totalParts,
    total_sha256: hashes.sha256,
  };

  // Resume only the very same archive for the same project, cut the same way.
  const previous = await readSavedUpload(opts.stateDir);
  const sameArchive =
    previous !== undefined &&
    previous.project_id === opts.projectId &&
    previous.archive_sha256 === hashes.sha256 &&
    previous.total_size === hashes.size &&
    previous.part_size === partSize;

  let expiredSession = false;
  let resumed = false;
  let saved: SavedUpload;
  const startSession = async (): Promise<SavedUpload> => {
    const key = randomUUID();
    const init = await client.multipartInit(initBody, key);
    if (init.part_size !== partSize) {
      throw new OdError('server_error', `The gateway answered multipart init with part_size ${init.part_size}, not the ${partSize} asked for.`, {
        nextAction: 'Re-run; report this if it happens again.',
      });
    }
    const fresh: SavedUpload = {
      version: 1,
      project_id: opts.projectId,
      upload_id: init.upload_id,
      init_key: key,
      part_size: partSize,
      total_size: hashes.size,
      total_parts: totalParts,
      archive_sha256: hashes.sha256,
      confirmed_parts: [],
      updated_at: new Date().toISOString(),
    };
    await writeSavedUpload(opts.stateDir, fresh);
    return fresh;
  };

  if (sameArchive) {
    // Replaying init with the saved key: the same session back means it is still open.
    const replay = await client.multipartInit(initBody, previous.init_key).catch((error: unknown) => {
      if (sessionGone(error)) return undefined;
      throw error;
    });
    if (replay && replay.upload_id === previous.upload_id) {
      saved = previous;
      resumed = true;
      opts.onNotice?.(`Resuming upload ${previous.upload_id}: ${previous.confirmed_parts.length} of ${totalParts} parts already sent.`);
    } else {
      expiredSession = true;
      opts.onNotice?.(`The earlier upload session ${previous.upload_id} has expired; starting a new upload.`);
      saved = await startSession();
    }
  } else {
    saved = await startSession();
  }

  const partLength = (n: number): number => Math.min(partSize, hashes.size - (n - 1) * partSize);
  const confirmed = new Set(saved.confirmed_parts.filter((n) => n >= 1 && n <= totalParts));
  const reusedParts = [...confirmed].sort((a, b) => a - b);
  const sentParts: number[] = [];
  let sentBytes = [...confirmed].reduce((sum, n) => sum + partLength(n), 0);
  opts.onProgress?.(sentBytes, hashes.size);

  // Serialised so two parts finishing together never interleave their writes of upload.json.
  let saving: Promise<void> = Promise.resolve();
  const confirm = (n: number): Promise<void> => {
    confirmed.add(n);
    saving = saving.then(() =>
      writeSavedUpload(opts.stateDir, { ...saved, confirmed_parts: [...confirmed].sort((a, b) => a - b), updated_at: new Date().toISOString() }),
    );
    return saving;
  };

  const sendPart = async (n: number): Promise<void> => {
    const length = partLength(n);
    for (let attempt = 1; ; attempt++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      let inFlight = 0;
      try {
        sentParts.push(n);
        await client.multipartPutPart(
          saved.upload_id,
          { number: n, filePath: opts.archivePath, start: (n - 1) * partSize, length, sha256: hashes.parts[n - 1]! },
          (bytes) => {
            inFlight += bytes;
            opts.onProgress?.(sentBytes + inFlight, hashes.size);
          },
          opts.signal,
        );
        sentBytes += length;
        opts.onProgress?.(sentBytes, hashes.size);
        await confirm(n);
        return;
      } catch (error) {
        opts.onProgress?.(sentBytes, hashes.size);
        if (opts.signal?.aborted || attempt >= attempts || !partRetryable(error)) throw error;
        const delay = Math.min(8000, backoffBase * 2 ** (attempt - 1));
        await sleep(Math.round(delay / 2 + Math.random() * (delay / 2)));
      }
    }
  };

  /** A small worker pool: at most `concurrency` parts in flight; the first hard failure stops new ones. */
  const sendAll = async (numbers: number[]): Promise<void> => {
    const queue = [...numbers];
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (queue.length > 0 && failure === undefined) {
        const n = queue.shift()!;
        try {
          await sendPart(n);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, numbers.length) }, () => worker()));
    await saving;
    if (failure !== undefined) throw failure;
  };

  const pending = (): number[] => Array.from({ length: totalParts }, (_, i) => i + 1).filter((n) => !confirmed.has(n));
  try {
    await sendAll(pending());
  } catch (error) {
    if (!resumed || !sessionGone(error)) throw error;
    // The session closed between the check and the parts: start over once, and say so.
    expiredSession = true;
    opts.onNotice?.(`The upload session ${saved.upload_id} is no longer open; starting a new upload.`);
    saved = await startSession();
    confirmed.clear();
    sentBytes = 0;
    await sendAll(pending());
  }

  const completeKey = saved.complete_key ?? randomUUID();
  if (saved.complete_key === undefined) {
    saved = { ...saved, complete_key: completeKey, confirmed_parts: [...confirmed].sort((a, b) => a - b) };
    await writeSavedUpload(opts.stateDir, saved);
  }
  for (let round = 1; ; round++) {
    const outcome = await client.multipartComplete(
      saved.upload_id,
      { total_sha256: hashes.sha256, ...(opts.analysis !== undefined ? { analysis: opts.analysis } : {}) },
      completeKey,
    );
    if (outcome.missing === undefined) {
      await clearSavedUpload(opts.stateDir);
      return { uploadId: saved.upload_id, result: outcome.result, sentParts, reusedParts, resumed, expiredSession };
    }
    const missing = outcome.missing.filter((n) => n >= 1 && n <= totalParts);
    if (round >= MAX_COMPLETE_ROUNDS || missing.length === 0) {
      throw new OdError('server_error', `The gateway still reports parts ${outcome.missing.join(', ')} missing after ${round} attempts to complete the upload.`, {
        retryable: true,
        nextAction: 'Re-run the deploy: it resumes the upload and sends only the missing parts.',
        details: { upload_id: saved.upload_id, missing_parts: outcome.missing },
      });
    }
    for (const n of missing) {
      if (confirmed.delete(n)) sentBytes -= partLength(n);
    }
    await sendAll(missing);
  }
}
