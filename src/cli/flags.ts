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


/** The program's global options as a command's help names them. */
const GLOBAL_OPTION_TERMS = {
  project: '--project <id>',
  service: '--service <id>',
  env: '--env <environment>',
  gateway: '--gateway <url>',
  authFile: '--auth-file <path>',
  local: '--local',
  yes: '--yes (-y)',
  json: '--json',
  quiet: '--quiet (-q)',
  verbose: '--verbose',
  color: '--no-color',
} as const;

export type GlobalOptionName = keyof typeof GLOBAL_OPTION_TERMS;

/** Which service a command acts on, and through which gateway and credential. */
export const TARGET_GLOBALS: readonly GlobalOptionName[] = ['project', 'service', 'env', 'gateway', 'authFile', 'local'];
/** How a command reports: every command run through the CLI's one output path honours these. */
export const OUTPUT_GLOBALS: readonly GlobalOptionName[] = ['json', 'quiet', 'verbose', 'color'];

/**
 * The help block naming the global options a command acts on (commander lists only a command's own
 * options, and not every global option means something to every command).
 */
export function globalOptionsHelp(names: readonly GlobalOptionName[]): string {
  // Commander ends each help text with a newline of its own.
  if (names.length === 0) return '\nGlobal options it honours: none.';
  const lines: string[] = [];
  let line = '';
  for (const term of names.map((name) => GLOBAL_OPTION_TERMS[name])) {
    const next = line === '' ? term : `${line}, ${term}`;
    if (line !== '' && next.length > 90) {
      lines.push(`  ${line},`);
      line = term;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(`  ${line}`);
  return `\nGlobal options it honours (see \`opendeploy --help\`):\n${lines.join('\n')}`;
}
