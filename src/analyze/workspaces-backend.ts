/**
 * Cargo, Go and uv workspaces (the third service-split rule, next to the JS workspaces
 * of workspaces.ts):
 * - Cargo: a root `Cargo.toml` with `[workspace] members` (globs, minus `exclude`), plus the root
 *   package when it has one;
 * - Go: `go.work` `use` directives;
 * - uv: a root `pyproject.toml` with `[tool.uv.workspace] members` (globs, minus `exclude`);
 * - one Go module with several `cmd/*` main packages that are services (see goMainPlans).
 *
 * Each member is detected on its own (with the workspace recorded on its context, so its commands
 * run from the workspace root: `cargo build --release -p api`, `uv sync --package api`). A member
 * that serves HTTP is a service; a member binary named like a background process (worker, consumer,
 * scheduler, ...) is a worker service; libraries and other binaries (CLIs, migration tools) are not.
 * When none qualifies and a Cargo workspace has exactly one binary member that is not a build or
 * developer tool (xtask, cli, codegen, bench, ...), that binary is the app and its library crates
 * are its parts. Go and uv workspaces have no such rule: a lone `cmd/gen` next to library modules is
 * a tool of a library repository, not a service.
 */
import { parseToml } from './toml.js';
import { goMains, type GoMain } from './detectors/go.js';
import { dnsName } from './name.js';
import { decide } from './registry.js';
import { scopeScan, type ServicePlan } from './service-plan.js';
import { inDir, joinRel, type DetectContext, type WorkspaceMember } from './types.js';
import { Warnings } from './warnings.js';

const WORKER_NAME = /(?:^|[-_/])(?:worker|workers|consumer|scheduler|jobs?|queue|cron|daemon|processor)(?:$|[-_])/;
const MAX_MEMBERS = 200;
/** Binaries that build, test or generate: never "the app" of a workspace. */
const TOOL_BINARY = /(?:^|[-_/])(?:xtask|cli|codegen|gen|generator|bench|benches|benchmarks?|examples?|tools?|fuzz|migrate|migrations?|test-utils)(?:$|[-_])/;

