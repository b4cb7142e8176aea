import { format } from 'node:util';
import { resolveEnvironment, type OpsOptions } from '../../ops/connect.js';
import { normaliseGatewayUrl } from '../../gateway/base-url.js';
import { toOdError } from '../../core/errors.js';
import type { Invocation } from '../lazy.js';

/**
 * `opendeploy mcp`: stdout belongs to the protocol from the first byte, so nothing here prints
 * there — a bad option is reported on stderr with its exit code, and stray console output of any
 * dependency is sent to stderr while the server runs.
 */
export default async function mcpCommand({ options, io }: Invocation<OpsOptions>): Promise<number> {
  try {
    if (options.gateway !== undefined) normaliseGatewayUrl(options.gateway, '--gateway');
    if (options.env !== undefined) resolveEnvironment(options.env, {});
  } catch (thrown) {
    const error = toOdError(thrown);
    io.streams.stderr.write(`Error: ${error.message}\n${error.nextAction}\n`);
    return error.exitCode;
  }
  const [{ serveStdio, sharedLocalGateways }, { startLocalGatewayLease }] = await Promise.all([import('../../mcp/server.js'), import('../gateway-selection.js')]);
  const gateways = sharedLocalGateways(startLocalGatewayLease);
  const toStderr = (...args: unknown[]): void => {
    io.streams.stderr.write(`${format(...args)}\n`);
  };
  const saved = { log: console.log, info: console.info, debug: console.debug };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  try {
    await serveStdio({
      env: io.env,
      cwd: io.cwd,
      stderr: io.streams.stderr,
      startLocalGateway: gateways.start,
      shutdown: gateways.closeAll,
      defaults: {
        ...(options.gateway !== undefined ? { gateway: options.gateway } : {}),
        ...(options.authFile !== undefined ? { auth_file: options.authFile } : {}),
        ...(options.env === 'production' || options.env === 'staging' ? { env: options.env } : {}),
        ...(options.project !== undefined ? { project: options.project } : {}),
        ...(options.service !== undefined ? { service: options.service } : {}),
        ...(options.local === true ? { local: true } : {}),
        ...(options.dataDir !== undefined ? { data_dir: options.dataDir } : {}),
      },
    });
    return 0;
  } finally {
    Object.assign(console, saved);
  }
}
