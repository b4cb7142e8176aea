/**
 * The flags that make a printed command (a consent's resume command, a diagnosis's fix command) act
 * on the same service as the run that printed it: without them a command copied from a run that
 * named its target with flags would act on the folder's link, another environment, or another
 * local gateway's data. Commands are written with these flags where they are built (the playbook,
 * the consent gates), never patched into printed text afterwards.
 */
import { shellQuote } from './text.js';

export interface TargetFlagOptions {
  project?: string | undefined;
  service?: string | undefined;
  env?: string | undefined;
  gateway?: string | undefined;
  authFile?: string | undefined;
  local?: boolean | undefined;
  dataDir?: string | undefined;
}

/** The target flags this run was given, as argv words (in the order `--help` lists them). */
export function targetFlags(options: TargetFlagOptions): string[] {
  const argv: string[] = [];
  if (options.project) argv.push('--project', options.project);
  if (options.service) argv.push('--service', options.service);
  if (options.env) argv.push('--env', options.env);
  if (options.gateway) argv.push('--gateway', options.gateway);
  if (options.authFile) argv.push('--auth-file', options.authFile);
  if (options.local) argv.push('--local');
  if (options.dataDir) argv.push('--data-dir', options.dataDir);
  return argv;
}

/** Writes `opendeploy <words>` followed by a run's target flags. */
export type CommandWriter = (words?: string) => string;

/**
 * The writer of every `opendeploy …` command a diagnosis or a consent prints: the words as given
 * (placeholders such as `KEY=...` or `<file>` stay readable), then the target flags, shell-quoted
 * (commander accepts options after the arguments).
 */
export function commandWriter(flags: readonly string[] = []): CommandWriter {
  const suffix = flags.length > 0 ? ` ${shellQuote([...flags])}` : '';
  return (words = '') => `opendeploy${words ? ` ${words}` : ''}${suffix}`;
}

/**
 * An `opendeploy …` command with this run's target flags appended. Anything else — no command, or
 * advice that is not an opendeploy command — is returned as it is.
 */
export function withTargetFlags(command: string | null, options: TargetFlagOptions): string | null {
  if (command === null || !command.startsWith('opendeploy')) return command;
  return commandWriter(targetFlags(options))(command.slice('opendeploy'.length).trimStart());
}
