/**
 * Account-level reads: profile, regions, platform status and the billing gate.
 */

import { bindRequired, unauthorized } from '../auth.js';
import type { RequestContext, Router } from '../http.js';
import { REGIONS } from '../regions.js';

/** Pending agents are guest tenants, not users: the hosted gateway answers 401 here. */
function profile(ctx: RequestContext): void {
  if (!ctx.caller.bound) {
    throw unauthorized('This agent is not bound to an account yet; /v1/profile is only available to users.');
  }
  const user = ctx.app.store.state.user;
  ctx.send(200, { id: user.id, email: user.email, name: user.name, plan: user.plan });
}

function regions(ctx: RequestContext): void {
  ctx.send(200, REGIONS);
}

function status(ctx: RequestContext): void {
  ctx.send(200, { status: 'ok', gateway: 'ok', mode: 'local' });
}

function billing(ctx: RequestContext): void {
  if (!ctx.caller.bound) {
    throw bindRequired('Billing is only available after this agent is bound to an account. Open the claim URL to sign in.');
  }
  ctx.send(200, { plan: ctx.app.store.state.user.plan });
}

export function registerAccountRoutes(api: Router): void {
  api.add('GET', '/api/v1/profile', profile);
  api.add('GET', '/api/v1/regions/', regions);
  api.add('GET', '/api/v1/status', status);
  // Every billing route, any method: the tier gate sits in front of all of them.
  api.add('*', '/api/v1/billing', billing);
  api.add('*', '/api/v1/billing/*', billing);
}
