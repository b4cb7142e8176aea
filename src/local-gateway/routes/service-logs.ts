/**
 * A service's runtime logs (its running app's output): one-shot JSON, and an SSE stream that first
 * sends the lines a `tail`/`since` read would return, then every new line until the client goes
 * away. Same entry shape as deployment logs (`source: "runtime"`, plus the `deployment_id` of the
 * release that wrote it). Unknown or foreign ids answer 404, as every service route does.
 */

import type { App } from '../app.js';
import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import { SseStream } from '../sse.js';
import type { ServiceRow } from '../store.js';
import { SERVICE_LOG_LIMIT, selectEntries, serviceLogs, type ServiceLogEntry } from '../service-logs.js';
import { ownedProject } from './lookup.js';

function serviceInProject(ctx: RequestContext): ServiceRow {
  const project = ownedProject(ctx, ctx.param('id'));
  const service = ctx.app.store.state.services.find((s) => s.id === ctx.param('sid') && s.project_id === project.id);
  if (!service) throw httpError(404, 'service not found');
  return service;
}

/** `since` as epoch ms, `tail` as a count (capped at what is kept); 400 for values that are neither. */
function readQuery(ctx: RequestContext): { since: number | undefined; tail: number | undefined } {
  const sinceText = ctx.query.get('since');
  let since: number | undefined;
  if (sinceText) {
    since = Date.parse(sinceText);
    if (Number.isNaN(since)) throw httpError(400, `invalid since "${sinceText}": expected an RFC3339 timestamp`);
  }
  const tailText = ctx.query.get('tail');
  let tail: number | undefined;
  if (tailText !== null && tailText !== '') {
    const n = Number(tailText);
    if (!Number.isInteger(n) || n < 0) throw httpError(400, `invalid tail "${tailText}": expected a non-negative integer`);
    tail = Math.min(n, SERVICE_LOG_LIMIT);
  }
  return { since, tail };
}

function oneShot(ctx: RequestContext): void {
  const service = serviceInProject(ctx);
  const { since, tail } = readQuery(ctx);
  const lines = selectEntries(serviceLogs(ctx.app).entries(service.id), since, tail).map((e) => e.line);
  // Like the deployment logs: an empty log is `null` (Go's nil slice), which clients accept.
  ctx.send(200, { service_id: service.id, logs: lines.length > 0 ? lines : null, total: lines.length });
}

function stream(ctx: RequestContext): void {
  const service = serviceInProject(ctx);
  const { since, tail } = readQuery(ctx);
  const app: App = ctx.app;
  const logs = serviceLogs(app);
  const sse = new SseStream(ctx.res);
  ctx.noteStatus(200);
  app.streams.add(sse);
  sse.whenClosed(() => app.streams.delete(sse));

  // A reconnecting EventSource sends the last id it saw: continue after it instead of re-reading tail/since.
  const lastIdText = ctx.req.headers['last-event-id'] ?? ctx.query.get('last_event_id');
  const lastId = lastIdText === undefined || lastIdText === null || lastIdText === '' ? Number.NaN : Number(lastIdText);
  const entries = logs.entries(service.id);
  const replay = Number.isInteger(lastId) && lastId >= 0 ? entries.filter((e) => e.seq > lastId) : selectEntries(entries, since, tail);
  for (const entry of replay) sse.send('log', entry.line, entry.seq);

  // Subscribed synchronously after the replay, so no line can fall between the two.
  const channel = `service-log:${service.id}`;
  const listener = (entry: ServiceLogEntry): void => sse.send('log', entry.line, entry.seq);
  app.events.on(channel, listener);
  sse.whenClosed(() => app.events.off(channel, listener));
}

/** `app` starts the collection of runtime lines now, so lines written before the first read are kept. */
export function registerServiceLogRoutes(api: Router, app: App): void {
  serviceLogs(app);
  api.add('GET', '/api/v1/projects/:id/services/:sid/logs', oneShot);
  api.add('GET', '/api/v1/projects/:id/services/:sid/logs/stream', stream);
}
