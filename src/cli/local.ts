import path from 'node:path';
import envPaths from 'env-paths';
import { startLocalGateway, type LocalGateway } from '../local-gateway/index.js';

/** Where the embedded gateway keeps its state and its own credential: env-paths' data dir. */
export function defaultLocalDataDir(): string {
  return path.join(envPaths('opendeploy', { suffix: '' }).data, 'local-gateway');
}

export interface EmbeddedGateway {
  gateway: LocalGateway;
  /** The credential file of the local gateway; ~/.opendeploy/auth.json is never touched. */
  authFile: string;
}

export async function startEmbeddedGateway(dataDir: string | undefined): Promise<EmbeddedGateway> {
  const dir = path.resolve(dataDir ?? defaultLocalDataDir());
  const gateway = await startLocalGateway({ port: 0, dataDir: dir });
  return { gateway, authFile: path.join(dir, 'auth.json') };
}
