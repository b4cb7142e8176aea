import type { Command } from 'commander';
import { dataDirOption, noRedeployOption, showSecretsOption } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';
// Shared with the handler through a module of its own, so the handler never imports this file.
import { DEFAULT_PULL_FILE } from './env-defaults.js';

export function registerEnv(program: Command, wiring: Wiring): void {
  const handlers = () => import('../handlers/env.js');
  const env = program
    .command('env')
    .description('runtime variables of the linked service (values redacted unless --show-secrets)')
    .addOption(dataDirOption())
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
    .action(lazyAction(wiring, async () => (await handlers()).list));

  env
    .command('get <key>')
    .description('show one variable (value hidden unless --show-secrets)')
    .addOption(showSecretsOption('print the value'))
    .action(lazyAction(wiring, async () => (await handlers()).get));

  env
    .command('set <assignments...>')
    .description('set KEY=VALUE pairs, KEYs taken from --vars-file, or one KEY whose value comes from --from-file, stdin or a hidden prompt; merges, never drops other keys')
    .option('--vars-file <file>', 'dotenv file the named KEYs take their values from (the same flag as deploy and env rotate)')
    .option('--from-file <file>', 'read the value of the one KEY from this file (one trailing newline is dropped)')
    .option('--dry-run', 'show what would change (names only) and change nothing')
    .action(lazyAction(wiring, async () => (await handlers()).set));

  env
    .command('unset <keys...>')
    .description('remove variables (asks first; --yes to skip)')
    .option('--dry-run', 'show what would change (names only) and change nothing')
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
    .action(lazyAction(wiring, async () => (await handlers()).rotate));

  env
    .command('pull [file]')
    .description(`write the variables to a dotenv file (default ${DEFAULT_PULL_FILE}, mode 0600); --yes to overwrite`)
    .action(lazyAction(wiring, async () => (await handlers()).pull));
}
