/**
 * The service split (the first rule that matches wins):
 * 1. a compose file with repo-local `build:` services: each web/worker service (compose.ts); a
 *    service built from a context above its Dockerfile's folder (`context: .`, `dockerfile:
 *    server/Dockerfile`) is detected in the Dockerfile's folder when that holds the manifest, and
 *    built from the context (build-root.ts). A development-environment compose file still splits,
 *    but gives no ports, databases, environment or development Dockerfile;
 * 2. a Procfile with worker processes (and production job runners of `Procfile.dev`): `web` plus
 *    one worker service per worker process;
 * 3. a workspace (pnpm-workspace.yaml, package.json#workspaces, lerna.json, turbo.json, nx.json):
 *    when the root's own production `start` runs the app (`node packages/api/index.js`), the root is
 *    the one service; when it delegates into one member, that member is (root-start.ts). Otherwise each member with its own Dockerfile, a
 *    start script, a server entry (code that listens) or a deployable front-end app; tooling
 *    packages (configs, docs, examples, generators, CLIs, UI kits) are not services unless a tooling
 *    name is all they have against them (`apps/docs` as a full Next app with build and start). A
 *    member whose lockfile is the root's (or that uses local workspace packages) keeps its
 *    `source_path` but installs and builds from the root with filtered commands;
 * 4. otherwise one service at the root; when the root has no manifest at all, each top-level folder
 *    with one (`frontend/`, `backend/`) is tried by the member rule of 3, and when no top-level
 *    folder has one either, each folder one level deeper (`src/server/`, `examples/app/`).
 * A plan says where a service is and what the split itself decided (name, role, start command);
 * the detectors decide the rest.
 */
import { composeInfoFor, loadComposeWarned, productionCommand, splitCompose, type ComposeService } from './compose.js';
import { isDevelopmentDockerfile } from './compose-dev.js';
import type { PackageJson } from './manifests.js';
import { dnsName } from './name.js';
import { entryOfCommand, readDevProcfile, readProcfile } from './procfile.js';
import { decide } from './registry.js';
import { rootStart } from './root-start.js';
import { scopeScan, type ServicePlan } from './service-plan.js';
import { TIER, inDir, type DetectContext, type Detection, type WorkspaceMember } from './types.js';
import { Warnings } from './warnings.js';
import { findJsWorkspace, localBuildDeps, toolingKind, type WorkspaceLayout } from './workspaces.js';
import { backendWorkspacePlans } from './workspaces-backend.js';

export { scopeScan, type ServicePlan } from './service-plan.js';

const NODE_LOCKFILES = ['pnpm-lock.yaml', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'bun.lock', 'bun.lockb'];
// Framework values, or detector ids where the framework value is generic (`static` builders, SSR on Vite).
const APP_FRAMEWORKS = new Set(['nextjs', 'nuxt', 'astro', 'sveltekit', 'remix', 'react-router', 'create-react-app', 'gatsby', 'vue', 'angular', 'vite-ssr']);

/** The dirs in `dirs` strictly inside `dir`. */
function nested(dir: string, dirs: readonly string[]): string[] {
  return dirs.filter((other) => other !== dir && (dir === '' || other.startsWith(`${dir}/`)));
}

/** Files that hold an app's own manifest (a Dockerfile alone does not make a folder an app), in every language a detector knows. */
const APP_MANIFESTS = [
  'package.json', 'requirements.txt', 'pyproject.toml', 'Pipfile', 'manage.py', 'go.mod', 'Cargo.toml', 'Gemfile', 'composer.json', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'mix.exs', 'deno.json', 'deno.jsonc',
  'project.clj', 'deps.edn', 'shard.yml', 'pubspec.yaml', 'gleam.toml', 'stack.yaml', 'build.sbt', 'Package.swift', 'build.zig', 'CMakeLists.txt', 'meson.build',
];
/** Manifests named after the project (`api.cabal`, `Api.fsproj`). */
const APP_MANIFEST_SUFFIXES = ['.csproj', '.fsproj', '.vbproj', '.cabal'];

