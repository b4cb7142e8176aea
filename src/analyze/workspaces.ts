/**
 * JS workspace layouts (the third service-split rule): `pnpm-workspace.yaml`,
 * `package.json#workspaces` (npm, yarn, bun), `lerna.json`, and `turbo.json` / `nx.json` (which use
 * the package manager's list, else the usual apps/*, packages/*, libs/*). Gives the member folders,
 * their local (workspace) dependencies and the root task runner. Which members are services is
 * decided in services.ts from what the detectors find in each member.
 */
import { parseYaml } from './yaml.js';
import type { PackageJson } from './manifests.js';
import type { DetectContext, WorkspaceMember } from './types.js';
import { inDir } from './types.js';

export interface WorkspaceLayout {
  /** The file that declares the workspace. */
  marker: string;
  /** Member folders, sorted. */
  members: string[];
  runner: WorkspaceMember['runner'];
  /** Members may have a package.json (read for start scripts and local dependencies). */
  js: boolean;
  /** Members share the root's lockfile and may build from the root (a real JS workspace). */
  rootBuild: boolean;
}

const DEFAULT_GLOBS = ['apps/*', 'packages/*', 'libs/*', 'services/*'];
const MAX_GLOB_DEPTH = 6;

/**
 * Folder and package names of tooling packages (configs, docs, examples, generators, CLIs, test
 * harnesses): not services, even with a start script, unless the member is a full app (services.ts).
 * UI kits and shared libraries are not listed: having no server, start script or app of their own
 * already keeps them out.
 */
const TOOLING_NAME =
  /^(?:configs?|[\w.-]*-configs?|configs?-[\w.-]+|eslint[\w.-]*|tsconfig[\w.-]*|typescript-config|prettier[\w.-]*|tooling|tools?|scripts?|docs?|documentation|examples?|samples?|generators?|templates?|cli|[\w.-]+-cli|create-[\w.-]+|types|typings|test-utils|testing|tests?|e2e|[\w.-]+-e2e|storybook|benchmarks?|fixtures?)$/;
/** Path segments under which nothing is a service. */
const TOOLING_SEGMENT = /^(?:examples?|samples?|templates?|fixtures|test|tests|e2e|docs|benchmarks?)$/;

/**
 * Why a member looks like tooling: `path` when it lies under an examples/templates/fixtures/...
 * folder (never a service of this repository), `name` when its own folder or package name is a
 * tooling name (a service only when it is a full app, see services.ts), or null.
 */
