/**
 * Safe ZIP extraction for update-source. An uploaded archive is untrusted input written to the
 * user's disk, so every entry is checked before a byte is written: no absolute paths, no `..`
 * escapes (zip-slip), no symlinks or device files, bounded entry count and total size.
 */

import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

export class ExtractError extends Error {}

export interface ExtractLimits {
  maxTotalBytes: number;
  maxEntries: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 1024 * 1024 * 1024,
  maxEntries: 50_000,
};

export interface ExtractResult {
  files: number;
  bytes: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Checks one entry name; returns the reason it is unsafe, or null. */
export function unsafeEntryReason(name: string): string | null {
  if (name.includes('\0')) return `entry name contains a NUL byte: ${JSON.stringify(name)}`;
  const normalised = name.replace(/\\/g, '/');
  if (normalised.startsWith('/') || /^[A-Za-z]:/.test(normalised)) return `absolute path in archive: ${name}`;
  if (normalised.split('/').includes('..')) return `path escapes the extraction directory: ${name}`;
  return null;
}

/**
 * Extracts `zipPath` into `destDir` (created). On any violation the partially written directory is
 * removed and an ExtractError says why; the caller answers 422.
 */
export async function extractZip(
  zipPath: string,
  destDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<ExtractResult> {
  const root = path.resolve(destDir);
  await mkdir(root, { recursive: true, mode: 0o755 });
  try {
    return await extractInto(zipPath, root, limits);
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    if (err instanceof ExtractError) throw err;
    // yauzl reports its own path checks ("invalid relative path", "absolute path") as plain errors.
    const message = err instanceof Error ? err.message : String(err);
    throw new ExtractError(/relative path|absolute path/.test(message) ? `unsafe path in archive: ${message}` : `invalid zip archive: ${message}`);
  }
}

async function extractInto(zipPath: string, root: string, limits: ExtractLimits): Promise<ExtractResult> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false });
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new ExtractError(`archive has too many entries (${zip.entryCount} > ${limits.maxEntries})`);
    }
    let declared = 0;
    let written = 0;
    let files = 0;
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      const reason = unsafeEntryReason(name);
      if (reason) throw new ExtractError(reason);
      const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
      const type = mode & S_IFMT;
      if (type === S_IFLNK) throw new ExtractError(`symlinks are not allowed in archives: ${name}`);
      // Zips made on Windows carry no Unix mode (type 0); anything else but file/dir is refused.
      if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw new ExtractError(`special file in archive: ${name}`);
      if (entry.isEncrypted()) throw new ExtractError(`encrypted entries are not supported: ${name}`);

      const target = path.resolve(root, name);
      if (target !== root && !target.startsWith(root + path.sep)) {
        throw new ExtractError(`path escapes the extraction directory: ${name}`);
      }
      if (name.endsWith('/') || type === S_IFDIR) {
        await mkdir(target, { recursive: true, mode: 0o755 });
        continue;
      }
      declared += entry.uncompressedSize;
      if (declared > limits.maxTotalBytes) {
        throw new ExtractError(`archive expands beyond the ${limits.maxTotalBytes}-byte limit`);
      }
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      const stream = await zip.openReadStreamPromise(entry);
      // Counted as well as declared: sizes in the central directory are attacker-controlled.
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          written += chunk.length;
          if (written > limits.maxTotalBytes) done(new ExtractError(`archive expands beyond the ${limits.maxTotalBytes}-byte limit`));
          else done(null, chunk);
        },
      });
      const executable = (mode & 0o111) !== 0;
      // 'wx': a second entry with the same name is refused instead of silently overwriting.
      const out = createWriteStream(target, { flags: 'wx', mode: executable ? 0o755 : 0o644 });
      try {
        await pipeline(stream, counter, out);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ExtractError(`duplicate entry in archive: ${name}`);
        throw err;
      }
      files += 1;
    }
    return { files, bytes: written };
  } finally {
    zip.close();
  }
}
