/**
 * Where the user-scoped state lives and which credential file a run uses.
 *
 * Home: `OPENDEPLOY_HOME` or `~/.opendeploy`.
 * Credential file: `--auth-file` flag > `OPDEPLOY_AUTH_FILE` (the spelling older clients use) >
 * `OPENDEPLOY_AUTH_FILE` (alias) > `<home>/auth.json`. Empty values count as unset.
 */
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';

export const DEFAULT_GATEWAY = 'https://dashboard.dev.opendeploy.dev/api';

export type AuthFileSource = 'flag' | 'env' | 'alias' | 'home';

function nonEmpty(value: string | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Expands a leading `~` (quoted env values are not expanded by the shell) and makes the path absolute. */
export function expandPath(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/') || path.startsWith(`~${sep}`)) return join(homedir(), path.slice(2));
  return resolve(path);
}

/** The user-scoped opendeploy folder: `OPENDEPLOY_HOME` or `~/.opendeploy`. */
export function resolveHome(env: NodeJS.ProcessEnv): string {
  const fromEnv = nonEmpty(env['OPENDEPLOY_HOME']);
  return fromEnv === undefined ? join(homedir(), '.opendeploy') : expandPath(fromEnv);
}

/** The credential file path and which source chose it. */
export function resolveAuthFileWithSource(input: {
  flagAuthFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  home: string;
}): { path: string; source: AuthFileSource } {
  const flag = nonEmpty(input.flagAuthFile);
  if (flag !== undefined) return { path: expandPath(flag), source: 'flag' };
  const env = nonEmpty(input.env['OPDEPLOY_AUTH_FILE']);
  if (env !== undefined) return { path: expandPath(env), source: 'env' };
  const alias = nonEmpty(input.env['OPENDEPLOY_AUTH_FILE']);
  if (alias !== undefined) return { path: expandPath(alias), source: 'alias' };
  return { path: join(resolve(input.home), 'auth.json'), source: 'home' };
}

/** The credential file path: flag > OPDEPLOY_AUTH_FILE > OPENDEPLOY_AUTH_FILE > `<home>/auth.json`. */
export function resolveAuthFile(input: { flagAuthFile?: string | undefined; env: NodeJS.ProcessEnv; home: string }): string {
  return resolveAuthFileWithSource(input).path;
}

/** True when the credential file sits directly in the opendeploy home folder (a folder we own). */
export function isInHome(authFile: string, home: string): boolean {
  return resolve(dirname(authFile)) === resolve(home);
}

/** Shortens a path under the user's home folder to `~/…` for messages. */
export function displayPath(path: string): string {
  const home = homedir();
  if (home !== '' && home !== sep && (path === home || path.startsWith(home + sep))) {
    return `~${path.slice(home.length)}`;
  }
  return path;
}
