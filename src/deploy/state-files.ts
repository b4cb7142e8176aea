/**
 * Where the folder's state files live and how they are written, without the link file's zod schema:
 * `analyze` writes analysis.json through here and never loads zod.
 */
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
}
