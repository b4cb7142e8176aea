/**
 * The `--json` contract as zod schemas, and the JSON Schema published from them
 * (schema/opendeploy-json.schema.json, written by `npm run schema`).
 *
 * Every stdout line of a `--json` run is one JSON object with a `type`:
 *   - events while a command works: `stage`, `progress`, `log`, `warning`;
 *   - then exactly one `result` (the command's data, its fields beside `type`) or one `error`.
 * One-shot commands (status, env list, …) print only their `result` line; `logs` prints `log` lines
 * and then its `result`.
 *
 * Results reuse the MCP tools' output schemas and the analysis schema wherever the CLI prints the
 * same object, so both fronts publish one contract. This module is for the generator and tests: the
 * CLI never loads it (zod stays off the start-up path).
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../core/errors.js';
import {
  AnalysisSchema,
  DeployResultSchema,
  DeploymentsSchema,
  DomainCheckSchema,
  DomainRenameResultSchema,
  EnvSetSchema,
  EnvUnsetResultSchema,
  PlanSchema,
  PortResultSchema,
  RedeploySchema,
  RollbackResultSchema,
  StatusSchema,
  TriageSchema,
} from '../../mcp/schemas.js';

// ------------------------------------------------------------------ events and errors

export const StageEventSchema = z.looseObject({
  type: z.literal('stage'),
  /** The pipeline step (analyze, upload, deploy.create, …). */
  stage: z.string(),
  /** `done` or `skipped` for a step; a terminal step carries the deployment's outcome (`success`, `failed`, …). */
  status: z.string(),
  message: z.string(),
});

export const ProgressEventSchema = z.looseObject({
  type: z.literal('progress'),
  stage: z.string(),
  message: z.string(),
  /** Byte transfers (archive, upload): bytes so far, of total, percent, bytes per second. */
  sent: z.number().optional(),
  total: z.number().optional(),
  percent: z.number().optional(),
  rate: z.number().optional(),
});

export const LogEventSchema = z.looseObject({
  type: z.literal('log'),
  message: z.string(),
  timestamp: z.string().optional(),
  level: z.string().optional(),
  /** `buildctl` for build lines, `runtime` for the app's own output. */
  source: z.string().optional(),
});

export const WarningEventSchema = z.looseObject({
  type: z.literal('warning'),
  /** Stable name a program can branch on (e.g. `missing_required_vars`). */
  code: z.string(),
  message: z.string(),
});

export const ErrorSchema = z.strictObject({
  type: z.literal('error'),
  error_code: z.enum(ERROR_CODES),
  message: z.string(),
  retryable: z.boolean(),
  next_action: z.string(),
  /** Names and ids only (resume_command, changes, cause_id, fix_command, …); never values. */
  details: z.record(z.string(), z.unknown()).optional(),
});

// ------------------------------------------------------------------ results the MCP tools do not share

const nullableString = z.string().nullable();

const LogsResultSchema = z.looseObject({
  /** A deployment's logs. */
  deployment_id: z.string().optional(),
  /** The running app's logs of a service. */
  service_id: z.string().optional(),
  source: z.literal('runtime').optional(),
  /** Lines printed (each was one `log` event before this result). */
  count: z.number(),
  /** With --follow on a deployment: the status it ended with. */
  status: z.string().optional(),
});

const EnvListResultSchema = z.looseObject({
  service_id: z.string(),
  /** KEY → `<redacted>`, or the value with --show-secrets. */
  variables: z.record(z.string(), z.string()),
  count: z.number(),
  values_redacted: z.boolean(),
  /** The live (running) deployment, or null when the service has none. */
  live_deployment_id: z.string().nullable(),
  /** The live_* comparison is null when there is no live deployment or the gateway shows no variable snapshot for it. */
  live_differs: z.boolean().nullable(),
  /** Per key of the service's set: how the live deployment holds it. */
  live: z.record(z.string(), z.enum(['same', 'different', 'missing'])).nullable(),
  /** Keys the live deployment has that the service no longer has. */
  live_only: z.array(z.string()).nullable(),
  /** The live deployment's values of the keys that differ or are only there (`<redacted>` without --show-secrets). */
  live_variables: z.record(z.string(), z.string()).nullable(),
});

const EnvGetResultSchema = z.looseObject({
  service_id: z.string(),
  key: z.string(),
  value: z.string(),
  values_redacted: z.boolean(),
});