export function toolingKind(dir: string, packageName: string | undefined): 'path' | 'name' | null {
  const segments = dir.split('/');
  if (segments.slice(0, -1).some((segment) => TOOLING_SEGMENT.test(segment))) return 'path';
  const folder = segments[segments.length - 1] ?? '';
  const name = (packageName ?? '').replace(/^@[^/]+\//, '');
  return TOOLING_NAME.test(folder) || (name !== '' && TOOLING_NAME.test(name)) ? 'name' : null;
}

export function isToolingPackage(dir: string, packageName: string | undefined): boolean {
  return toolingKind(dir, packageName) !== null;
}

function globRegex(glob: string): RegExp {
  let source = '';
  const parts = glob.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  parts.forEach((part, index) => {
    const last = index === parts.length - 1;
    if (part === '**') {
      source += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    source += part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + (last ? '' : '/');
  });
  return new RegExp(`^${source}$`);
}

/** Folders under `root` matching the workspace globs (`!` excludes), holding a package.json. */
export function expandWorkspaceGlobs(ctx: DetectContext, root: string, globs: string[]): string[] {
  const include = globs.filter((g) => !g.startsWith('!')).map(globRegex);
  const exclude = globs.filter((g) => g.startsWith('!')).map((g) => globRegex(g.slice(1)));
  const found: string[] = [];
  const walk = (rel: string, depth: number): void => {
    if (depth > MAX_GLOB_DEPTH) return;
    for (const entry of ctx.fs.list(inDir(root, rel))) {
      if (!entry.endsWith('/') || entry.startsWith('.')) continue;
      const child = rel === '' ? entry.slice(0, -1) : `${rel}/${entry.slice(0, -1)}`;
      if (include.some((regex) => regex.test(child)) && !exclude.some((regex) => regex.test(child)) && ctx.fs.has(inDir(inDir(root, child), 'package.json'))) {
        found.push(inDir(root, child));
      }
      walk(child, depth + 1);
    }
  };
  if (include.length > 0) walk('', 0);
  return [...new Set(found)].sort();
}

function asStrings(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : null;
}

async function rawJson(ctx: DetectContext, rel: string): Promise<Record<string, unknown> | null> {
  if (!ctx.fs.has(rel)) return null;
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    ctx.warnings.add(`${rel} is not valid JSON; it was ignored`);
    return null;
  }
}

/** The JS workspace rooted at the folder, or null. */
export async function findJsWorkspace(ctx: DetectContext): Promise<WorkspaceLayout | null> {
  const root = ctx.dir;
  let marker = '';
  let globs: string[] | null = null;

  const pnpmRel = inDir(root, 'pnpm-workspace.yaml');
  if (ctx.fs.has(pnpmRel)) {
    const text = await ctx.manifests.text(pnpmRel);
    if (text !== null) {
      try {
        const doc = parseYaml(text, { maxAliasCount: 100 }) as unknown;
        globs = asStrings((doc as { packages?: unknown } | null)?.packages) ?? [];
        marker = pnpmRel;
      } catch {
        ctx.warnings.add(`${pnpmRel} is not valid YAML; it was ignored`);
      }
    }
  }
  const pkgRel = inDir(root, 'package.json');
  if (globs === null) {
    const raw = await rawJson(ctx, pkgRel);
    const workspaces = raw?.workspaces;
    const list = asStrings(workspaces) ?? asStrings((workspaces as { packages?: unknown } | undefined)?.packages);
    if (list) {
      globs = list;
      marker = `${pkgRel}: workspaces`;
    }
  }
  if (globs === null) {
    const lerna = await rawJson(ctx, inDir(root, 'lerna.json'));
    if (lerna) {
      globs = asStrings(lerna.packages) ?? ['packages/*'];
      marker = inDir(root, 'lerna.json');
    }
  }
  const turbo = inDir(root, 'turbo.json');
  const nx = inDir(root, 'nx.json');
  if (globs === null && (ctx.fs.has(turbo) || ctx.fs.has(nx))) {
    globs = DEFAULT_GLOBS;
    marker = ctx.fs.has(turbo) ? turbo : nx;
  }
  if (globs === null) return null;

  const pkg = await ctx.manifests.packageJson(root);
  const declares = (name: string): boolean => pkg !== null && (name in pkg.dependencies || name in pkg.devDependencies);
  const runner: WorkspaceMember['runner'] = ctx.fs.has(turbo) && declares('turbo') ? 'turbo' : ctx.fs.has(nx) && declares('nx') ? 'nx' : '';
  const members = expandWorkspaceGlobs(ctx, root, globs).filter((dir) => dir !== root);
  return { marker, members, runner, js: true, rootBuild: true };
}

/**
 * Local workspace packages a member depends on (transitively) that have a build script, in build
 * order (dependencies first), by package name.
 */
export function localBuildDeps(member: PackageJson, byName: ReadonlyMap<string, PackageJson>): { direct: string[]; buildOrder: string[] } {
  const localOf = (pkg: PackageJson): string[] =>
    Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies }).filter((name) => byName.has(name) && name !== pkg.name);
  const order: string[] = [];
  // The member itself is built last, by its own command, even when a dependency cycles back to it.
  const seen = new Set<string>(member.name ? [member.name] : []);
  const visit = (name: string, depth: number): void => {
    if (seen.has(name) || depth > 20) return;
    seen.add(name);
    const pkg = byName.get(name) as PackageJson;
    for (const dep of localOf(pkg).sort()) visit(dep, depth + 1);
    if (pkg.scripts.build !== undefined) order.push(name);
  };
  const direct = localOf(member).sort();
  for (const dep of direct) visit(dep, 1);
  return { direct, buildOrder: order };
}
