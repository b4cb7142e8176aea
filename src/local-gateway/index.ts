/**
 * Public entry of the embedded local gateway (used by `opendeploy local-gateway` and `--local`).
 */

export { startLocalGateway } from './server.js';
export type { LocalGateway, LocalGatewayOptions } from './server.js';
export { ACTIVE_REGION_ID, INACTIVE_REGION_ID, REGIONS } from './regions.js';
export type { Region } from './regions.js';
export type { FaultSpec } from './faults.js';
export type { RecordedRequest } from './recorder.js';
export type { DeploymentScript } from './scripts.js';
