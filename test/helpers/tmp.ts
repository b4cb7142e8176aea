import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

const created: string[] = [];

export async function tempDir(prefix = 'od-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Copies fixtures/apps/<name> to a fresh temp folder, so deploy state never lands in the repo. */
export async function copyFixture(name: string): Promise<string> {
  const dir = await tempDir(`od-${name}-`);
  const target = path.join(dir, name);
  await cp(path.join(REPO_ROOT, 'fixtures', 'apps', name), target, { recursive: true });
  return target;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
