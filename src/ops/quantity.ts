import { OdError } from '../core/errors.js';
import { parseCpu, parseMemory } from '../core/quantity.js';
import type { ServiceResources } from '../gateway/index.js';

/**
 * Client-side validation of `opendeploy resize` values, so a typo never reaches the gateway, and
 * the request side of each resource derived from its limit:
 *
 * - CPU request = min(limit, 500m): enough to schedule, never above what was asked for.
 * - Memory request = half the memory limit (rounded to a readable unit).
 *
 * Stricter than Kubernetes on purpose: memory needs a unit (a bare "512" is 512 bytes, never what
 * anyone means), millicores are whole numbers, and zero is refused.
 */

const MAX_REPLICAS = 20;
/** What one service can plausibly ask for: a typo like `--cpu 3000` or `--memory 1Ti` is refused here. */
const CPU_RANGE = { min: 0.01, max: 32, text: '10m to 32 cores' };
const MEMORY_RANGE = { min: 64 * 1024 ** 2, max: 64 * 1024 ** 3, text: '64Mi to 64Gi' };
const CPU_REQUEST_CAP = 0.5;
const EPSILON = 1e-9;

export interface ResizeRequest {
  cpu?: string;
  memory?: string;
  replicas?: string;
}

function validateCpu(value: string): number {
  const text = value.trim();
  const cores = /^(\d+(\.\d+)?|\.\d+|\d+m)$/.test(text) ? parseCpu(text) : null;
  if (cores === null || cores <= 0) {
    throw new OdError('invalid_input', `--cpu "${value}" is not a Kubernetes CPU quantity.`, {
      nextAction: 'Use cores or millicores, e.g. --cpu 500m, --cpu 0.5, --cpu 1 or --cpu 2.',
      details: { field: 'cpu', value },
    });
  }
  if (cores < CPU_RANGE.min - EPSILON || cores > CPU_RANGE.max + EPSILON) {
    throw new OdError('invalid_input', `--cpu "${value}" is outside the range a service can have (${CPU_RANGE.text}).`, {
      nextAction: 'Use cores or millicores within that range, e.g. --cpu 500m, --cpu 1 or --cpu 2.',
      details: { field: 'cpu', value, min: '10m', max: '32' },
    });
  }
  return cores;
}

function validateMemory(value: string): number {
  const text = value.trim();
  const bytes = /^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|K|k|M|G|T)$/.test(text) ? parseMemory(text) : null;
  if (bytes === null || bytes <= 0) {
    throw new OdError('invalid_input', `--memory "${value}" is not a Kubernetes memory quantity.`, {
      nextAction: 'Give a number with a unit, e.g. --memory 512Mi, --memory 1Gi, --memory 1.5Gi or --memory 2G.',
      details: { field: 'memory', value },
    });
  }
  if (bytes < MEMORY_RANGE.min || bytes > MEMORY_RANGE.max) {
    throw new OdError('invalid_input', `--memory "${value}" is outside the range a service can have (${MEMORY_RANGE.text}).`, {
      nextAction: 'Use a value within that range, e.g. --memory 512Mi, --memory 1Gi or --memory 4Gi.',
      details: { field: 'memory', value, min: '64Mi', max: '64Gi' },
    });
  }
  return bytes;
}

function validateReplicas(value: string): number {
  const text = value.trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
    throw new OdError('invalid_input', `--replicas "${value}" must be a whole number from 1 to ${MAX_REPLICAS}.`, {
      nextAction: 'For example: --replicas 2.',
      details: { field: 'replicas', value },
    });
  }
  return n;
}

/** Millicores as the shortest Kubernetes string: 0.25 → "250m", 2 → "2". */
function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes in the largest unit that divides them exactly (binary units first), else whole bytes. */
export function formatMemory(bytes: number): string {
  const units: [string, number][] = [
    ['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2],
    ['T', 1e12], ['G', 1e9], ['M', 1e6], ['Ki', 1024], ['k', 1e3],
  ];
  const whole = Math.round(bytes);
  for (const [unit, size] of units) {
    if (whole >= size && whole % size === 0) return `${whole / size}${unit}`;
  }
  return String(whole);
}

/**
 * The `PUT /v1/services/:id` body for the given flags: limits as given (trimmed), requests derived.
 * Throws invalid_input before anything is sent when a value is malformed or nothing was asked for.
 */
export function resizeBody(request: ResizeRequest): ServiceResources {
  if (request.cpu === undefined && request.memory === undefined && request.replicas === undefined) {
    throw new OdError('invalid_input', 'Nothing to change: give at least one of --cpu, --memory or --replicas.', {
      nextAction: 'For example: opendeploy resize --cpu 1 --memory 1Gi --replicas 1',
    });
  }
  const body: ServiceResources = {};
  if (request.cpu !== undefined) {
    const cores = validateCpu(request.cpu);
    body.cpu_limit = request.cpu.trim();
    body.cpu_request = cores <= CPU_REQUEST_CAP + EPSILON ? body.cpu_limit : formatCpu(CPU_REQUEST_CAP);
  }
  if (request.memory !== undefined) {
    const bytes = validateMemory(request.memory);
    body.memory_limit = request.memory.trim();
    body.memory_request = formatMemory(bytes / 2);
  }
  if (request.replicas !== undefined) body.replicas = validateReplicas(request.replicas);
  return body;
}

/** Same quantity? ("1" and "1000m", "1Gi" and "1024Mi" are.) Used to verify the read-back. */
export function sameQuantity(kind: 'cpu' | 'memory', a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === b) return true;
  const parse = kind === 'cpu' ? parseCpu : parseMemory;
  const x = parse(a);
  const y = parse(b);
  return x !== null && y !== null && Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 1e-9;
}
