/**
 * What running a service on this machine means: the install steps for its ecosystem, the build and
 * start commands the analysis planned (from the service row), and for static services the folder
 * to serve. Decided from the service row and the files in the build folder; runs nothing.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { ServiceRow } from '../store.js';
import { which } from './which.js';
import { commandDirs, type EvidenceLike } from './workspace.js';

export type Ecosystem = 'node' | 'python' | 'ruby' | 'php' | 'go' | 'elixir' | 'dotnet' | 'rust' | 'java';

export interface InstallStep {
  ecosystem: Ecosystem;
  /** Shell line run in the service folder. */
  command: string;
}

export interface RunPlan {
  kind: 'process' | 'static';
  /** The service folder inside the build folder. */
  workdir: string;
  /** The workspace root when the service is a workspace member (install runs there), else null. */
  workspaceRoot: string | null;
  /** Where the install steps, the build and the start command run (the workspace root for root-level commands). */
  installDir: string;
  buildCwd: string;
  startCwd: string;
  install: InstallStep[];
  build: string;
  start: string;
  /** Static services: folders to serve, first existing one wins (checked after the build). */
  staticCandidates: string[];
  /** Prepended to PATH for build and start (the venv's bin, node_modules/.bin). */
  pathPrepend: string[];
  /** Extra variables for install, build and start (VIRTUAL_ENV, BUNDLE_PATH, …). */
  env: Record<string, string>;
  /** Programs that must exist before anything runs (the package manager a lockfile names, …). */
  requires: string[];
}

/**
 * A build command that already installs (`npm ci && npm run build`, `yarn install --frozen-lockfile`,
 * `yarn --immutable`) makes our own install redundant: installing twice doubles the time and the errors.
 */
const BUILD_INSTALLS: Array<[Ecosystem, RegExp]> = [
  ['node', /^\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:npm\s+(?:ci|install|i)\b|pnpm\s+(?:i|install)\b|yarn(?:\s+install)?(?:\s+--?[A-Za-z][\w-]*(?:=\S+)?)*\s*(?:$|&&|;)|bun\s+install\b)/],
  ['python', /^\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:(?:python3?\s+-m\s+)?pip3?\s+install\b|poetry\s+install\b|uv\s+(?:sync|pip\s+install)\b|pipenv\s+install\b)/],
  ['ruby', /^\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*bundle(?:\s+install)?\s*(?:$|&&|;|\s-)/],
  ['php', /^\s*composer\s+install\b/],
  ['go', /^\s*go\s+(?:mod\s+download|build)\b/],
  ['elixir', /^\s*mix\s+deps\.get\b/],
  ['dotnet', /^\s*dotnet\s+(?:restore|publish|build)\b/],
];

export function buildInstalls(build: string, ecosystem: Ecosystem): boolean {
  return BUILD_INSTALLS.some(([eco, pattern]) => eco === ecosystem && pattern.test(build));
}

export function isStaticService(service: Pick<ServiceRow, 'type' | 'framework' | 'language'>): boolean {
  return service.type === 'static' || service.framework === 'static' || service.language === 'static';
}

