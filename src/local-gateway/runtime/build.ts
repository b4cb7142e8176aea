/**
 * One release's build on this machine: copy the bound source into `builds/<deployment id>/`, plan
 * it, run the install steps and the analysis' build command with the service's build variables,
 * and write `builds/<deployment id>.run.json` — what starting it takes, so a rollback or a gateway
 * restart starts the same build again without rebuilding.
 */

import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentRow, LogLine, ProjectRow, ServiceRow } from '../store.js';
import { buildEnv, parseVariables } from './env.js';
import { DeployCancelled, DeployFailure } from './failure.js';
import { prepareToolchain } from './node-tools.js';
import { planRun, staticRoot, type RunPlan } from './plan.js';
import { spawnGroup, type GroupProcess } from './processes.js';
import { hasIndexPage, singlePageAppEvidence } from './static-server.js';
import { commandsOf, firstMissingCommand, missingCommandMessage, which } from './which.js';

export interface RunSpec {
  /** The deployment whose build this is. */
  build_id: string;
  kind: 'process' | 'static';
  workdir: string;
  start: string;
  static_root: string | null;
  /** Static services: unknown paths fall back to index.html (a single-page app with a client router). */
  spa?: boolean;
  path_prepend: string[];
  env: Record<string, string>;
}

export interface BuildContext {
  dep: DeploymentRow;
  service: ServiceRow;
  project: ProjectRow;
  buildsDir: string;
  signal: AbortSignal;
  log(source: LogLine['source'], level: LogLine['level'], message: string): void;
  /** Moves progress/build_percent (status stays `building`). */
  progress(progress: number, buildPercent: number, message: string): void;
  /** Records a running child in runtime.json; returns the function that forgets it. */
  track(child: GroupProcess): () => void;
  sourceEnv?: NodeJS.ProcessEnv;
}

export function buildDirOf(buildsDir: string, buildId: string): string {
  return path.join(buildsDir, buildId);
}

export function runSpecFile(buildsDir: string, buildId: string): string {
  return path.join(buildsDir, `${buildId}.run.json`);
}

export async function readRunSpec(buildsDir: string, buildId: string): Promise<RunSpec | null> {
  try {
    return JSON.parse(await readFile(runSpecFile(buildsDir, buildId), 'utf8')) as RunSpec;
  } catch {
    return null;
  }
}

function outputDirectoryOf(project: ProjectRow, service: ServiceRow): string | undefined {
  const analysis = project.analyze_config as { services?: Array<{ name?: unknown; output_directory?: unknown }> } | null;
  const entry = analysis?.services?.find((s) => s.name === service.name);
  return typeof entry?.output_directory === 'string' ? entry.output_directory : undefined;
}

/** The analysis' evidence for the service (which commands run from the workspace root). */
function evidenceOf(project: ProjectRow, service: ServiceRow): Array<{ decision: string; evidence: string }> | undefined {
  const analysis = project.analyze_config as { services?: Array<{ name?: unknown; evidence?: unknown }> } | null;
  const entry = analysis?.services?.find((s) => s.name === service.name);
  if (!Array.isArray(entry?.evidence)) return undefined;
  return (entry.evidence as unknown[]).filter(
    (e): e is { decision: string; evidence: string } =>
      typeof e === 'object' && e !== null && typeof (e as { decision?: unknown }).decision === 'string' && typeof (e as { evidence?: unknown }).evidence === 'string',
  );
}

