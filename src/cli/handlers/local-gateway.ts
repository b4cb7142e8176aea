import { OdError } from '../../core/errors.js';
import { startLocalGateway } from '../../local-gateway/index.js';
import type { GlobalOptions } from '../../core/session.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';
import { defaultLocalDataDir, stopRunningGateway } from '../local.js';
import path from 'node:path';
import { readProjectState, rememberedDataDir, type ProjectState } from '../../deploy/state.js';

interface LocalGatewayOptions extends GlobalOptions {
  port?: string;
  dataDir?: string;
  simulate?: boolean;
  readyTimeout?: string;
  stop?: boolean;
  controlSecret?: boolean;
}

/**
 * In a folder deployed or linked with `--local --data-dir`, the gateway started or stopped here is
 * that project's (as every other command in the folder does). A link that cannot be read is not
 * this command's business: the default folder is used.
 */
function linkOf(cwd: string): Promise<ProjectState | undefined> {
  return readProjectState(cwd).catch(() => undefined);
}

export default async function localGatewayCommand({ options, io }: Invocation<LocalGatewayOptions>): Promise<number> {
  return runHandler(options, io, async ({ exec, reporter }) => {
    const port = Number(options.port ?? '0');
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new OdError('invalid_input', `--port must be a whole number from 0 to 65535, not "${options.port}".`, {
        nextAction: 'Use --port 0 to pick a free port.',
      });
    }
    const readySeconds = Number(options.readyTimeout ?? '60');
    if (!Number.isFinite(readySeconds) || readySeconds <= 0) {
      throw new OdError('invalid_input', `--ready-timeout must be a positive number of seconds, not "${options.readyTimeout}".`, {
        nextAction: 'Use e.g. --ready-timeout 60.',
      });
    }
    const dataDir = path.resolve(exec.cwd, options.dataDir ?? rememberedDataDir(await linkOf(exec.cwd)) ?? defaultLocalDataDir());
    if (options.stop) {
      const pid = await stopRunningGateway(dataDir);
      const text = pid === null ? `No local gateway is running for ${dataDir}.` : `Stopped the local gateway (pid ${pid}) and everything it ran.`;
      reporter.document({ status: pid === null ? 'not_running' : 'stopped', pid, data_dir: dataDir }, [text]);
      return 0;
    }
    const gateway = await startLocalGateway({
      port,
      dataDir,
      simulate: options.simulate === true,
      readyTimeoutMs: Math.round(readySeconds * 1000),
      ...(options.controlSecret ? { controlSecret: true } : {}),
      notify: (line: string) => reporter.info(line),
      ...(exec.verbose ? { log: (line: string) => reporter.debug(line) } : {}),
    }).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!message.includes('another local gateway')) throw error;
      throw new OdError('conflict', `${message.replace(/^local gateway: a/, 'A')}.`, {
        nextAction: 'Use that gateway (commands with --local find it), stop it with `opendeploy local-gateway --stop`, or pass another --data-dir.',
      });
    });
    if (exec.json) {
      reporter.result(
        {
          status: 'listening',
          url: gateway.url,
          port: gateway.port,
          data_dir: gateway.dataDir,
          ...(gateway.authFile ? { auth_file: gateway.authFile } : {}),
          ...(gateway.controlSecret ? { control_secret_file: path.join(gateway.dataDir, 'control-secret') } : {}),
        },
        [],
      );
    } else {
      reporter.document({}, [
        `Local gateway listening on ${gateway.url}`,
        `Data folder: ${gateway.dataDir}`,
        gateway.simulate
          ? 'Builds are simulated (--simulate): deployed apps are not run.'
          : `Deployed apps run on this machine and are served at http://<name>.localhost:${gateway.port}/`,
        // Real mode accepts only the key it issued; commands with --local read it from here.
        ...(gateway.authFile ? [`Local key (used by --local commands): ${gateway.authFile}`] : []),
        '',
        `  export OD_GATEWAY=${gateway.url}`,
        ...(gateway.authFile ? [`  export OPENDEPLOY_AUTH_FILE=${gateway.authFile}`] : []),
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
  });
}