/** The service folder: `source_path` inside the build folder, never outside it. */
export function serviceDir(buildDir: string, sourcePath: string): string {
  const relative = (sourcePath || '.').replace(/^\/+/, '');
  const resolved = path.resolve(buildDir, relative);
  return resolved === buildDir || resolved.startsWith(buildDir + path.sep) ? resolved : buildDir;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function hasEntries(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/** Node: the package manager its lockfile names, and the install line for it. */
function nodeInstall(dir: string): InstallStep | null {
  const manifest = readJson(path.join(dir, 'package.json'));
  if (!manifest) return null;
  const has = (file: string): boolean => existsSync(path.join(dir, file));
  // A workspace root installs even without dependencies of its own: it links its members.
  if (!hasEntries(manifest['dependencies']) && !hasEntries(manifest['devDependencies']) && !hasEntries(manifest['optionalDependencies']) && manifest['workspaces'] === undefined) return null;
  if (has('pnpm-lock.yaml')) return { ecosystem: 'node', command: 'pnpm install --frozen-lockfile' };
  if (has('yarn.lock')) return { ecosystem: 'node', command: 'yarn install' };
  if (has('bun.lockb') || has('bun.lock')) return { ecosystem: 'node', command: 'bun install' };
  if (has('package-lock.json') || has('npm-shrinkwrap.json')) return { ecosystem: 'node', command: 'npm ci' };
  return { ecosystem: 'node', command: 'npm install' };
}

/** Python: whether there is anything for pip to install. */
function pythonInstall(dir: string): InstallStep | null {
  if (existsSync(path.join(dir, 'requirements.txt'))) return { ecosystem: 'python', command: 'python -m pip install -r requirements.txt' };
  const pyproject = path.join(dir, 'pyproject.toml');
  if (existsSync(pyproject)) {
    try {
      const doc = parseToml(readFileSync(pyproject, 'utf8')) as Record<string, unknown>;
      const project = doc['project'] as Record<string, unknown> | undefined;
      const poetry = ((doc['tool'] as Record<string, unknown> | undefined)?.['poetry'] as Record<string, unknown> | undefined)?.['dependencies'];
      const deps = Array.isArray(project?.['dependencies']) ? (project?.['dependencies'] as unknown[]) : [];
      const poetryDeps = hasEntries(poetry) ? Object.keys(poetry as object).filter((name) => name !== 'python') : [];
      if (deps.length > 0 || poetryDeps.length > 0) return { ecosystem: 'python', command: 'python -m pip install .' };
    } catch {
      return { ecosystem: 'python', command: 'python -m pip install .' };
    }
  }
  if (existsSync(path.join(dir, 'setup.py'))) return { ecosystem: 'python', command: 'python -m pip install .' };
  return null;
}

function isPython(service: Pick<ServiceRow, 'language'>, dir: string): boolean {
  if (/python/i.test(service.language)) return true;
  return ['requirements.txt', 'pyproject.toml', 'setup.py', 'Pipfile'].some((file) => existsSync(path.join(dir, file)));
}

function anyFile(dir: string, pattern: RegExp): boolean {
  try {
    return readdirSync(dir).some((name) => pattern.test(name));
  } catch {
    return false;
  }
}

/** The python interpreter to create the venv with: python3, else python. */
export function pythonCommand(pathEnv: string | undefined): string {
  return which('python3', pathEnv) ? 'python3' : which('python', pathEnv) ? 'python' : 'python3';
}

export interface PlanInput {
  service: Pick<ServiceRow, 'type' | 'framework' | 'language' | 'build_command' | 'start_command' | 'source_path'>;
  buildDir: string;
  /** The analysis' output_directory for this service, when known. */
  outputDirectory?: string;
  /** The analysis' evidence for this service (says which commands run from the workspace root). */
  evidence?: EvidenceLike[];
  pathEnv: string | undefined;
}

export function planRun(input: PlanInput): RunPlan {
  const { service } = input;
  const workdir = serviceDir(input.buildDir, service.source_path);
  const build = service.build_command.trim();
  const start = service.start_command.trim();
  const dirs = commandDirs({ buildDir: input.buildDir, member: workdir, build, start, ...(input.evidence ? { evidence: input.evidence } : {}) });
  const plan: RunPlan = {
    kind: isStaticService(service) ? 'static' : 'process',
    workdir,
    workspaceRoot: dirs.root,
    installDir: dirs.install,
    buildCwd: dirs.build,
    startCwd: dirs.start,
    install: [],
    build,
    start,
    staticCandidates: [],
    pathPrepend: [...new Set([path.join(workdir, 'node_modules', '.bin'), path.join(dirs.install, 'node_modules', '.bin')])],
    env: {},
    requires: [],
  };
  const has = (file: string): boolean => existsSync(path.join(workdir, file));
  const add = (step: InstallStep | null): void => {
    if (step && !buildInstalls(build, step.ecosystem)) plan.install.push(step);
  };

  add(nodeInstall(dirs.install));
  if (plan.kind === 'process' && isPython(service, workdir)) {
    const venv = path.join(dirs.install, '.venv');
    const deps = pythonInstall(dirs.install);
    const needsPip = deps !== null || /\bpip3?\b|\bpoetry\b|\buv\b/.test(build);
    const python = pythonCommand(input.pathEnv);
    plan.install.push({ ecosystem: 'python', command: `${python} -m venv ${needsPip ? '' : '--without-pip '}.venv` });
    add(deps);
    plan.pathPrepend.unshift(path.join(venv, 'bin'));
    plan.env['VIRTUAL_ENV'] = venv;
    plan.env['PIP_DISABLE_PIP_VERSION_CHECK'] = '1';
    plan.env['PYTHONUNBUFFERED'] = '1';
  }
  if (has('Gemfile')) {
    plan.env['BUNDLE_PATH'] = path.join(workdir, 'vendor', 'bundle');
    add({ ecosystem: 'ruby', command: 'bundle install' });
  }
  if (has('composer.json')) add({ ecosystem: 'php', command: 'composer install --no-interaction --no-progress' });
  if (has('go.mod')) add({ ecosystem: 'go', command: 'go mod download' });
  if (has('mix.exs')) add({ ecosystem: 'elixir', command: 'mix deps.get' });
  if (anyFile(workdir, /\.(csproj|fsproj|sln)$/)) add({ ecosystem: 'dotnet', command: 'dotnet restore' });
  if (has('Cargo.toml')) plan.requires.push('cargo');
  if (has('pom.xml') && !has('mvnw')) plan.requires.push('mvn');
  if ((has('build.gradle') || has('build.gradle.kts')) && !has('gradlew')) plan.requires.push('gradle');

  if (plan.kind === 'static') {
    const declared = input.outputDirectory && input.outputDirectory !== '' ? [input.outputDirectory] : [];
    const common = build ? ['dist', 'build', 'out', 'public', '_site', '.output/public', 'www'] : [];
    plan.staticCandidates = [...new Set([...declared, ...common, ...(build ? [] : ['.'])])];
  }
  return plan;
}

/** The first static candidate that exists as a folder inside the service folder. */
export function staticRoot(plan: RunPlan): string | null {
  for (const candidate of plan.staticCandidates) {
    const dir = serviceDir(plan.workdir, candidate);
    try {
      if (statSync(dir).isDirectory()) return dir;
    } catch {
      // next
    }
  }
  return null;
}