export async function buildRelease(ctx: BuildContext): Promise<RunSpec> {
  const { dep, service } = ctx;
  const source = dep.source_path;
  const entries = await readdir(source).catch(() => null);
  if (entries === null) throw new DeployFailure('build', `The bound source folder is missing (${source}); upload the source again`);
  if (entries.length === 1 && entries[0] === '.opendeploy-git-source.json') {
    const message = 'Git sources are not cloned by the local gateway: deploy the folder itself (without --git) to preview it locally';
    ctx.log('buildctl', 'error', message);
    throw new DeployFailure('build', message);
  }
  const buildDir = buildDirOf(ctx.buildsDir, dep.id);
  await rm(buildDir, { recursive: true, force: true });
  await mkdir(ctx.buildsDir, { recursive: true, mode: 0o700 });
  await cp(source, buildDir, { recursive: true, verbatimSymlinks: true });
  checkAborted(ctx);

  const pathEnv = (ctx.sourceEnv ?? process.env).PATH;
  const outputDirectory = outputDirectoryOf(ctx.project, service);
  const evidence = evidenceOf(ctx.project, service);
  const plan = planRun({ service, buildDir, pathEnv, ...(outputDirectory !== undefined ? { outputDirectory } : {}), ...(evidence ? { evidence } : {}) });
  if (plan.workspaceRoot && plan.workspaceRoot !== plan.workdir) {
    ctx.log('buildctl', 'info', `Workspace member: installing in the workspace root ${plan.workspaceRoot}; build and start run where the plan wrote them`);
  }
  ctx.log('buildctl', 'info', `Building ${service.name} in ${buildDir} (${plan.kind === 'static' ? 'static site' : service.language || 'app'})`);
  // pnpm, Yarn or Bun the plan runs, in the version the project asks for (installed when missing).
  await prepareToolchain({ project: ctx.project, service, buildDir, signal: ctx.signal, log: ctx.log, ...(ctx.sourceEnv ? { sourceEnv: ctx.sourceEnv } : {}) }, plan);
  checkAborted(ctx);
  for (const required of plan.requires) {
    if (!which(required, pathEnv)) fail(ctx, missingCommandMessage(required));
  }
  // As the established builders do, the service's variables are visible to the build too (a framework
  // build may import code that reads them: `next build` evaluates route modules); PORT stays a runtime choice.
  const { PORT: _port, ...serviceVariables } = parseVariables(dep.runtime_variables);
  const env = buildEnv({
    variables: { ...serviceVariables, ...parseVariables(dep.build_variables) },
    planEnv: plan.env,
    pathPrepend: plan.pathPrepend,
    localId: dep.id,
    ...(ctx.sourceEnv ? { source: ctx.sourceEnv } : {}),
  });

  const steps = plan.install.length + (plan.build ? 1 : 0);
  let done = 0;
  for (const step of plan.install) {
    const from = 20 + Math.round((done / Math.max(1, steps)) * 50);
    await runStep(ctx, step.command, plan.installDir, env, from, 20 + Math.round(((done + 1) / Math.max(1, steps)) * 50));
    done += 1;
  }
  if (plan.build) {
    const from = 20 + Math.round((done / Math.max(1, steps)) * 50);
    await runStep(ctx, plan.build, plan.buildCwd, env, from, 70);
  } else {
    ctx.log('buildctl', 'info', 'No build command: nothing to build');
  }
  ctx.progress(70, 100, 'Build complete');

  const spec = await runSpecOf(ctx, plan);
  await writeFile(runSpecFile(ctx.buildsDir, dep.id), `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
  return spec;
}

async function runSpecOf(ctx: BuildContext, plan: RunPlan): Promise<RunSpec> {
  let root: string | null = null;
  let spa = false;
  if (plan.kind === 'static') {
    root = staticRoot(plan);
    if (!root) fail(ctx, `Build output not found: none of ${plan.staticCandidates.join(', ')} exists after the build`);
    // A site without its front page would only ever answer 404: that is a failed build, not a live site.
    if (!hasIndexPage(root)) fail(ctx, `Build output has no index.html: ${root} holds no front page to serve`);
    ctx.log('buildctl', 'info', `Static files: ${root}`);
    const why = singlePageAppEvidence(plan.workdir, root);
    spa = why !== null;
    ctx.log('buildctl', 'info', why ? `Single-page app (${why}): unknown paths are answered with index.html` : 'Unknown paths are answered with 404 (the site\'s own 404.html when it has one)');
  } else if (!plan.start) {
    fail(ctx, 'No start command: the analysis found nothing to run for this service', 'runtime');
  }
  return {
    build_id: ctx.dep.id,
    kind: plan.kind,
    workdir: plan.startCwd,
    start: plan.start,
    static_root: root,
    spa,
    path_prepend: plan.pathPrepend,
    env: plan.env,
  };
}

function fail(ctx: BuildContext, message: string, phase: 'build' | 'runtime' = 'build'): never {
  ctx.log('buildctl', 'error', message);
  throw new DeployFailure(phase, message);
}

function checkAborted(ctx: BuildContext): void {
  if (ctx.signal.aborted) throw new DeployCancelled();
}

async function runStep(ctx: BuildContext, command: string, cwd: string, env: NodeJS.ProcessEnv, from: number, to: number): Promise<void> {
  checkAborted(ctx);
  const missing = firstMissingCommand(command, env.PATH);
  if (missing) fail(ctx, missingCommandMessage(missing));
  ctx.progress(from, Math.max(0, Math.round(((from - 20) / 50) * 100)), `Running ${command}`);
  ctx.log('buildctl', 'info', `$ ${command}`);
  const child = spawnGroup({
    command,
    cwd,
    env,
    onLine: (stream, line) => ctx.log('buildctl', stream === 'stderr' ? 'warn' : 'info', line),
  });
  const untrack = ctx.track(child);
  const onAbort = (): void => child.kill();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  // The percentage creeps forward while a long step runs, never past the step's share.
  let percent = from;
  const ticker = setInterval(() => {
    if (percent < to - 1) {
      percent += 1;
      ctx.progress(percent, Math.round(((percent - 20) / 50) * 100), `Running ${command}`);
    }
  }, 1500);
  ticker.unref();
  try {
    const exit = await child.exited;
    checkAborted(ctx);
    if (exit.code === 0) return;
    if (exit.code === 127) {
      const notFound = commandsOf(command).find((c) => !which(c, env.PATH));
      if (notFound) ctx.log('buildctl', 'error', missingCommandMessage(notFound));
    }
    const what = exit.error ? `could not start (${exit.error.message})` : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    fail(ctx, `Build failed: \`${command}\` ${what}`);
  } finally {
    clearInterval(ticker);
    ctx.signal.removeEventListener('abort', onAbort);
    untrack();
  }
}
