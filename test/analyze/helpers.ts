import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { analyzeProject } from '../../src/analyze/index.js';
import { AnalysisSchema, type Analysis } from '../../src/analyze/schema.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/apps');
/** Goldens live outside the apps, so deploying or analyzing a fixture never sees its own expectations. */
export const EXPECTED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/expected');

export function goldenPath(name: string): string {
  return path.join(EXPECTED, `${name}.json`);
}

/**
 * Copies a fixture into a fresh temp folder with the same base name, leaving out any
 * `.opendeploy/` state a CLI run may have left behind.
 */
export async function copyFixture(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(path.join(tmpdir(), 'od-analyze-'));
  const dir = path.join(parent, name);
  const source = path.join(FIXTURES, name);
  await cp(source, dir, {
    recursive: true,
    filter: (from) => {
      const rel = path.relative(source, from);
      return rel.split(path.sep)[0] !== '.opendeploy';
    },
  });
  return { dir, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

/** A temp folder for hand-built trees. */
export async function tempDir(name = 'project'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(path.join(tmpdir(), 'od-analyze-'));
  const dir = path.join(parent, name);
  return { dir, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

const trees: Array<() => Promise<void>> = [];

/** Writes `files` (relative path → content) into a fresh temp folder named `name`; returns it. */
export async function writeTree(files: Record<string, string>, name = 'project'): Promise<string> {
  const { dir, cleanup } = await tempDir(name);
  trees.push(cleanup);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

/** Analyzes a hand-built tree (cwd = the tree, so `root` is "."); the result must fit the schema. */
export async function analyzeFiles(files: Record<string, string>, name = 'project'): Promise<Analysis> {
  const dir = await writeTree(files, name);
  const analysis = await analyzeProject(dir, { cwd: dir });
  const parsed = AnalysisSchema.safeParse(analysis);
  if (!parsed.success) throw new Error(`analysis does not fit the schema: ${parsed.error.message}`);
  return analysis;
}

/** Removes every tree written since the last call (for afterEach). */
export async function removeTrees(): Promise<void> {
  await Promise.all(trees.splice(0).map((cleanup) => cleanup()));
}
