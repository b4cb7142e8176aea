import { LOCAL_GATEWAY_MARKER, type ProjectState } from '../deploy/state.js';
import { embeddedOptionsFromEnv, startEmbeddedGateway, type EmbeddedGateway } from './local.js';

export interface GatewaySelection {
  useLocal: boolean;
  embedded?: EmbeddedGateway;
  /** The environment credential resolution should see (no hosted token when local). */
  env: NodeJS.ProcessEnv;
  flagGateway?: string;
  flagAuthFile?: string;
}

/**
 * Decides which gateway a command talks to. `--local`, or a folder linked to the local gateway
 * (unless --gateway/OD_GATEWAY say otherwise), uses the local gateway already serving the data
 * folder, or starts one (in-process, or in the background with `detach`), with its own credential
 * file; a hosted OPENDEPLOY_TOKEN is then withheld so it is never sent to it.
 */
export async function selectGateway(
  options: { local?: boolean; gateway?: string; authFile?: string; dataDir?: string; simulate?: boolean; detach?: boolean },
  env: NodeJS.ProcessEnv,
  linked: ProjectState | undefined,
): Promise<GatewaySelection> {
  const useLocal = options.local === true || (linked?.gateway === LOCAL_GATEWAY_MARKER && !options.gateway && !env.OD_GATEWAY);
  if (!useLocal) {
    return {
      useLocal,
      env,
      ...(options.gateway ? { flagGateway: options.gateway } : {}),
      ...(options.authFile ? { flagAuthFile: options.authFile } : {}),
    };
  }
  const embedded = await startEmbeddedGateway(options.dataDir, {
    ...embeddedOptionsFromEnv(env),
    ...(options.simulate ? { simulate: true } : {}),
    ...(options.detach ? { detach: true } : {}),
  });
  const localEnv = { ...env };
  delete localEnv.OPENDEPLOY_TOKEN;
  return { useLocal, embedded, env: localEnv, flagGateway: embedded.gateway.url, flagAuthFile: embedded.authFile };
}
