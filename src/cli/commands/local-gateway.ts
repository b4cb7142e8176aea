import type { Command } from 'commander';
import { globalOptionsHelp, OUTPUT_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerLocalGateway(program: Command, wiring: Wiring): void {
  program
    .command('local-gateway')
    .description('run the embedded local gateway on 127.0.0.1 (same HTTP contract as the hosted one)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '0')
    .option('--data-dir <dir>', 'where state and uploaded archives are kept (default: the user data dir)')
    .option('--simulate', 'simulate builds and databases instead of running apps on this machine')
    .option('--ready-timeout <seconds>', 'how long a started app may take to answer HTTP on its port', '60')
    .option('--stop', 'stop the local gateway running for the data folder (e.g. one started by deploy --local --detach)')
    .option('--control-secret', 'serve the test-only /__local endpoints, guarded by a random secret written to <data-dir>/control-secret (header X-OpenDeploy-Control)')
    .addHelpText('after', globalOptionsHelp(OUTPUT_GLOBALS))
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy local-gateway                     serve (and restart) the apps deployed with --local, until Ctrl-C\n  $ opendeploy local-gateway --port 4000 --data-dir /tmp/od-gw\n  $ opendeploy local-gateway --stop             stop the one started by deploy --local --detach\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/local-gateway.js')).default));
}
