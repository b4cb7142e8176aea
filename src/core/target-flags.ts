/**
 * The flags that make a printed command (a consent's resume command, a diagnosis's fix command) act
 * on the same service as the run that printed it: without them a command copied from a run that
 * named its target with flags would act on the folder's link, another environment, or another
 * local gateway's data.
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

/**
 * An `opendeploy …` command with this run's target flags appended (commander accepts options after
 * the arguments). Anything else — no command, or advice that is not an opendeploy command — is
 * returned as it is.
 */
export function withTargetFlags(command: string | null, options: TargetFlagOptions): string | null {
  if (command === null || !command.startsWith('opendeploy')) return command;
  const flags = targetFlags(options);
  return flags.length === 0 ? command : `${command} ${shellQuote(flags)}`;
}

/** Every `opendeploy …` command quoted in backticks in a sentence, with the target flags appended. */
export function sentenceWithTargetFlags(sentence: string, options: TargetFlagOptions): string {
  if (targetFlags(options).length === 0) return sentence;
  return sentence.replace(/`(opendeploy(?: [^`]*)?)`/g, (_quoted, command: string) => `\`${withTargetFlags(command, options)}\``);
}

/**
 * A diagnosis (a triage report, a failed deployment's error details) whose fix command and the
 * commands its next action quotes carry the target flags; unchanged when no flag was given.
 */
export function diagnosisWithTargetFlags<T extends { fix_command?: unknown }>(diagnosis: T, nextAction: string, options: TargetFlagOptions): { diagnosis: T; nextAction: string } {
  if (targetFlags(options).length === 0) return { diagnosis, nextAction };
  const fix = typeof diagnosis.fix_command === 'string' ? withTargetFlags(diagnosis.fix_command, options) : diagnosis.fix_command;
  return { diagnosis: { ...diagnosis, fix_command: fix }, nextAction: sentenceWithTargetFlags(nextAction, options) };
}
