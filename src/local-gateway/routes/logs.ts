/**
 * Deployment logs: one-shot JSON (`logs: null, total: 0` when nothing was written — the progress=10
 * signature) and the SSE stream that replays, follows, reports status and ends on a terminal state.
 */

import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import type { DeploymentEvent } from '../records.js';
import { SseStream } from '../sse.js';
import { TERMINAL_STATUSES } from '../store.js';
import { ownedDeployment } from './lookup.js';

const MAX_TAIL = 10_000;

function oneShot(ctx: RequestContext): void {
  const dep = ownedDeployment(ctx, ctx.param('id'));
  let lines = ctx.app.store.state.logs[dep.id] ?? [];
  const since = ctx.query.get('since');
  if (since) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw httpError(400, `invalid since "${since}": expected an RFC3339 timestamp`);
    lines = lines.filter((l) => Date.parse(l.timestamp) >= t);
  }
  const tail = ctx.query.get('tail');
  if (tail !== null && tail !== '') {
    const n = Number(tail);
    if (!Number.isInteger(n) || n < 0) throw httpError(400, `invalid tail "${tail}": expected a non-negative integer`);
    lines = n === 0 ? [] : lines.slice(-Math.min(n, MAX_TAIL));
  }
  // Go marshals an empty slice from the log store as null; clients must accept both.
  ctx.send(200, { deployment_id: dep.id, logs: lines.length > 0 ? lines : null, total: lines.length });
}

function stream(ctx: RequestContext): void {
  const dep = ownedDeployment(ctx, ctx.param('id'));
  const app = ctx.app;
  const sse = new SseStream(ctx.res);
  ctx.noteStatus(200);
  app.streams.add(sse);
  sse.whenClosed(() => app.streams.delete(sse));

  // Resume support: EventSource sends the last seen id back; each log event's id is its index.
  const lastId = Number(ctx.req.headers['last-event-id'] ?? ctx.query.get('last_event_id') ?? -1);
  const from = Number.isInteger(lastId) && lastId >= 0 ? lastId + 1 : 0;
  const existing = app.store.state.logs[dep.id] ?? [];
  for (let i = from; i < existing.length; i++) sse.send('log', existing[i], i);
  sse.send('status', { status: dep.status, progress: dep.progress });

  const finish = (): void => {
    sse.send('end', { status: dep.status, progress: dep.progress, error_msg: dep.error_msg });
    sse.close();
  };
  if (TERMINAL_STATUSES.has(dep.status)) {
    finish();
    return;
  }
  // Subscribed synchronously after the replay, so no line can fall between the two.
  const channel = `deployment:${dep.id}`;
  const listener = (event: DeploymentEvent): void => {
    if (event.type === 'log') {
      sse.send('log', event.line, event.index);
    } else {
      sse.send('status', { status: event.status, progress: event.progress });
      if (TERMINAL_STATUSES.has(event.status)) finish();
    }
  };
  app.events.on(channel, listener);
  sse.whenClosed(() => app.events.off(channel, listener));
}

export function registerLogRoutes(api: Router): void {
  api.add('GET', '/api/v1/deployments/:id/logs', oneShot);
  api.add('GET', '/api/v1/deployments/:id/logs/stream', stream);
}
