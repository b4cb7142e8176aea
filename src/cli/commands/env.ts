import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, noRedeployOption, OUTPUT_GLOBALS, showSecretsOption, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';
// Shared with the handler through a module of its own, so the handler never imports this file.
import { DEFAULT_PULL_FILE } from './env-defaults.js';

/** `env list` and `env get` only read; the others may ask first, so they honour --yes too. */
const READING = [...TARGET_GLOBALS, ...OUTPUT_GLOBALS];
const CHANGING = [...TARGET_GLOBALS, 'yes' as const, ...OUTPUT_GLOBALS];

export function registerEnv(program: Command, wiring: Wiring): void {
  const handlers = () => import('../handlers/env.js');
  const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((line) => `  $ ${line}\n`).join('')}`;
  const env = program
    .command('env')
    .description('runtime variables of the linked service (values redacted unless --show-secrets)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp(CHANGING))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ opendeploy env list                         names, values hidden',
        '  $ opendeploy env get DATABASE_URL --show-secrets',
        '  $ printf %s "$TOKEN" | opendeploy env set API_TOKEN   value from stdin (not in shell history)',
        '  $ opendeploy env set API_TOKEN                asks for the value at a terminal (input hidden)',
        '  $ opendeploy env set API_TOKEN --from-file token.txt',
        '  $ opendeploy env set API_KEY JWT_SECRET --vars-file .env.production   those keys from a dotenv file',
        '  $ opendeploy env unset OLD_FLAG --yes',
        '  $ opendeploy env rotate --vars-file .env.production  full replacement, then redeploy',
        '  $ opendeploy env rotate --vars-file .env.production --dry-run   the key-level diff only',
        '  $ opendeploy env rotate SESSION_KEY --generate       new random secret, then redeploy',
        `  $ opendeploy env pull                         writes ${DEFAULT_PULL_FILE} (mode 0600)`,
        '',
      ].join('\n'),
    );

  env
    .command('list', { isDefault: true })
    .description('list variable names (values hidden unless --show-secrets)')
    .addOption(showSecretsOption('print the values too'))
    .addHelpText('after', globalOptionsHelp(READING))
    .addHelpText('after', examples('opendeploy env list', 'opendeploy env list --show-secrets --service api', 'opendeploy env list --json'))
    .action(lazyAction(wiring, async () => (await handlers()).list));

  env
    .command('get <key>')
    .description('show one variable (value hidden unless --show-secrets)')
    .addOption(showSecretsOption('print the value'))
    .addHelpText('after', globalOptionsHelp(READING))
    .addHelpText('after', examples('opendeploy env get DATABASE_URL', 'DATABASE_URL=$(opendeploy env get DATABASE_URL --show-secrets)'))
    .action(lazyAction(wiring, async () => (await handlers()).get));

  env
    .command('set <assignments...>')
    .description('set KEY=VALUE pairs, KEYs taken from --vars-file, or one KEY whose value comes from --from-file, stdin or a hidden prompt; merges, never drops other keys')
    .option('--vars-file <file>', 'dotenv file the named KEYs take their values from (the same flag as deploy and env rotate)')
    .option('--from-file <file>', 'read the value of the one KEY from this file (one trailing newline is dropped)')
    .option('--dry-run', 'show what would change (names only) and change nothing')
    .addHelpText('after', globalOptionsHelp(CHANGING))
    .addHelpText(
      'after',
      examples(
        'printf %s "$TOKEN" | opendeploy env set API_TOKEN   value from stdin (not in shell history)',
        'opendeploy env set API_TOKEN                asks for the value at a terminal (input hidden)',
        'opendeploy env set API_KEY JWT_SECRET --vars-file .env.production',
        'opendeploy env set LOG_LEVEL=debug --dry-run',
      ),
    )
    .action(lazyAction(wiring, async () => (await handlers()).set));

  env
    .command('unset <keys...>')
    .description('remove variables (asks first; --yes to skip)')
    .option('--dry-run', 'show what would change (names only) and change nothing')
    .addHelpText('after', globalOptionsHelp(CHANGING))
    .addHelpText('after', examples('opendeploy env unset OLD_FLAG', 'opendeploy env unset OLD_FLAG OTHER_FLAG --yes --json'))
    .action(lazyAction(wiring, async () => (await handlers()).unset));

  env
    .command('rotate [key]')
    .description('replace all variables with a dotenv file (--vars-file), or one KEY with a generated secret (--generate); then redeploy')
    .option('--vars-file <file>', 'dotenv file that becomes the complete set of variables (keys not in it are removed)')
    .option('--from <file>', 'the same as --vars-file (older name)')
    .option('--generate', 'with KEY: set it to a new random secret (32 bytes, base64url)')
    .addOption(noRedeployOption('change the variables only; the running deployment keeps the old values until the next deploy'))
    .addOption(showSecretsOption('with --generate: print the generated value'))
    .option('--dry-run', 'show what would change (names only), ask nothing and change nothing')
    .addHelpText('after', globalOptionsHelp(CHANGING))
    .addHelpText(
      'after',
      examples(
        'opendeploy env rotate --vars-file .env.production            full replacement, then redeploy',
        'opendeploy env rotate --vars-file .env.production --dry-run  the key-level diff only',
        'opendeploy env rotate SESSION_KEY --generate                 new random secret, then redeploy',
      ),
    )
    .action(lazyAction(wiring, async () => (await handlers()).rotate));

  env
    .command('pull [file]')
    .description(`write the variables to a dotenv file (default ${DEFAULT_PULL_FILE}, mode 0600); --yes to overwrite`)
    .addHelpText('after', globalOptionsHelp(CHANGING))
    .addHelpText('after', examples(`opendeploy env pull                 writes ${DEFAULT_PULL_FILE}`, 'opendeploy env pull .env.local --yes  overwrites .env.local'))
    .action(lazyAction(wiring, async () => (await handlers()).pull));
}
