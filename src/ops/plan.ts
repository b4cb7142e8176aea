/**
 * What a deploy of a folder would do, worked out from the folder alone: the analysis, the archive
 * selection, the `--vars-file` names and the folder's link file. No credential is read and no request
 * is made, so nothing about the live service can be compared; a linked folder says which ids the
 * deploy would reuse instead. Nothing is written (not even `.opendeploy/analysis.json`).
 *
 * Every decided field carries where it came from: the analysis evidence (file and line, manifest
 * key), a flag, the link file, or the deploy's own default. Variable values never appear, only names
 * and where each value would come from.
 */
import { readdir, stat } from 'node:fs/promises';
import { OdError } from '../core/errors.js';
import type { Analysis, AnalyzedService } from '../analyze/index.js';
import { analyzeFolder } from '../analyze/folder.js';
import { excludeSecretFiles, manifestOf } from '../archive/index.js';
import { readProjectState, LOCAL_GATEWAY_MARKER, type ProjectState } from '../deploy/state.js';
import type { Environment } from '../deploy/context.js';
import { dnsSafeName, projectNameFor } from '../deploy/stages/project.js';
import { enginesFor, suppliedConnection } from '../deploy/stages/dependencies.js';
import { BOUND_RESOURCES, PENDING_RESOURCES } from '../deploy/stages/service.js';
import { formatBytes, plural } from '../core/text.js';

export interface PlanInput {
  /** Absolute path of the folder. */
  root: string;
  /** The folder the reported `root` is relative to. */
  cwd: string;
  environment: Environment;
  /** Where the environment came from (`--env`, `OD_ENVIRONMENT`, the link file, the default). */
  environmentFrom: string;
  /** `--name`. */
  name?: string | undefined;
  /** `--vars-file`: its path as given (for provenance) and absolute, and its values (names are all that leave). */
  varsFile?: { label: string; path: string; values: Record<string, string> } | undefined;
}

/** Where a variable's value would come from when the deploy creates or updates the service. */
export type ValueFrom = 'vars_file' | 'database' | 'analysis_default' | 'port' | 'linked_service' | 'unset';

export interface PlanVariable {
  name: string;
  required: boolean;
  /** The analysis's class of the variable; null for a name only the --vars-file has. */
  kind: string | null;
  value_from: ValueFrom;
  /** The provenance: the evidence, the flag or the rule behind `value_from`. */
  from: string;
}

export interface PlanResources {
  cpu_request: string;
  cpu_limit: string;
  memory_request: string;
  memory_limit: string;
  replicas: number;
}

export interface PlanService {
  name: string;
  source_path: string;
  /** `create` a new service, or `reuse` the one the link file names (its settings stay, see `linked`). */
  action: 'create' | 'reuse';
  service_id: string | null;
  language: string;
  framework: string;
  port: number | null;
  build_command: string;
  start_command: string;
  health_check_path: string;
  dockerfile: string;
  databases: string[];
  variables: PlanVariable[];
  build_variables: PlanVariable[];
  /** What a created service gets; null when the service is reused (it keeps its own). */
  resources: PlanResources | null;
  /** Required names nothing in the plan provides (a reused service may have them already). */
  missing_required_vars: string[];
  /** Field → where its value came from. */
  evidence: Record<string, string>;
}

export interface PlanDatabase {
  engine: string;
  /** `create` it, `reuse` the linked one, or `skip` it because the --vars-file connects the app to a server of its own. */
  action: 'create' | 'reuse' | 'skip';
  dependency_id: string | null;
  from: string;
}

export interface PlanLink {
  project_id: string | null;
  project_name: string | null;
  environment: string;
  gateway: string;
  services: { name: string; service_id: string }[];
  dependencies: { engine: string; dependency_id: string }[];
  last_deployment_id: string | null;
  note: string;
}

