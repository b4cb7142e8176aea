/** What every part of the local runtime shares: the gateway, the options it was started with, and whether it is closing. */

import type { App } from '../app.js';

export type RestorePolicy = 'all' | 'none';

export interface RuntimeOptions {
  /** How long a started app may take to answer HTTP on its port (default 60 s). */
  readyTimeoutMs: number;
  /**
   * On start: `all` restarts the current release of every service and every running database
   * (the long-running `opendeploy local-gateway`); `none` marks them stopped and starts a
   * project's databases only when it deploys (short-lived in-process gateways).
   */
  restore: RestorePolicy;
  /** One-line notices for the person running the gateway (restarts, leftovers). */
  notify: (line: string) => void;
  /** The environment processes inherit (default process.env). */
  sourceEnv?: NodeJS.ProcessEnv;
}

export interface RuntimeContext {
  readonly app: App;
  readonly options: RuntimeOptions;
  /** True once close() began: nothing new starts, and work in flight stops quietly. */
  closed(): boolean;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
