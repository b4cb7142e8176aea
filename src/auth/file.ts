/**
 * The credential file (`auth.json`): strict reading, permission tightening and atomic writes.
 *
 * Rules:
 * - opendeploy never rewrites or deletes an existing credential file it cannot understand: malformed
 *   JSON, an unknown `version`, a missing `api_key` or an empty (zero-byte) file are all `auth_invalid`
 *   errors that name the path and leave the bytes untouched.
 * - A file readable or writable by group/other is chmod-ed to 0600 (reported as `tightened`).
 * - Writes go to a 0600 temp file in the same folder (O_EXCL), are fsync-ed, then renamed over the
 *   target, so neither a crash nor a concurrent run can leave a truncated file.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, realpathSync } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readFile, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';

import { OdError } from '../core/errors.js';
import { displayPath } from './paths.js';

export const AUTH_FILE_VERSION = 1;

/** The on-disk shape (version 1). `guest_id` is the newer spelling of `agent_id` and is accepted. */
export const AuthFileSchema = z.object({
  version: z.literal(AUTH_FILE_VERSION),
  api_key: z.string().startsWith('od_', { message: 'api_key must be a string starting with od_' }),
  gateway: z.string().min(1).optional(),
  agent_id: z.string().min(1).optional(),
  guest_id: z.string().min(1).optional(),
  bind_sig: z.string().min(1).optional(),
  claim_url: z.string().optional(),
});

export interface AuthFileData {
  version: 1;
  api_key: string;
  gateway?: string;
  agent_id?: string;
  bind_sig?: string;
  claim_url?: string;
}

export type ReadAuthFileResult =
  | { status: 'missing' }
  | { status: 'ok'; data: AuthFileData; tightened: boolean; dirTightened: boolean };

export interface AuthFileOptions {
  /**
   * Also make the containing folder 0700 when it is looser. Only for the opendeploy home folder:
   * the folder of an explicit `--auth-file` belongs to the user and is left alone.
   */
  tightenDir?: boolean;
  /**
   * When auth.json is a symbolic link, its target is chmod-ed only when it lies inside this folder
   * (the opendeploy home); otherwise a loose target is refused. Unset: a link target is never chmod-ed.
   */
  chmodRoot?: string;
}

