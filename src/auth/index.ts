export {
  DEFAULT_GATEWAY,
  displayPath,
  expandPath,
  isInHome,
  resolveAuthFile,
  resolveAuthFileWithSource,
  resolveHome,
} from './paths.js';
export type { AuthFileSource } from './paths.js';
export { AUTH_FILE_VERSION, AuthFileSchema, readAuthFile, writeAuthFile } from './file.js';
export type { AuthFileData, AuthFileOptions, ReadAuthFileResult, WriteAuthFileOptions } from './file.js';
export { apiKeysUrl, claimUrl, dashboardBase, dashboardUrl, describeToken, tokenKind } from './token.js';
export type { TokenKind } from './token.js';
export {
  authInvalidError,
  effectiveGateway,
  isBound,

  isInteractiveRun,
  resolveCredential,
  sourceHint,
} from './resolve.js';
export type { RegisterClient, RegisterResponse, ResolveCredentialInput, ResolvedCredential } from './resolve.js';
