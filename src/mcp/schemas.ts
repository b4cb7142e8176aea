/**
 * Input and output schemas of the MCP tools. Inputs are zod shapes (the SDK turns them into the JSON
 * Schema clients see and validates every call against them); outputs are zod objects the SDK checks
 * each result against before it leaves the server. The analysis reuses the schema `analyze --json`
 * is validated with, so both fronts publish one contract.
 */
import { z } from 'zod';
import { AnalysisSchema } from '../analyze/schema.js';

// ------------------------------------------------------------------ inputs

/** Where a tool works and which gateway/target it talks to: the CLI's global options, by name. */
export const TargetShape = {
  path: z.string().optional().describe("project folder (absolute, or relative to the server's working directory; default: that directory)"),
  gateway: z.string().optional().describe('gateway base URL, e.g. https://host/api (default: OD_GATEWAY, the linked gateway, or the hosted one)'),
  auth_file: z.string().optional().describe('credential file instead of ~/.opendeploy/auth.json'),
  project: z.string().optional().describe('project id (instead of the folder\'s .opendeploy/project.json)'),
  service: z.string().optional().describe('service id or name (when a project has several)'),
  env: z.enum(['production', 'staging']).optional().describe('environment (default: the linked one, else production)'),
  local: z.boolean().optional().describe('use the embedded local gateway instead of the hosted one'),
  data_dir: z.string().optional().describe('with local: where the embedded gateway keeps its state'),
};

/** Destructive tools act only with this set; without it they describe what would change. */
export const ConfirmShape = {
  confirm: z.boolean().optional().describe('true to apply; otherwise nothing changes and the result lists what would change (consent)'),
};

export const PathShape = { path: TargetShape.path };

export const DeployShape = {
  ...TargetShape,
  name: z.string().optional().describe('project name for a first deploy (default: from the folder)'),
  subdomain: z.string().optional().describe('claim <prefix>.opendeploy.run after success (production only)'),
  force: z.boolean().optional().describe('re-upload the source even when it is unchanged since the last upload'),
  no_wait: z.boolean().optional().describe('return once the deployment is created (status "started", with its deployment_id and follow_command) instead of waiting for it; status and deployments show how it ends'),
  confirm: z.boolean().optional().describe("true allows creating a free credential when none exists (the CLI's --yes); a deploy asks nothing else"),
};

export const DeploymentsShape = {
  ...TargetShape,
  status: z.string().optional().describe('only deployments with this status (success, failed, building, …)'),
  limit: z.number().int().min(1).max(1000).optional().describe('at most this many rows (newest first; default 20)'),
};

export const LogsShape = {
  ...TargetShape,
  deployment_id: z.string().optional().describe('deployment whose logs to read (default: the running app\'s output, see runtime)'),
  tail: z.number().int().min(1).max(10_000).optional().describe('last N lines (default 100)'),
  since: z.string().optional().describe('RFC3339 time or a duration back from now (30s, 10m, 1h)'),
  build: z.boolean().optional().describe('build lines of a deployment (default: the service\'s latest) instead of the app\'s output'),
  runtime: z
    .boolean()
    .optional()
    .describe("with no deployment_id: true (default) reads what the running app prints (its latest deployment's logs when nothing runs); false reads the latest deployment's logs"),
};

export const EnvSetShape = {
  ...TargetShape,
  variables: z.record(z.string(), z.string()).describe('KEY → value; merged into the service\'s variables (other keys are kept). Values are never echoed back.'),
};

export const EnvUnsetShape = {
  ...TargetShape,
  keys: z.array(z.string()).min(1).describe('names of the variables to remove'),
  ...ConfirmShape,
};

export const RedeployShape = {
  ...TargetShape,
  source: z.string().optional().describe('upload this folder first (default: rebuild the current source, no upload)'),
};

export const RollbackShape = {
  ...TargetShape,
  deployment_id: z.string().optional().describe('deployment to roll back to (default: the previous successful one)'),
  ...ConfirmShape,
};

export const TriageShape = {
  ...TargetShape,
  deployment_id: z.string().optional().describe('deployment to diagnose (default: the service\'s latest failure, or its healthy latest)'),
};

export const PortShape = {
  ...TargetShape,
  port: z.number().int().min(1).max(65535).optional().describe('the port to set (1-65535); without it the tool only reads the service\'s port'),
  redeploy: z.boolean().optional().describe('with port: redeploy the current source at once, so the running app moves to the new port'),
};

export const DomainShape = {
  ...TargetShape,
  prefix: z.string().describe('subdomain prefix: 2–32 characters of a-z, 0-9 and -'),
};

export const DomainRenameShape = { ...DomainShape, ...ConfirmShape };

// ------------------------------------------------------------------ outputs

export { AnalysisSchema };

const PlanVariableSchema = z.object({
  name: z.string(),
  required: z.boolean(),
  /** The analysis's class of the variable; null for a name only the vars file (or the port rule) brings. */
  kind: z.string().nullable(),
  /** Where the value would come from. */
  value_from: z.enum(['vars_file', 'database', 'analysis_default', 'port', 'linked_service', 'unset']),
  /** The provenance behind value_from: evidence (file:line), a flag, or the rule. */
  from: z.string(),
});

