import type { LocalGateway } from '../local-gateway/index.js';
import type { Reporter } from './output/index.js';

/**
 * `deploy --local` with an in-process gateway: the app runs only while this process does, so after
 * the result is printed it stays in the foreground serving it and streaming its output (on stderr,
 * so `--json` stdout still ends with the result line) until Ctrl-C or SIGTERM. The caller then
 * closes the gateway, which stops every process it started, and exits 0.
 */
export async function serveInForeground(gateway: LocalGateway, reporter: Reporter): Promise<void> {
  reporter.info('Serving the app from this process: press Ctrl-C to stop it (run `opendeploy local-gateway` to keep apps running in the background).');
  const stopLogs = gateway.onRuntimeLog((event) => {
    reporter.info(`[app] ${event.line.message}`);
  });
  try {
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    stopLogs();
  }
  reporter.info('Stopping the local preview…');
}
