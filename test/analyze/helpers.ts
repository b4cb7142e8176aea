import { cp, mkdtemp, rm } from 'node:fs/promises';
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
