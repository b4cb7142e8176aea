/**
 * Environments for install, build and app processes: this machine's environment minus the CLI's own
 * credentials and npm's per-invocation variables, plus the service's variables, PATH additions and
 * (for apps) PORT and HOST.
 */

import path from 'node:path';

/** The CLI's own settings and tokens never reach app code; npm_* of an outer `npx` would confuse inner npm runs. */
const DROPPED = /^(OPENDEPLOY_|OPDEPLOY_|OD_|npm_|NPM_CONFIG_|INIT_CWD$|VITEST|NODE_TEST_CONTEXT$)/;

export const LOCAL_ID_VARIABLE = 'OPENDEPLOY_LOCAL_ID';

export function baseEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || DROPPED.test(key)) continue;
    env[key] = value;
  }
  return env;
}

function withPath(env: NodeJS.ProcessEnv, prepend: string[]): string {
  return [...prepend, env.PATH ?? ''].filter((p) => p !== '').join(path.delimiter);
}

export interface EnvInput {
  /** Variables of the service (build_variables for builds, runtime_variables for apps). */
  variables: Record<string, string>;
  /** Plan additions (VIRTUAL_ENV, BUNDLE_PATH, …). */
  planEnv: Record<string, string>;
  pathPrepend: string[];
  /** Marks every process of a deployment or dependency, so a leftover one can be recognised. */
  localId: string;
  source?: NodeJS.ProcessEnv;
}

export function buildEnv(input: EnvInput): NodeJS.ProcessEnv {
  const env = { ...baseEnv(input.source), ...input.planEnv, ...input.variables };
  env.PATH = withPath(env, input.pathPrepend);
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  env.npm_config_update_notifier = 'false';
  env[LOCAL_ID_VARIABLE] = input.localId;
  return env;
}

export function runtimeEnv(input: EnvInput & { port: number }): NodeJS.ProcessEnv {
  const env = { ...baseEnv(input.source), ...input.planEnv, ...input.variables };
  env.PATH = withPath(env, input.pathPrepend);
  // The app must bind this port: the analysis' PORT is replaced by a free local one.
  env.PORT = String(input.port);
  env.HOST = '127.0.0.1';
  env[LOCAL_ID_VARIABLE] = input.localId;
  return env;
}

/** A JSON env snapshot from a deployment row (`runtime_variables`, `build_variables`); {} when unreadable. */
export function parseVariables(json: string | undefined): Record<string, string> {
  try {
    const value = JSON.parse(json ?? '{}') as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
    return out;
  } catch {
    return {};
  }
}