function hasAppManifest(ctx: DetectContext, dir: string): boolean {
  return APP_MANIFESTS.some((file) => ctx.fs.has(inDir(dir, file))) || ctx.fs.list(dir).some((name) => APP_MANIFEST_SUFFIXES.some((suffix) => name.endsWith(suffix)));
}

/**
 * The folder to detect a compose service in: its build context, or the folder of its Dockerfile
 * when that lies below the context and holds the app's manifest (`apps/api/Dockerfile` built from
 * the workspace root, `server/Dockerfile` built from a root that also holds `shared/`).
 */
function appFolder(ctx: DetectContext, service: ComposeService): string {
  const context = service.context as string;
  const dockerfile = service.dockerfile;
  const folder = dockerfile.includes('/') ? dockerfile.slice(0, dockerfile.lastIndexOf('/')) : '';
  const below = folder !== context && (context === '' || folder.startsWith(`${context}/`));
  if (below && hasAppManifest(ctx, folder)) return folder;
  // One Dockerfile for every app of a monorepo, told which by a build arg (`BUILD_CONTEXT: api`).
  const named = service.args
    .split('\n')
    .map((arg) => arg.slice(arg.indexOf('=') + 1))
    .filter((value) => /^[\w.-]+$/.test(value))
    .flatMap((value) => ['', 'apps/', 'packages/', 'services/'].map((prefix) => inDir(context, `${prefix}${value}`)))
    .filter((dir) => dir !== context && hasAppManifest(ctx, dir));
  return named.length === 1 ? (named[0] as string) : context;
}

async function fromCompose(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const file = await loadComposeWarned(ctx);
  if (!file) return null;
  const { apps } = splitCompose(file, ctx.warnings);
  if (apps.length === 0) return null;
  const folders = apps.map(({ service }) => appFolder(ctx, service));
  // A development Dockerfile (`Dockerfile.dev`) of a development file is not how production builds.
  const dockerfileOf = (service: ComposeService): string => (file.development !== '' && isDevelopmentDockerfile(service.dockerfile) ? '' : service.dockerfile);
  const only = apps.length === 1 ? apps[0] : undefined;
  // One service built from the root is the ordinary single-service case (unless compose names a
  // Dockerfile other than the folder's own).
  const ownDockerfile = only !== undefined && (dockerfileOf(only.service) === '' || dockerfileOf(only.service) === inDir(ctx.dir, 'Dockerfile'));
  if (only && only.service.context === ctx.dir && folders[0] === ctx.dir && only.role === 'web' && ownDockerfile) return null;
  const plans: ServicePlan[] = [];
  for (const [index, { service, role, sharedWith }] of apps.entries()) {
    const context = service.context as string;
    const dir = folders[index] as string;
    const command = productionCommand(service);
    if (service.command !== '' && !command) {
      ctx.warnings.add(`${file.path}: services.${service.name}.command "${service.command}" runs a development server; it was not used as the start command`);
    }
    const how = sharedWith ? `, runs the image of services.${sharedWith} with its own command` : '';
    const plan: ServicePlan = {
      dir,
      split: `${file.path}: services.${service.name} (${role}, built from ${context === '' ? '.' : context}${how})`,
      role,
      compose: composeInfoFor(file, service, apps.length === 1),
      exclude: nested(dir, folders),
    };
    if (dir !== context) {
      // A workspace member keeps the workspace's convention (its folder, commands from the root);
      // any other app below the context is built from the context (build-root.ts).
      const workspace = await workspaceMembership(ctx, context, dir);
      if (workspace) plan.workspace = workspace;
      else plan.buildRoot = { root: context, evidence: `${file.path}: services.${service.name}.build` };
    }
    if (apps.length > 1) plan.name = { value: dnsName(service.name) || 'app', evidence: `${file.path}: services.${service.name}` };
    if (command) {
      plan.start = { value: command, evidence: `${file.path}: services.${service.name}.command` };
      const entry = entryOfCommand({ ...ctx, dir }, command);
      if (entry) plan.entry = entry;
    }
    // Compose builds the context's own Dockerfile when it names none.
    const contextDockerfile = dir !== context && ctx.fs.has(inDir(context, 'Dockerfile')) ? inDir(context, 'Dockerfile') : '';
    if (dockerfileOf(service) || contextDockerfile) plan.dockerfile = dockerfileOf(service) || contextDockerfile;
    if (role === 'worker') plan.procfile = null;
    plans.push(plan);
  }
  return plans;
}

