/**
 * Provides the package managers a build needs, as a builder does: every pnpm, Yarn or Bun the
 * planned commands run gets the version the project asks for (package-manager-version.ts) — the
 * machine's own copy when it satisfies that, otherwise one from the gateway's tool cache
 * (toolcache.ts), whose bin folder goes first on PATH for the build and the start.
 */

import type { ProjectRow, ServiceRow } from '../store.js';
import { DeployCancelled, DeployFailure } from './failure.js';
import { nodeVersionNotice } from './node-version.js';
import type { NodeTool } from './package-manager-version.js';
import { NODE_TOOLS, TOOL_COMMANDS, chooseToolVersion, projectFactsOf, versionSatisfies } from './package-manager-version.js';
import type { RunPlan } from './plan.js';
import { ToolUnavailable, ensureTool, installEnv, toolCacheRoot, toolVersion } from './toolcache.js';
import { commandsOf, which } from './which.js';

/** The package managers a set of shell lines runs, in a stable order. */
export function toolsUsedBy(lines: string[]): NodeTool[] {
  const commands = new Set(lines.flatMap((line) => commandsOf(line)));
  return NODE_TOOLS.filter((tool) => TOOL_COMMANDS[tool].some((command) => commands.has(command)));
}

export interface ProvideInput {
  /** Every shell line the deployment will run: install steps, build, start. */
  lines: string[];
  /** Where the install runs, and the build folder (a workspace's manager is declared at its root). */
  workdir: string;
  buildDir: string;
  /** The machine's environment (PATH, HOME, the user's npm registry settings). */
  source: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log(level: 'info' | 'warn', message: string): void;
}

/** The folders to put first on PATH. Throws ToolUnavailable for a tool that cannot be had. */
export async function provideNodeTools(input: ProvideInput): Promise<string[]> {
  const tools = toolsUsedBy(input.lines);
  if (tools.length === 0) return [];
  const facts = projectFactsOf(input.workdir, input.buildDir);
  const env = installEnv(input.source);
  const root = toolCacheRoot(input.source);
  const binDirs: string[] = [];
  for (const tool of tools) {
    const request = chooseToolVersion(tool, facts);
    const wanted = `${tool === 'yarn' ? `Yarn ${request.flavor}` : tool} ${request.version}`;
    const own = which(TOOL_COMMANDS[tool][0] as string, env.PATH);
    const ownVersion = own ? await toolVersion(own, env) : null;
    if (ownVersion && versionSatisfies(ownVersion, request)) {
      input.log('info', `Using ${tool} ${ownVersion} from this machine (${request.evidence})`);
      continue;
    }
    const why = ownVersion ? `this machine has ${tool} ${ownVersion}` : `${tool} is not on this machine`;
    const cached = await ensureTool(request, {
      root,
      env,
      ...(input.signal ? { signal: input.signal } : {}),
      // Said before npm runs: behind a slow registry or proxy the install can take a while.
      onInstall: (dir) => input.log('info', `Installing ${wanted} from the npm registry into ${dir}`),
    });
    input.log(
      'info',
      cached.installed
        ? `Installed ${tool} ${cached.version} into the tool cache for ${wanted} (${request.evidence}; ${why})`
        : `Using ${tool} ${cached.version} from the tool cache for ${wanted} (${request.evidence}; ${why})`,
    );
    binDirs.push(cached.binDir);
  }
  return binDirs;
}

/** The analysis' language_version for the service and the evidence it gave, when it has one. */
export function pinnedNodeOf(project: Pick<ProjectRow, 'analyze_config'>, service: Pick<ServiceRow, 'name'>): { pin: string; evidence: string } | null {
  const analysis = project.analyze_config as { services?: Array<Record<string, unknown>> } | null;
  const entry = analysis?.services?.find((s) => s['name'] === service.name);
  const pin = entry?.['language_version'];
  if (typeof pin !== 'string' || pin.trim() === '') return null;
  if (!/^(javascript|typescript|node)/i.test(String(entry?.['language'] ?? ''))) return null;
  const evidence = Array.isArray(entry?.['evidence'])
    ? (entry['evidence'] as Array<Record<string, unknown>>).find((e) => e?.['decision'] === 'language_version')?.['evidence']
    : undefined;
  return { pin, evidence: typeof evidence === 'string' ? evidence : '' };
}

export interface ToolchainContext {
  project: Pick<ProjectRow, 'analyze_config'>;
  service: Pick<ServiceRow, 'name'>;
  buildDir: string;
  signal: AbortSignal;
  sourceEnv?: NodeJS.ProcessEnv;
  log(source: 'buildctl', level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * Before the first install step: one line when the machine's Node does not serve the pinned version,
 * then the package managers the plan runs, their bin folders put first on PATH (the RunSpec keeps
 * them, so the start command finds the same tool). A tool that cannot be had fails the build with
 * one line naming it.
 */
export async function prepareToolchain(ctx: ToolchainContext, plan: RunPlan): Promise<void> {
  const source = ctx.sourceEnv ?? process.env;
  const pinned = pinnedNodeOf(ctx.project, ctx.service);
  if (pinned) {
    const node = which('node', source.PATH);
    const machine = node ? await toolVersion(node, installEnv(source)) : null;
    const notice = machine ? nodeVersionNotice(pinned.pin, pinned.evidence, machine) : null;
    if (notice) ctx.log('buildctl', 'warn', notice);
  }
  try {
    const binDirs = await provideNodeTools({
      lines: [...plan.install.map((step) => step.command), plan.build, plan.start],
      workdir: plan.workdir,
      buildDir: ctx.buildDir,
      source,
      signal: ctx.signal,
      log: (level, message) => ctx.log('buildctl', level, message),
    });
    plan.pathPrepend.unshift(...binDirs);
  } catch (error) {
    if (!(error instanceof ToolUnavailable)) throw error;
    if (ctx.signal.aborted) throw new DeployCancelled();
    ctx.log('buildctl', 'error', error.message);
    throw new DeployFailure('build', error.message);
  }
}
