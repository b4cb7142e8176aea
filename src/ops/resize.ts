/**
 * `opendeploy resize`: `PUT /v1/services/:id` with Kubernetes strings, then `GET /v1/services/:id`
 * to prove the service row holds them. The workload rolls by itself; nothing is redeployed.
 */
import { OdError } from '../core/errors.js';
import { claimUrl, dashboardBase } from '../auth/index.js';
import type { Service, ServiceResources } from '../gateway/index.js';
import { sameQuantity } from './quantity.js';
import type { OpsTarget } from './target.js';

export interface ResizeResult {
  status: 'success';
  project_id: string;
  service_id: string;
  service: string;
  /** The resources as read back from the gateway after the change. */
  resources: Required<Omit<ServiceResources, 'replicas'>> & { replicas: number | null };
  /** The fields that were sent. */
  changed: string[];
  redeployed: false;
  /** false when the change was accepted but the service could not be read back (`warning` says why). */
  verified?: boolean;
  warning?: string;
  [key: string]: unknown;
}

const FLAG_OF: Record<string, string> = {
  cpu_limit: '--cpu',
  cpu_request: '--cpu',
  memory_limit: '--memory',
  memory_request: '--memory',
  replicas: '--replicas',
};

export async function resizeService(target: OpsTarget, body: ServiceResources): Promise<ResizeResult> {
  const service = target.service;
  if (!service) throw new OdError('internal', 'resize needs a resolved service.');
  const changed = Object.keys(body);
  const ids = { project_id: target.projectId, service_id: service.id };
  try {
    await target.client.updateService(service.id, body);
  } catch (error) {
    if (!(error instanceof OdError)) throw error;
    target.audit.error('service.resize', { ...ids, ...body, error_code: error.code, status: error.status ?? null });
    if (error.code === 'quota_exceeded') throw quotaError(target, error);
    throw error;
  }

  // Read back: the change is reported only once the service row shows it. The gateway accepted
  // it, so a read-back that fails is a warning with what was sent, not a failed resize.
  let after: Service;
  try {
    after = await target.client.getService(service.id);
  } catch (error) {
    if (!(error instanceof OdError)) throw error;
    target.audit.info('service.resize', { ...ids, ...body, verified: false, read_back_error: error.code });
    return {
      status: 'success',
      project_id: target.projectId,
      service_id: service.id,
      service: service.name,
      resources: { cpu_request: body.cpu_request ?? '', cpu_limit: body.cpu_limit ?? '', memory_request: body.memory_request ?? '', memory_limit: body.memory_limit ?? '', replicas: body.replicas ?? null },
      changed,
      redeployed: false,
      verified: false,
      warning: `The gateway accepted the resize, but reading the service back failed (${error.message.replace(/\.$/, '')}); \`opendeploy status\` shows it.`,
    };
  }
  const mismatched = mismatchedFields(body, after);
  if (mismatched.length > 0) {
    target.audit.error('service.resize', { ...ids, ...body, verified: false, mismatched });
    throw new OdError('server_error', `The gateway accepted the resize of ${service.name}, but reading the service back shows different ${mismatched.join(', ')}.`, {
      retryable: true,
      nextAction: 'Run the same resize once more; if it still differs, contact hi@opendeploy.dev with the service id.',
      details: { service_id: service.id, mismatched, sent: body, read_back: resourcesOf(after) },
    });
  }
  target.audit.info('service.resize', { ...ids, ...body, verified: true });
  return {
    status: 'success',
    project_id: target.projectId,
    service_id: service.id,
    service: service.name,
    resources: resourcesOf(after),
    changed,
    redeployed: false,
    verified: true,
  };
}

function resourcesOf(service: Service): ResizeResult['resources'] {
  return {
    cpu_request: service.cpu_request ?? '',
    cpu_limit: service.cpu_limit ?? '',
    memory_request: service.memory_request ?? '',
    memory_limit: service.memory_limit ?? '',
    replicas: service.replicas ?? null,
  };
}

function mismatchedFields(sent: ServiceResources, after: Service): string[] {
  const out: string[] = [];
  for (const field of ['cpu_request', 'cpu_limit'] as const) {
    if (sent[field] !== undefined && !sameQuantity('cpu', sent[field], after[field])) out.push(field);
  }
  for (const field of ['memory_request', 'memory_limit'] as const) {
    if (sent[field] !== undefined && !sameQuantity('memory', sent[field], after[field])) out.push(field);
  }
  if (sent.replicas !== undefined && after.replicas !== sent.replicas) out.push('replicas');
  return out;
}

/**
 * The gateway's 403 with `field`, `requested`, `limit`, worded for this credential: a pending one is
 * pointed at its claim URL (binding lifts the caps), a claimed one at the plan settings.
 */
function quotaError(target: OpsTarget, error: OdError): OdError {
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  if (field === undefined) return error;
  const requested = error.details.requested;
  const limit = error.details.limit;
  const flag = FLAG_OF[field] ?? field;
  const credential = target.credential;
  const claim = !target.bound && credential.agentId && credential.bindSig ? claimUrl(credential.gateway, credential.agentId, credential.bindSig) : undefined;
  const who = target.bound ? 'the plan of this account' : 'an unclaimed credential';
  const lower = `or re-run with ${flag} at most ${String(limit)}`;
  return new OdError('quota_exceeded', `The gateway refused ${field}=${String(requested)}: the limit for ${who} is ${String(limit)}. Nothing was changed.`, {
    status: error.status,
    retryable: false,
    nextAction: claim
      ? `Open ${claim} and sign in to claim this credential and lift the limit, ${lower}.`
      : `Upgrade the plan at ${dashboardBase(credential.gateway)}/settings, ${lower}.`,
    details: { field, requested, limit, ...(claim ? { claim_url: claim } : {}) },
  });
}

export function humanResize(result: ResizeResult): string[] {
  const r = result.resources;
  return [
    `Resized ${result.service} (${result.service_id}); no redeploy needed, the workload rolls by itself.`,
    `  cpu       request ${r.cpu_request}  limit ${r.cpu_limit}`,
    `  memory    request ${r.memory_request}  limit ${r.memory_limit}`,
    `  replicas  ${r.replicas ?? '?'}`,
    ...(result.warning ? [`  warning   ${result.warning}`] : []),
  ];
}

