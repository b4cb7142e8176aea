/**
 * Anonymous agent registration and the claim page that binds an agent to the local user.
 */

import { randomUUID } from 'node:crypto';
import type { App } from '../app.js';
import { nowIso } from '../app.js';
import { bindAgent } from '../auth.js';
import type { RequestContext, Router } from '../http.js';
import { HttpError } from '../http.js';
import { localAuthFile } from '../local-key.js';
import type { AgentRow } from '../store.js';
import { bindSignature, hashToken, mintToken, randomLowerAlnum, verifyBindSignature } from '../tokens.js';
import { escapeHtml } from '../html.js';

const HOUR_MS = 60 * 60 * 1000;
const REPLAY_WINDOW_MS = 24 * HOUR_MS;
/** Resource GC horizon the hosted gateway reports; informational here (nothing is collected). */
const IDLE_GC_SECONDS = 6 * 60 * 60;

export function claimUrl(app: App, agent: AgentRow): string {
  return `${app.origin}/claim/${agent.id}?h=${agent.bind_sig}`;
}

function agentResponse(app: App, agent: AgentRow, apiKey?: string): Record<string, unknown> {
  return {
    ...(apiKey ? { api_key: apiKey } : {}),
    agent_id: agent.id,
    bind_sig: agent.bind_sig,
    claim_url: claimUrl(app, agent),
    gateway: app.url,
    name: agent.name,
    expires_in_seconds: IDLE_GC_SECONDS,
  };
}

/**
 * POST /v1/client-agents/register. Replays (same source IP + User-Agent within 24 h, agent still
 * pending) return the row without `api_key` and do not count against the hourly limit: only fresh
 * mints are counted, so tests can predict exactly when the 429 arrives.
 */
async function register(ctx: RequestContext): Promise<void> {
  const app = ctx.app;
  if (!app.settings.simulate) {
    // Real mode runs what is deployed as this machine's user: an anonymous caller must not get a
    // credential. The local user's key is minted on start into the credential file instead.
    throw new HttpError(403, {
      error: 'register_disabled',
      error_code: 'register_disabled',
      message: `This local gateway runs apps on this machine, so it does not register anonymous agents. Commands with --local use the key it saved in ${localAuthFile(app.dataDir)}; if that file is gone, restart the local gateway to get a new one.`,
      retryable: false,
      next_action: 'ask_user',
    });
  }
  const body = await ctx.json();
  const state = app.store.state;
  const ip = ctx.req.socket.remoteAddress ?? '';
  const userAgent = ctx.req.headers['user-agent'] ?? '';
  const now = Date.now();

  const replay = state.agents
    .filter((a) => a.state === 'pending' && a.source_ip === ip && a.user_agent === userAgent && now - Date.parse(a.created_at) < REPLAY_WINDOW_MS)
    .at(-1);
  if (replay) {
    ctx.send(200, agentResponse(app, replay));
    return;
  }

  const recent = state.agents.filter((a) => a.source_ip === ip && now - Date.parse(a.created_at) < HOUR_MS);
  if (recent.length >= app.settings.registerLimitPerHour) {
    // The window frees up when the oldest counted mint turns an hour old (a limit of 0: a full hour).
    const oldest = recent.length > 0 ? Math.min(...recent.map((a) => Date.parse(a.created_at))) : now;
    const retryAfter = Math.max(1, Math.ceil((oldest + HOUR_MS - now) / 1000));
    throw new HttpError(
      429,
      {
        error: 'rate_limited',
        error_code: 'rate_limited',
        retry_after_seconds: retryAfter,
        message: `Too many agent registrations from this address (limit ${app.settings.registerLimitPerHour} per hour). Try again in ${retryAfter} seconds, or use a dashboard API key.`,
        retryable: true,
        next_action: 'wait',
      },
      { 'retry-after': String(retryAfter) },
    );
  }

  const token = mintToken('a');
  const id = randomUUID();
  const rawName = typeof body['name'] === 'string' ? body['name'].trim().slice(0, 64) : '';
  const agent: AgentRow = {
    id,
    token_sha256: hashToken(token),
    bind_sig: bindSignature(state.secret, id),
    state: 'pending',
    name: rawName || `local-agent-${randomLowerAlnum(4)}`,
    source_ip: ip,
    user_agent: userAgent,
    source_hint: typeof body['source_hint'] === 'string' ? body['source_hint'].slice(0, 200) : '',
    created_at: nowIso(),
    bound_at: null,
    last_deployed_at: null,
  };
  state.agents.push(agent);
  app.store.changed();
  ctx.send(200, agentResponse(app, agent, token));
}

function findAgentForClaim(ctx: RequestContext): AgentRow | null {
  const app = ctx.app;
  const agent = app.store.state.agents.find((a) => a.id === ctx.param('agent_id'));
  const sig = ctx.query.get('h') ?? '';
  if (!agent || !verifyBindSignature(app.store.state.secret, agent.id, sig)) return null;
  return agent;
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** GET /claim/:agent_id?h=... — the local stand-in for the dashboard's sign-in page (no side effect). */
function claimPage(ctx: RequestContext): void {
  const agent = findAgentForClaim(ctx);
  if (!agent) {
    ctx.sendHtml(404, page('Claim link not valid', '<p>This claim link is unknown or its signature does not match.</p>'));
    return;
  }
  if (agent.state === 'bound') {
    ctx.sendHtml(200, page('Already bound', `<p>Agent ${escapeHtml(agent.name)} is already bound to the local user.</p>`));
    return;
  }
  const action = `/claim/${encodeURIComponent(agent.id)}?h=${encodeURIComponent(agent.bind_sig)}`;
  ctx.sendHtml(
    200,
    page('Claim this deployment', `<p>Bind agent ${escapeHtml(agent.name)} to the local user.</p><form method="post" action="${escapeHtml(action)}"><button type="submit">Bind</button></form>`),
  );
}

/** POST /claim/:agent_id?h=... — binds, like signing in on the hosted dashboard. */
function claimSubmit(ctx: RequestContext): void {
  const agent = findAgentForClaim(ctx);
  if (!agent) {
    ctx.sendHtml(404, page('Claim link not valid', '<p>This claim link is unknown or its signature does not match.</p>'));
    return;
  }
  bindAgent(ctx.app, agent);
  ctx.sendHtml(200, page('Bound', `<p>Agent ${escapeHtml(agent.name)} is now bound to the local user.</p>`));
}

export function registerAgentRoutes(api: Router): void {
  api.add('POST', '/api/v1/client-agents/register', register, { anonymous: true });
}

export function registerClaimRoutes(pages: Router): void {
  pages.add('GET', '/claim/:agent_id', claimPage, { anonymous: true });
  pages.add('POST', '/claim/:agent_id', claimSubmit, { anonymous: true });
}
