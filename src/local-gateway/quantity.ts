/**
 * Kubernetes resource quantities ("500m", "2", "512Mi", "1Gi") and the pending-agent caps that the
 * hosted gateway enforces before proxying: 1 vCPU, 1 GiB, 1 replica, 1 service per project.
 */

import { HttpError } from './http.js';
import { parseCpu, parseMemory } from '../core/quantity.js';

export { parseCpu, parseMemory };

export const PENDING_CAPS = {
  cpu: { cores: 1, text: '1' },
  memory: { bytes: 1024 ** 3, text: '1Gi' },
  replicas: 1,
  servicesPerProject: 1,
} as const;

export function quotaExceeded(field: string, requested: string, limit: string, message: string): HttpError {
  return new HttpError(403, {
    error: 'agent_quota_exceeded',
    error_code: 'quota_exceeded',
    field,
    requested,
    limit,
    message,
    retryable: false,
    next_action: 'bind_account',
  });
}

export interface ResourceFields {
  cpu_request?: string;
  cpu_limit?: string;
  memory_request?: string;
  memory_limit?: string;
  replicas?: number;
}

const BIND_HINT = 'Bind this agent to an account (open the claim URL) to raise the limit.';

/**
 * Throws the 403 for the first field above the pending-agent caps. Unparseable quantities are left
 * to the service validation (400), which runs after this gate like on the hosted gateway.
 */
export function checkPendingCaps(fields: ResourceFields): void {
  for (const field of ['cpu_limit', 'cpu_request'] as const) {
    const raw = fields[field];
    if (raw === undefined) continue;
    const cores = parseCpu(raw);
    if (cores !== null && cores > PENDING_CAPS.cpu.cores + 1e-9) {
      throw quotaExceeded(field, raw, PENDING_CAPS.cpu.text, `Unbound agents are limited to ${PENDING_CAPS.cpu.text} vCPU per service (${field} ${raw} requested). ${BIND_HINT}`);
    }
  }
  for (const field of ['memory_limit', 'memory_request'] as const) {
    const raw = fields[field];
    if (raw === undefined) continue;
    const bytes = parseMemory(raw);
    if (bytes !== null && bytes > PENDING_CAPS.memory.bytes) {
      throw quotaExceeded(field, raw, PENDING_CAPS.memory.text, `Unbound agents are limited to ${PENDING_CAPS.memory.text} of memory per service (${field} ${raw} requested). ${BIND_HINT}`);
    }
  }
  if (fields.replicas !== undefined && fields.replicas > PENDING_CAPS.replicas) {
    throw quotaExceeded('replicas', String(fields.replicas), String(PENDING_CAPS.replicas), `Unbound agents are limited to ${PENDING_CAPS.replicas} replica per service (${fields.replicas} requested). ${BIND_HINT}`);
  }
}

export function checkPendingServiceCount(existing: number): void {
  if (existing >= PENDING_CAPS.servicesPerProject) {
    throw quotaExceeded('services', String(existing + 1), String(PENDING_CAPS.servicesPerProject), `Unbound agents are limited to ${PENDING_CAPS.servicesPerProject} service per project. ${BIND_HINT}`);
  }
}
