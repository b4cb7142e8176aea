/**
 * Services: create (pending-agent caps first, as the hosted gateway middleware does), list, read,
 * partial update, and the full-replace runtime env endpoint.
 */

import { randomUUID } from 'node:crypto';
import { nowIso } from '../app.js';
import type { JsonObject, RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import { checkPendingCaps, checkPendingServiceCount, parseCpu, parseMemory } from '../quantity.js';
import type { ServiceRow } from '../store.js';
import {
  DNS_LABEL,
  environmentOf,
  optArray,
  optBool,
  optInt,
  optString,
  optStringArray,
  optStringMap,
} from '../validate.js';
import { serviceView } from '../views.js';
import { findProject, ownedProject, ownedService } from './lookup.js';

const CREATE_STRUCT = 'CreateServiceRequest';
const UPDATE_STRUCT = 'UpdateServiceRequest';
const SERVICE_TYPES = ['web', 'worker', 'cron', 'static'];
const MAX_ENV_KEY = 128;
const MAX_ENV_VALUE_BYTES = 32 * 1024;

const STRING_FIELDS = [
  'name', 'type', 'language', 'framework', 'source_path', 'dockerfile', 'dockerfile_path', 'build_context',
  'build_command', 'start_command', 'health_check_path', 'readiness_path',
  'cpu_request', 'cpu_limit', 'memory_request', 'memory_limit',
] as const;

type StringField = (typeof STRING_FIELDS)[number];

/** Every field of the request, type-checked; absent fields are undefined. */
interface ServiceInput {
  strings: Partial<Record<StringField, string>>;
  port: number | undefined;
  replicas: number | undefined;
  auto_scaling: boolean | undefined;
  internal_only: boolean | undefined;
  build_variables: Record<string, string> | undefined;
  runtime_variables: Record<string, string> | undefined;
  dependencies: string[] | undefined;
  volumes: unknown[] | undefined;
}

function readInput(body: JsonObject, struct: string): ServiceInput {
  const strings: Partial<Record<StringField, string>> = {};
  for (const field of STRING_FIELDS) {
    const value = optString(body, field, struct);
    if (value !== undefined) strings[field] = value;
  }
  return {
    strings,
    port: optInt(body, 'port', struct),
    replicas: optInt(body, 'replicas', struct),
    auto_scaling: optBool(body, 'auto_scaling', struct),
    internal_only: optBool(body, 'internal_only', struct),
    build_variables: optStringMap(body, 'build_variables', struct),
    runtime_variables: optStringMap(body, 'runtime_variables', struct),
    dependencies: optStringArray(body, 'dependencies', struct),
    volumes: optArray(body, 'volumes', struct),
  };
}

/** Format checks that run after the tier gate (the backend validates, the gateway only caps). */
function validateInput(input: ServiceInput): void {
  for (const field of ['cpu_request', 'cpu_limit'] as const) {
    const v = input.strings[field];
    if (v !== undefined && v !== '' && parseCpu(v) === null) throw httpError(400, `invalid ${field} "${v}": expected a Kubernetes CPU quantity such as "500m" or "1"`);
  }
  for (const field of ['memory_request', 'memory_limit'] as const) {
    const v = input.strings[field];
    if (v !== undefined && v !== '' && parseMemory(v) === null) throw httpError(400, `invalid ${field} "${v}": expected a Kubernetes memory quantity such as "512Mi" or "1Gi"`);
  }
  if (input.port !== undefined && (input.port < 0 || input.port > 65535)) throw httpError(400, `invalid port ${input.port}`);
  if (input.replicas !== undefined && input.replicas < 0) throw httpError(400, 'replicas must not be negative');
  if (input.strings.type !== undefined && input.strings.type !== '' && !SERVICE_TYPES.includes(input.strings.type)) {
    throw httpError(400, `invalid service type "${input.strings.type}": must be one of ${SERVICE_TYPES.join(', ')}`);
  }
  if (input.strings.name !== undefined && input.strings.name !== '' && !DNS_LABEL.test(input.strings.name)) {
    throw httpError(400, 'invalid service name: use lowercase letters, digits and hyphens (DNS label)');
  }
}

function capsOf(input: ServiceInput): Parameters<typeof checkPendingCaps>[0] {
  const caps: Parameters<typeof checkPendingCaps>[0] = {};
  if (input.strings.cpu_request) caps.cpu_request = input.strings.cpu_request;
  if (input.strings.cpu_limit) caps.cpu_limit = input.strings.cpu_limit;
  if (input.strings.memory_request) caps.memory_request = input.strings.memory_request;
  if (input.strings.memory_limit) caps.memory_limit = input.strings.memory_limit;
  if (input.replicas !== undefined) caps.replicas = input.replicas;
  return caps;
}

async function createService(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const input = readInput(body, CREATE_STRUCT);
  const caller = ctx.caller;
  const state = ctx.app.store.state;
  const projectId = ctx.param('id');

  if (!caller.bound) {
    checkPendingCaps(capsOf(input));
    const project = findProject(ctx, projectId);
    if (project) checkPendingServiceCount(state.services.filter((s) => s.project_id === project.id).length);
  }
  const project = ownedProject(ctx, projectId);
  const environment = environmentOf(body, CREATE_STRUCT);
  if (!input.strings.type) {
    throw httpError(400, "Key: 'CreateServiceRequest.Type' Error:Field validation for 'Type' failed on the 'required' tag");
  }
  if (!input.strings.name) {
    throw httpError(400, "Key: 'CreateServiceRequest.Name' Error:Field validation for 'Name' failed on the 'required' tag");
  }
  validateInput(input);
  if (state.services.some((s) => s.project_id === project.id && s.name === input.strings.name)) {
    throw httpError(409, 'service name already exists in this project');
  }

  const s = input.strings;
  const volumes = input.volumes ?? [];
  const now = nowIso();
  const service: ServiceRow = {
    id: randomUUID(),
    project_id: project.id,
    name: s.name as string,
    type: s.type as string,
    environment,
    language: s.language ?? '',
    framework: s.framework ?? '',
    port: input.port ?? 0,
    source_path: s.source_path ?? '',
    dockerfile: s.dockerfile ?? '',
    dockerfile_path: s.dockerfile_path ?? '',
    build_context: s.build_context ?? '',
    build_command: s.build_command ?? '',
    start_command: s.start_command ?? '',
    build_variables: input.build_variables ?? {},
    runtime_variables: input.runtime_variables ?? {},
    health_check_path: s.health_check_path ?? '',
    readiness_path: s.readiness_path ?? '',
    // Defaults sit inside the pending caps so an agent that omits resources is never refused.
    cpu_request: s.cpu_request || '500m',
    cpu_limit: s.cpu_limit || '1',
    memory_request: s.memory_request || '512Mi',
    memory_limit: s.memory_limit || '1Gi',
    // Volumes force a single replica (StatefulSet).
    replicas: volumes.length > 0 ? 1 : (input.replicas ?? 1),
    auto_scaling: input.auto_scaling ?? false,
    dependencies: input.dependencies ?? [],
    internal_only: input.internal_only ?? false,
    volumes,
    builder: s.dockerfile || s.dockerfile_path ? 'dockerfile' : 'railpack',
    port_locked: false,
    start_command_locked: false,
    status: 'created',
    created_at: now,
    updated_at: now,
  };
  state.services.push(service);
  ctx.app.store.changed();
  ctx.send(201, { message: 'Service created successfully', service_id: service.id });
}

function listServices(ctx: RequestContext): void {
  const project = ownedProject(ctx, ctx.param('id'));
  ctx.send(200, ctx.app.store.state.services.filter((s) => s.project_id === project.id).map(serviceView));
}

function getService(ctx: RequestContext): void {
  ctx.send(200, serviceView(ownedService(ctx, ctx.param('id'))));
}

async function updateService(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const input = readInput(body, UPDATE_STRUCT);
  const service = ownedService(ctx, ctx.param('id'));
  if (!ctx.caller.bound) checkPendingCaps(capsOf(input));
  if (input.strings.type === '') throw httpError(400, 'type must not be empty');
  validateInput(input);
  const state = ctx.app.store.state;
  if (input.strings.name && input.strings.name !== service.name && state.services.some((s) => s.project_id === service.project_id && s.name === input.strings.name)) {
    throw httpError(409, 'service name already exists in this project');
  }
  for (const [field, value] of Object.entries(input.strings) as Array<[StringField, string]>) {
    if (field === 'name' && value === '') continue;
    service[field] = value;
  }
  if (input.port !== undefined) service.port = input.port;
  if (input.replicas !== undefined) service.replicas = input.replicas;
  if (input.auto_scaling !== undefined) service.auto_scaling = input.auto_scaling;
  if (input.internal_only !== undefined) service.internal_only = input.internal_only;
  if (input.build_variables !== undefined) service.build_variables = input.build_variables;
  if (input.runtime_variables !== undefined) service.runtime_variables = input.runtime_variables;
  if (input.dependencies !== undefined) service.dependencies = input.dependencies;
  if (input.volumes !== undefined) service.volumes = input.volumes;
  if (service.volumes.length > 0) service.replicas = 1;
  if (input.strings.dockerfile !== undefined || input.strings.dockerfile_path !== undefined) {
    service.builder = service.dockerfile || service.dockerfile_path ? 'dockerfile' : 'railpack';
  }
  service.updated_at = nowIso();
  ctx.app.store.changed();
  ctx.send(200, serviceView(service));
}

function serviceInProject(ctx: RequestContext): ServiceRow {
  const project = ownedProject(ctx, ctx.param('id'));
  const service = ctx.app.store.state.services.find((s) => s.id === ctx.param('sid') && s.project_id === project.id);
  if (!service) throw httpError(404, 'service not found');
  return service;
}

function getEnv(ctx: RequestContext): void {
  const service = serviceInProject(ctx);
  ctx.send(200, { variables: { ...service.runtime_variables } });
}

/** Full replace: keys missing from the body are deleted (the contract's documented semantics). */
async function putEnv(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const service = serviceInProject(ctx);
  const raw = body['variables'];
  if (raw === undefined || raw === null) {
    throw httpError(400, "Key: 'UpdateEnvRequest.Variables' Error:Field validation for 'Variables' failed on the 'required' tag");
  }
  const variables = optStringMap(body, 'variables', 'UpdateEnvRequest') ?? {};
  for (const [key, value] of Object.entries(variables)) {
    if (key === '') throw httpError(400, 'variable name must not be empty');
    if (key.length > MAX_ENV_KEY) throw httpError(400, `variable name too long (max ${MAX_ENV_KEY} characters): ${key.slice(0, 32)}...`);
    if (Buffer.byteLength(value, 'utf8') > MAX_ENV_VALUE_BYTES) throw httpError(400, `value of ${key} is too large (max 32 KiB)`);
  }
  service.runtime_variables = variables;
  service.updated_at = nowIso();
  ctx.app.store.changed();
  const names = Object.keys(variables).sort();
  ctx.send(200, { service_id: service.id, variables: names, count: names.length });
}

export function registerServiceRoutes(api: Router): void {
  api.add('POST', '/api/v1/projects/:id/services/', createService);
  api.add('GET', '/api/v1/projects/:id/services/', listServices);
  api.add('GET', '/api/v1/projects/:id/services/:sid/env', getEnv);
  api.add('PUT', '/api/v1/projects/:id/services/:sid/env', putEnv);
  api.add('GET', '/api/v1/services/:id', getService);
  api.add('PUT', '/api/v1/services/:id', updateService);
}
