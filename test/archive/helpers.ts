/** Real temp trees and real zips for the archive tests: no mocks, no fixtures on disk. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import yauzl from 'yauzl';

export type TreeSpec = Record<string, string | { content: string; mode?: number } | { symlink: string }>;

/** A fresh folder under the OS temp folder. */
export function tempDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `od-archive-test-${label}-`));
}

/** Writes files (and symlinks) given by forward-slash relative paths. */
export function writeTree(root: string, spec: TreeSpec): void {
  for (const [rel, value] of Object.entries(spec)) {
    const abs = path.join(root, ...rel.split('/'));
    mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof value === 'string') {
      writeFileSync(abs, value);
    } else if ('symlink' in value) {
      symlinkSync(value.symlink, abs);
    } else {
      writeFileSync(abs, value.content);
      if (value.mode !== undefined) chmodSync(abs, value.mode);
    }
  }
}

/**
 * Temp trees removed after each test of the calling file: `project` writes `spec` into a fresh one,
 * `track` hands over a folder made otherwise.
 */
export function testTrees(): { project: (label: string, spec: TreeSpec) => string; track: (root: string) => void } {
  const roots: string[] = [];
  afterEach(() => {
    while (roots.length > 0) removeTree(roots.pop() as string);
  });
  return {
    project(label, spec) {
      const root = tempDir(label);
      roots.push(root);
      writeTree(root, spec);
      return root;
    },
    track: (root) => void roots.push(root),
  };
}

export function removeTree(root: string): void {
  // Restore permissions first so a chmod 000 folder cannot make cleanup fail.
  try {
    chmodSync(root, 0o755);
  } catch {
    // already gone
  }
  rmSync(root, { recursive: true, force: true });
}

export interface ZipEntryInfo {
  name: string;
  /** Full unix mode from the external attributes (file type bits included). */
  mode: number;
  content: Buffer;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
}

function readStream(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Reads every entry of a zip back with yauzl, in archive order. */
export function readZip(zipPath: string): Promise<ZipEntryInfo[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      const entries: ZipEntryInfo[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          readStream(stream).then((content) => {
            entries.push({
              name: entry.fileName,
              mode: entry.externalFileAttributes >>> 16,
              content,
              method: entry.compressionMethod,
              compressedSize: entry.compressedSize,
            });
            zip.readEntry();
          }, reject);
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * True when this process can read a chmod 000 file anyway (root, or CAP_DAC_OVERRIDE in a
 * container): permission tests cannot make anything unreadable then.
 */
export function canBypassPermissions(): boolean {
  const dir = tempDir('perm-probe');
  try {
    const file = path.join(dir, 'probe');
    writeFileSync(file, 'x');
    chmodSync(file, 0o000);
    try {
      readFileSync(file);
      return true;
    } catch {
      return false;
    }
  } finally {
    removeTree(dir);
  }
}