const ResourcesSchema = z.object({ cpu_request: z.string(), cpu_limit: z.string(), memory_request: z.string(), memory_limit: z.string(), replicas: z.number() });

export const PlanSchema = z.object({
  root: z.string(),
  environment: z.string(),
  environment_from: z.string(),
  project: z.object({ name: z.string(), name_from: z.string(), action: z.enum(['create', 'reuse']), project_id: z.string().nullable() }),
  /** The project this folder is linked to (a redeploy target), or null for a first deploy. */
  linked_project_id: z.string().nullable(),
  linked: z
    .object({
      project_id: z.string().nullable(),
      project_name: z.string().nullable(),
      environment: z.string(),
      gateway: z.string(),
      services: z.array(z.object({ name: z.string(), service_id: z.string() })),
      dependencies: z.array(z.object({ engine: z.string(), dependency_id: z.string() })),
      last_deployment_id: z.string().nullable(),
      note: z.string(),
    })
    .nullable(),
  services: z.array(
    z.object({
      name: z.string(),
      source_path: z.string(),
      action: z.enum(['create', 'reuse']),
      service_id: z.string().nullable(),
      language: z.string(),
      framework: z.string(),
      port: z.number().nullable(),
      build_command: z.string(),
      start_command: z.string(),
      health_check_path: z.string(),
      dockerfile: z.string(),
      databases: z.array(z.string()),
      variables: z.array(PlanVariableSchema),
      build_variables: z.array(PlanVariableSchema),
      resources: ResourcesSchema.nullable(),
      missing_required_vars: z.array(z.string()),
      /** Field → where its value came from. */
      evidence: z.record(z.string(), z.string()),
    }),
  ),
  databases: z.array(z.object({ engine: z.string(), action: z.enum(['create', 'reuse', 'skip']), dependency_id: z.string().nullable(), from: z.string() })),
  archive: z.object({ files: z.number(), bytes: z.number(), excluded_secrets: z.array(z.string()) }),
  /** Why the deploy would stop before creating anything, or null. */
  stops: z.string().nullable(),
  refused: z.boolean(),
  refusal_reasons: z.array(z.string()),
  warnings: z.array(z.string()),
});

export const ConsentSchema = z.object({
  /** One sentence: what would happen. */
  action: z.string(),
  /** What would change, by name only (key names, deployment ids, URLs): never values. */
  changes: z.array(z.string()),
  /** Call the same tool again with these arguments to apply it (they include confirm: true). */
  confirm_arguments: z.record(z.string(), z.unknown()),
  /** The same action from a terminal. */
  cli_command: z.string().nullable(),
});

/** A destructive tool's answer: either it applied (result) or it needs consent (consent). */
export function gated<T extends z.ZodType>(result: T) {
  return z.object({
    applied: z.boolean(),
    consent: ConsentSchema.nullable(),
    result: result.nullable(),
  });
}

/**
 * A deploy's result. `success`: the deployment finished and serves `url`. `started` (`--no-wait`):
 * the deployment was created and not awaited; `deployment_status` is where it was and
 * `follow_command` streams it. `detached`: a local deploy whose app keeps running in a background
 * gateway that `stop_command` stops. One object (not a union) because MCP output schemas are objects.
 */
export const DeployResultSchema = z.looseObject({
  status: z.enum(['success', 'started', 'detached']),
  project_id: z.string(),
  service_id: z.string(),
  deployment_id: z.string(),
  /** The live URL (null while the generated domain is not ready); absent when the run did not wait. */
  url: z.string().nullable().optional(),
  claim_url: z.string().nullable(),
  dashboard_url: z.string(),
  missing_required_vars: z.array(z.string()),
  /** `started`: the deployment's own status when the run left it (queued, building, …). */
  deployment_status: z.string().optional(),
  /** `started`: streams the deployment's logs until it ends. */
  follow_command: z.string().optional(),
  /** With a background local gateway: the command that stops it (and the app). */
  stop_command: z.string().optional(),
  /** True when a local deploy detached on its own (no terminal attached). */
  detached: z.boolean().optional(),
});

export const StatusSchema = z.object({
  project: z.object({ id: z.string(), name: z.string() }),
  environment: z.string(),
  services: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      status: z.string().nullable(),
      port: z.number().nullable(),
      cpu: z.object({ request: z.string().nullable(), limit: z.string().nullable() }),
      memory: z.object({ request: z.string().nullable(), limit: z.string().nullable() }),
      replicas: z.number().nullable(),
      url: z.string().nullable(),
    }),
  ),
  dependencies: z.array(z.object({ engine: z.string(), id: z.string(), status: z.string() })),
  latest_deployment: z
    .object({ id: z.string(), service_id: z.string().nullable(), status: z.string(), progress: z.number().nullable(), created_at: z.string().nullable() })
    .nullable(),
  bound: z.boolean(),
  claim_url: z.string().nullable(),
  /** null when no local gateway serves the project after the command (see local_gateway). */
  dashboard_url: z.string().nullable(),
  /** Only for a project on the local gateway when no gateway serves it: how to start one. */
  local_gateway: z.object({ running: z.literal(false), start_command: z.string() }).optional(),
});

