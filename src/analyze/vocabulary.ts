/**
 * The closed sets an analysis uses, without the zod schemas that validate an analysis read from disk:
 * analysis itself never loads zod (about 60 ms of start-up).
 */
export const PROJECT_TYPES = ['web', 'worker', 'cron', 'static', ''] as const;
export const DEPENDENCY_RESOLUTIONS = ['locked', 'unlocked', 'unknown'] as const;
export const ENGINES = ['postgres', 'mysql', 'mongodb', 'redis', 'clickhouse'] as const;
export const ENV_KINDS = [
  'dependency_provided',
  'generated_app_secret',
  'late_bound_url',
  'startup_critical',
  'feature_optional',
] as const;

export type Engine = (typeof ENGINES)[number];
export type EnvKind = (typeof ENV_KINDS)[number];
export type ProjectType = (typeof PROJECT_TYPES)[number];
export type DependencyResolution = (typeof DEPENDENCY_RESOLUTIONS)[number];

/** What the archive would hold, as analysis reports it (the schema's ArchiveManifest has this shape). */
export interface ArchiveSummary {
  files: number;
  bytes: number;
  excluded_secrets: string[];
}

export const EMPTY_ARCHIVE_MANIFEST: ArchiveSummary = Object.freeze({
  files: 0,
  bytes: 0,
  excluded_secrets: [],
}) as ArchiveSummary;

