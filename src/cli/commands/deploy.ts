import type { Command } from 'commander';
import { dataDirOption, forceUploadOption, globalOptionsHelp, OUTPUT_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerDeploy(program: Command, wiring: Wiring): void {
  program
    .command('deploy [path]', { isDefault: true })
    .description('deploy a folder (first deploy, or a new-source redeploy of a linked folder)')
    .option('--name <name>', 'project name (default: from the package manifest or folder name)')
    .option('--subdomain <prefix>', 'claim <prefix>.opendeploy.run after a successful deploy (production only)')
    .option('--git <url>', 'deploy a Git repository instead of uploading the folder')
    .option('--branch <branch>', 'branch for --git (default: main)')
    .option('--vars-file <file>', 'runtime variables for the service, in dotenv format (highest precedence)')
    .option('--env-file <file>', 'the same as --vars-file (older name)')
    .addOption(forceUploadOption())
    .addOption(dataDirOption())
    .option('--simulate', 'with --local: simulate the build instead of running the app on this machine')
    .option('--detach', 'with --local: run the app in a background local gateway and return once it is live')
    .option('--foreground', 'with --local: stay in the foreground serving the app even when no terminal is attached (a --json run without one detaches)')
    .option('--no-wait', 'return once the deployment is created, without following it (prints the command that follows it)')
    .option('--output <format>', '"url": print only the live URL on stdout (everything else on stderr); not with --json')
    .option('--dry-run', 'print what the deploy would do (the same as `opendeploy plan`) and stop: no credential, no network')
    .addHelpText('after', globalOptionsHelp(['project', 'env', 'gateway', 'authFile', 'local', 'yes', ...OUTPUT_GLOBALS]))
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy                      deploy the current folder\n  $ opendeploy ./api --subdomain my-api\n  $ opendeploy --local              run it on this machine at http://<name>.localhost:<port>/ until Ctrl-C\n  $ opendeploy --local --detach     the same, in a background local gateway\n  $ opendeploy --no-wait --json     start the deployment and return; follow it with the printed command\n  $ URL=$(opendeploy --output url)  the live URL alone on stdout\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/deploy.js')).default, { leanV8: true }));
}