export interface DeployPlan {
  root: string;
  environment: string;
  environment_from: string;
  project: { name: string; name_from: string; action: 'create' | 'reuse'; project_id: string | null };
  /** The project this folder is linked to (a redeploy target), or null for a first deploy. */
  linked_project_id: string | null;
  linked: PlanLink | null;
  services: PlanService[];
  databases: PlanDatabase[];
  archive: { files: number; bytes: number; excluded_secrets: string[] };
  /** Why the deploy would stop before creating anything, or null when it would go ahead. */
  stops: string | null;
  refused: boolean;
  refusal_reasons: string[];
  warnings: string[];
}

const RESOURCES_FROM =
  `the deploy's defaults for an unclaimed credential; a claimed account's service gets cpu limit ${BOUND_RESOURCES.cpu_limit}, ` +
  `memory ${BOUND_RESOURCES.memory_request}–${BOUND_RESOURCES.memory_limit}`;

function evidenceOf(service: AnalyzedService, decision: string, value?: string): string | undefined {
  return service.evidence.find((item) => item.decision === decision && (value === undefined || item.value === value))?.evidence;
}

/** Field → provenance for the fields the plan shows; a field the analysis left empty says so. */
function fieldEvidence(service: AnalyzedService): Record<string, string> {
  const fields: [string, string, unknown][] = [
    ['name', 'name', service.name],
    ['language', 'language', service.language],
    ['framework', 'framework', service.framework],
    ['port', 'port', service.port],
    ['build_command', 'scripts_build', service.scripts_build],
    ['start_command', 'scripts_start', service.scripts_start],
    ['health_check_path', 'health_check_path', service.health_check_path],
    ['dockerfile', 'dockerfile', service.dockerfile],
  ];
  const out: Record<string, string> = {};
  for (const [key, decision, value] of fields) {
    const found = evidenceOf(service, decision);
    if (found !== undefined) out[key] = found;
    else if (value === '' || value === null) out[key] = 'not established by the analysis (left empty)';
    else out[key] = 'analysis';
  }
  return out;
}

function variableEvidence(service: AnalyzedService, name: string, decision: 'runtime_var' | 'build_time_var'): string {
  return evidenceOf(service, decision, name) ?? 'analysis';
}

interface ServiceContext {
  link: { service_id: string } | undefined;
  /** Engines this deploy creates or reuses for the project (not skipped). */
  engines: string[];
  varsFile: PlanInput['varsFile'];
}

function runtimeVariables(service: AnalyzedService, ctx: ServiceContext): PlanVariable[] {
  const user = ctx.varsFile?.values ?? {};
  const fileFrom = `--vars-file ${ctx.varsFile?.label ?? ''}`;
  const serviceEngines = enginesFor([service]).filter((engine) => ctx.engines.includes(engine));
  const out: PlanVariable[] = [];
  const seen = new Set<string>();
  for (const variable of service.runtime_vars) {
    seen.add(variable.name);
    const base = { name: variable.name, required: variable.required, kind: variable.kind as string | null };
    const evidence = variableEvidence(service, variable.name, 'runtime_var');
    if (variable.name in user) out.push({ ...base, value_from: 'vars_file', from: fileFrom });
    else if (ctx.link) out.push({ ...base, value_from: 'linked_service', from: 'kept as the linked service has it (the plan reads nothing from the gateway)' });
    else if (variable.kind === 'dependency_provided' && serviceEngines.length > 0) {
      out.push({ ...base, value_from: 'database', from: `a connection variable of the ${serviceEngines.length === 1 ? 'database' : 'databases'} the deploy provides (${serviceEngines.join(', ')}); the app reads it at ${evidence}` });
    } else if (variable.default !== '') out.push({ ...base, value_from: 'analysis_default', from: `default in the code: ${evidence}` });
    else if (variable.name === 'PORT' && service.port !== null) out.push({ ...base, value_from: 'port', from: `the analysed port: ${evidenceOf(service, 'port') ?? 'analysis'}` });
    else out.push({ ...base, value_from: 'unset', from: `nothing provides it; the app reads it at ${evidence}` });
  }
  // The deploy sends PORT whenever the analysis found a port, named by the app or not.
  if (!seen.has('PORT') && service.port !== null) {
    seen.add('PORT');
    const base = { name: 'PORT', required: false, kind: null };
    if ('PORT' in user) out.push({ ...base, value_from: 'vars_file', from: fileFrom });
    else if (ctx.link) out.push({ ...base, value_from: 'linked_service', from: 'kept as the linked service has it (the plan reads nothing from the gateway)' });
    else out.push({ ...base, value_from: 'port', from: `the analysed port: ${evidenceOf(service, 'port') ?? 'analysis'}` });
  }
  for (const name of Object.keys(user).sort()) {
    if (!seen.has(name)) out.push({ name, required: false, kind: null, value_from: 'vars_file', from: fileFrom });
  }
  return out;
}

