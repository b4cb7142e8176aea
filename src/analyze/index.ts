/**
 * Local analysis: a pure function of a folder -> Analysis.
 *
 * It never touches the network, never executes project code and never writes files (the CLI saves
 * the result to .opendeploy/analysis.json). Problems inside the folder (malformed manifests,
 * unreadable or binary files, symlink loops, huge or deep trees) become warnings; only a root that
 * is not a readable folder is an error (`invalid_input`).
 *
 * Pipeline: bounded snapshot -> one-pass source scan -> detector registry (runtime + framework,
 * precedence) -> shared pieces (Dockerfile, compose, Procfile, port, env, databases, AI, health)
 * -> refusal checklist -> schema-validated result.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import { detectAi } from './ai.js';
import { readCompose } from './compose.js';
import { detectDatabases } from './databases.js';
import { dockerStartCommand, dockerfileProblem, parseDockerfile, readDockerfile, type DockerfileInfo } from './dockerfile.js';
import { classifyEnv, collectEnvVars } from './env-vars.js';
import { DEFAULT_LIMITS, FsSnapshot, type Clock, type SnapshotLimits } from './fs-snapshot.js';
import type { ProjectListing } from '../archive/walk.js';
import { Manifests } from './manifests.js';
import { dnsName } from './name.js';
import { appConfigPorts } from './config-port.js';
import { decidePort, serverPortOf } from './port.js';
import { procfileDetection, readProcfile } from './procfile.js';
import { rebaseOnBuildRoot } from './build-root.js';
import { decideRefusal } from './refusal.js';
import { decide } from './registry.js';
import { planServices, scopeScan, type ServicePlan } from './services.js';
import { DEFAULT_SCAN_LIMITS, healthRank, scanSources, type ScanLimits } from './scan.js';
import type { Analysis, AnalyzedService, ArchiveManifest, Evidence } from './schema.js';
import { inDir, type Conclusion, type DetectContext, type DetectedFields, type Detection } from './types.js';
import { boundWarnings, Warnings } from './warnings.js';

export type { Analysis, AnalyzedService, ArchiveManifest, EnvVar, AiConfig, Evidence, Refusal } from './schema.js';
export { EMPTY_ARCHIVE_MANIFEST } from './vocabulary.js';
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
  /**
   * The folder as `walkProject(root)` (src/archive/walk.ts) listed it, shared with the archive's
   * `selectFiles(root, { listing })` so the tree is walked once; walked here when absent.
   */
  listing?: ProjectListing;
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
    fs = options.listing
      ? FsSnapshot.fromListing(absRoot, options.listing, limits, options.now ?? Date.now)
      : await FsSnapshot.take(absRoot, limits, options.now ?? Date.now);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new OdError('invalid_input', `cannot read ${root}: ${code}`, { nextAction: 'Pass a readable project folder.', cause: error });
  }
  const warnings = new Warnings();
  const manifests = new Manifests(fs, warnings);
  const scan = await scanSources(fs, '', warnings, { ...DEFAULT_SCAN_LIMITS, ...options.scanLimits });
  const ctx: DetectContext = { dir: '', fs, manifests, scan, warnings };

  const services: AnalyzedService[] = [];
  const dockerStart = new Map<string, string>();
  const envNames = new Map<string, string>();
  for (const plan of await planServices(ctx)) {
    const serviceCtx: DetectContext = {
      ...ctx,
      dir: plan.dir,
      scan: scopeScan(scan, plan.dir, plan.exclude, plan.include),
      ...(plan.workspace ? { workspace: plan.workspace } : {}),
      ...(plan.target !== undefined ? { target: plan.target } : {}),
    };
    const decision = await decide(serviceCtx);
    const dockerfile = await usableDockerfile(serviceCtx, plan.dockerfile);
    // A Procfile `web:` line is a start command in any language, even one no detector knows.
    const procfileOnly = decision || dockerfile ? null : procfileDetection(serviceCtx, plan.procfile !== undefined ? plan.procfile : await readProcfile(serviceCtx));
    if (!decision && !dockerfile && !procfileOnly) continue;
    const detection: Detection = decision?.detection ?? procfileOnly ?? { id: 'dockerfile', tier: 0, fields: {} };
    const built = await buildService(serviceCtx, detection, absRoot, dockerfile, plan);
    if (plan.buildRoot) rebaseOnBuildRoot(built.service, plan.dir, plan.buildRoot);
    services.push(built.service);
    for (const [name, source] of built.envNames) if (!envNames.has(name)) envNames.set(name, source);
    if (dockerfile && dockerfile.startLine > 0 && plan.role !== 'worker') dockerStart.set(built.service.source_path, `${dockerfile.path}:${dockerfile.startLine}`);
  }
  uniqueNames(services);

  const refusal = decideRefusal({
    services,
    miningHits: scan.miningHits,
    envNames: envNames.size > 0 ? envNames : new Map(scan.envRefs.map((ref) => [ref.name, `${ref.file}:${ref.line}`] as const)),
    dockerStart,
    noServiceReason:
      'no deployable service found: no usable package.json, requirements.txt, pyproject.toml, Pipfile, manage.py, go.mod or main.go, Cargo.toml, Gemfile, composer.json or index.php, pom.xml, build.gradle, *.csproj/*.fsproj/*.vbproj, mix.exs, deno.json, project.clj, deps.edn, shard.yml, pubspec.yaml, gleam.toml, stack.yaml, *.cabal, build.sbt, Package.swift, build.zig, CMakeLists.txt, meson.build, Staticfile, Caddyfile, start.sh, Dockerfile or index.html (see warnings for files that could not be read or parsed)',
  });

  const analysis: Analysis = {
    version: 1,
    root: posixRelative(cwd, absRoot),
    services,
    refusal,
    // Bounded in length and number: hostile input once made a single 122 KB warning.
    warnings: boundWarnings([...fs.warnings(), ...warnings.all()]),
    archive: {
      files: options.archive?.files ?? 0,
      bytes: options.archive?.bytes ?? 0,
      excluded_secrets: [...(options.archive?.excluded_secrets ?? [])],
    },
  };
  // The shape is the schema's by construction (the types derive from it); every fixture's analysis is
  // checked against AnalysisSchema in the tests, so a run does not load zod to check it again.
  return analysis;
}

