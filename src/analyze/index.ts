/**
 * Local analysis: a pure function of a folder → Analysis (spec/analysis.md).
 *
 * It never touches the network, never executes project code and never writes files (the CLI saves
 * the result to .opendeploy/analysis.json). Problems inside the folder (malformed manifests,
 * unreadable or binary files, symlink loops, huge or deep trees) become warnings; only a root that
 * is not a readable folder is an error (`invalid_input`).
 *
 * Pipeline: bounded snapshot → one-pass source scan → detector registry (runtime + framework,
 * precedence) → shared pieces (Dockerfile, compose, Procfile, port, env, databases, AI, health)
 * → refusal checklist → schema-validated result.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../errors.js';
import { detectAi } from './ai.js';
import { readCompose } from './compose.js';
import { detectDatabases } from './databases.js';
import { readDockerfile } from './dockerfile.js';
import { collectEnvVars } from './env-vars.js';
import { DEFAULT_LIMITS, FsSnapshot, type Clock, type SnapshotLimits } from './fs-snapshot.js';
import { Manifests } from './manifests.js';
import { dnsName } from './name.js';
import { decidePort } from './port.js';
import { readProcfile } from './procfile.js';
import { decideRefusal } from './refusal.js';
import { decide } from './registry.js';
import { DEFAULT_SCAN_LIMITS, healthRank, scanSources, type ScanLimits } from './scan.js';
import {
  AnalysisSchema,
  type Analysis,
  type AnalyzedService,
  type ArchiveManifest,
  type Evidence,
} from './schema.js';
import { inDir, type Conclusion, type DetectContext, type DetectedFields, type Detection } from './types.js';
import { Warnings } from './warnings.js';

export type { Analysis, AnalyzedService, ArchiveManifest, EnvVar, AiConfig, Evidence, Refusal } from './schema.js';
export { AnalysisSchema, ServiceSchema, EMPTY_ARCHIVE_MANIFEST } from './schema.js';
export type { SnapshotLimits } from './fs-snapshot.js';
export type { ScanLimits } from './scan.js';

export interface AnalyzeOptions {
  /** The archive module's manifest (`manifestOf(selectFiles(root))`); defaults to an empty one. */
  archive?: ArchiveManifest;
  /** Folder the reported `root` is relative to; defaults to `process.cwd()`. */
  cwd?: string;
  /** Millisecond clock for the time budget; tests inject a fake one. Defaults to `Date.now`. */
  now?: Clock;
  /** Walk limits (depth, file count, bytes per file, time budget). */
  limits?: Partial<SnapshotLimits>;
  /** Source-scan limits (files, total bytes). */
  scanLimits?: Partial<ScanLimits>;
}

const EVIDENCE_ORDER: ReadonlyArray<keyof DetectedFields> = [
  'name',
  'language',
  'language_version',
  'framework',
  'project_type',
  'package_manager',
  'package_manager_version',
  'lockfile',
  'dependency_resolution',
  'build_tool',
  'entry_point',
  'output_directory',
  'scripts_build',
  'scripts_start',
];

function posixRelative(from: string, to: string): string {
  const rel = path.relative(from, to).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}