const EnvDryRunResultSchema = z.looseObject({
  dry_run: z.literal(true),
  operation: z.string(),
  service_id: z.string(),
  keys_added: z.array(z.string()),
  keys_removed: z.array(z.string()),
  keys_changed: z.array(z.string()),
  count_before: z.number(),
  count_after: z.number(),
  changed: z.boolean(),
  needs_consent: z.boolean(),
  then: z.string(),
  /** Set when the real run would be refused (its redeploy would undo a rollback to an older upload). */
  refused: z.literal('conflict').optional(),
  /** With `refused`: the command that deploys the newer source instead. */
  newer_source_command: z.string().optional(),
});

const EnvRotateResultSchema = z.looseObject({
  service_id: z.string(),
  keys_added: z.array(z.string()),
  keys_removed: z.array(z.string()),
  keys_changed: z.array(z.string()),
  count: z.number(),
  changed: z.boolean(),
  verified: z.boolean(),
  /** The redeploy that made the values live, or null when none ran (--no-redeploy, nothing changed). */
  deployment_id: nullableString,
  status: z.literal('success').optional(),
  url: nullableString.optional(),
  redeploy_needed: z.boolean().optional(),
  /** The generated secret, only with --show-secrets. */
  value: z.string().optional(),
});

const EnvPullResultSchema = z.looseObject({
  service_id: z.string(),
  file: z.string(),
  count: z.number(),
  keys: z.array(z.string()),
  mode: z.literal('0600'),
  /** How the file is kept out of uploads: added to .opendeployignore, already listed, or excluded by its secret-like name. */
  archive: z.string(),
});

const CancelResultSchema = z.looseObject({
  status: z.literal('cancelled'),
  deployment_id: z.string(),
  service_id: nullableString,
  previous_status: z.string(),
  progress: z.number().nullable(),
});

const ResizeResultSchema = z.looseObject({
  status: z.literal('success'),
  project_id: z.string(),
  service_id: z.string(),
  service: z.string(),
  resources: z.object({ cpu_request: z.string(), cpu_limit: z.string(), memory_request: z.string(), memory_limit: z.string(), replicas: z.number().nullable() }),
  changed: z.array(z.string()),
  redeployed: z.literal(false),
  verified: z.boolean().optional(),
  warning: z.string().optional(),
});

const DbAddResultSchema = z.looseObject({
  status: z.enum(['success', 'skipped']),
  project_id: z.string(),
  service_id: z.string(),
  engine: z.string(),
  dependency_id: z.string(),
  env_added: z.array(z.string()),
  env_kept: z.array(z.string()),
  env_replaced: z.array(z.string()),
  redeployed: z.boolean(),
  deployment_id: nullableString,
  url: nullableString,
});

const AuthStatusResultSchema = z.looseObject({
  source: z.enum(['env', 'file', 'minted']),
  kind: z.enum(['pat', 'agent', 'unknown']),
  /** Kind prefix and last 4 characters only. */
  token: z.string(),
  auth_file: nullableString,
  gateway: z.string(),
  bound: z.boolean(),
  claim_url: nullableString,
});

const LoginResultSchema = z.looseObject({
  logged_in: z.literal(true),
  token: z.string(),
  kind: z.enum(['pat', 'agent', 'unknown']),
  auth_file: z.string(),
  gateway: z.string(),
  profile: z.object({ id: z.string(), email: nullableString }).nullable(),
  replaced: nullableString,
});

const LogoutResultSchema = z.looseObject({
  logged_out: z.boolean(),
  auth_file: z.string(),
  token: nullableString,
  env_token_set: z.boolean(),
});

const LinkResultSchema = z.looseObject({
  linked: z.literal(true),
  file: z.string(),
  project: z.object({ id: z.string(), name: z.string() }),
  service: z.object({ id: z.string(), name: z.string() }).nullable(),
  environment: z.string(),
  gateway: z.string(),
  replaced: nullableString,
});

const UnlinkResultSchema = z.looseObject({
  unlinked: z.boolean(),
  file: z.string(),
  project_id: nullableString,
});

const OpenResultSchema = z.looseObject({
  url: z.string(),
  kind: z.enum(['app', 'dashboard']),
  project_id: z.string(),
  service_id: nullableString,
  opened: z.boolean(),
});

const CompletionResultSchema = z.strictObject({
  shell: z.enum(['bash', 'zsh', 'fish']),
  script: z.string(),
});

const LocalGatewayResultSchema = z.looseObject({
  status: z.literal('listening'),
  url: z.string(),
  port: z.number(),
  data_dir: z.string(),
  auth_file: z.string().optional(),
  control_secret_file: z.string().optional(),
});

