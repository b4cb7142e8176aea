/**
 * Where the folder's state files live and how they are written, without the link file's zod schema:
 * `analyze` writes analysis.json through here and never loads zod.
 */
import { randomBytes } from 'node:crypto';
import { access, link, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';

export function stateDir(root: string): string {
  return path.join(root, '.opendeploy');
}

/** project.json and analysis.json are replaced atomically, so a crash never leaves half a file. */
export async function writeJsonAtomic(file: string, data: unknown, mode = 0o644): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`, mode);
}

/** analysis.json: the last local analysis (never contains env values). */
export async function writeAnalysisFile(root: string, analysis: unknown): Promise<void> {
  await writeJsonAtomic(path.join(stateDir(root), 'analysis.json'), analysis);
  await writeStateGitignore(root);
}

/**
 * `.opendeploy/.gitignore`: project.json is the link a teammate or a CI job needs, so it may be
 * committed; everything else in the folder describes this machine's runs. The project's own
 * .gitignore is never touched.
 */
export const STATE_GITIGNORE = [
  '# Written by opendeploy. Commit project.json (the link: ids and names, no secrets);',
  "# the files below are this machine's own.",
  'local.json',
  'upload.json',
  'analysis.json',
  'dependency-*.json',
  '*.tmp',
  '',
].join('\n');

/**
 * Writes `.opendeploy/.gitignore` when there is none; one the user edited (or emptied) is theirs
 * and stays as it is. It appears whole or not at all: a complete temp file is hard-linked into
 * place, which also fails rather than overwrite one a concurrent run wrote first. Best effort: the
 * state itself is already saved, and a folder where this fails must not fail the deploy.
 */
export async function writeStateGitignore(root: string): Promise<void> {
  const file = path.join(stateDir(root), '.gitignore');
  try {
    await access(file);
    return;
  } catch {
    // Absent: write it.
  }
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFileAtomic(temp, STATE_GITIGNORE);
    await link(temp, file).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return;
      // A file system without hard links: an exclusive create is the next best thing.
      await writeFile(file, STATE_GITIGNORE, { flag: 'wx' });
    });
  } catch {
    // Left without a .gitignore; the next write tries again.
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