export const DeploymentRowSchema = z.object({
  id: z.string(),
  status: z.string(),
  /** True for the release the service runs now. */
  live: z.boolean(),
  source: z.string().nullable(),
  /** Digest of the uploaded archive when known (the folder's last upload), else null. */
  source_digest: z.string().nullable(),
  progress: z.number().nullable(),
  created_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** For a rollback deployment: the deployment whose release it runs again. */
  rollback_from: z.string().nullable(),
});

export const DeploymentsSchema = z.object({
  project_id: z.string(),
  service_id: z.string(),
  service_name: z.string(),
  environment: z.string(),
  live_deployment_id: z.string().nullable(),
  status_filter: z.string().nullable(),
  /** Rows after the status filter, before the limit. */
  total: z.number(),
  deployments: z.array(DeploymentRowSchema),
});

export const LogsSchema = z.object({
  /** `runtime`: what the running app printed; `deployment`: a deployment's build and start lines. */
  source: z.enum(['runtime', 'deployment']),
  /** The deployment whose logs these are (null for the app's output). */
  deployment_id: z.string().nullable(),
  service_id: z.string().nullable(),
  count: z.number(),
  lines: z.array(z.object({ timestamp: z.string().nullable(), level: z.string().nullable(), source: z.string().nullable(), message: z.string() })),
});

export const EnvListSchema = z.object({
  service_id: z.string(),
  keys: z.array(z.string()),
  count: z.number(),
  values_redacted: z.literal(true),
  live_deployment_id: z.string().nullable().describe('the live (running) deployment; null when the service has none'),
  live_differs: z.boolean().nullable().describe('the live deployment runs with other variables than these; null when unknown (no live deployment, or the gateway shows no snapshot)'),
  live: z.record(z.string(), z.enum(['same', 'different', 'missing'])).nullable().describe('per key of the service: how the live deployment has it (values compared, never returned)'),
  live_only: z.array(z.string()).nullable().describe('keys the live deployment has that the service no longer has'),
  deploy_current_values: z.string().nullable().describe('when they differ: the command that deploys the current values (after a rollback to an older upload, the one that deploys the newer source)'),
});

export const EnvSetSchema = z.object({
  service_id: z.string(),
  keys_set: z.array(z.string()),
  keys_added: z.array(z.string()),
  keys_changed: z.array(z.string()),
  keys_unchanged: z.array(z.string()),
  count: z.number(),
  changed: z.boolean(),
  verified: z.boolean(),
  redeploy_needed: z.boolean(),
});

export const EnvUnsetResultSchema = z.object({
  service_id: z.string(),
  keys_removed: z.array(z.string()),
  count: z.number(),
  verified: z.boolean(),
  redeploy_needed: z.literal(true),
});

export const RedeploySchema = z.looseObject({
  status: z.literal('success'),
  project_id: z.string(),
  service_id: z.string(),
  deployment_id: z.string(),
  url: z.string().nullable(),
});

export const RollbackResultSchema = z.looseObject({
  status: z.literal('success'),
  rolled_back_to: z.string(),
  deployment_id: z.string(),
  previous: z.string().nullable(),
  next_redeploy_source: z
    .object({ source: z.enum(['live_release', 'newer_source']), deployment_id: z.string().nullable(), command: z.string() })
    .nullable(),
});

export const TriageSchema = z.looseObject({
  deployment_id: z.string(),
  status: z.string(),
  cause_id: z.string().nullable(),
  cause: z.string(),
  evidence: z.array(z.string()),
  fix_command: z.string().nullable(),
  next_action: z.string(),
});

/** `port`: the CLI's `port --json` result and the MCP `port` tool's output. */
export const PortResultSchema = z.looseObject({
  status: z.literal('success'),
  project_id: z.string(),
  service_id: z.string(),
  service: z.string(),
  /** `show` without a number, `set` with one. */
  action: z.enum(['show', 'set']),
  /** The service's port (read back after a change). */
  port: z.number().int().nullable(),
  locked: z.boolean(),
  /** show: what the analysis of the linked folder finds (null: none, or the folder is not linked). */
  analysed_port: z.number().int().nullable().optional(),
  previous_port: z.number().int().nullable().optional(),
  changed: z.boolean().optional(),
  /** set: the variables that followed the port (PORT, when it named the old one). */
  variables_changed: z.array(z.string()).optional(),
  redeployed: z.boolean().optional(),
  /** set without --redeploy after a rollback to an older upload: the command that deploys the newer source (a plain redeploy refuses). */
  newer_source_command: z.string().optional(),
  deployment_id: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
});

export const DomainCheckSchema = z.looseObject({
  subdomain: z.string(),
  domain: z.string(),
  available: z.boolean(),
  reason: z.string().nullable(),
});

export const DomainRenameResultSchema = z.looseObject({
  status: z.literal('success'),
  project_id: z.string(),
  service_id: z.string(),
  domain_id: z.string(),
  subdomain: z.string(),
  url: z.string(),
  previous_url: z.string(),
  changed: z.boolean(),
});
