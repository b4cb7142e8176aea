/**
 * The archive summary that `analysis.json` carries in its `archive` field:
 * counts and secret-like paths only, never contents.
 */
import type { Selection } from './select.js';

export { isSecretFileName } from './rules.js';

export interface Manifest {
  files: number;
  bytes: number;
  excluded_secrets: string[];
}

export function manifestOf(selection: Selection): Manifest {
  return {
    files: selection.files.length,
    bytes: selection.totalBytes,
    excluded_secrets: [...selection.excludedSecrets],
  };
}
