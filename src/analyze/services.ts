/**
 * The service split (spec/analysis.md "Service split", first rule that matches):
 * 1. a compose file with repo-local `build:` services: each web/worker service (compose.ts);
 * 2. a Procfile with worker processes: `web` plus one worker service per worker process;
 * 3. a workspace (pnpm-workspace.yaml, package.json#workspaces, lerna.json, turbo.json, nx.json):
 *    each member with its own Dockerfile, a start script, a server entry (code that listens) or a
 *    deployable front-end app; tooling packages (configs, docs, examples, generators, CLIs, UI kits)
 *    are not services. A member whose lockfile is the root's (or that uses local workspace packages)
 *    keeps its `source_path` but installs and builds from the root with filtered commands;
 * 4. otherwise one service at the root; when the root has no manifest at all, each top-level folder
 *    with one (`frontend/`, `backend/`) is tried by the member rule of 3.
 * A plan says where a service is and what the split itself decided (name, role, start command);
 * the detectors decide the rest.
 */
import { composeInfoFor, loadCompose, productionCommand, splitCompose, type ComposeInfo } from './compose.js';
import type { PackageJson } from './manifests.js';
import { dnsName } from './name.js';
import { entryOfCommand, readProcfile, type ProcfileInfo } from './procfile.js';
import { decide } from './registry.js';
import type { ScanResult } from './scan.js';
import { TIER, inDir, type Conclusion, type DetectContext, type WorkspaceMember } from './types.js';
import { Warnings } from './warnings.js';
import { findJsWorkspace, isToolingPackage, localBuildDeps, type WorkspaceLayout } from './workspaces.js';
import { backendWorkspacePlans } from './workspaces-backend.js';

export interface ServicePlan {
  /** Service folder relative to the root (`''` for the root). */
  dir: string;
  /** Name decided by the split (compose service name); otherwise the detection's name. */
  name?: Conclusion<string>;
  /** Appended to the detected name (`-worker` for a Procfile worker next to web). */
  nameSuffix?: string;
  /** Why this is a service of a multi-service split (evidence), or '' for a single service. */
  split: string;
  role: 'web' | 'worker' | 'auto';
  /** Start command decided by the split (Procfile line, compose `command:`). */
  start?: Conclusion<string>;
  /** Entry file the split's start command runs, when it names one. */
  entry?: string;
  /** Compose view for this service; undefined: read the folder's compose file. */
  compose?: ComposeInfo | null;
  /** Procfile web entry that applies; undefined: read the folder's Procfile; null: none. */
  procfile?: ProcfileInfo | null;
  /** Dockerfile path from compose `build.dockerfile`. */
  dockerfile?: string;
  workspace?: WorkspaceMember;
  /** Build target inside the folder when it holds several services (Go `cmd/<name>`). */
  target?: string;
  /** Folders of other services inside this one: their files are not this service's source. */
  exclude: string[];
}

const NODE_LOCKFILES = ['pnpm-lock.yaml', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'bun.lock', 'bun.lockb'];
const APP_FRAMEWORKS = new Set(['nextjs', 'nuxt', 'astro', 'sveltekit', 'remix', 'react-router', 'create-react-app', 'gatsby', 'vue', 'angular']);

/** The scan results of files under `dir`, without those under `exclude`. */
export function scopeScan(scan: ScanResult, dir: string, exclude: readonly string[]): ScanResult {
  if (dir === '' && exclude.length === 0) return scan;
  const keep = (hit: { file: string }): boolean =>
    (dir === '' || hit.file.startsWith(`${dir}/`)) && !exclude.some((other) => other !== dir && hit.file.startsWith(`${other}/`));
  return {
    envRefs: scan.envRefs.filter(keep),
    portHints: scan.portHints.filter(keep),
    httpHits: scan.httpHits.filter(keep),
    healthRoutes: scan.healthRoutes.filter(keep),
    miningHits: scan.miningHits.filter(keep),
    pyApps: scan.pyApps.filter(keep),
    pyFactories: scan.pyFactories.filter(keep),
    scannedFiles: scan.scannedFiles,
  };
}

