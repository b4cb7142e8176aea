/**
 * Python runtime: requirements.txt, pyproject.toml, Pipfile, setup.py or manage.py. Decides the
 * Python version, package manager and install command, and the start command of a plain script
 * server (`python server.py`). Framework detectors (django, fastapi, flask) refine it.
 */
import { describeDependency } from '../databases.js';
import { detectPythonPackageManager } from '../package-manager.js';
import type { PyAppObject } from '../scan.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

const MARKERS = ['requirements.txt', 'pyproject.toml', 'Pipfile', 'setup.py', 'manage.py'];
const SCRIPT_CANDIDATES = ['server.py', 'app.py', 'main.py', 'run.py', 'application.py', 'wsgi.py', 'worker.py', 'bot.py', '__main__.py'];

/** Evidence of a runtime (non-dev) Python dependency, or undefined. */
export async function pythonDependency(ctx: DetectContext, name: string): Promise<{ evidence: string; extras: string[] } | undefined> {
  const deps = await ctx.manifests.pythonDependencies(ctx.dir);
  const dep = deps.find((d) => d.name === name && !d.dev);
  return dep ? { evidence: describeDependency(dep), extras: dep.extras } : undefined;
}

/** `app/main.py` → `app.main`; `pkg/__init__.py` → `pkg`; relative to the service folder. */
export function moduleOf(dir: string, file: string): string {
  const rel = dir === '' ? file : file.slice(dir.length + 1);
  return rel.replace(/\.py$/, '').replace(/\/__init__$/, '').split('/').join('.');
}

/**
 * Picks the application object of a framework: files named like an app entry first, then the rest
 * in path order; test files were never scanned.
 */
export function pickAppObject(objects: PyAppObject[], factory: string, dir: string, preferred: string[]): PyAppObject | undefined {
  const mine = objects.filter((obj) => obj.factory === factory && (dir === '' || obj.file.startsWith(`${dir}/`)));
  for (const name of preferred) {
    const hit = mine.find((obj) => obj.file === inDir(dir, name));
    if (hit) return hit;
  }
  return mine[0];
}

/**
 * A src layout (`src/<package>/main.py` with no `src/__init__.py`): `src` is an import root, not a
 * package, so the module is `<package>.main` and the server is pointed at `src`.
 */
export function importTarget(ctx: DetectContext, file: string): { module: string; root: string } {
  const rel = ctx.dir === '' ? file : file.slice(ctx.dir.length + 1);
  if (rel.startsWith('src/') && rel.split('/').length > 2 && !ctx.fs.has(inDir(ctx.dir, 'src/__init__.py'))) {
    return { module: moduleOf('', rel.slice(4)), root: 'src' };
  }
  return { module: moduleOf(ctx.dir, file), root: '' };
}

export function runtimePrefix(runtime: Detection): string {
  return runtime.toolchain?.runPrefix ?? '';
}

async function pythonVersion(ctx: DetectContext): Promise<Conclusions['language_version']> {
  // A workspace member uses the workspace's interpreter: its root .python-version counts too.
  for (const dir of ctx.workspace ? [ctx.dir, ctx.workspace.root] : [ctx.dir]) {
    const pythonVersionFile = inDir(dir, '.python-version');
    const first = (await ctx.manifests.text(pythonVersionFile))?.split(/\r?\n/)[0]?.trim();
    if (first) return { value: first, evidence: pythonVersionFile };
  }
  const runtimeTxt = inDir(ctx.dir, 'runtime.txt');
  const runtime = (await ctx.manifests.text(runtimeTxt))?.trim();
  const match = runtime ? /^python-(\d+(?:\.\d+){0,2})/.exec(runtime) : null;
  if (match) return { value: match[1] as string, evidence: runtimeTxt };
  const pyproject = await ctx.manifests.pyproject(ctx.dir);
  if (pyproject?.requiresPython) return { value: pyproject.requiresPython, evidence: `${pyproject.path}: project.requires-python` };
  if (pyproject?.pythonFromPoetry) return { value: pyproject.pythonFromPoetry, evidence: `${pyproject.path}: tool.poetry.dependencies.python` };
  const pipfile = ctx.fs.has(inDir(ctx.dir, 'Pipfile')) ? await ctx.manifests.pipfile(ctx.dir) : null;
  if (pipfile?.pythonVersion) return { value: pipfile.pythonVersion, evidence: `${pipfile.path}: requires.python_version` };
  return undefined;
}

export const python: RuntimeDetector = {
  id: 'python',
  kind: 'runtime',
  async detect(ctx) {
    const markers = MARKERS.filter((file) => ctx.fs.has(inDir(ctx.dir, file)));
    if (markers.length === 0) return null;
    const evidence = markers.map((file) => inDir(ctx.dir, file)).join(', ');
    const fields: Conclusions = { language: { value: 'python', evidence } };

    const pyproject = await ctx.manifests.pyproject(ctx.dir);
    if (pyproject?.name) fields.name = { value: pyproject.name, evidence: `${pyproject.path}: project name` };
    const version = await pythonVersion(ctx);
    if (version) fields.language_version = version;

    const pm = await detectPythonPackageManager(ctx);
    let install = '';
    let runPrefix = '';
    if (pm) {
      Object.assign(fields, pm.fields);
      install = pm.install;
      runPrefix = pm.runPrefix;
    } else if (ctx.fs.has(inDir(ctx.dir, 'setup.py'))) {
      install = 'pip install .';
      fields.package_manager = { value: 'pip', evidence: `${inDir(ctx.dir, 'setup.py')}` };
      fields.dependency_resolution = { value: 'unlocked', evidence: `${inDir(ctx.dir, 'setup.py')} with no lockfile` };
      ctx.warnings.add('setup.py has no lockfile: clean cloud builds may resolve different dependency versions');
    } else {
      fields.dependency_resolution = { value: 'unknown', evidence: `${evidence} but no dependency manifest` };
      ctx.warnings.add('no Python dependency manifest (requirements.txt, pyproject.toml, Pipfile): dependencies cannot be installed');
    }
    if (install) fields.scripts_build = { value: install, evidence: `${fields.package_manager?.value ?? 'pip'} install of the declared dependencies` };

    // A plain script server: prefer a candidate that starts an HTTP server, then one with a __main__ guard.
    let tier: number = TIER.bare;
    const candidates = SCRIPT_CANDIDATES.map((file) => inDir(ctx.dir, file)).filter((file) => ctx.fs.has(file));
    const serving = candidates.find((file) => ctx.scan.httpHits.some((hit) => hit.file === file));
    let script = serving;
    if (!script) {
      for (const file of candidates) {
        if (/^if\s+__name__\s*==\s*['"]__main__['"]\s*:/m.test((await ctx.fs.read(file))?.text ?? '')) {
          script = file;
          break;
        }
      }
    }
    if (script) {
      const local = ctx.dir === '' ? script : script.slice(ctx.dir.length + 1);
      const why = serving ? `${script} starts an HTTP server` : `${script} has a __main__ block`;
      fields.entry_point = { value: local, evidence: why };
      fields.scripts_start = { value: `${runPrefix}python ${local}`, evidence: why };
      tier = TIER.runnable;
      const http = ctx.scan.httpHits.find((hit) => hit.file.endsWith('.py'));
      fields.project_type = http
        ? { value: 'web', evidence: `${http.file}:${http.line} starts an HTTP server` }
        : { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
    }
    return { id: 'python', tier, fields, toolchain: { install, runPrefix } };
  },
};