/** True when `target` (a real path) is `folder` or lies below it. */
function insideFolder(target: string, folder: string | undefined): boolean {
  if (folder === undefined) return false;
  let root = resolve(folder);
  try {
    root = realpathSync(root);
  } catch {
    // A folder that does not exist holds nothing.
  }
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const KEEP_SENTENCE = 'fix or move it away; opendeploy never rewrites or deletes it.';

function invalid(path: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): OdError {
  return new OdError('auth_invalid', message, {
    nextAction: `Fix ${displayPath(path)} or move it away, then run again.`,
    details: { auth_file: path, ...details },
    cause,
  });
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** 1-based line of a JSON.parse failure, from V8's "at position N" (or the end of the text). */
function jsonErrorLine(text: string, message: string): number {
  const lineMatch = /line (\d+)/.exec(message);
  if (lineMatch?.[1] !== undefined) return Number(lineMatch[1]);
  const posMatch = /position (\d+)/.exec(message);
  const position = posMatch?.[1] !== undefined ? Number(posMatch[1]) : text.replace(/\s+$/, '').length;
  return text.slice(0, position).split('\n').length;
}

async function tightenFolder(dir: string): Promise<boolean> {
  try {
    const mode = (await stat(dir)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      await chmod(dir, 0o700);
      return true;
    }
  } catch {
    // A folder we cannot stat or chmod is reported by the file operation itself.
  }
  return false;
}

/**
 * Reads and validates the credential file. Missing → `{status: 'missing'}`; anything present but
 * unusable → OdError `auth_invalid` (the file is never modified beyond tightening its mode).
 */
export async function readAuthFile(path: string, options: AuthFileOptions = {}): Promise<ReadAuthFileResult> {
  const shown = displayPath(path);
  let mode: number;
  // A symlinked auth.json is followed for reading, but its target is only ever chmod-ed when it lies
  // inside the folder the caller owns (`chmodRoot`): a link must not make opendeploy change the
  // permissions of some other file, and a dangling link must not make it mint a credential.
  let linkTarget: string | undefined;
  try {
    const link = await lstat(path);
    if (link.isSymbolicLink()) {
      const target = await readlink(path).catch(() => '?');
      try {
        linkTarget = await realpath(path);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') {
          throw new OdError(
            'auth_invalid',
            `${shown} is a symbolic link to ${target}, which does not exist: opendeploy does not create a credential through a link. Point the link at a credential file or remove it, then run again.`,
            { nextAction: `Remove the link ${shown} (or restore its target), then run again.`, details: { auth_file: path, reason: 'dangling_symlink' } },
          );
        }
        throw err;
      }
    }
    const info = await stat(path);
    if (!info.isFile()) {
      throw invalid(path, `${shown} is not a regular file: ${KEEP_SENTENCE}`);
    }
    mode = info.mode & 0o777;
  } catch (err) {
    if (err instanceof OdError) throw err;
    if (errnoCode(err) === 'ENOENT') return { status: 'missing' };
    throw invalid(path, `${shown} cannot be read (${errnoCode(err) ?? 'error'}): ${KEEP_SENTENCE}`, {}, err);
  }

  // Protect the secret first, whatever the content turns out to be (chmod never changes the bytes).
  let tightened = false;
  if ((mode & 0o077) !== 0) {
    if (linkTarget !== undefined && !insideFolder(linkTarget, options.chmodRoot)) {
      throw new OdError(
        'auth_invalid',
        `${shown} is a symbolic link to ${displayPath(linkTarget)}, which is readable by other users and lies outside ${options.chmodRoot === undefined ? 'the opendeploy folder' : displayPath(options.chmodRoot)}: opendeploy does not change permissions through a link. Run chmod 600 on it yourself, or replace the link with the file.`,
        { nextAction: `chmod 600 ${displayPath(linkTarget)}, then run again.`, details: { auth_file: path, reason: 'symlink_permissions' } },
      );
    }
    try {
      await chmod(linkTarget ?? path, 0o600);
      tightened = true;
    } catch (err) {
      throw invalid(path, `${shown} is readable by other users and could not be made private (chmod 600 failed): fix its permissions or move it away.`, {}, err);
    }
  }
  const dirTightened = options.tightenDir === true ? await tightenFolder(dirname(path)) : false;
  const extra = { permissions_tightened: tightened };

  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw invalid(path, `${shown} cannot be read (${errnoCode(err) ?? 'error'}): ${KEEP_SENTENCE}`, extra, err);
  }
  if (text.length === 0) {
    throw invalid(path, `${shown} is empty: ${KEEP_SENTENCE}`, extra);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const line = jsonErrorLine(text, err instanceof Error ? err.message : '');
    throw invalid(path, `${shown} is not valid JSON (line ${line}): ${KEEP_SENTENCE}`, { ...extra, line }, err);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalid(path, `${shown} does not contain a JSON object: ${KEEP_SENTENCE}`, extra);
  }
  const record = parsed as Record<string, unknown>;
  if (!('version' in record)) {
    throw invalid(path, `${shown} has no "version" field: ${KEEP_SENTENCE}`, extra);
  }
  if (record['version'] !== AUTH_FILE_VERSION) {
    const shownVersion = JSON.stringify(record['version']);
    throw invalid(
      path,
      `${shown} has version ${shownVersion}, which this opendeploy does not understand: upgrade opendeploy or restore a version 1 file.`,
      { ...extra, version: record['version'] },
    );
  }

  const result = AuthFileSchema.safeParse(record);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue !== undefined && issue.path.length > 0 ? issue.path.join('.') : 'file';
    const reason =
      field === 'api_key'
        ? 'has no usable api_key (expected a string starting with od_)'
        : `has an invalid "${field}" field`;
    throw invalid(path, `${shown} ${reason}: ${KEEP_SENTENCE}`, { ...extra, field });
  }

  const raw = result.data;
  const data: AuthFileData = { version: 1, api_key: raw.api_key };
  if (raw.gateway !== undefined) data.gateway = raw.gateway;
  const agentId = raw.agent_id ?? raw.guest_id;
  if (agentId !== undefined) data.agent_id = agentId;
  if (raw.bind_sig !== undefined) data.bind_sig = raw.bind_sig;
  if (raw.claim_url !== undefined && raw.claim_url !== '') data.claim_url = raw.claim_url;
  return { status: 'ok', data, tightened, dirTightened };
}

