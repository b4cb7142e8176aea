/**
 * A folder analysed the way every command needs it: one walk shared by the archive's selection and
 * the analysis (the listing carries the small files' contents the secret checks already read), so
 * what analysis reads is exactly what the archive would upload, and the tree is listed once.
 */
import { manifestOf } from '../archive/manifest.js';
import { selectFiles, type Selection } from '../archive/select.js';
import { walkProject } from '../archive/walk.js';
import { analyzeProject } from './index.js';
import type { Analysis } from './schema.js';

export interface AnalyzedFolder {
  analysis: Analysis;
  /** The files a deploy would archive. */
  selection: Selection;
}

/** `cwd`: what the analysis's `root` is relative to (default: the process's working directory). */
export async function analyzeFolder(root: string, options: { cwd?: string } = {}): Promise<AnalyzedFolder> {
  const listing = await walkProject(root);
  const selection = await selectFiles(root, { listing });
  const analysis = await analyzeProject(root, { archive: manifestOf(selection), listing, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  return { analysis, selection };
}
