/**
 * zod schemas for every gateway response body. Objects are loose (`z.looseObject`): extra fields pass
 * through untouched, required fields are checked. Optional fields accept `null` as well as absence,
 * because the Go backends behind the gateway emit `null` for empty values.
 */
import { z } from 'zod';

/** A scalar rendered as a string (env maps sometimes carry numbers/booleans). */
const scalarAsString = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .transform((v) => (v === null ? '' : String(v)));

/** `map[string]string`; a JSON-encoded string of the same is decoded first; null/absent → {}. */
export const StringMapSchema = z.preprocess((value) => {
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value ?? {};
}, z.record(z.string(), scalarAsString));

/** Optional field: absent or `null` (Go's zero value) both parse to `undefined`. */
export function opt<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? undefined : v), schema.optional());
}

const optStr = opt(z.string());
const optNum = opt(z.number());
const optBool = opt(z.boolean());

// ---------------------------------------------------------------- credential

/**
 * Register body: seed names (agent_id, claim_url) and newer names (guest_id, bind_url), normalised to
 * agent_id / claim_url. Nothing is required here: a replay omits api_key, and the auth layer decides
 * what a usable registration is (it checks api_key, agent_id and bind_sig itself).
 */
export const RegisterResponseSchema = z
  .looseObject({
    api_key: optStr,
    agent_id: optStr,
    guest_id: optStr,
    bind_sig: optStr,
    claim_url: optStr,
    bind_url: optStr,
    gateway: optStr,
    name: optStr,
    expires_in_seconds: optNum,
  })
  .transform((b) => ({
    ...b,
    agent_id: b.agent_id || b.guest_id || undefined,
    claim_url: b.claim_url || b.bind_url || undefined,
  }));

export const ProfileSchema = z.looseObject({
  id: z.string(),
  email: optStr,
  plan: optStr,
});

export const RegionSchema = z.looseObject({
  id: z.string(),
  name: optStr,
  code: optStr,
  status: z.string(),
  environment: optStr,
});

// ---------------------------------------------------------------- projects

export const ProjectSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  repo_url: optStr,
  branch: optStr,
  region_id: optStr,
  created_at: optStr,
  agent_id: optStr,
  source_path: optStr,
  /** `extracting` | `ready` | `failed` (repo); absent on seed gateways. */
  source_status: optStr,
  original_file_path: optStr,
  original_file_size: optNum,
  extraction_error: optStr,
});

// ---------------------------------------------------------------- dependencies

export const DependencySchema = z.looseObject({
  id: z.string(),
  dependency_id: optStr,
  name: optStr,
  display_name: optStr,
  type: optStr,
  /** `provisioning` | `pending` | `deploying` | `running` | `failed` | `stopping` | `deleting`. */
  status: optStr,
  environment: optStr,
  env_vars: StringMapSchema.optional(),
  message: optStr,
});

export const DependencyStatusItemSchema = DependencySchema.extend({ status: z.string() });

export const DependencyStatusResponseSchema = z.looseObject({
  dependencies: opt(z.array(DependencyStatusItemSchema)),
});

// ---------------------------------------------------------------- services

export const VolumeSpecSchema = z.looseObject({
  name: z.string(),
  mount_path: z.string(),
  size: z.string(),
});

export const ServiceSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  project_id: optStr,
  type: optStr,
  environment: optStr,
  language: optStr,
  framework: optStr,
  port: optNum,
  port_locked: optBool,
  source_path: optStr,
  dockerfile_path: optStr,
  build_command: optStr,
  start_command: optStr,
  start_command_locked: optBool,
  builder: optStr,
  health_check_path: optStr,
  runtime_variables: StringMapSchema.optional(),
  build_variables: StringMapSchema.optional(),
  cpu_request: optStr,
  cpu_limit: optStr,
  memory_request: optStr,
  memory_limit: optStr,
  replicas: optNum,
  status: optStr,
  created_at: optStr,
});

export const CreateServiceResponseSchema = z
  .looseObject({ service_id: optStr, id: optStr, message: optStr })
  .refine((b) => Boolean(b.service_id || b.id), {
    message: 'service_id (or id) is required',
    path: ['service_id'],
  })
  .transform((b) => ({ service_id: (b.service_id || b.id) as string }));

/** GET env: `{variables: {...}}`, `{env: {...}}` or a bare map. */
export const EnvMapResponseSchema = z.preprocess((value) => {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of ['variables', 'env', 'data']) {
      const inner = obj[key];
      if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) return inner;
      if (inner === null) return {};
    }
  }
  return value;
}, z.record(z.string(), scalarAsString));

