/**
 * Log lines are app output, and apps print their configuration: a line may hold any value of the
 * service's env. Before `logs`, `deploy` or `redeploy` prints a line, every value the service holds
 * is read from the gateway (the client may read them: the same GET as `env list`) and registered as
 * a secret, so the reporters scrub it from every line — including values set by another process
 * (`env set` yesterday), not only those this process happened to send.
 */
import type { GatewayClient } from './index.js';
import { registerSecret } from '../core/redact.js';

/**
 * Reads the service's env and registers every value as a secret. Resolves to false (never throws)
 * when the values could not be read; the caller says so, since lines may then carry them.
 */
export async function registerServiceValues(client: GatewayClient, projectId: string, serviceId: string): Promise<boolean> {
  try {
    const variables = await client.getEnv(projectId, serviceId);
    for (const value of Object.values(variables)) registerSecret(value);
    return true;
  } catch {
    return false;
  }
}