/** The dirs in `dirs` strictly inside `dir`. */
function nested(dir: string, dirs: readonly string[]): string[] {
  return dirs.filter((other) => other !== dir && (dir === '' || other.startsWith(`${dir}/`)));
}

async function fromCompose(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const file = await loadCompose(ctx);
  if (!file) return null;
  const { apps } = splitCompose(file, ctx.warnings);
  if (apps.length === 0) return null;
  const only = apps.length === 1 ? apps[0] : undefined;
  // One service built from the root is the ordinary single-service case.
  if (only && only.service.context === ctx.dir && only.role === 'web') return null;
  const contexts = apps.map((app) => app.service.context as string);
  return apps.map(({ service, role }): ServicePlan => {
    const dir = service.context as string;
    const command = productionCommand(service);
    if (service.command !== '' && !command) {
      ctx.warnings.add(`${file.path}: services.${service.name}.command "${service.command}" runs a development server; it was not used as the start command`);
    }
    const plan: ServicePlan = {
      dir,
      split: `${file.path}: services.${service.name} (${role}, built from ${dir === '' ? '.' : dir})`,
      role,
      compose: composeInfoFor(file, service, apps.length === 1),
      exclude: nested(dir, contexts),
    };
    if (apps.length > 1) plan.name = { value: dnsName(service.name) || 'app', evidence: `${file.path}: services.${service.name}` };
    if (command) {
      plan.start = { value: command, evidence: `${file.path}: services.${service.name}.command` };
      const entry = entryOfCommand({ ...ctx, dir }, command);
      if (entry) plan.entry = entry;
    }
    if (service.dockerfile) plan.dockerfile = service.dockerfile;
    if (role === 'worker') plan.procfile = null;
    return plan;
  });
}

async function fromProcfile(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const procfile = await readProcfile(ctx);
  if (!procfile || procfile.workers.length === 0) return null;
  const plans: ServicePlan[] = [];
  if (procfile.web) plans.push({ dir: ctx.dir, split: procfile.web.evidence, role: 'auto', procfile, exclude: [] });
  const suffix = procfile.web !== null || procfile.workers.length > 1;
  for (const worker of procfile.workers) {
    const plan: ServicePlan = {
      dir: ctx.dir,
      split: worker.evidence,
      role: 'worker',
      start: { value: worker.command, evidence: worker.evidence },
      procfile: null,
      exclude: [],
    };
    if (suffix) plan.nameSuffix = dnsName(worker.type);
    if (worker.entry) plan.entry = worker.entry;
    plans.push(plan);
  }
  return plans;
}

/** A JS workspace (Cargo, Go and uv workspaces are planned by workspaces-backend.ts). */
async function fromWorkspace(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const layout = await findJsWorkspace(ctx);
  if (!layout || layout.members.length === 0) return null;
  const plans = await memberPlans(ctx, layout);
  return plans.length > 0 ? plans : null;
}

