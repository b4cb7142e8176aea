import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import envPaths from 'env-paths';
import { OdError } from '../core/errors.js';
import type { LocalGateway } from '../local-gateway/index.js';
import { findRunningGateway, readGatewayFile, type GatewayFile } from '../local-gateway/gateway-file.js';
import { localAuthFile } from '../local-gateway/local-key.js';

/** Where the embedded gateway keeps its state and its own credential: env-paths' data dir. */
export function defaultLocalDataDir(): string {
  return path.join(envPaths('opendeploy', { suffix: '' }).data, 'local-gateway');
}

export interface EmbeddedGateway {
  gateway: LocalGateway;
  /** The credential file of the local gateway; ~/.opendeploy/auth.json is never touched. */
  authFile: string;
  /**
   * True when a local gateway was already running for the data folder (`opendeploy local-gateway`,
   * or a `deploy --local` in another terminal) and this command uses it: it keeps serving after the
   * command ends, and close() leaves it alone.
   */
  attached: boolean;
}

export interface EmbeddedOptions {
  /** Simulated builds (`--simulate`, or OD_LOCAL_SIMULATE=1). */
  simulate?: boolean;
  /** Seconds an app may take to answer HTTP (OD_LOCAL_READY_TIMEOUT, default 60). */
  readyTimeoutMs?: number;
  /** Start a background `opendeploy local-gateway` for the data folder when none runs (`--detach`). */
  detach?: boolean;
  /** The run's environment, handed to a background gateway (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** OD_LOCAL_SIMULATE=1 and OD_LOCAL_READY_TIMEOUT=<seconds>, for callers that cannot pass flags. */
export function embeddedOptionsFromEnv(env: NodeJS.ProcessEnv): EmbeddedOptions {
  const options: EmbeddedOptions = {};
  const simulate = env.OD_LOCAL_SIMULATE;
  if (simulate !== undefined && simulate !== '' && simulate !== '0' && simulate !== 'false') options.simulate = true;
  const timeout = Number(env.OD_LOCAL_READY_TIMEOUT);
  if (env.OD_LOCAL_READY_TIMEOUT && Number.isFinite(timeout) && timeout > 0) options.readyTimeoutMs = Math.round(timeout * 1000);
  return options;
}

function attachedGateway(file: GatewayFile, dataDir: string): LocalGateway {
  return {
    url: file.url,
    port: file.port,
    dataDir,
    simulate: file.simulate,
    authFile: file.simulate ? null : localAuthFile(dataDir),
    controlSecret: null,
    inspect: () => {
      throw new Error('the local gateway runs in another process: use its HTTP control endpoints');
    },
    onRuntimeLog: () => () => undefined,
    close: async () => undefined,
  };
}

/**
 * The local gateway for a command: the one already serving the data folder if there is one, else
 * (with `detach`) a background `opendeploy local-gateway`, else a new in-process one. An in-process
 * gateway restarts nothing on its own (restore `none`): it runs what this command deploys.
 */
export async function startEmbeddedGateway(dataDir: string | undefined, options: EmbeddedOptions = {}): Promise<EmbeddedGateway> {
  const dir = path.resolve(dataDir ?? defaultLocalDataDir());
  // A real gateway writes its local key here on first start (before it announces itself).
  const authFile = localAuthFile(dir);
  const running = await findRunningGateway(dir);
  if (running) return { gateway: attachedGateway(running, dir), authFile, attached: true };
  if (options.detach) {
    const started = await startBackgroundGateway(dir, options);
    return { gateway: attachedGateway(started, dir), authFile, attached: true };
  }
  // Loaded only here: the server (routes, multipart parser, zip reader) costs 14–18 MiB of memory,
  // which a deploy to a remote gateway, or one attaching to a running local gateway, never needs.
  const { startLocalGateway } = await import('../local-gateway/index.js');
  const gateway = await startLocalGateway({
    port: 0,
    dataDir: dir,
    simulate: options.simulate === true,
    restore: 'none',
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
  return { gateway, authFile, attached: false };
}

/** bin/opendeploy.js of this package (from dist/cli or src/cli alike). */
function binPath(): string {
  return fileURLToPath(new URL('../../bin/opendeploy.js', import.meta.url));
}

/**
 * Starts `opendeploy local-gateway` for `dir` as a detached background process (output in
 * `<dir>/gateway.log`) and waits until it answers. It runs until `opendeploy local-gateway --stop`.
 */
async function startBackgroundGateway(dir: string, options: EmbeddedOptions): Promise<GatewayFile> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dir, 'gateway.log');
  const fd = openSync(logFile, 'a', 0o600);
  const args = [binPath(), 'local-gateway', '--port', '0', '--data-dir', dir];
  if (options.simulate) args.push('--simulate');
  if (options.readyTimeoutMs !== undefined) args.push('--ready-timeout', String(options.readyTimeoutMs / 1000));
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: options.env ?? process.env });
    child.unref();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const found = await findRunningGateway(dir);
      if (found && found.pid === child.pid) return found;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    closeSync(fd);
  }
  throw new OdError('internal', `The background local gateway did not start (see ${logFile}).`, {
    nextAction: `Run \`opendeploy local-gateway --data-dir ${dir}\` in another terminal to see why.`,
  });
}

/** Stops the gateway serving `dir` (SIGTERM, then waits); returns its pid, or null when none ran. */
export async function stopRunningGateway(dir: string, timeoutMs = 20_000): Promise<number | null> {
  const running = await findRunningGateway(dir);
  if (!running) return null;
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(running.pid, 0);
    } catch {
      return running.pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new OdError('internal', `The local gateway (pid ${running.pid}) did not stop within ${timeoutMs / 1000} s.`, {
    nextAction: `Stop it with \`kill ${running.pid}\`.`,
  });
}

export { readGatewayFile };
