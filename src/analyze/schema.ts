/**
 * The shape of a local analysis. This is a process boundary:
 * the CLI writes it to `.opendeploy/analysis.json` and later stages read it back, so it is a zod
 * schema and the TypeScript types are derived from it.
 *
 * Objects are strict: a field that is not in the spec is a bug, and the fixture tests catch it.
 */
import { z } from 'zod';
import { DEPENDENCY_RESOLUTIONS, ENGINES, ENV_KINDS, PROJECT_TYPES } from './vocabulary.js';

export { DEPENDENCY_RESOLUTIONS, ENGINES, ENV_KINDS, PROJECT_TYPES, EMPTY_ARCHIVE_MANIFEST } from './vocabulary.js';
export type { DependencyResolution, Engine, EnvKind, ProjectType } from './vocabulary.js';

export const EnvVarSchema = z.strictObject({
  name: z.string().min(1),
  required: z.boolean(),
  /** A default from code or an example file; never a value from a real `.env`. */
  default: z.string(),
  kind: z.enum(ENV_KINDS),
});

export const AiConfigSchema = z.strictObject({
  requires_ai_api_key: z.boolean(),
  detected_providers: z.array(z.string()),
  api_key_vars: z.array(z.string()),
  base_url_vars: z.array(z.string()),
});

export const EvidenceSchema = z.strictObject({
  decision: z.string().min(1),
  value: z.string(),
  evidence: z.string().min(1),
});

export const ServiceSchema = z.strictObject({
  name: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'DNS-safe: lowercase letters, digits and inner hyphens'),
  source_path: z.string().min(1),
  language: z.string(),
  language_version: z.string(),
  framework: z.string(),
  /** `""` when the evidence does not establish it (never a guess). */
  project_type: z.enum(PROJECT_TYPES),
  package_manager: z.string(),
  package_manager_version: z.string(),
  lockfile: z.string(),
  dependency_resolution: z.enum(DEPENDENCY_RESOLUTIONS),
  build_tool: z.string(),
  port: z.number().int().min(1).max(65535).nullable(),
  entry_point: z.string(),
  output_directory: z.string(),
  scripts_build: z.string(),
  scripts_start: z.string(),
  dockerfile: z.string(),
  database_type: z.union([z.enum(ENGINES), z.literal('')]),
  dependencies: z.array(z.enum(ENGINES)),
  runtime_vars: z.array(EnvVarSchema),
  build_time_vars: z.array(EnvVarSchema),
  ai_config: AiConfigSchema,
  health_check_path: z.string(),
  evidence: z.array(EvidenceSchema),
});

export const RefusalSchema = z.strictObject({
  refused: z.boolean(),
  reasons: z.array(z.string()),
});

export const ArchiveManifestSchema = z.strictObject({
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  excluded_secrets: z.array(z.string()),
});

export const AnalysisSchema = z.strictObject({
  version: z.literal(1),
  root: z.string().min(1),
  services: z.array(ServiceSchema),
  refusal: RefusalSchema,
  warnings: z.array(z.string()),
  archive: ArchiveManifestSchema,
});

export type EnvVar = z.infer<typeof EnvVarSchema>;
export type AiConfig = z.infer<typeof AiConfigSchema>;
export type Evidence = z.infer<typeof EvidenceSchema>;
export type AnalyzedService = z.infer<typeof ServiceSchema>;
export type Refusal = z.infer<typeof RefusalSchema>;
export type ArchiveManifest = z.infer<typeof ArchiveManifestSchema>;
export type Analysis = z.infer<typeof AnalysisSchema>;