function buildVariables(service: AnalyzedService, ctx: ServiceContext): PlanVariable[] {
  const user = ctx.varsFile?.values ?? {};
  return service.build_time_vars.map((variable) => {
    const base = { name: variable.name, required: variable.required, kind: variable.kind as string | null };
    const evidence = variableEvidence(service, variable.name, 'build_time_var');
    if (variable.name in user) return { ...base, value_from: 'vars_file', from: `--vars-file ${ctx.varsFile?.label ?? ''}` };
    if (ctx.link) return { ...base, value_from: 'linked_service', from: 'kept as the linked service has it (the plan reads nothing from the gateway)' };
    if (variable.default !== '') return { ...base, value_from: 'analysis_default', from: `default in the code: ${evidence}` };
    return { ...base, value_from: 'unset', from: `nothing provides it; the build reads it at ${evidence}` };
  });
}

function planDatabases(analysis: Analysis, state: ProjectState | undefined, varsFile: PlanInput['varsFile']): PlanDatabase[] {
  return enginesFor(analysis.services).map((engine) => {
    const because = analysis.services.map((service) => evidenceOf(service, 'dependency', engine) ?? evidenceOf(service, 'database_type', engine)).find(Boolean) ?? 'analysis';
    const supplied = suppliedConnection(engine, varsFile?.values ?? {});
    if (supplied) return { engine, action: 'skip', dependency_id: null, from: `the app connects with ${supplied} from --vars-file ${varsFile?.label ?? ''}` };
    const linked = state?.dependencies.find((dep) => dep.engine === engine);
    if (linked) return { engine, action: 'reuse', dependency_id: linked.dependency_id, from: `.opendeploy/project.json (needed by ${because})` };
    return { engine, action: 'create', dependency_id: null, from: because };
  });
}

/** Why the deploy would stop at its analysis stage, in the order the deploy checks (null: it goes ahead). */
async function stopReason(root: string, analysis: Analysis): Promise<string | null> {
  const entries = await readdir(root).catch(() => undefined);
  if (entries !== undefined && entries.every((name) => name === '.opendeploy')) return `Nothing to deploy in ${root}: the folder is empty.`;
  if (analysis.refusal.refused) return `Refusing to deploy: ${analysis.refusal.reasons.join('; ')}`;
  if (analysis.services.length === 0) return 'Local analysis found nothing to deploy in this folder.';
  const portless = analysis.services.filter((service) => service.project_type === 'web' && service.port === null);
  if (portless.length > 0) return `Could not tell which port ${portless.map((service) => service.name).join(', ')} listens on, and opendeploy never guesses.`;
  return null;
}

