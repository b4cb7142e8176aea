/** The gateway client: the only module of opendeploy that speaks HTTP to the OpenDeploy gateway. */
export { GatewayClient, type GatewayClientOptions } from './client.js';
export * from './types.js';
export * as schemas from './schemas.js';
export { mapHttpError, networkError, redirectError, malformedResponse, retryAfterSeconds, humanDuration, dashboardUrl } from './errors.js';
export { HttpTransport, DEFAULTS as GATEWAY_DEFAULTS, defaultUserAgent, normaliseBaseUrl } from './http.js';
export { SseParser, parseSseStream, type RawSseEvent } from './sse.js';
export { buildMultipart, zipFileName } from './multipart.js';
