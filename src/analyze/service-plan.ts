/**
 * Where a service is and what the service split decided about it (a plan), and the source-scan
 * results scoped to one service's folder. Shared by the split itself (services.ts) and the backend
 * workspaces (workspaces-backend.ts), which both produce plans.
 */
import type { BuildRoot } from './build-root.js';
import type { ComposeInfo } from './compose.js';
import type { ProcfileInfo } from './procfile.js';
import type { ScanResult } from './scan-model.js';
import type { Conclusion, WorkspaceMember } from './types.js';

export interface ServicePlan {
  /** Service folder relative to the root (`''` for the root). */
  dir: string;
  /** Name decided by the split (compose service name); otherwise the detection's name. */
  name?: Conclusion<string>;
  /** Appended to the detected name (`-worker` for a Procfile worker next to web). */
  nameSuffix?: string;
  /** Why this is a service of a multi-service split (evidence), or '' for a single service. */
  split: string;
  role: 'web' | 'worker' | 'auto';
  /** Start command decided by the split (Procfile line, compose `command:`). */
  start?: Conclusion<string>;
  /** Entry file the split's start command runs, when it names one. */
  entry?: string;
  /** Compose view for this service; undefined: read the folder's compose file. */
  compose?: ComposeInfo | null;
  /** Procfile web entry that applies; undefined: read the folder's Procfile; null: none. */
  procfile?: ProcfileInfo | null;
  /** Dockerfile path from compose `build.dockerfile`. */
  dockerfile?: string;
  workspace?: WorkspaceMember;
  /** Build target inside the folder when it holds several services (Go `cmd/<name>`). */
  target?: string;
  /** Folders of other services inside this one: their files are not this service's source. */
  exclude: string[];
  /** Folders outside `dir` whose source is this service's too (a Cargo binary's library crates in its workspace). */
  include?: string[];
  /** Set when the service is built from a folder above `dir` (compose build context): see build-root.ts. */
  buildRoot?: BuildRoot;
}


/** The scan results of files under `dir`, without those under `exclude`, plus those under `include`. */
export function scopeScan(scan: ScanResult, dir: string, exclude: readonly string[], include: readonly string[] = []): ScanResult {
  if (dir === '' && exclude.length === 0) return scan;
  const under = (file: string, folder: string): boolean => folder === '' || file.startsWith(`${folder}/`);
  const keep = (hit: { file: string }): boolean =>
    include.some((folder) => under(hit.file, folder)) || (under(hit.file, dir) && !exclude.some((other) => other !== dir && hit.file.startsWith(`${other}/`)));
  return {
    envRefs: scan.envRefs.filter(keep),
    portHints: scan.portHints.filter(keep),
    httpHits: scan.httpHits.filter(keep),
    healthRoutes: scan.healthRoutes.filter(keep),
    miningHits: scan.miningHits.filter(keep),
    pyApps: scan.pyApps.filter(keep),
    scannedFiles: scan.scannedFiles,
    publicEnvPrefixes: scan.publicEnvPrefixes,
  };
}