export async function analyzeProject(root: string, options: AnalyzeOptions = {}): Promise<Analysis> {
  const cwd = options.cwd ?? process.cwd();
  const absRoot = path.resolve(cwd, root);
  try {
    const info = await stat(absRoot);
    if (!info.isDirectory()) {
      throw new OdError('invalid_input', `${root} is not a folder`, { nextAction: 'Pass the project folder to analyze.' });
    }
  } catch (error) {
    if (error instanceof OdError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new OdError('invalid_input', `cannot analyze ${root}: ${code}`, { nextAction: 'Pass an existing, readable project folder.', cause: error });
  }

  const limits: SnapshotLimits = { ...DEFAULT_LIMITS, ...options.limits };
  let fs: FsSnapshot;
  try {
    fs = await FsSnapshot.take(absRoot, limits, options.now ?? Date.now);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new OdError('invalid_input', `cannot read ${root}: ${code}`, { nextAction: 'Pass a readable project folder.', cause: error });
  }
  const warnings = new Warnings();
  const manifests = new Manifests(fs, warnings);
  const scan = await scanSources(fs, '', warnings, { ...DEFAULT_SCAN_LIMITS, ...options.scanLimits });
  const ctx: DetectContext = { dir: '', fs, manifests, scan, warnings };

  const decision = await decide(ctx);
  const dockerfile = await readDockerfile(ctx);
  const services: AnalyzedService[] = [];
  const dockerStart = new Map<string, string>();
  let envNames = new Map<string, string>();

  if (decision || dockerfile) {
    const detection: Detection = decision?.detection ?? { id: 'dockerfile', tier: 0, fields: {} };
    const built = await buildService(ctx, detection, absRoot, dockerfile);
    services.push(built.service);
    envNames = built.envNames;
    if (dockerfile && dockerfile.startLine > 0) dockerStart.set(built.service.source_path, `${dockerfile.path}:${dockerfile.startLine}`);
  }

  const refusal = decideRefusal({
    services,
    miningHits: scan.miningHits,
    envNames: envNames.size > 0 ? envNames : new Map(scan.envRefs.map((ref) => [ref.name, `${ref.file}:${ref.line}`] as const)),
    dockerStart,
    noServiceReason:
      'no deployable service found: no usable package.json, requirements.txt, pyproject.toml, Pipfile, manage.py, go.mod, Cargo.toml, Gemfile, composer.json, Dockerfile or index.html (see warnings for files that could not be read or parsed)',
  });

  const analysis: Analysis = {
    version: 1,
    root: posixRelative(cwd, absRoot),
    services,
    refusal,
    warnings: [...fs.warnings(), ...warnings.all()],
    archive: {
      files: options.archive?.files ?? 0,
      bytes: options.archive?.bytes ?? 0,
      excluded_secrets: [...(options.archive?.excluded_secrets ?? [])],
    },
  };
  const checked = AnalysisSchema.safeParse(analysis);
  if (!checked.success) {
    throw new OdError('internal', `analysis produced an invalid result: ${checked.error.message}`, {
      nextAction: 'Report this with the project layout; it is a bug in the analyzer.',
    });
  }
  return checked.data;
}

async function buildService(
  ctx: DetectContext,
  detection: Detection,
  absRoot: string,
  dockerfile: Awaited<ReturnType<typeof readDockerfile>>,
): Promise<{ service: AnalyzedService; envNames: Map<string, string> }> {
  const fields = { ...detection.fields };
  const evidence: Evidence[] = [];
  const value = <K extends keyof DetectedFields>(key: K, fallback: DetectedFields[K]): DetectedFields[K] =>
    (fields[key] as Conclusion<DetectedFields[K]> | undefined)?.value ?? fallback;

  // Name: manifest name, else the folder name.
  const fromManifest = fields.name ? dnsName(fields.name.value) : '';
  const folder = dnsName(path.basename(absRoot));
  if (fromManifest) fields.name = { value: fromManifest, evidence: fields.name?.evidence ?? '' };
  else if (folder) fields.name = { value: folder, evidence: `folder name "${path.basename(absRoot)}"` };
  else fields.name = { value: 'app', evidence: 'no usable manifest or folder name' };

  const compose = await readCompose(ctx);
  const procfile = await readProcfile(ctx);
  if (procfile?.web) {
    fields.scripts_start = procfile.web;
    if (procfile.entry) fields.entry_point = { value: procfile.entry, evidence: procfile.web.evidence };
    else if (fields.entry_point && !procfile.web.value.includes(fields.entry_point.value)) delete fields.entry_point;
    if (value('project_type', '') !== 'web') fields.project_type = { value: 'web', evidence: procfile.web.evidence };
  }

  const projectType = value('project_type', '');
  const runnable = value('scripts_start', '') !== '' || value('entry_point', '') !== '' || (dockerfile?.startLine ?? 0) > 0;
  const listens = runnable && !detection.servesStatically && projectType !== 'worker' && projectType !== 'cron';
  const port = decidePort({
    dockerfile,
    compose,
    configHints: [...(detection.portHints ?? []), ...(procfile?.port ? [procfile.port] : [])],
    codeHints: ctx.scan.portHints,
    envRefs: ctx.scan.envRefs,
    entry: inDir(ctx.dir, value('entry_point', '')),
    frameworkDefault: detection.portDefault,
    listens,
    warnings: ctx.warnings,
  });

  const pkg = await ctx.manifests.packageJson(ctx.dir);
  const env = await collectEnvVars(ctx, { dockerfile, compose, buildScript: pkg?.scripts.build ?? '' });
  const dbs = await detectDatabases(ctx, { compose, envNames: env.names, exampleValues: env.exampleValues });
  const ai = detectAi(await ctx.manifests.allDependencies(ctx.dir), env.names);

  const routed = [...ctx.scan.healthRoutes].sort((a, b) => healthRank(a.path) - healthRank(b.path))[0];
  const health = routed ? { path: routed.path, evidence: `${routed.file}:${routed.line}` } : detection.healthCheck ? { path: detection.healthCheck.value, evidence: detection.healthCheck.evidence } : undefined;

  for (const key of EVIDENCE_ORDER) {
    const conclusion = fields[key] as Conclusion<unknown> | undefined;
    if (conclusion) evidence.push({ decision: key, value: String(conclusion.value), evidence: conclusion.evidence });
  }
  if (dockerfile) {
    evidence.push({
      decision: 'dockerfile',
      value: dockerfile.path,
      evidence: dockerfile.startLine > 0 ? `${dockerfile.path}:${dockerfile.startLine} defines the start command` : `${dockerfile.path} exists`,
    });
  }
  if (port) evidence.push({ decision: 'port', value: String(port.value), evidence: port.evidence });
  evidence.push(...dbs.evidence);
  if (health) evidence.push({ decision: 'health_check_path', value: health.path, evidence: health.evidence });
  evidence.push(...ai.evidence, ...env.evidence);

  const service: AnalyzedService = {
    name: value('name', 'app'),
    source_path: ctx.dir === '' ? '.' : ctx.dir,
    language: value('language', ''),
    language_version: value('language_version', ''),
    framework: value('framework', ''),
    project_type: projectType,
    package_manager: value('package_manager', ''),
    package_manager_version: value('package_manager_version', ''),
    lockfile: value('lockfile', ''),
    dependency_resolution: value('dependency_resolution', 'unknown'),
    build_tool: value('build_tool', ''),
    port: port?.value ?? null,
    entry_point: value('entry_point', ''),
    output_directory: value('output_directory', ''),
    scripts_build: value('scripts_build', ''),
    scripts_start: value('scripts_start', ''),
    dockerfile: dockerfile?.path ?? '',
    database_type: dbs.databaseType,
    dependencies: dbs.dependencies,
    runtime_vars: env.runtime,
    build_time_vars: env.build,
    ai_config: ai.config,
    health_check_path: health?.path ?? '',
    evidence,
  };
  return { service, envNames: env.names };
}
