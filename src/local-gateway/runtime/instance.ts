/**
 * A running release: the app process started with the service's runtime variables and a free PORT,
 * or the built-in static server for static services. It knows how many proxied requests it is
 * serving, so a zero-downtime switch can let them finish before it stops.
 */

import type { LogLine } from '../store.js';
import type { RunSpec } from './build.js';
import { runtimeEnv } from './env.js';
import { DeployFailure } from './failure.js';
import { freePort } from './ports.js';
import { spawnGroup, type ExitInfo, type GroupProcess } from './processes.js';
import { startStaticServer, type StaticServer } from './static-server.js';
import { firstMissingCommand, missingCommandMessage } from './which.js';

export interface Instance {
  deploymentId: string;
  serviceId: string;
  environment: string;
  kind: RunSpec['kind'];
  /** The app's own port on this machine. */
  port: number;
  /** Where it answered: 127.0.0.1, or ::1 for apps that bound `localhost` on an IPv6-first system. */
  host: string;
  pid: number | undefined;
  process?: GroupProcess;
  /** Resolves when the app process exits (never for static servers until stopped). */
  exited: Promise<ExitInfo>;
  inflight: number;
  stopped: boolean;
  /** Recent stderr lines, quoted when it crashes. */
  stderrTail: string[];
  /** Recent stdout lines, quoted when it ends without serving. */
  outputTail: string[];
  stop(graceMs?: number): Promise<void>;
}

export interface LaunchOptions {
  spec: RunSpec;
  deploymentId: string;
  serviceId: string;
  environment: string;
  variables: Record<string, string>;
  log(source: LogLine['source'], level: LogLine['level'], message: string): void;
  sourceEnv?: NodeJS.ProcessEnv;
}

export async function launch(options: LaunchOptions): Promise<Instance> {
  const { spec } = options;
  const base = {
    deploymentId: options.deploymentId,
    serviceId: options.serviceId,
    environment: options.environment,
    kind: spec.kind,
    host: '127.0.0.1',
    inflight: 0,
    stopped: false,
    stderrTail: [] as string[],
    outputTail: [] as string[],
  };
  if (spec.kind === 'static') {
    const server: StaticServer = await startStaticServer(spec.static_root ?? spec.workdir, { spa: spec.spa === true });
    let resolveExit: (info: ExitInfo) => void = () => undefined;
    const exited = new Promise<ExitInfo>((resolve) => {
      resolveExit = resolve;
    });
    const instance: Instance = {
      ...base,
      port: server.port,
      pid: undefined,
      exited,
      async stop() {
        if (instance.stopped) return;
        instance.stopped = true;
        await server.close();
        resolveExit({ code: 0, signal: null });
      },
    };
    options.log('runtime', 'info', `Serving static files from ${spec.static_root ?? spec.workdir}`);
    return instance;
  }

  const port = await freePort();
  const env = runtimeEnv({
    variables: options.variables,
    planEnv: spec.env,
    pathPrepend: spec.path_prepend,
    localId: options.deploymentId,
    port,
    ...(options.sourceEnv ? { source: options.sourceEnv } : {}),
  });
  const missing = firstMissingCommand(spec.start, env.PATH);
  if (missing) {
    const message = missingCommandMessage(missing);
    options.log('runtime', 'error', message);
    throw new DeployFailure('runtime', message);
  }
  options.log('runtime', 'info', `$ ${spec.start}   (PORT=${port})`);
  const tail: string[] = [];
  const output: string[] = [];
  const child = spawnGroup({
    command: spec.start,
    cwd: spec.workdir,
    env,
    onLine: (stream, line) => {
      const lines = stream === 'stderr' ? tail : output;
      lines.push(line);
      if (lines.length > 20) lines.shift();
      options.log('runtime', stream === 'stderr' ? 'warn' : 'info', line);
    },
  });
  const instance: Instance = {
    ...base,
    stderrTail: tail,
    outputTail: output,
    port,
    pid: child.pid,
    process: child,
    exited: child.exited,
    async stop(graceMs = 5000) {
      if (instance.stopped) return;
      instance.stopped = true;
      await child.stop(graceMs);
    },
  };
  return instance;
}

/** "Process exited with code 1" / "Process was killed by SIGKILL" / "Process could not start (…)". */
export function describeExit(exit: ExitInfo): string {
  if (exit.error && exit.code === null && exit.signal === null) return `Process could not start (${exit.error.message})`;
  if (exit.signal) return `Process was killed by ${exit.signal}`;
  return `Process exited with code ${exit.code ?? 'unknown'}`;
}