function linkOf(state: ProjectState): PlanLink {
  const gateway = state.gateway === LOCAL_GATEWAY_MARKER ? 'the local gateway' : state.gateway || 'the default gateway';
  const ids = [state.project_id ? `project ${state.project_id}` : undefined, ...state.services.map((link) => `service ${link.name} (${link.service_id})`)].filter(Boolean);
  return {
    project_id: state.project_id ?? null,
    project_name: state.project_name ?? null,
    environment: state.environment,
    gateway: state.gateway,
    services: state.services.map((link) => ({ name: link.name, service_id: link.service_id })),
    dependencies: state.dependencies.map((dep) => ({ engine: dep.engine, dependency_id: dep.dependency_id })),
    last_deployment_id: state.last_deployment?.id ?? null,
    note:
      `This folder is linked to ${ids.length ? ids.join(', ') : 'a project that was never created'} on ${gateway}. ` +
      'A deploy reuses them: it sets the analysed port on each reused service if it differs and merges in the --vars-file values, ' +
      'and keeps everything else the services have. What differs from the live services is not shown: the plan makes no request. ' +
      'See them with `opendeploy status` and `opendeploy env list`.',
  };
}

export async function planDeploy(input: PlanInput): Promise<DeployPlan> {
  const { root } = input;
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new OdError('invalid_input', `${root} is not a folder.`, { nextAction: 'Pass the path of the project folder.' });
  const state = await readProjectState(root);
  const { analysis, selection } = await analyzeFolder(root, { cwd: input.cwd });
  // The --vars-file holds secret values: inside the folder the deploy never archives it.
  const archived = input.varsFile ? await excludeSecretFiles(selection, [input.varsFile.path]) : selection;

  const databases = planDatabases(analysis, state, input.varsFile);
  const engines = databases.filter((db) => db.action !== 'skip').map((db) => db.engine);
  const linkedProject = state?.project_id ?? null;
  const projectName = state?.project_name ?? input.name ?? projectNameFor(analysis.services, root);
  const nameFrom = state?.project_name
    ? '.opendeploy/project.json'
    : input.name
      ? '--name'
      : analysis.services.length === 1
        ? `the service's name (${evidenceOf(analysis.services[0]!, 'name') ?? 'analysis'})`
        : 'the folder name';

  const services = analysis.services.map((service): PlanService => {
    const name = dnsSafeName(service.name);
    const link = state?.services.find((candidate) => candidate.name === name);
    const ctx: ServiceContext = { link, engines, varsFile: input.varsFile };
    const variables = runtimeVariables(service, ctx);
    return {
      name,
      source_path: service.source_path,
      action: link ? 'reuse' : 'create',
      service_id: link?.service_id ?? null,
      language: service.language,
      framework: service.framework,
      port: service.port,
      build_command: service.scripts_build,
      start_command: service.scripts_start,
      health_check_path: service.health_check_path,
      dockerfile: service.dockerfile,
      databases: enginesFor([service]),
      variables,
      build_variables: buildVariables(service, ctx),
      resources: link ? null : { ...PENDING_RESOURCES },
      missing_required_vars: variables.filter((v) => v.required && v.value_from === 'unset').map((v) => v.name).sort(),
      evidence: { ...fieldEvidence(service), resources: link ? 'kept as the linked service has them' : RESOURCES_FROM },
    };
  });

  const environmentFrom = input.environmentFrom !== 'default' ? input.environmentFrom : state ? '.opendeploy/project.json' : 'the default';
  return {
    root: analysis.root,
    environment: input.environment,
    environment_from: environmentFrom,
    project: { name: projectName, name_from: nameFrom, action: linkedProject ? 'reuse' : 'create', project_id: linkedProject },
    linked_project_id: linkedProject,
    linked: state ? linkOf(state) : null,
    services,
    databases,
    archive: manifestOf(archived),
    stops:
      state?.project_id && state.environment !== input.environment
        ? `This folder is linked to the ${state.environment} environment of project ${state.project_id}, but this run targets ${input.environment}.`
        : await stopReason(root, analysis),
    refused: analysis.refusal.refused,
    refusal_reasons: analysis.refusal.reasons,
    warnings: analysis.warnings,
  };
}

