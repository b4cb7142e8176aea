/** A declared dependency, shared by every manifest parser (manifests.ts, manifests-backend.ts). */
export type Ecosystem = 'npm' | 'pypi' | 'go' | 'cargo' | 'composer' | 'rubygems' | 'maven' | 'nuget' | 'hex';

/** One declared dependency, with where it was declared (for evidence). */
export interface Dependency {
  ecosystem: Ecosystem;
  /** Normalised name: npm names as written, PyPI names per PEP 503 (lowercase, `-`). */
  name: string;
  /** Extras for PyPI (`celery[redis]` -> `["redis"]`), features elsewhere. */
  extras: string[];
  /** Version requirement as written (may be empty). */
  spec: string;
  /** `package.json: dependencies.express`, `requirements.txt:3`, ... */
  source: string;
  /** Development-only (devDependencies, dev groups): not counted as runtime needs. */
  dev: boolean;
}