const LocalGatewayStopResultSchema = z.looseObject({
  status: z.enum(['stopped', 'not_running']),
  pid: z.number().nullable(),
  data_dir: z.string(),
});

const VersionResultSchema = z.strictObject({
  name: z.literal('opendeploy'),
  version: z.string(),
});

/** Adds the envelope's `type` to a result's data schema (strict schemas stay strict). */
function result<T extends z.ZodObject>(data: T) {
  return data.extend({ type: z.literal('result') });
}

/**
 * Each command's result line, by the command that prints it. `deploy` also covers the first run of
 * `opendeploy` with no command; `plan` also covers `deploy --dry-run`; `auth status` also covers
 * `whoami`; `env dry-run` is `env set|unset|rotate --dry-run`.
 */
export const RESULT_SCHEMAS = {
  version: result(VersionResultSchema),
  analyze: result(AnalysisSchema),
  plan: result(PlanSchema),
  deploy: result(DeployResultSchema),
  status: result(StatusSchema),
  deployments: result(DeploymentsSchema),
  logs: result(LogsResultSchema),
  'env list': result(EnvListResultSchema),
  'env get': result(EnvGetResultSchema),
  'env set': result(EnvSetSchema),
  'env unset': result(EnvUnsetResultSchema),
  'env rotate': result(EnvRotateResultSchema),
  'env pull': result(EnvPullResultSchema),
  'env dry-run': result(EnvDryRunResultSchema),
  redeploy: result(RedeploySchema),
  rollback: result(RollbackResultSchema),
  cancel: result(CancelResultSchema),
  triage: result(TriageSchema),
  resize: result(ResizeResultSchema),
  port: result(PortResultSchema),
  'db add': result(DbAddResultSchema),
  'domain check': result(DomainCheckSchema),
  'domain rename': result(DomainRenameResultSchema),
  'auth status': result(AuthStatusResultSchema),
  login: result(LoginResultSchema),
  logout: result(LogoutResultSchema),
  link: result(LinkResultSchema),
  unlink: result(UnlinkResultSchema),
  open: result(OpenResultSchema),
  completion: result(CompletionResultSchema),
  'local-gateway': result(LocalGatewayResultSchema),
  'local-gateway --stop': result(LocalGatewayStopResultSchema),
} as const;

export type ResultCommand = keyof typeof RESULT_SCHEMAS;

export const EVENT_SCHEMAS = {
  stage: StageEventSchema,
  progress: ProgressEventSchema,
  log: LogEventSchema,
  warning: WarningEventSchema,
} as const;

// ------------------------------------------------------------------ the published JSON Schema

/** `$defs` key of a command's result: `result.env_list`, `result.local-gateway_stop`, … */
export function resultDefName(command: ResultCommand): string {
  return `result.${command.replace(/ --/g, '_').replace(/ /g, '_')}`;
}

function toJson(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
  return rest;
}

/**
 * The whole contract as one JSON Schema (draft 2020-12): a line is one of the events, a result or
 * an error, told apart by `type`. A result is any of the per-command results; each is also its
 * own `$defs` entry, so a program that knows which command it ran can validate against that one.
 */
export function buildJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(EVENT_SCHEMAS)) defs[`event.${name}`] = toJson(schema);
  const resultRefs: { $ref: string }[] = [];
  for (const [command, schema] of Object.entries(RESULT_SCHEMAS) as [ResultCommand, z.ZodType][]) {
    const name = resultDefName(command);
    defs[name] = { title: `opendeploy ${command} --json`, ...toJson(schema) };
    resultRefs.push({ $ref: `#/$defs/${name}` });
  }
  defs.result = {
    description: 'The one line that ends a successful run: a command\'s data with its fields beside "type": "result".',
    anyOf: resultRefs,
  };
  defs.error = toJson(ErrorSchema);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'opendeploy --json output line',
    description:
      'Every stdout line of an opendeploy --json run is one JSON object with a "type": events ("stage", "progress", "log", "warning") while it works, then exactly one "result" or one "error". Generated from the zod schemas in src/cli/output/contract.ts by `npm run schema`; do not edit by hand.',
    type: 'object',
    oneOf: [...Object.keys(EVENT_SCHEMAS).map((name) => ({ $ref: `#/$defs/event.${name}` })), { $ref: '#/$defs/result' }, { $ref: '#/$defs/error' }],
    $defs: defs,
  };
}

/** The file's exact text: what the generator writes and what the test compares with the committed file. */
export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}