function globRegex(glob: string): RegExp {
  const parts = glob.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  const source = parts
    .map((part, index) => {
      if (part === '**') return index === parts.length - 1 ? '.*' : '(?:[^/]+/)*';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + (index === parts.length - 1 ? '' : '/');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/** Folders under `root` matching `globs` (minus `exclude`) that hold `marker`, sorted. */
function expandMembers(ctx: DetectContext, root: string, globs: string[], exclude: string[], marker: string): string[] {
  const include = globs.map(globRegex);
  const skip = exclude.map(globRegex);
  const found = new Set<string>();
  const walk = (rel: string, depth: number): void => {
    if (depth > 6 || found.size >= MAX_MEMBERS) return;
    for (const entry of ctx.fs.list(joinRel(root, rel))) {
      if (!entry.endsWith('/') || entry.startsWith('.')) continue;
      const child = rel === '' ? entry.slice(0, -1) : `${rel}/${entry.slice(0, -1)}`;
      if (include.some((r) => r.test(child)) && !skip.some((r) => r.test(child)) && ctx.fs.has(inDir(joinRel(root, child), marker))) found.add(joinRel(root, child));
      walk(child, depth + 1);
    }
  };
  walk('', 0);
  return [...found].sort();
}

function nested(dir: string, dirs: readonly string[]): string[] {
  return dirs.filter((other) => other !== dir && (dir === '' || other.startsWith(`${dir}/`)));
}

/** Detects each member and keeps the ones that are services. */
async function membersToPlans(ctx: DetectContext, marker: string, members: Array<{ dir: string; name: string }>, onlyBinary = false, cargo = false): Promise<ServicePlan[] | null> {
  const dirs = members.map((m) => m.dir);
  const plans: ServicePlan[] = [];
  const skipped: string[] = [];
  const runnable: Array<{ plan: ServicePlan; evidence: string }> = [];
  for (const { dir, name } of members) {
    const workspace: WorkspaceMember = { root: ctx.dir, name, marker, runner: '', buildDeps: [] };
    const exclude = nested(dir, dirs);
    // A Cargo member's library crates (path dependencies) are its code too: a listener there serves for it.
    const include = cargo ? await ctx.manifests.cargoLocalCrates(dir) : [];
    const memberCtx: DetectContext = { ...ctx, dir, scan: scopeScan(ctx.scan, dir, exclude, include), warnings: new Warnings(), workspace };
    const detection = (await decide(memberCtx))?.detection;
    const start = detection?.fields.scripts_start?.value ?? '';
    const type = detection?.fields.project_type?.value ?? '';
    const where = dir === ctx.dir ? '.' : dir;
    let role: ServicePlan['role'] | null = null;
    let reason = '';
    if (start && type === 'web') {
      role = 'auto';
      reason = `serves HTTP (${detection?.fields.project_type?.evidence ?? ''})`;
    } else if (start && WORKER_NAME.test(`${dir.split('/').pop() ?? ''}-${name}`)) {
      role = 'worker';
      reason = `a ${name} process with no HTTP listener`;
    }
    if (!role) {
      skipped.push(where);
      if (onlyBinary && start && !TOOL_BINARY.test(`${dir.split('/').pop() ?? ''}-${name}`)) {
        const plan: ServicePlan = { dir, split: `${marker} member ${where}: the workspace's only binary (${detection?.fields.scripts_start?.evidence ?? start})`, role: 'auto', exclude };
        if (include.length > 0) plan.include = include;
        if (dir !== ctx.dir) plan.workspace = workspace;
        runnable.push({ plan, evidence: where });
      }
      continue;
    }
    const plan: ServicePlan = { dir, split: `${marker} member ${where}: ${reason}`, role, exclude };
    if (include.length > 0) plan.include = include;
    if (dir !== ctx.dir) plan.workspace = workspace;
    plans.push(plan);
  }
  if (plans.length === 0 && runnable.length === 1) {
    const only = runnable[0] as { plan: ServicePlan; evidence: string };
    plans.push(only.plan);
    skipped.splice(skipped.indexOf(only.evidence), 1);
  }
  if (plans.length === 0) return null;
  if (skipped.length > 0) {
    ctx.warnings.add(`${marker}: members ${skipped.join(', ')} are not deployed (libraries, or binaries that neither serve HTTP nor are named as workers)`);
  }
  return plans;
}

async function cargoWorkspace(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const root = await ctx.manifests.cargoToml(ctx.dir);
  if (!root?.workspace || root.members.length === 0) return null;
  const members: Array<{ dir: string; name: string }> = [];
  if (root.hasPackage && root.name) members.push({ dir: ctx.dir, name: root.name });
  for (const dir of expandMembers(ctx, ctx.dir, root.members, root.exclude, 'Cargo.toml')) {
    const cargo = await ctx.manifests.cargoToml(dir);
    if (cargo?.hasPackage && cargo.name) members.push({ dir, name: cargo.name });
  }
  return membersToPlans(ctx, root.path, members, true, true);
}

async function goWorkspace(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const rel = inDir(ctx.dir, 'go.work');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  // go.work: `use ./api` or a `use ( ... )` block, `//` comments.
  const uses: string[] = [];
  let block = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (block) {
      if (line === ')') block = false;
      else if (line) uses.push(line);
      continue;
    }
    if (/^use\s*\($/.test(line)) block = true;
    else {
      const single = /^use\s+(\S+)$/.exec(line);
      if (single) uses.push(single[1] as string);
    }
  }
  const members: Array<{ dir: string; name: string }> = [];
  for (const use of uses.slice(0, MAX_MEMBERS)) {
    const dir = joinRel(ctx.dir, use.replace(/^"|"$/g, '').replace(/^\.\/?/, '').replace(/\/$/, ''));
    const mod = await ctx.manifests.goMod(dir);
    if (mod) members.push({ dir, name: mod.module ?? dir });
  }
  return members.length > 0 ? membersToPlans(ctx, rel, members) : null;
}

async function uvWorkspace(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const rel = inDir(ctx.dir, 'pyproject.toml');
  const text = ctx.fs.has(rel) ? await ctx.manifests.text(rel) : null;
  if (text === null || !/\[tool\.uv\.workspace\]/.test(text)) return null;
  let workspace: { members?: unknown; exclude?: unknown } | undefined;
  try {
    workspace = ((parseToml(text) as { tool?: { uv?: { workspace?: { members?: unknown; exclude?: unknown } } } }).tool?.uv?.workspace);
  } catch {
    return null; // manifests.ts reports the syntax error
  }
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : []);
  const members: Array<{ dir: string; name: string }> = [];
  const rootProject = await ctx.manifests.pyproject(ctx.dir);
  if (rootProject?.hasProjectTable && rootProject.name) members.push({ dir: ctx.dir, name: rootProject.name });
  for (const dir of expandMembers(ctx, ctx.dir, strings(workspace?.members), strings(workspace?.exclude), 'pyproject.toml')) {
    const project = await ctx.manifests.pyproject(dir);
    if (project?.name) members.push({ dir, name: project.name });
  }
  return membersToPlans(ctx, rel, members);
}

/**
 * One Go module with several main packages (`cmd/api`, `cmd/worker`): each that serves HTTP, or is
 * named as a background process, is a service built from the module root (`go build ./cmd/api`).
 * Tools (`cmd/migrate`, `cmd/cli`) are not. Fewer than two: the single-service rules apply.
 */
async function goMainPlans(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const mod = await ctx.manifests.goMod(ctx.dir);
  if (!mod) return null;
  const mains = (await goMains(ctx)).filter((m) => m.dir !== '');
  const services = mains
    .map((main) => ({ main, role: main.serves ? ('auto' as const) : WORKER_NAME.test(main.dir.split('/').pop() ?? '') ? ('worker' as const) : null }))
    .filter((entry): entry is { main: GoMain; role: 'auto' | 'worker' } => entry.role !== null);
  if (services.length < 2) return null;
  const skipped = mains.filter((m) => !services.some((s) => s.main === m)).map((m) => m.dir);
  if (skipped.length > 0) ctx.warnings.add(`${mod.path}: main packages ${skipped.join(', ')} are not deployed (they neither serve HTTP nor are named as workers)`);
  return services.map(({ main, role }) => ({
    dir: ctx.dir,
    target: main.dir,
    nameSuffix: dnsName(main.dir.split('/').pop() ?? '') || 'app',
    split: `${mod.path}: main package ${main.dir} (${role === 'auto' ? 'serves HTTP' : 'a background process'})`,
    role,
    exclude: [],
  }));
}

/** The services of a Cargo, Go or uv workspace at the folder, or null when there is none. */
export async function backendWorkspacePlans(ctx: DetectContext): Promise<ServicePlan[] | null> {
  return (await cargoWorkspace(ctx)) ?? (await goWorkspace(ctx)) ?? (await uvWorkspace(ctx)) ?? (await goMainPlans(ctx));
}
