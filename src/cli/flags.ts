/**
 * Option constructors shared by several commands, so a flag has one spelling and one description
 * everywhere it is accepted.
 */
import type { Option } from 'commander';
import { Option as OptionClass } from './commander.js';

/** `--data-dir`: where the embedded local gateway keeps its state (commands that accept --local). */
export function dataDirOption(): Option {
  return new OptionClass('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state');
}

/** `--show-secrets`: values are hidden unless the user asks; what is shown depends on the command. */
export function showSecretsOption(what: string): Option {
  return new OptionClass('--show-secrets', `${what} (stdout only; never logged)`);
}

/** `--force` for commands that upload: re-upload even when the digest is unchanged. */
export function forceUploadOption(scope = ''): Option {
  return new OptionClass('--force', `${scope}re-upload the source even when it is unchanged since the last upload`);
}

/** `--no-redeploy` for commands that change variables and would otherwise redeploy. */
export function noRedeployOption(description: string): Option {
  return new OptionClass('--no-redeploy', description);
}

