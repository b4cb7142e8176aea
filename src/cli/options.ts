import { parseEnv } from 'node:util';
import { readFile } from 'node:fs/promises';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import type { Environment } from '../deploy/context.js';

/** `--env` > `OD_ENVIRONMENT` > the linked environment > production; anything else is an error. */
export function resolveEnvironment(flag: string | undefined, env: NodeJS.ProcessEnv, linked?: string): Environment {
  const source = flag !== undefined ? '--env' : env.OD_ENVIRONMENT !== undefined && env.OD_ENVIRONMENT !== '' ? 'OD_ENVIRONMENT' : undefined;
  const value = flag ?? (env.OD_ENVIRONMENT || undefined) ?? linked ?? 'production';
  if (value === 'production' || value === 'staging') return value;
  throw new OdError('invalid_input', `${source ?? 'The environment'} is "${value}", but only "production" and "staging" exist.`, {
    nextAction: `Use ${source ?? '--env'} production (the default) or staging.`,
  });
}

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

/** Polling cadence: the embedded gateway answers in microseconds, the hosted one wants restraint. */
export function pollIntervalFor(gateway: string | undefined): number {
  if (!gateway) return 2000;
  try {
    const host = new URL(gateway).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' ? 250 : 2000;
  } catch {
    return 2000;
  }
}
