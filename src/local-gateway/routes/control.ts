/**
 * Test-only control endpoints under `/__local/` (never under `/api`, loopback only): fault
 * scripting, the request journal, agent binding, deployment outcome scripting and a state dump.
 * They are served only with `--simulate` or a control secret (checked in server.ts, with the JSON
 * content type of every POST), and never show a variable value, a signature or a token hash.
 */

import { bindAgent } from '../auth.js';
import { FaultQueue } from '../faults.js';
import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import { redactRequests, redactState } from '../redact.js';
import type { DeploymentScript } from '../scripts.js';
import { verifyBindSignature } from '../tokens.js';

async function addFault(ctx: RequestContext): Promise<void> {
  const spec = FaultQueue.parse(await ctx.json());
  const id = ctx.app.faults.add(spec);
  ctx.send(200, { ok: true, id, pending: ctx.app.faults.pending() });
}

function listFaults(ctx: RequestContext): void {
  ctx.send(200, ctx.app.faults.pending());
}

function clearFaults(ctx: RequestContext): void {
  ctx.app.faults.clear();
  ctx.send(200, { ok: true });
}

function listRequests(ctx: RequestContext): void {
  ctx.send(200, redactRequests(ctx.app.recorder.list()));
}

function clearRequests(ctx: RequestContext): void {
  ctx.app.recorder.clear();
  ctx.send(200, { ok: true });
}

/** Binding needs the agent's own signature (`{"bind_sig": …}`), like the claim page does. */
async function bind(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const agent = ctx.app.store.state.agents.find((a) => a.id === ctx.param('agent_id'));
  if (!agent) throw httpError(404, 'agent not found');
  const sig = body['bind_sig'];
  if (typeof sig !== 'string' || sig === '') throw httpError(400, 'bind_sig is required: the signature of this agent from its register response');
  if (!verifyBindSignature(ctx.app.store.state.secret, agent.id, sig)) throw httpError(403, 'bind_sig does not match this agent');
  const projectIds = bindAgent(ctx.app, agent);
  ctx.send(200, { agent_id: agent.id, state: agent.state, bound_at: agent.bound_at, project_ids: projectIds });
}

async function nextDeployment(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const outcome = body['outcome'];
  if (outcome !== 'failed' && outcome !== 'success') throw httpError(400, 'outcome must be "failed" or "success"');
  const script: DeploymentScript = { outcome };
  const phase = body['phase'];
  if (phase !== undefined) {
    if (phase !== 'build' && phase !== 'deploy' && phase !== 'runtime') throw httpError(400, 'phase must be build, deploy or runtime');
    script.phase = phase;
  }
  const errorMsg = body['error_msg'];
  if (errorMsg !== undefined) {
    if (typeof errorMsg !== 'string') throw httpError(400, 'error_msg must be a string');
    script.error_msg = errorMsg;
  }
  const lines = body['log_lines'];
  if (lines !== undefined) {
    if (!Array.isArray(lines) || lines.some((l) => typeof l !== 'string')) throw httpError(400, 'log_lines must be an array of strings');
    script.log_lines = lines as string[];
  }
  const count = body['count'] ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw httpError(400, 'count must be a positive integer');
  const queued = ctx.app.scripts.queue(script, count);
  ctx.send(200, { ok: true, queued });
}

function clearNextDeployment(ctx: RequestContext): void {
  ctx.app.scripts.clear();
  ctx.send(200, { ok: true });
}

/** The stored rows without secrets, hashes, signatures or values: enough for assertions, nothing replayable. */
function dumpState(ctx: RequestContext): void {
  ctx.send(200, { ...redactState(ctx.app.store.state), scripted_deployments: ctx.app.scripts.list() });
}

/** Clears faults, the request journal and deployment scripts in one call (stored state stays). */
function reset(ctx: RequestContext): void {
  ctx.app.faults.clear();
  ctx.app.recorder.clear();
  ctx.app.scripts.clear();
  ctx.send(200, { ok: true });
}

export function registerControlRoutes(control: Router): void {
  control.add('POST', '/__local/faults', addFault, { anonymous: true });
  control.add('GET', '/__local/faults', listFaults, { anonymous: true });
  control.add('POST', '/__local/faults/clear', clearFaults, { anonymous: true });
  control.add('GET', '/__local/requests', listRequests, { anonymous: true });
  control.add('POST', '/__local/requests/clear', clearRequests, { anonymous: true });
  control.add('POST', '/__local/agents/:agent_id/bind', bind, { anonymous: true });
  control.add('POST', '/__local/next-deployment', nextDeployment, { anonymous: true });
  control.add('POST', '/__local/next-deployment/clear', clearNextDeployment, { anonymous: true });
  control.add('GET', '/__local/state', dumpState, { anonymous: true });
  control.add('POST', '/__local/reset', reset, { anonymous: true });
}
