import { parseEnv } from 'node:util';
import { readFile } from 'node:fs/promises';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

/** Reads `--vars-file` (`--env-file`) values; each value is registered as a secret so it is never printed. */
export async function readEnvFile(file: string): Promise<Record<string, string>> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    throw new OdError('invalid_input', `Could not read the env file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, {
      nextAction: 'Check the path given to --vars-file (--env-file).',
    });
  }
  const parsed = parseEnv(raw);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new OdError('invalid_input', `The env file ${file} has an invalid variable name "${key}".`, {
        nextAction: 'Variable names use letters, digits and underscores and do not start with a digit.',
      });
    }
    out[key] = value;
    registerSecret(value);
  }
  return out;
}