async function memberPlans(ctx: DetectContext, layout: WorkspaceLayout): Promise<ServicePlan[]> {
  const packages = new Map<string, PackageJson | null>();
  const byName = new Map<string, PackageJson>();
  for (const dir of layout.members) {
    const pkg = layout.js ? await ctx.manifests.packageJson(dir) : null;
    packages.set(dir, pkg);
    if (pkg?.name) byName.set(pkg.name, pkg);
  }
  const plans: ServicePlan[] = [];
  for (const [dir, pkg] of packages) {
    const dockerfile = ['Dockerfile', 'Containerfile'].map((name) => inDir(dir, name)).find((file) => ctx.fs.has(file));
    if (isToolingPackage(dir, pkg?.name) && !dockerfile) continue;
    let workspace: WorkspaceMember | undefined;
    if (pkg && layout.rootBuild && ctx.fs.has(inDir(ctx.dir, 'package.json'))) {
      const deps = localBuildDeps(pkg, byName);
      const ownLockfile = NODE_LOCKFILES.some((file) => ctx.fs.has(inDir(dir, file)));
      if (deps.direct.length > 0 || !ownLockfile) workspace = { root: ctx.dir, name: pkg.name ?? `./${dir}`, marker: layout.marker, runner: layout.runner, buildDeps: deps.buildOrder };
    }
    const exclude = nested(dir, layout.members);
    const memberCtx: DetectContext = { ...ctx, dir, scan: scopeScan(ctx.scan, dir, exclude), warnings: new Warnings(), ...(workspace ? { workspace } : {}) };
    const detection = (await decide(memberCtx))?.detection;
    const listener = memberCtx.scan.httpHits[0];
    const start = detection?.fields.scripts_start?.value ?? '';
    let reason = '';
    if (dockerfile) reason = `its own ${dockerfile}`;
    else if (pkg?.scripts.start !== undefined) reason = `${pkg.path}: scripts.start`;
    else if (listener) reason = `server entry ${listener.file}:${listener.line}`;
    else if (detection && !pkg && start !== '' && detection.tier >= TIER.runnable) reason = detection.fields.scripts_start?.evidence ?? start;
    else if (detection && detection.tier >= TIER.frontend) {
      const framework = detection.fields.framework?.value ?? '';
      // A start derived from package.json `main` is a library's entry, not a server.
      if (APP_FRAMEWORKS.has(framework) || (!pkg && start !== '') || ctx.fs.has(inDir(dir, 'index.html'))) {
        reason = `${framework || 'app'} (${detection.fields.framework?.evidence ?? detection.fields.project_type?.evidence ?? dir})`;
      }
    }
    if (!reason) continue;
    const plan: ServicePlan = { dir, split: `${layout.marker} member ${dir}: ${reason}`, role: 'auto', exclude };
    if (workspace) plan.workspace = workspace;
    plans.push(plan);
  }
  return plans;
}

/** Files that make a folder a project of its own. */
const MANIFESTS = ['package.json', 'requirements.txt', 'pyproject.toml', 'Pipfile', 'manage.py', 'go.mod', 'Cargo.toml', 'Gemfile', 'composer.json', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'mix.exs', 'deno.json', 'deno.jsonc', 'Dockerfile', 'Containerfile', 'index.html'];
const MAX_TOP_LEVEL = 30;

function hasManifest(ctx: DetectContext, dir: string): boolean {
  return MANIFESTS.some((file) => ctx.fs.has(inDir(dir, file))) || ctx.fs.list(dir).some((name) => name.endsWith('.csproj'));
}

/**
 * Nothing at the root (`frontend/` + `backend/` repositories without workspace markers, and no
 * detector claims the root): each top-level folder with a manifest is a candidate, by the same rule
 * as a workspace member, and builds on its own.
 */
async function fromTopLevelFolders(ctx: DetectContext): Promise<ServicePlan[] | null> {
  if (hasManifest(ctx, ctx.dir)) return null;
  // A detector may still claim the root (a .NET project one folder down): then it is one service.
  if (await decide({ ...ctx, warnings: new Warnings() })) return null;
  const members = ctx.fs
    .list(ctx.dir)
    .filter((entry) => entry.endsWith('/') && !entry.startsWith('.'))
    .map((entry) => inDir(ctx.dir, entry.slice(0, -1)))
    .filter((dir) => hasManifest(ctx, dir))
    .slice(0, MAX_TOP_LEVEL);
  if (members.length === 0) return null;
  const plans = await memberPlans(ctx, { marker: 'no manifest at the root; top-level folder', members, runner: '', js: true, rootBuild: false });
  return plans.length > 0 ? plans : null;
}

/** The services of the project, by the first split rule that matches. */
export async function planServices(ctx: DetectContext): Promise<ServicePlan[]> {
  return (
    (await fromCompose(ctx)) ??
    (await fromProcfile(ctx)) ??
    (await fromWorkspace(ctx)) ??
    (await backendWorkspacePlans(ctx)) ??
    (await fromTopLevelFolders(ctx)) ?? [{ dir: ctx.dir, split: '', role: 'auto', exclude: [] }]
  );
}
