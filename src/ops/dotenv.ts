/**
 * Dotenv reading and writing for `env rotate --vars-file`, `env set --vars-file` and `env pull`. Parsing is Node's own
 * `util.parseEnv`; writing picks, per value, the first quoting that parses back to exactly the
 * same value, so a pulled file can be fed to `env rotate --vars-file` unchanged.
 */
import { parseEnv } from 'node:util';
import { appendFile, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isSecretFileName } from '../archive/index.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

/** Variable names the gateway accepts: letters, digits, underscores, not starting with a digit. */
export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_ENV_KEY_LENGTH = 128;
export const MAX_ENV_VALUE_BYTES = 32 * 1024;

export function envKeyProblem(key: string): string | undefined {
  if (key.length > MAX_ENV_KEY_LENGTH) return `is longer than ${MAX_ENV_KEY_LENGTH} characters`;
  if (!ENV_KEY_PATTERN.test(key)) return 'must use letters, digits and underscores and not start with a digit';
  return undefined;
}

/** `invalid_input` for a bad key name (the name is shown cut to 40 characters: it is not a secret). */
export function assertEnvKey(key: string): void {
  const problem = envKeyProblem(key);
  if (problem) {
    const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    throw new OdError('invalid_input', `The variable name "${shown}" ${problem}.`, {
      nextAction: 'Use a name like DATABASE_URL: letters, digits and underscores, at most 128 characters.',
    });
  }
}

/** `invalid_input` for a value over 32 KiB (the gateway's limit); the value itself is never shown. */
export function assertEnvValue(key: string, value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ENV_VALUE_BYTES) {
    throw new OdError('invalid_input', `The value of ${key} is ${bytes} bytes; the gateway accepts at most 32 KiB (${MAX_ENV_VALUE_BYTES} bytes).`, {
      nextAction: 'Store large data elsewhere (a file in the source, a database) and keep only a reference in the variable.',
    });
  }
}

/** Parses dotenv text; every value is registered as a secret before anything could print it. */
export function parseDotenv(text: string, label: string): Record<string, string> {
  const parsed = parseEnv(text);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    registerSecret(value);
    const problem = envKeyProblem(key);
    if (problem) {
      throw new OdError('invalid_input', `${label} has a variable name that ${problem}: "${key.slice(0, 40)}".`, {
        nextAction: 'Fix the name in the file: letters, digits and underscores, at most 128 characters.',
      });
    }
    assertEnvValue(key, value);
    out[key] = value;
  }
  return out;
}

/** Reads and parses a dotenv file; `flag` is the option that named it, for the hint when it cannot be read. */
export async function readDotenvFile(file: string, flag = '--vars-file'): Promise<Record<string, string>> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    throw new OdError('invalid_input', `Could not read the dotenv file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {
      nextAction: `Check the path given to ${flag}.`,
    });
  }
  return parseDotenv(raw, file);
}

const UNQUOTED_SAFE = /^[A-Za-z0-9_./:@%+,=-]+$/;

/** One `KEY=value` line whose value parses back exactly, or undefined when no quoting can carry it. */
export function formatDotenvLine(key: string, value: string): string | undefined {
  const candidates = [
    ...(UNQUOTED_SAFE.test(value) || value === '' ? [value] : []),
    `'${value}'`,
    `"${value}"`,
    `\`${value}\``,
  ];
  for (const candidate of candidates) {
    const line = `${key}=${candidate}`;
    const parsed = parseEnv(`${line}\n`);
    // Exactly this one key with exactly this value: a value can never smuggle in another line.
    if (Object.keys(parsed).length === 1 && parsed[key] === value) return line;
  }
  return undefined;
}

/**
 * Dotenv text for a whole map, keys sorted. Throws `invalid_input` naming (never showing) the
 * values no dotenv quoting can represent, rather than writing a file that reads back differently.
 */
export function formatDotenv(variables: Record<string, string>, header: string[] = []): string {
  const lines = header.map((line) => `# ${line}`);
  const impossible: string[] = [];
  for (const key of Object.keys(variables).sort()) {
    const line = formatDotenvLine(key, variables[key]!);
    if (line === undefined) impossible.push(key);
    else lines.push(line);
  }
  if (impossible.length > 0) {
    throw new OdError('invalid_input', `The values of ${impossible.join(', ')} cannot be written to a dotenv file so that they read back unchanged (they mix quote characters with line breaks or carriage returns).`, {
      nextAction: 'Read those variables one by one with `opendeploy env get KEY --show-secrets`.',
      details: { keys: impossible },
    });
  }
  return `${lines.join('\n')}\n`;
}

/** The dotenv file `env pull` writes: 0600, atomically. */
export function writeSecretFileAtomic(file: string, text: string): Promise<void> {
  return writeFileAtomic(file, text, 0o600);
}

/** How a pulled file is kept out of the source archive (see `keepOutOfArchive`). */
export type ArchiveProtection =
  /** Outside the project folder: never archived. */
  | 'outside'
  /** Its name is secret-like (`.env.opendeploy` matches `.env.*`): never archived. */
  | 'secret_name'
  /** `.opendeployignore` already lists it. */
  | 'listed'
  /** Its path was appended to `.opendeployignore` (created when missing). */
  | 'added';

/** Characters special in a gitignore pattern, escaped so the line names exactly one path. */
const IGNORE_SPECIAL = /[\\*?[\]!#\s]/g;

/** `/rel` with gitignore specials escaped: an anchored pattern for exactly this file. */
export function ignoreLineFor(rel: string): string {
  return `/${rel.replace(IGNORE_SPECIAL, (ch) => `\\${ch}`)}`;
}

/**
 * `env pull` writes every value of the service into a file; inside the project folder that file
 * would be uploaded by the next `deploy` or `redeploy --source`. Called BEFORE the file is written:
 * a name the archive already treats as secret needs nothing; any other path inside `root` is
 * appended to `.opendeployignore` (created when missing), whose patterns go last and so win over
 * `.gitignore`. When that cannot be written, this throws and the pull writes nothing.
 */
export async function keepOutOfArchive(file: string, root: string): Promise<ArchiveProtection> {
  const realRoot = await realpath(root).catch(() => path.resolve(root));
  const realDir = await realpath(path.dirname(path.resolve(file))).catch(() => path.dirname(path.resolve(file)));
  const rel = path.relative(realRoot, path.join(realDir, path.basename(file))).split(path.sep).join('/');
  if (rel === '' || rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) return 'outside';
  if (isSecretFileName(rel)) return 'secret_name';
  const ignoreFile = path.join(realRoot, '.opendeployignore');
  const line = ignoreLineFor(rel);
  let current = '';
  try {
    current = await readFile(ignoreFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(rel, error);
  }
  if (current.split(/\r?\n/).some((existing) => existing.trim() === line)) return 'listed';
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  try {
    await appendFile(ignoreFile, `${separator}# written by \`opendeploy env pull\`: holds secret values, never upload it\n${line}\n`);
  } catch (error) {
    throw refuse(rel, error);
  }
  return 'added';
}

function refuse(rel: string, error: unknown): OdError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  return new OdError('invalid_input', `Refusing to write ${rel}: it is inside the project, and .opendeployignore could not be updated to keep it out of uploads (${code}).`, {
    nextAction: 'Pull into a file outside the project folder, or into .env.opendeploy (the default, never uploaded).',
  });
}
