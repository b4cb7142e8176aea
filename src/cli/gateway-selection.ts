import type { LocalGatewayLease, LocalGatewayRequest } from '../core/session.js';
import type { ProjectState } from '../deploy/state.js';
import { selectGateway as selectWith, type GatewayChoice, type GatewaySelection as Selection } from '../ops/connect.js';
import { embeddedOptionsFromEnv, startEmbeddedGateway, type EmbeddedGateway } from './local.js';

/** The embedded gateway as a lease: what ops needs (URL, credential file, close) plus the CLI's view. */
export type EmbeddedLease = EmbeddedGateway & LocalGatewayLease;

export type GatewaySelection = Selection<EmbeddedLease>;

/**
 * The CLI's "start a local gateway" capability: the one already serving the data folder, a
 * background one (`detach`), or a new in-process one, with OD_LOCAL_SIMULATE / OD_LOCAL_READY_TIMEOUT
 * read from the run's environment.
 */
export async function startLocalGatewayLease(request: LocalGatewayRequest, env: NodeJS.ProcessEnv): Promise<EmbeddedLease> {
  const embedded = await startEmbeddedGateway(request.dataDir, {
    ...embeddedOptionsFromEnv(env),
    ...(request.simulate ? { simulate: true } : {}),
    ...(request.detach ? { detach: true } : {}),
    env,
  });
  return { ...embedded, url: embedded.gateway.url, close: () => embedded.gateway.close(), background: embedded.attached };
}

/**
 * Decides which gateway a command talks to (the rule lives in src/ops/connect.ts); a local one is
 * started here, since only the CLI may start the embedded gateway.
 */
export async function selectGateway(options: GatewayChoice, env: NodeJS.ProcessEnv, linked: ProjectState | undefined): Promise<GatewaySelection> {
  return selectWith(options, env, linked, startLocalGatewayLease);
}
