import type { Command } from 'commander';
import { OdError } from '../../errors.js';
import { startLocalGateway } from '../../local-gateway/index.js';
import type { GlobalOptions } from '../context.js';
import { runHandler, type RunIo } from '../run.js';
import { defaultLocalDataDir } from '../local.js';
import path from 'node:path';

interface LocalGatewayOptions extends GlobalOptions {
  port?: string;
  dataDir?: string;
}

export function registerLocalGateway(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('local-gateway')
    .description('run the embedded local gateway on 127.0.0.1 (same HTTP contract as the hosted one)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '0')
    .option('--data-dir <dir>', 'where state and uploaded archives are kept (default: the user data dir)')
    .action(async (_options: LocalGatewayOptions, command: Command) => {
      const options = command.optsWithGlobals<LocalGatewayOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const port = Number(options.port ?? '0');
          if (!Number.isInteger(port) || port < 0 || port > 65535) {
            throw new OdError('invalid_input', `--port must be a whole number from 0 to 65535, not "${options.port}".`, {
              nextAction: 'Use --port 0 to pick a free port.',
            });
          }
          const dataDir = path.resolve(exec.cwd, options.dataDir ?? defaultLocalDataDir());
          const gateway = await startLocalGateway({
            port,
            dataDir,
            ...(exec.verbose ? { log: (line: string) => reporter.debug(line) } : {}),
          });
          if (exec.json) {
            reporter.result({ status: 'listening', url: gateway.url, port: gateway.port, data_dir: gateway.dataDir }, []);
          } else {
            reporter.document({}, [
              `Local gateway listening on ${gateway.url}`,
              `Data folder: ${gateway.dataDir}`,
              '',
              `  export OD_GATEWAY=${gateway.url}`,
              '',
              'Press Ctrl-C to stop.',
            ]);
          }
          await new Promise<void>((resolve) => {
            const stop = (): void => {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
              resolve();
            };
            process.on('SIGINT', stop);
            process.on('SIGTERM', stop);
          });
          await gateway.close();
          reporter.info('Local gateway stopped.');
          return 0;
        }),
      );
    });
}
