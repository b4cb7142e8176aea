/**
 * Package manager, lockfile and dependency resolution, and the install/run commands written for the
 * detected manager.
 *
 * Zero dependencies: a project that declares no dependencies at all has nothing to resolve, so a
 * clean build cannot drift. It is reported as `locked` (evidence says why), no install step is
 * written, and no lockfile warning is raised: asking for a lockfile of nothing would be noise.
 */
import type { Conclusions, DetectContext } from './types.js';
import { inDir } from './types.js';
import type { PackageJson } from './manifests.js';

export type NodeManager = 'npm' | 'pnpm' | 'yarn' | 'bun';
export type PythonManager = 'pip' | 'poetry' | 'uv' | 'pipenv';

export interface PackageManagerInfo<M extends string> {
  manager: M;
  version: string;
  lockfile: string;
  locked: boolean;
  /** The project declares at least one (runtime or dev) dependency. */
  hasDependencies: boolean;
  /** Install command for a clean build; `''` when there is nothing to install. */
  install: string;
  fields: Conclusions;
}

const NODE_LOCKFILES: ReadonlyArray<readonly [string, NodeManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['yarn.lock', 'yarn'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

function parsePackageManagerField(value: string): { manager: NodeManager; version: string } | null {
  const match = /^(npm|pnpm|yarn|bun)@(\d[^+\s]*)/.exec(value.trim());
  if (!match) return null;
  return { manager: match[1] as NodeManager, version: match[2] as string };
}

export async function detectNodePackageManager(ctx: DetectContext, pkg: PackageJson): Promise<PackageManagerInfo<NodeManager>> {
  const found = NODE_LOCKFILES.filter(([file]) => ctx.fs.has(inDir(ctx.dir, file)));
  const declared = pkg.packageManager !== undefined ? parsePackageManagerField(pkg.packageManager) : null;
  if (pkg.packageManager !== undefined && !declared) {
    ctx.warnings.add(`${pkg.path}: packageManager "${pkg.packageManager}" is not of the form <npm|pnpm|yarn|bun>@<version>; it was ignored`);
  }
  const hasDependencies =
    Object.keys(pkg.dependencies).length + Object.keys(pkg.devDependencies).length + Object.keys(pkg.optionalDependencies).length > 0;

  let manager: NodeManager;
  let managerEvidence: string;
  let version = '';
  let lockfile = '';
  if (declared) {
    manager = declared.manager;
    version = declared.version;
    managerEvidence = `${pkg.path}: packageManager "${pkg.packageManager}"`;
    lockfile = found.find(([, m]) => m === manager)?.[0] ?? '';
    const others = found.filter(([, m]) => m !== manager).map(([file]) => file);
    if (others.length > 0) {
      ctx.warnings.add(`${pkg.path} declares ${manager} but ${others.join(', ')} is also present; ${manager} was used`);
    }
  } else if (found.length > 0) {
    const [file, m] = found[0] as readonly [string, NodeManager];
    manager = m;
    lockfile = file;
    managerEvidence = `lockfile ${inDir(ctx.dir, file)}`;
    const others = found.slice(1).filter(([, other]) => other !== m).map(([name]) => name);
    if (others.length > 0) ctx.warnings.add(`several lockfiles found (${[file, ...others].join(', ')}); ${m} was used`);
  } else {
    manager = 'npm';
    managerEvidence = `${pkg.path} with no packageManager field and no lockfile: npm is the default`;
  }

  const fields: Conclusions = {
    package_manager: { value: manager, evidence: managerEvidence },
  };
  if (version) fields.package_manager_version = { value: version, evidence: `${pkg.path}: packageManager` };
  if (lockfile) fields.lockfile = { value: lockfile, evidence: `${inDir(ctx.dir, lockfile)} exists` };

  let locked: boolean;
  if (lockfile) {
    locked = true;
    fields.dependency_resolution = { value: 'locked', evidence: `${inDir(ctx.dir, lockfile)}` };
  } else if (!hasDependencies) {
    locked = true;
    fields.dependency_resolution = { value: 'locked', evidence: `${pkg.path} declares no dependencies: nothing to resolve` };
  } else {
    locked = false;
    fields.dependency_resolution = { value: 'unlocked', evidence: `${pkg.path} declares dependencies but no ${manager} lockfile exists` };
    ctx.warnings.add(
      `no lockfile for ${pkg.path}: clean cloud builds may resolve different dependency versions (run \`${manager} install\` and commit the lockfile)`,
    );
  }

  const berry = manager === 'yarn' && (ctx.fs.has(inDir(ctx.dir, '.yarnrc.yml')) || /^[2-9]|^\d{2,}/.test(version));
  const install = hasDependencies ? nodeInstallCommand(manager, locked, berry) : '';
  return { manager, version, lockfile, locked, hasDependencies, install, fields };
}

/** Install step for a clean build: `npm ci`, `pnpm install --frozen-lockfile`, ... */
export function nodeInstallCommand(manager: NodeManager, locked: boolean, berry: boolean): string {
  return {
    npm: locked ? 'npm ci' : 'npm install',
    pnpm: locked ? 'pnpm install --frozen-lockfile' : 'pnpm install',
    yarn: locked ? (berry ? 'yarn install --immutable' : 'yarn install --frozen-lockfile') : 'yarn install',
    bun: locked ? 'bun install --frozen-lockfile' : 'bun install',
  }[manager];
}

/** `npm run build`, `pnpm run build`, ... */
export function nodeRunScript(manager: NodeManager, script: string): string {
  return `${manager} run ${script}`;
}

/** `npm start`, `pnpm start`, `yarn start`, `bun run start`. */
export function nodeStartCommand(manager: NodeManager): string {
  return manager === 'bun' ? 'bun run start' : `${manager} start`;
}

/** Joins non-empty shell steps with `&&`. */
export function chain(...steps: string[]): string {
  return steps.filter((step) => step !== '').join(' && ');
}

export interface PythonManagerInfo extends PackageManagerInfo<PythonManager> {
  /** Prefix for commands that must run inside the manager's environment (`poetry run `). */
  runPrefix: string;
}

export async function detectPythonPackageManager(ctx: DetectContext): Promise<PythonManagerInfo | null> {
  const at = (file: string): string => inDir(ctx.dir, file);
  const has = (file: string): boolean => ctx.fs.has(at(file));
  const pyproject = await ctx.manifests.pyproject(ctx.dir);
  const reqFile = ctx.manifests.requirementsFile(ctx.dir);
  const requirements = await ctx.manifests.requirements(ctx.dir);
  const pipfile = has('Pipfile') ? await ctx.manifests.pipfile(ctx.dir) : null;

  const finish = (
    manager: PythonManager,
    managerEvidence: string,
    lockfile: string,
    locked: boolean,
    resolutionEvidence: string,
    hasDependencies: boolean,
    install: string,
    version = '',
  ): PythonManagerInfo => {
    const fields: Conclusions = {
      package_manager: { value: manager, evidence: managerEvidence },
      dependency_resolution: { value: locked ? 'locked' : 'unlocked', evidence: resolutionEvidence },
    };
    if (lockfile) fields.lockfile = { value: lockfile, evidence: `${at(lockfile)} exists` };
    if (version) fields.package_manager_version = { value: version, evidence: `${at(lockfile)} header` };
    if (!locked) {
      ctx.warnings.add(`${resolutionEvidence}: clean cloud builds may resolve different dependency versions`);
    }
    const runPrefix = manager === 'pip' ? '' : `${manager} run `;
    return { manager, version, lockfile, locked, hasDependencies, install: hasDependencies ? install : '', fields, runPrefix };
  };

  // A uv workspace member: one lockfile and one environment at the workspace root; commands run
  // from the root, selecting the member (`uv sync --package`) and running in its folder.
  const uvMember = ctx.workspace && ctx.workspace.marker.endsWith('pyproject.toml') ? ctx.workspace : undefined;
  if (uvMember) {
    const lock = inDir(uvMember.root, 'uv.lock');
    const locked = ctx.fs.has(lock);
    const fields: Conclusions = {
      package_manager: { value: 'uv', evidence: `${uvMember.marker}: [tool.uv.workspace]` },
      dependency_resolution: locked
        ? { value: 'locked', evidence: lock }
        : { value: 'unlocked', evidence: `${uvMember.marker} declares a uv workspace but no uv.lock exists` },
    };
    if (locked) fields.lockfile = { value: 'uv.lock', evidence: `${lock} exists (workspace root)` };
    else ctx.warnings.add(`${uvMember.marker} declares a uv workspace but no uv.lock exists: clean cloud builds may resolve different dependency versions`);
    const install = `uv sync ${locked ? '--frozen ' : ''}--no-dev --package ${uvMember.name}`;
    const runPrefix = `uv run --directory ${ctx.dir.slice(uvMember.root === '' ? 0 : uvMember.root.length + 1)} `;
    return { manager: 'uv', version: '', lockfile: locked ? 'uv.lock' : '', locked, hasDependencies: true, install, fields, runPrefix };
  }
  if (has('uv.lock')) {
    return finish('uv', `${at('uv.lock')} exists`, 'uv.lock', true, at('uv.lock'), true, 'uv sync --frozen --no-dev');
  }
  if (has('poetry.lock') || pyproject?.poetry) {
    const lock = has('poetry.lock');
    let version = '';
    if (lock) {
      const text = (await ctx.fs.read(at('poetry.lock')))?.text ?? '';
      version = /generated by Poetry (\d+(?:\.\d+){1,2})/.exec(text)?.[1] ?? '';
    }
    return finish(
      'poetry',
      lock ? `${at('poetry.lock')} exists` : `${at('pyproject.toml')}: [tool.poetry]`,
      lock ? 'poetry.lock' : '',
      lock,
      lock ? at('poetry.lock') : `${at('pyproject.toml')} uses Poetry but no poetry.lock exists`,
      true,
      'poetry install --only main --no-root',
      version,
    );
  }
  if (pipfile) {
    const lock = has('Pipfile.lock');
    return finish(
      'pipenv',
      `${at('Pipfile')} exists`,
      lock ? 'Pipfile.lock' : '',
      lock,
      lock ? at('Pipfile.lock') : `${at('Pipfile')} has no Pipfile.lock`,
      pipfile.dependencies.length > 0,
      lock ? 'pipenv install --deploy' : 'pipenv install',
    );
  }
  if (requirements) {
    const unpinned = requirements.filter((req) => !req.pinned);
    if (requirements.length === 0) {
      return finish('pip', `${at(reqFile)} exists`, '', true, `${at(reqFile)} lists no packages: nothing to resolve`, false, '');
    }
    const locked = unpinned.length === 0;
    return finish(
      'pip',
      `${at(reqFile)} exists`,
      locked ? reqFile : '',
      locked,
      locked
        ? `${at(reqFile)}: every requirement is pinned with ==`
        : `${at(reqFile)} has unpinned requirements (${unpinned.slice(0, 5).map((req) => req.name).join(', ')})`,
      true,
      `pip install -r ${reqFile}`,
    );
  }
  if (pyproject) {
    const count = pyproject.dependencies.length;
    if (pyproject.uv) {
      return finish('uv', `${at('pyproject.toml')}: [tool.uv]`, '', count === 0, count === 0 ? `${at('pyproject.toml')} declares no dependencies: nothing to resolve` : `${at('pyproject.toml')} uses uv but no uv.lock exists`, count > 0, 'uv sync --no-dev');
    }
    return finish(
      'pip',
      `${at('pyproject.toml')} with no lockfile: pip is the default`,
      '',
      count === 0,
      count === 0 ? `${at('pyproject.toml')} declares no dependencies: nothing to resolve` : `${at('pyproject.toml')} declares dependencies but no lockfile exists`,
      count > 0,
      'pip install .',
    );
  }
  return null;
}