const VALUE_FROM_LABEL: Record<ValueFrom, string> = {
  vars_file: 'from --vars-file',
  database: 'from the database',
  analysis_default: 'default in code',
  port: 'the analysed port',
  linked_service: 'kept on the service',
  unset: 'not set',
};

/** The plan for a person: what would happen, then each service's fields with their provenance. */
export function humanPlan(plan: DeployPlan): string[] {
  const lines: string[] = [];
  if (plan.stops) lines.push(`The deploy would stop before creating anything: ${plan.stops}`);
  const head = plan.project.action === 'reuse' ? `Redeploy project ${plan.project.name} (${plan.project.project_id})` : `Create project ${plan.project.name}`;
  lines.push(`${head} in ${plan.environment}  — name: ${plan.project.name_from}; environment: ${plan.environment_from}`);
  if (plan.linked) lines.push(`  ${plan.linked.note}`);
  for (const db of plan.databases) {
    const what = db.action === 'create' ? `Create a ${db.engine} database` : db.action === 'reuse' ? `Reuse the ${db.engine} database ${db.dependency_id}` : `Skip the ${db.engine} database`;
    lines.push(`${what}  ← ${db.from}`);
  }
  for (const service of plan.services) {
    lines.push(service.action === 'reuse' ? `Reuse service ${service.name} (${service.service_id})  (${service.source_path})` : `Create service ${service.name}  (${service.source_path})`);
    const rows: [string, string, string][] = [
      ['language', service.language, 'language'],
      ['framework', service.framework, 'framework'],
      ['port', service.port === null ? '' : String(service.port), 'port'],
      ['build', service.build_command, 'build_command'],
      ['start', service.start_command, 'start_command'],
      ['health check', service.health_check_path, 'health_check_path'],
      ['dockerfile', service.dockerfile, 'dockerfile'],
    ];
    for (const [label, value, key] of rows) if (value) lines.push(`  ${label.padEnd(14)}${value}  ← ${service.evidence[key]}`);
    if (service.resources) {
      const r = service.resources;
      lines.push(`  ${'resources'.padEnd(14)}cpu ${r.cpu_request}–${r.cpu_limit}, memory ${r.memory_request}–${r.memory_limit}, ${plural(r.replicas, 'replica')}  ← ${service.evidence.resources}`);
    }
    if (service.variables.length > 0) {
      lines.push('  variables:');
      for (const v of service.variables) lines.push(`    ${`${v.name}${v.required ? '*' : ''}`.padEnd(24)}${VALUE_FROM_LABEL[v.value_from].padEnd(20)}← ${v.from}`);
    }
    if (service.build_variables.length > 0) {
      lines.push('  build variables:');
      for (const v of service.build_variables) lines.push(`    ${v.name.padEnd(24)}${VALUE_FROM_LABEL[v.value_from].padEnd(20)}← ${v.from}`);
    }
    const missing = service.missing_required_vars;
    if (missing.length > 0) lines.push(`  ! required but not provided: ${missing.join(', ')} (pass ${missing.length === 1 ? 'it' : 'them'} with --vars-file <file>)`);
  }
  const archive = plan.archive;
  lines.push(
    `Upload ${plural(archive.files, 'file')} (${formatBytes(archive.bytes)})${archive.excluded_secrets.length ? `; secret-like files left out: ${archive.excluded_secrets.join(', ')}` : ''}`,
  );
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  lines.push(plan.stops ? 'Nothing was created, uploaded or written.' : 'Nothing was created, uploaded or written. Run `opendeploy deploy` to apply this plan.');
  return lines;
}

/** The label of where an environment value came from, for `environment_from`. */
export function environmentSource(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) return '--env';
  if (env.OD_ENVIRONMENT) return 'OD_ENVIRONMENT';
  return 'default';
}