/** The service's Dockerfile (compose `build.dockerfile`, else Dockerfile/Containerfile), when it is usable. */
async function usableDockerfile(ctx: DetectContext, path: string | undefined): Promise<DockerfileInfo | null> {
  let info: DockerfileInfo | null;
  if (path) {
    const text = await ctx.manifests.text(path);
    info = text === null ? null : parseDockerfile(path, text);
  } else info = await readDockerfile(ctx);
  if (!info) return null;
  const problem = dockerfileProblem(info);
  if (!problem) return info;
  ctx.warnings.add(`${info.path} ${problem}; it was not used (the service is built from the detected framework instead)`);
  return null;
}

/** Service names are unique: a repeated name gets the next free `-2`, `-3`, ... suffix. */
function uniqueNames(services: AnalyzedService[]): void {
  const taken = new Set<string>();
  for (const service of services) {
    let name = service.name;
    for (let n = 2; taken.has(name); n += 1) name = `${service.name.slice(0, 60 - String(n).length)}-${n}`;
    if (name !== service.name) service.evidence.push({ decision: 'name', value: name, evidence: `"${service.name}" is already the name of another service` });
    service.name = name;
    taken.add(name);
  }
}

async function buildService(
  ctx: DetectContext,
  detection: Detection,
  absRoot: string,
  dockerfile: DockerfileInfo | null,
  plan: ServicePlan,
): Promise<{ service: AnalyzedService; envNames: Map<string, string> }> {
  const fields = { ...detection.fields };
  const evidence: Evidence[] = [];
  const value = <K extends keyof DetectedFields>(key: K, fallback: DetectedFields[K]): DetectedFields[K] =>
    (fields[key] as Conclusion<DetectedFields[K]> | undefined)?.value ?? fallback;

  // Name: the split's name, else manifest name, else the folder name.
  const fromManifest = fields.name ? dnsName(fields.name.value) : '';
  const folderName = path.basename(ctx.dir === '' ? absRoot : ctx.dir);
  const folder = dnsName(folderName);
  if (plan.name) fields.name = plan.name;
  else if (fromManifest) fields.name = { value: fromManifest, evidence: fields.name?.evidence ?? '' };
  else if (folder) fields.name = { value: folder, evidence: `folder name "${folderName}"` };
  else fields.name = { value: 'app', evidence: 'no usable manifest or folder name' };
  if (plan.nameSuffix) fields.name = { value: dnsName(`${fields.name.value.slice(0, 62 - plan.nameSuffix.length)}-${plan.nameSuffix}`), evidence: `${fields.name.evidence}, process ${plan.nameSuffix}` };

  const compose = plan.compose !== undefined ? plan.compose : await readCompose(ctx);
  const procfile = plan.procfile !== undefined ? plan.procfile : await readProcfile(ctx);
  if (plan.start) {
    fields.scripts_start = plan.start;
    if (plan.entry) fields.entry_point = { value: plan.entry, evidence: plan.start.evidence };
    else if (fields.entry_point && !plan.start.value.includes(fields.entry_point.value)) delete fields.entry_point;
  }
  if (plan.workspace) {
    // Filtered commands run from the workspace root, where the lockfile is.
    const root = `run from the workspace root (${plan.workspace.marker})`;
    for (const key of ['scripts_build', 'scripts_start'] as const) {
      const conclusion = fields[key];
      if (conclusion && conclusion.value !== '') fields[key] = { value: conclusion.value, evidence: `${conclusion.evidence}; ${root}` };
    }
  }
  if (plan.role === 'worker') {
    fields.project_type = { value: 'worker', evidence: plan.split };
  } else if (procfile?.web) {
    fields.scripts_start = procfile.release
      ? { value: `${procfile.release.value} && ${procfile.web.value}`, evidence: `${procfile.web.evidence}, after ${procfile.release.evidence} (the release phase, run before the app starts)` }
      : procfile.web;
    if (procfile.entry) fields.entry_point = { value: procfile.entry, evidence: procfile.web.evidence };
    else if (fields.entry_point && !procfile.web.value.includes(fields.entry_point.value)) delete fields.entry_point;
    if (value('project_type', '') !== 'web') fields.project_type = { value: 'web', evidence: procfile.web.evidence };
  }

  // A usable Dockerfile's CMD / ENTRYPOINT is the start when no detector found one.
  const dockerCommand = dockerfile ? dockerStartCommand(dockerfile) : '';
  if (dockerfile && dockerCommand && value('scripts_start', '') === '' && !detection.servesStatically) {
    fields.scripts_start = { value: dockerCommand, evidence: `${dockerfile.path}:${dockerfile.startLine} defines the start command` };
    const listener = ctx.scan.httpHits[0];
    if (!fields.project_type && listener) fields.project_type = { value: 'web', evidence: `${listener.file}:${listener.line} starts an HTTP server` };
  }

  const projectType = value('project_type', '');
  const runnable = value('scripts_start', '') !== '' || value('entry_point', '') !== '' || (dockerfile?.startLine ?? 0) > 0;
  const listens = runnable && !detection.servesStatically && projectType !== 'worker' && projectType !== 'cron';
  const port = plan.role === 'worker' ? null : decidePort({
    dockerfile,
    compose,
    // Recomputed from the final start command (Procfile, compose or script overrides included).
    server: await serverPortOf(value('scripts_start', ''), fields.scripts_start?.evidence ?? '', ctx),
    appConfig: await appConfigPorts(ctx, { hasDockerfile: dockerfile !== null }),
    configHints: [...(detection.portHints ?? []), ...(procfile?.port ? [procfile.port] : [])],
    codeHints: ctx.scan.portHints,
    envRefs: ctx.scan.envRefs,
    entry: inDir(ctx.dir, value('entry_point', '')),
    frameworkDefault: detection.portDefault,
    listens,
    worker: projectType === 'worker' || projectType === 'cron',
    warnings: ctx.warnings,
  });

  const pkg = await ctx.manifests.packageJson(ctx.dir);
  const env = await collectEnvVars(ctx, { dockerfile, compose, buildScript: pkg?.scripts.build ?? '' });
  for (const variable of env.runtime) {
    const decided = detection.envDefaults?.[variable.name];
    if (!decided) continue;
    variable.default = decided.value;
    variable.required = false;
    env.evidence.push({ decision: 'runtime_var_default', value: `${variable.name}=${decided.value}`, evidence: decided.evidence });
  }
  // A variable the framework itself reads (RAILS_ENV) is set even when the app's code never names it.
  for (const [name, decided] of Object.entries(detection.envDefaults ?? {})) {
    if (env.runtime.some((variable) => variable.name === name)) continue;
    env.runtime.push({ name, required: false, default: decided.value, kind: classifyEnv(name, false) });
    env.evidence.push({ decision: 'runtime_var_default', value: `${name}=${decided.value}`, evidence: decided.evidence });
  }
  for (const [name, evidence] of Object.entries(detection.envRequired ?? {})) {
    const listed = env.runtime.find((variable) => variable.name === name);
    if (listed && (listed.default !== '' || !listed.required)) continue; // the app copes without it, or has a default
    if (!listed) env.runtime.push({ name, required: true, default: '', kind: classifyEnv(name, true) });
    env.evidence.push({ decision: 'runtime_var', value: name, evidence });
  }
  env.runtime.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dbs = await detectDatabases(ctx, {
    compose,
    envNames: env.names,
    exampleValues: env.exampleValues,
    frameworkEngines: detection.engines ?? [],
    boilerplateEnv: detection.boilerplateEnv,
    optionalEngines: detection.optionalEngines,
  });
  const ai = detectAi(await ctx.manifests.allDependencies(ctx.dir), env.names);

  const routed = [...ctx.scan.healthRoutes].sort((a, b) => healthRank(a.path) - healthRank(b.path))[0];
  const health =
    projectType === 'worker' || projectType === 'static'
      ? undefined
      : routed
        ? { path: routed.path, evidence: `${routed.file}:${routed.line}` }
        : detection.healthCheck
          ? { path: detection.healthCheck.value, evidence: detection.healthCheck.evidence }
          : undefined;

  if (plan.split) evidence.push({ decision: 'service', value: value('name', 'app'), evidence: plan.split });
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
