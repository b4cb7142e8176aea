/**
 * Bearer authentication. The local gateway has exactly one human user. In real mode (apps run on
 * this machine) only the `od_k` key this gateway minted into `<dataDir>/auth.json` is that user:
 * anything else well-formed is a 401 naming the reason. With `--simulate`, where nothing runs, any
 * well-formed `od_k` is the user (tests need no setup). `od_a` tokens must have been minted by this
 * gateway's register endpoint — an unknown agent token is a 401, like the hosted one.
 */

import type { App, Principal } from './app.js';
import { pendingOwner } from './app.js';
import { HttpError } from './http.js';
import { localAuthFile } from './local-key.js';
import type { AgentRow } from './store.js';
import { hashToken, tokenKind } from './tokens.js';

export function unauthorized(message: string): HttpError {
  return new HttpError(401, {
    error: 'unauthorized',
    error_code: 'auth_invalid',
    message,
    retryable: false,
    next_action: 'ask_user',
  });
}

export function principalForAgent(app: App, agent: AgentRow): Principal {
  return agent.state === 'bound'
    ? { kind: 'agent', ownerId: app.store.state.user.id, bound: true, agentId: agent.id }
    : { kind: 'agent', ownerId: pendingOwner(agent.id), bound: false, agentId: agent.id };
}

export function authenticate(app: App, authorization: string | undefined): Principal {
  if (!authorization) throw unauthorized('Missing Authorization: Bearer od_* header.');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthorized('Authorization header must be "Bearer od_*".');
  const token = match[1] as string;
  const kind = tokenKind(token);
  if (kind === 'k') {
    if (!app.settings.simulate && app.store.state.user.key_sha256 !== hashToken(token)) {
      throw unauthorized(
        `This local gateway accepts only the key it issued (saved in ${localAuthFile(app.dataDir)}); this od_k token was not issued by it.`,
      );
    }
    return { kind: 'user', ownerId: app.store.state.user.id, bound: true, agentId: null };
  }
  if (kind === 'a') {
    const hash = hashToken(token);
    const agent = app.store.state.agents.find((a) => a.token_sha256 === hash);
    if (agent) return principalForAgent(app, agent);
    throw unauthorized('Unknown agent credential: it was not issued by this gateway.');
  }
  throw unauthorized('Invalid API key: expected od_k or od_a followed by 43 base62 characters.');
}

/** The error for tier gates that only binding the agent resolves. */
export function bindRequired(message: string): HttpError {
  return new HttpError(403, {
    error: 'bind_required',
    error_code: 'bind_required',
    message,
    retryable: false,
    next_action: 'bind_account',
  });
}

/** Marks an agent bound and moves its projects to the local user in one step (as the dashboard does). */
export function bindAgent(app: App, agent: AgentRow): string[] {
  const state = app.store.state;
  const projectIds: string[] = [];
  if (agent.state !== 'bound') {
    agent.state = 'bound';
    agent.bound_at = new Date().toISOString();
  }
  for (const project of state.projects) {
    if (project.agent_id === agent.id) {
      if (project.owner_id === pendingOwner(agent.id)) project.owner_id = state.user.id;
      projectIds.push(project.id);
    }
  }
  app.store.changed();
  return projectIds;
}