export interface WriteAuthFileOptions extends AuthFileOptions {
  /**
   * When false, an existing file is never replaced: the write fails with OdError `conflict`
   * (used after minting, in case another run or the user created the file meanwhile). Default true.
   */
  overwrite?: boolean;
  /**
   * Runs after the complete credential is durable in its temp file and before that file is
   * renamed/linked into place. Test hook only (a pause that makes a kill -9 land in this window).
   */
  beforeCommit?: () => Promise<void>;
}

/** `auth.json.<pid>.<random>.tmp`: the pid tells a later run whether the writer is still alive. */
export function tempCredentialPattern(path: string): RegExp {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${base}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
}

async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Not every platform/filesystem lets a directory be fsync-ed; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function serialise(data: AuthFileData): string {
  const out: Record<string, unknown> = { version: 1, api_key: data.api_key };
  if (data.gateway !== undefined) out['gateway'] = data.gateway;
  if (data.agent_id !== undefined) out['agent_id'] = data.agent_id;
  if (data.bind_sig !== undefined) out['bind_sig'] = data.bind_sig;
  if (data.claim_url !== undefined) out['claim_url'] = data.claim_url;
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * Atomically writes the credential file (mode 0600, parent created 0700).
 * Throws OdError `internal` when the file cannot be written (the target is then unchanged), or
 * `conflict` when `overwrite: false` and the file exists.
 */
export async function writeAuthFile(path: string, data: AuthFileData, options: WriteAuthFileOptions = {}): Promise<void> {
  const parsed = AuthFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new OdError('internal', 'Refusing to write an invalid credential file.', { details: { auth_file: path } });
  }
  const dir = dirname(path);
  const shown = displayPath(path);
  const tmp = join(dir, `${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let tmpCreated = false;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (options.tightenDir === true) await tightenFolder(dir);

    const handle = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    tmpCreated = true;
    try {
      await handle.chmod(0o600); // the umask may have removed owner bits; make it exactly 0600
      await handle.writeFile(serialise(data), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The temp file alone is a complete credential: make its name durable too, so a crash from here
    // on leaves something the next run can recover (src/auth/pending.ts).
    await fsyncDir(dir);
    if (options.beforeCommit !== undefined) await options.beforeCommit();

    if (options.overwrite === false) {
      try {
        // link() fails with EEXIST instead of replacing: an atomic "create if absent".
        await link(tmp, path);
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') {
          // Another run may have recovered this very temp file (it looked abandoned): same bytes, done.
          const existing = await readFile(path, 'utf8').catch(() => undefined);
          if (existing === serialise(data)) return;
          throw new OdError('conflict', `${shown} appeared while opendeploy was creating a credential; it was left untouched.`, {
            details: { auth_file: path },
          });
        }
        const code = errnoCode(err);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
        // Filesystems without hard links: fall back to an existence check plus rename.
        const exists = await lstat(path).then(
          () => true,
          (e: unknown) => (errnoCode(e) === 'ENOENT' ? false : Promise.reject(e)),
        );
        if (exists) {
          throw new OdError('conflict', `${shown} appeared while opendeploy was creating a credential; it was left untouched.`, {
            details: { auth_file: path },
          });
        }
        await rename(tmp, path);
        tmpCreated = false;
      }
    } else {
      await rename(tmp, path);
      tmpCreated = false;
    }
    await fsyncDir(dir);
  } catch (err) {
    if (err instanceof OdError) throw err;
    throw new OdError('internal', `Could not save the credential to ${shown} (${errnoCode(err) ?? 'error'}).`, {
      nextAction: `Make ${displayPath(dir)} writable by you, then run again.`,
      details: { auth_file: path },
      cause: err,
    });
  } finally {
    if (tmpCreated) await unlink(tmp).catch(() => undefined);
  }
}
