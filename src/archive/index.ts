/** The source archive: file selection (ignore rules, secrets, symlinks) and deterministic zip streaming. */
export { selectFiles, excludeSecretFiles, compareRel, type SelectedFile, type Selection, type SelectOptions } from './select.js';
export { walkProject, type ProjectListing, type WalkOptions } from './walk.js';
export { buildArchive, removeArchive, FIXED_MTIME, type ArchiveResult, type BuildOptions } from './zip.js';
export { manifestOf, isSecretFileName, type Manifest } from './manifest.js';
export { npmrcHasAuth } from './npmrc.js';
export {
  buildDirIsGeneratedOutput,
  EXCLUDED_DIR_NAMES,
  SECRET_DIR_NAMES,
  isExcludedDirName,
  isSecretBaseName,
} from './rules.js';
