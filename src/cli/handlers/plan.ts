import path from 'node:path';
import { OdError } from '../../core/errors.js';
import type { GlobalOptions } from '../../core/session.js';
import { resolveEnvironment } from '../../ops/connect.js';
import { environmentSource, humanPlan, planDeploy } from '../../ops/plan.js';
import { readProjectState } from '../../deploy/state.js';
import { readEnvFile } from '../options.js';
import { runHandler, type CommandEnv } from '../run.js';
import type { Invocation } from '../lazy.js';

export interface PlanOptions extends GlobalOptions {
  name?: string;
  varsFile?: string;
  /** `--env-file`, the older name of `--vars-file`. */
  envFile?: string;
}

export default async function planHandler({ args, options, io }: Invocation<PlanOptions>): Promise<number> {
  return runHandler(options, io, (env) => planCommand(args[0] as string | undefined, options, env));
}

/**
 * `opendeploy plan [path]` and `deploy --dry-run`: the plan, printed. Reads the folder and the
 * --vars-file only; no credential, no request, no file written.
 */
export async function planCommand(target: string | undefined, options: PlanOptions, { exec, reporter }: Pick<CommandEnv, 'exec' | 'reporter'>): Promise<number> {
  const root = path.resolve(exec.cwd, target ?? '.');
  if (options.varsFile !== undefined && options.envFile !== undefined && options.varsFile !== options.envFile) {
    throw new OdError('invalid_input', '--vars-file and --env-file name the same option, but two different files were given.', {
      nextAction: 'Pass one file with --vars-file.',
    });
  }
  const varsFile = options.varsFile ?? options.envFile;
  // The environment a deploy would target: the flag, OD_ENVIRONMENT, the link file, production.
  const linked = await readProjectState(root).catch(() => undefined);
  const environment = resolveEnvironment(options.env, exec.env, linked?.environment);
  const plan = await planDeploy({
    root,
    cwd: exec.cwd,
    environment,
    environmentFrom: environmentSource(options.env, exec.env),
    name: options.name,
    ...(varsFile !== undefined
      ? { varsFile: { label: varsFile, path: path.resolve(exec.cwd, varsFile), values: await readEnvFile(path.resolve(exec.cwd, varsFile)) } }
      : {}),
  });
  reporter.result(plan as unknown as Record<string, unknown>, humanPlan(plan));
  return 0;
}