async function fromProcfile(ctx: DetectContext): Promise<ServicePlan[] | null> {
  const procfile = await readProcfile(ctx);
  const dev = await readDevProcfile(ctx);
  // Procfile.dev adds the job runners the Procfile does not already run (same command or process type).
  const declared = new Set(procfile?.workers.flatMap((worker) => [worker.command, `type:${worker.type}`]) ?? []);
  const devWorkers = (dev?.workers ?? []).filter((worker) => !declared.has(worker.command) && !declared.has(`type:${worker.type}`));
  const workers = [...(procfile?.workers ?? []), ...devWorkers];
  if (workers.length === 0) return null;
  const plans: ServicePlan[] = [];
  if (procfile?.web) plans.push({ dir: ctx.dir, split: procfile.web.evidence, role: 'auto', procfile, exclude: [] });
  else if (devWorkers.length > 0 && dev?.web) {
    // The development web line only says the app is a web process; its production start is the detector's.
    plans.push({ dir: ctx.dir, split: `${dev.web} (the app itself, started by its production command)`, role: 'auto', exclude: [] });
  }
  const suffix = plans.length > 0 || workers.length > 1;
  for (const worker of workers) {
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
  const packages = new Map<string, PackageJson | null>();
  for (const dir of layout.members) packages.set(dir, await ctx.manifests.packageJson(dir));
  const start = rootStart(await ctx.manifests.packageJson(ctx.dir), packages);
  if (start?.kind === 'root') return [{ dir: ctx.dir, split: start.evidence, role: 'auto', exclude: [] }];
  const plans = await memberPlans(ctx, layout, start?.kind === 'member' ? { only: start.dir, reason: start.evidence } : {});
  return plans.length > 0 ? plans : null;
}

/** Production start scripts (not a dev server or watcher). */
const DEV_SCRIPT = /\b(?:next|nuxt|vite|astro|remix|vitepress|docusaurus|gatsby)\s+(?:dev|develop|start\b(?=.*docusaurus))|\bdocusaurus\s+start\b|\bgatsby\s+develop\b|\bnodemon\b|--watch\b|^vite$/;

/**
 * A member named like tooling (`docs`, `documentation`) is still a service when it is a full app:
 * a production start script and a build script, and the detectors see a web server (Next, Nuxt,
 * Astro with a server adapter, ...). A static docs site or a dev server alone is not.
 */
function fullApp(pkg: PackageJson | null, detection: Detection | undefined): string {
  const start = pkg?.scripts.start;
  if (!pkg || start === undefined || pkg.scripts.build === undefined || DEV_SCRIPT.test(start)) return '';
  if (!detection || detection.tier < TIER.runnable || detection.servesStatically || detection.fields.project_type?.value !== 'web') return '';
  return `${detection.fields.framework?.value || 'web'} app with scripts.build and scripts.start`;
}

/**
 * A member whose lockfile is the workspace root's (or that uses local workspace packages) installs
 * and builds from the root with filtered commands.
 */
function memberWorkspace(ctx: DetectContext, layout: WorkspaceLayout, dir: string, pkg: PackageJson | null, byName: ReadonlyMap<string, PackageJson>): WorkspaceMember | undefined {
  if (!pkg || !layout.rootBuild || !ctx.fs.has(inDir(ctx.dir, 'package.json'))) return undefined;
  const deps = localBuildDeps(pkg, byName);
  const ownLockfile = NODE_LOCKFILES.some((file) => ctx.fs.has(inDir(dir, file)));
  return deps.direct.length > 0 || !ownLockfile ? { root: ctx.dir, name: pkg.name ?? `./${dir}`, marker: layout.marker, runner: layout.runner, buildDeps: deps.buildOrder } : undefined;
}

/** The JS workspace membership of `dir` in a workspace rooted at `root`, when it is a member built from there. */
async function workspaceMembership(ctx: DetectContext, root: string, dir: string): Promise<WorkspaceMember | undefined> {
  const rootCtx: DetectContext = { ...ctx, dir: root, warnings: new Warnings() };
  const layout = await findJsWorkspace(rootCtx);
  if (!layout?.members.includes(dir)) return undefined;
  const byName = new Map<string, PackageJson>();
  for (const member of layout.members) {
    const pkg = await ctx.manifests.packageJson(member);
    if (pkg?.name) byName.set(pkg.name, pkg);
  }
  return memberWorkspace(rootCtx, layout, dir, await ctx.manifests.packageJson(dir), byName);
}

interface MemberOptions {
  /** Only this member is a service (the root start delegates into it), for `reason`. */
  only?: string;
  reason?: string;
  /** Tooling names and folders do not exclude (the candidates are all there is). */
  keepTooling?: boolean;
}

async function memberPlans(ctx: DetectContext, layout: WorkspaceLayout, options: MemberOptions = {}): Promise<ServicePlan[]> {
  const packages = new Map<string, PackageJson | null>();
  const byName = new Map<string, PackageJson>();
  for (const dir of layout.members) {
    if (options.only !== undefined && dir !== options.only) continue;
    const pkg = layout.js ? await ctx.manifests.packageJson(dir) : null;
    packages.set(dir, pkg);
  }
  for (const dir of layout.members) {
    const pkg = layout.js ? await ctx.manifests.packageJson(dir) : null;
    if (pkg?.name) byName.set(pkg.name, pkg);
  }
  const plans: ServicePlan[] = [];
  for (const [dir, pkg] of packages) {
    const dockerfile = ['Dockerfile', 'Containerfile'].map((name) => inDir(dir, name)).find((file) => ctx.fs.has(file));
    const tooling = options.keepTooling || options.only !== undefined || dockerfile ? null : toolingKind(dir, pkg?.name);
    if (tooling === 'path') continue;
    const workspace = memberWorkspace(ctx, layout, dir, pkg, byName);
    const exclude = nested(dir, layout.members);
    const memberCtx: DetectContext = { ...ctx, dir, scan: scopeScan(ctx.scan, dir, exclude), warnings: new Warnings(), ...(workspace ? { workspace } : {}) };
    const detection = (await decide(memberCtx))?.detection;
    const listener = memberCtx.scan.httpHits[0];
    const start = detection?.fields.scripts_start?.value ?? '';
    let reason = '';
    if (tooling === 'name') {
      // Named like tooling: only a full app counts, and nothing weaker below.
      const app = fullApp(pkg, detection);
      if (!app) continue;
      reason = `${app} (a tooling-like name, but a full app)`;
    } else if (options.only === dir) reason = options.reason ?? '';
    else if (dockerfile) reason = `its own ${dockerfile}`;
    else if (pkg?.scripts.start !== undefined) reason = `${pkg.path}: scripts.start`;
    else if (listener) reason = `server entry ${listener.file}:${listener.line}`;
    // A folder's own start.sh is its start, though the shell detector ranks below every runtime.
    else if (detection && !pkg && start !== '' && (detection.tier >= TIER.runnable || detection.id === 'shell')) reason = detection.fields.scripts_start?.evidence ?? start;
    else if (detection && detection.tier >= TIER.frontend) {
      const framework = detection.fields.framework?.value ?? '';
      // A start derived from package.json `main` is a library's entry, not a server.
      if (APP_FRAMEWORKS.has(framework) || APP_FRAMEWORKS.has(detection.id) || (!pkg && start !== '') || ctx.fs.has(inDir(dir, 'index.html'))) {
        reason = `${framework || 'app'} (${detection.fields.framework?.evidence ?? detection.fields.project_type?.evidence ?? dir})`;
      }
    } else if (detection?.servesStatically && ctx.fs.has(inDir(dir, 'index.html'))) {
      // Plain HTML with its browser scripts (no bundler): a static site of its own.
      reason = `static site (${detection.fields.project_type?.evidence ?? inDir(dir, 'index.html')})`;
    }
    if (!reason) continue;
    const plan: ServicePlan = { dir, split: `${layout.marker} member ${dir}: ${reason}`, role: 'auto', exclude };
    if (workspace) plan.workspace = workspace;
    plans.push(plan);
  }
  return plans;
}

/** Files that make a folder a project of its own: an app manifest, or a file saying how the folder runs or is served. */
const MANIFESTS = [...APP_MANIFESTS, 'Dockerfile', 'Containerfile', 'Procfile', 'index.html', 'Staticfile', 'Caddyfile', 'start.sh'];
/**
 * Entry files that make a folder an app with no manifest at all (`bot/main.py`, `api/main.go`): a
 * weaker sign than a manifest, so they are tried only when no folder at that depth has one.
 */
const LONE_ENTRIES = ['main.py', 'app.py', 'server.py', 'bot.py', 'main.go'];
/** Files that say how the folder itself runs: a root with one is the service, whatever its subfolders hold. */
const OWN_PROCESS = ['Dockerfile', 'Containerfile', 'Procfile'];
const MAX_TOP_LEVEL = 30;

function hasManifest(ctx: DetectContext, dir: string): boolean {
  return MANIFESTS.some((file) => ctx.fs.has(inDir(dir, file))) || ctx.fs.list(dir).some((name) => APP_MANIFEST_SUFFIXES.some((suffix) => name.endsWith(suffix)));
}

function hasLoneEntry(ctx: DetectContext, dir: string): boolean {
  return LONE_ENTRIES.some((file) => ctx.fs.has(inDir(dir, file)));
}

/**
 * Nothing at the root (`frontend/` + `backend/` repositories without workspace markers, and no
 * detector claims the root): each top-level folder with a manifest is a candidate, by the same rule
 * as a workspace member, and builds on its own.
 */
async function fromTopLevelFolders(ctx: DetectContext): Promise<ServicePlan[] | null> {
  if (OWN_PROCESS.some((file) => ctx.fs.has(inDir(ctx.dir, file)))) return null;
  // A detector may claim the root (a .NET project one folder down): then it is one service. A root
  // manifest with nothing to run (a package.json for husky and prettier next to frontend/ and
  // backend/) does not make the root a service.
  const rootDecision = await decide({ ...ctx, warnings: new Warnings() });
  const rootManifest = hasManifest(ctx, ctx.dir);
  // Only a plain package.json (no workspace: the workspace rules already decided) is passed over.
  const toolingRoot =
    rootDecision?.runtimeId === 'node' &&
    rootDecision.detection.tier === TIER.bare &&
    MANIFESTS.every((file) => file === 'package.json' || !ctx.fs.has(inDir(ctx.dir, file))) &&
    (await findJsWorkspace({ ...ctx, warnings: new Warnings() })) === null;
  if (rootDecision ? !toolingRoot : rootManifest) return null;
  const folders = (dir: string): string[] =>
    ctx.fs
      .list(dir)
      .filter((entry) => entry.endsWith('/') && !entry.startsWith('.'))
      .map((entry) => inDir(dir, entry.slice(0, -1)));
  const top = folders(ctx.dir);
  // Folders with a manifest at this depth, else (the weaker sign) those with a lone entry file.
  const candidates = (dirs: string[]): string[] => {
    const withManifest = dirs.filter((dir) => hasManifest(ctx, dir));
    return (withManifest.length > 0 ? withManifest : dirs.filter((dir) => hasLoneEntry(ctx, dir))).slice(0, MAX_TOP_LEVEL);
  };
  let members = candidates(top);
  let marker = rootManifest ? 'nothing to run at the root; top-level folder' : 'no manifest at the root; top-level folder';
  if (members.length === 0) {
    // Nothing one level down either: an app nested two folders deep (`src/server/`, `examples/app/`).
    members = candidates(top.flatMap(folders));
    marker = `${rootManifest ? 'nothing to run at the root' : 'no manifest at the root'} or in a top-level folder; folder`;
  }
  if (members.length === 0) return null;
  const plans = await memberPlans(ctx, { marker, members, runner: '', js: true, rootBuild: false }, { keepTooling: marker.endsWith('; folder') });
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