export const PutEnvResponseSchema = z
  .looseObject({
    service_id: optStr,
    variables: opt(z.array(z.string())),
    count: optNum,
  })
  .transform((b) => {
    const variables = b.variables ?? [];
    return { count: b.count ?? variables.length, variables };
  });

// ---------------------------------------------------------------- source

export const UploadOnlyResponseSchema = z.looseObject({
  temp_file_path: z.string().min(1),
  filename: optStr,
  git_url: optStr,
  branch: optStr,
  is_git: optBool,
});

export const UpdateSourceResponseSchema = z.looseObject({
  project_id: optStr,
  source_path: optStr,
  source_status: optStr,
  services: opt(z.array(z.unknown())),
  message: optStr,
});

/** POST /v1/upload/multipart/init → the session. */
export const MultipartInitResponseSchema = z.looseObject({
  upload_id: z.string().min(1),
  part_size: z.number().int().positive(),
  expires_at: optStr,
});

/** PUT …/parts/:n → `{received: true, part_number}`. */
export const MultipartPartResponseSchema = z.looseObject({
  received: z.boolean(),
  part_number: z.number().int().positive(),
});

/** The 409 of complete: the parts the server does not hold. */
export const MissingPartsSchema = z.looseObject({
  missing_parts: z.array(z.number().int().positive()),
});

// ---------------------------------------------------------------- deployments

export const DeploymentSchema = z.looseObject({
  id: z.string(),
  /** `pending` | `analyzing` | `pending_review` | `building` | `deploying` | `success` | `failed` | `cancelled` | `rolled_back`. */
  status: z.string(),
  project_id: optStr,
  service_id: optStr,
  environment: optStr,
  source: optStr,
  progress: optNum,
  progress_percent: optNum,
  build_percent: optNum,
  message: optStr,
  error_msg: optStr,
  error_context: z.unknown().optional(),
  temp_file_path: optStr,
  created_at: optStr,
  completed_at: optStr,
  is_bound: optBool,
  /**
   * The service's runtime variables when the deployment was created (what the running app was
   * given): a JSON string on the contract's responses, a map on some builds. Left unparsed here so
   * an odd shape never fails a status read; `deploymentVariables` (src/ops/env.ts) decodes it.
   */
  runtime_variables: z.unknown().optional(),
});

const LogLineObjectSchema = z.looseObject({
  message: optStr,
  line: optStr,
  timestamp: optStr,
  source: optStr,
  level: optStr,
  stream: optStr,
});

/**
 * A log entry: an object (its text under `message`, or `line`/`msg`/`text` on other builds, copied to
 * `message`), or a bare string normalised to `{message}`.
 */
export const LogLineSchema = z.union([
  z.string().transform((message) => ({ message })),
  LogLineObjectSchema.transform((line) => {
    if (line.message !== undefined) return line;
    const alt = [line.line, (line as Record<string, unknown>).msg, (line as Record<string, unknown>).text].find(
      (v): v is string => typeof v === 'string',
    );
    return alt !== undefined ? { ...line, message: alt } : line;
  }),
]);

export const LogsResponseSchema = z
  .looseObject({
    deployment_id: optStr,
    logs: opt(z.array(LogLineSchema)),
    total: optNum,
  })
  .transform((b) => {
    const logs = b.logs ?? [];
    return { logs, total: b.total ?? logs.length };
  });

// ---------------------------------------------------------------- domains

export const SubdomainCheckSchema = z.looseObject({
  available: z.boolean(),
  reason: optStr,
});

export const ServiceDomainSchema = z.looseObject({
  id: z.string(),
  service_id: optStr,
  project_id: optStr,
  domain: optStr,
  url: optStr,
  environment: optStr,
  /** `auto` | `custom`. */
  type: optStr,
  /** `pending` | `active` | `verified` | `failed`. */
  status: optStr,
  ssl_enabled: optBool,
  is_primary: optBool,
  cname_target: optStr,
  error_msg: optStr,
});

// ---------------------------------------------------------------- collections

/**
 * A collection body: a bare array, or an envelope `{data: [...]}` / `{<key>: [...]}`; `null` (Go's
 * empty slice) or a missing array in an envelope is an empty list.
 */
export function collectionOf<T extends z.ZodType>(item: T, keys: readonly string[] = ['data']) {
  return z.preprocess((value) => {
    if (value === null) return [];
    if (Array.isArray(value)) return value;
    if (typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      for (const key of keys) {
        if (Array.isArray(obj[key])) return obj[key];
      }
      for (const key of keys) {
        if (key in obj && obj[key] === null) return [];
      }
    }
    return value;
  }, z.array(item));
}
