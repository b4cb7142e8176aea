/**
 * A service whose app lives below the folder it is built from: compose `build: {context: .,
 * dockerfile: server/Dockerfile}` builds from the repository root (so shared sibling folders such as
 * `shared/` are in the build context) while the manifest is in `server/`.
 *
 * The detectors analyse the app's own folder (`server/`); then the service is expressed from the
 * build root: `source_path` is the build context (what is uploaded and built), the Dockerfile path
 * stays repository-relative, and the detected commands and paths are rewritten to run from the
 * build root (`cd server && npm start`, entry `server/index.js`).
 */
import type { AnalyzedService } from './schema.js';

export interface BuildRoot {
  /** The folder the service is built from (`''` for the repository root). */
  root: string;
  /** Why (the compose key that sets the build context). */
  evidence: string;
}

/** `dir` relative to `root` (`root` contains `dir`). */
function below(root: string, dir: string): string {
  return root === '' ? dir : dir.slice(root.length + 1);
}

/** Rewrites a service detected in `dir` so that it is built and run from `build.root`. */
export function rebaseOnBuildRoot(service: AnalyzedService, dir: string, build: BuildRoot): void {
  if (dir === build.root || !(build.root === '' || dir.startsWith(`${build.root}/`))) return;
  const rel = below(build.root, dir);
  const rewrite: Partial<Record<'scripts_build' | 'scripts_start' | 'entry_point' | 'output_directory', string>> = {};
  if (service.scripts_build !== '') rewrite.scripts_build = `cd ${rel} && ${service.scripts_build}`;
  if (service.scripts_start !== '') rewrite.scripts_start = `cd ${rel} && ${service.scripts_start}`;
  if (service.entry_point !== '') rewrite.entry_point = `${rel}/${service.entry_point}`;
  if (service.output_directory !== '') rewrite.output_directory = `${rel}/${service.output_directory}`;
  Object.assign(service, rewrite);
  for (const item of service.evidence) {
    const value = rewrite[item.decision as keyof typeof rewrite];
    if (value !== undefined) item.value = value;
  }
  const sourcePath = build.root === '' ? '.' : build.root;
  service.source_path = sourcePath;
  service.evidence.push({
    decision: 'source_path',
    value: sourcePath,
    evidence: `${build.evidence}: built from ${sourcePath} with the app in ${dir}; commands run from ${sourcePath}`,
  });
}
