/**
 * Python runtime: requirements.txt, pyproject.toml, Pipfile, setup.py or manage.py, or a lone
 * `main.py`/`app.py`/`bot.py` with no manifest. Decides the Python version, package manager and
 * install command, and the start command of a plain script (`python server.py`: one that serves
 * HTTP, else one with a `__main__` block, else one that runs code at the top level) or of the
 * package's console script (`[project.scripts]`). Framework detectors (django, fastapi, flask)
 * refine it.
 */
import { parseToml } from '../toml.js';
import { describeDependency } from '../databases.js';
import { detectPythonPackageManager } from '../package-manager.js';
import { isTestPath, type PyAppObject } from '../scan-model.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';
import { PYTHON_STDLIB, importedModules } from './python-stdlib.js';

const MARKERS = ['requirements.txt', 'pyproject.toml', 'Pipfile', 'setup.py', 'manage.py'];
const SCRIPT_CANDIDATES = ['server.py', 'app.py', 'main.py', 'run.py', 'application.py', 'wsgi.py', 'worker.py', 'bot.py', '__main__.py'];
/** Entry files that make a folder with no Python manifest a Python service (`python main.py`). */
const LONE_SCRIPTS = ['main.py', 'app.py', 'bot.py', 'server.py'];
/** Manifests of other ecosystems: a stray script next to them is a helper, not the service. */
const OTHER_MANIFESTS = ['package.json', 'go.mod', 'Cargo.toml', 'Gemfile', 'composer.json', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'mix.exs', 'deno.json', 'deno.jsonc', 'project.clj', 'deps.edn', 'shard.yml', 'pubspec.yaml', 'gleam.toml', 'stack.yaml', 'build.sbt', 'Package.swift', 'build.zig', 'CMakeLists.txt', 'meson.build'];
/** Web frameworks a lone script may run itself, with the port their `run()` listens on by default. */
const LONE_WEB_DEFAULTS: Readonly<Record<string, number>> = { flask: 5000, fastapi: 8000, uvicorn: 8000, aiohttp: 8080, bottle: 8080, sanic: 8000, starlette: 8000, quart: 5000 };
/** A statement in column 0 that calls something (`main()`, `asyncio.run(main())`, `bot.run(TOKEN)`): the script does work when run. */
const TOP_LEVEL_CALL = /^(?:await\s+)?[A-Za-z_][\w.]*\s*\(/m;
const MAIN_GUARD = /^if\s+__name__\s*==\s*['"]__main__['"]\s*:/m;

/** Evidence of a runtime (non-dev) Python dependency, or undefined. */
export async function pythonDependency(ctx: DetectContext, name: string): Promise<{ evidence: string; extras: string[] } | undefined> {
  const deps = await ctx.manifests.pythonDependencies(ctx.dir);
  const dep = deps.find((d) => d.name === name && !d.dev);
  return dep ? { evidence: describeDependency(dep), extras: dep.extras } : undefined;
}

/** `app/main.py` -> `app.main`; `pkg/__init__.py` -> `pkg`; relative to the service folder. */
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

/** Names conventionally given to an application factory (Flask's CLI looks for the first two itself). */
const FACTORY_NAMES = /^(?:create_app|make_app|get_app|get_application|create_application|build_app|init_app|application_factory|create_api|get_api)$/;

export interface FactoryApp {
  /** The file holding the module-level object (`app = create_app()`), or the factory's own file. */
  file: string;
  line: number;
  /** `app` for `app = create_app()`; '' when only the factory exists (call it: `--factory`, `create_app()`). */
  variable: string;
  /** The factory function's name. */
  factory: string;
  /** Where the factory is defined (evidence). */
  defined: string;
}

/**
 * An application built by a factory: `def get_application() -> FastAPI:` / `def create_app():
 * app = Flask(__name__) ...`, and the module-level `app = get_application()` that calls it (with
 * or without arguments). Files named like an entry (`preferred`) first, then the rest in path
 * order; test files are skipped. Without a module-level call, the factory itself is returned.
 */
export async function findFactoryApp(ctx: DetectContext, framework: string, preferred: string[]): Promise<FactoryApp | undefined> {
  const files = ctx.fs.filesUnder(ctx.dir).filter((file) => file.endsWith('.py') && !isTestPath(file)).slice(0, 400);
  const local = (file: string): string => (ctx.dir === '' ? file : file.slice(ctx.dir.length + 1));
  const ordered = [...preferred.map((name) => inDir(ctx.dir, name)).filter((file) => files.includes(file)), ...files.filter((file) => !preferred.includes(local(file)))];
  const texts = new Map<string, string>();
  for (const file of ordered) {
    const text = (await ctx.fs.read(file))?.text ?? '';
    if (text.includes('def ') || text.includes('app')) texts.set(file, text);
  }
  const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;
  const constructs = new RegExp(`\\b${framework}\\(|->\\s*(?:[\\w.]+\\.)?${framework}\\b`);
  const factories = new Map<string, string>();
  for (const [file, text] of texts) {
    const importsFramework = new RegExp(`\\b${framework}\\b`).test(text);
    for (const m of text.matchAll(/^(?:async\s+)?def\s+(\w+)\s*\(/gm)) {
      const name = m[1] as string;
      const rest = text.slice((m.index as number) + m[0].length);
      // The body ends at the next line that starts in column 0 (a signature's closing `)` does not end it).
      const end = /\n(?=[^\s)#])/.exec(rest);
      const body = end ? rest.slice(0, end.index) : rest;
      if (!factories.has(name) && (constructs.test(body) || (importsFramework && FACTORY_NAMES.test(name)))) factories.set(name, `${file}:${lineOf(text, m.index as number)}`);
    }
  }
  if (factories.size === 0) return undefined;
  for (const [file, text] of texts) {
    for (const m of text.matchAll(/^([A-Za-z_]\w*)\s*(?::\s*[\w.[\]]+\s*)?=\s*(?:[\w.]+\.)?(\w+)\(/gm)) {
      const defined = factories.get(m[2] as string);
      if (defined) return { file, line: lineOf(text, m.index as number), variable: m[1] as string, factory: m[2] as string, defined };
    }
  }
  const [name, defined] = [...factories.entries()].sort(([a], [b]) => Number(!FACTORY_NAMES.test(a)) - Number(!FACTORY_NAMES.test(b)))[0] as [string, string];
  const [file, line] = [defined.slice(0, defined.lastIndexOf(':')), Number(defined.slice(defined.lastIndexOf(':') + 1))];
  return { file, line, variable: '', factory: name, defined };
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
  refusalHint: {
    languages: ['python'],
    missingStart: 'no framework app object and no server.py, app.py or main.py with a server or __main__ block',
  },
  async detect(ctx) {
    const markers = MARKERS.filter((file) => ctx.fs.has(inDir(ctx.dir, file)));
    if (markers.length === 0) return loneScript(ctx);
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
    const picked = serving ? { file: serving, why: `${serving} starts an HTTP server` } : await runnableScript(ctx, candidates);
    if (picked) {
      const local = ctx.dir === '' ? picked.file : picked.file.slice(ctx.dir.length + 1);
      fields.entry_point = { value: local, evidence: picked.why };
      fields.scripts_start = { value: `${runPrefix}python ${local}`, evidence: picked.why };
    } else {
      // A package whose only entry is a console script (`[project.scripts] mytool = "pkg.cli:main"`):
      // installing the project puts `mytool` on the PATH.
      const entry = await consoleScript(ctx);
      if (entry) {
        fields.scripts_start = { value: `${runPrefix}${entry.name}`, evidence: entry.evidence };
        // `feedsync.cli:main` -> the module file (flat or src layout), when it is there.
        const module = entry.target.split(':')[0]?.trim().split('.').join('/') ?? '';
        const file = [`${module}.py`, `src/${module}.py`, `${module}/__init__.py`, `src/${module}/__init__.py`].find((f) => module !== '' && ctx.fs.has(inDir(ctx.dir, f)));
        if (file) fields.entry_point = { value: file, evidence: entry.evidence };
        if (!/pip install \.|uv sync/.test(install)) {
          install = install.includes('--no-root') ? install.replace(' --no-root', '') : [install, 'pip install .'].filter(Boolean).join(' && ');
          fields.scripts_build = { value: install, evidence: `${entry.evidence}: the project itself is installed for its console script` };
        }
      }
    }
    if (fields.scripts_start) {
      tier = TIER.runnable;
      fields.project_type = projectType(ctx);
    }
    return { id: 'python', tier, fields, toolchain: { install, runPrefix } };
  },
};

function projectType(ctx: DetectContext): NonNullable<Conclusions['project_type']> {
  const http = ctx.scan.httpHits.find((hit) => hit.file.endsWith('.py'));
  return http
    ? { value: 'web', evidence: `${http.file}:${http.line} starts an HTTP server` }
    : { value: 'worker', evidence: 'a start command exists but no HTTP listener was found in the source' };
}

/**
 * The script to run among the candidates: one with a `__main__` block, else one with no guard that
 * calls something at the top level (`main()`, `bot.run(TOKEN)`): running it does the work.
 */
async function runnableScript(ctx: DetectContext, candidates: string[]): Promise<{ file: string; why: string } | undefined> {
  const texts: Array<[string, string]> = [];
  for (const file of candidates) texts.push([file, (await ctx.fs.read(file))?.text ?? '']);
  const guarded = texts.find(([, text]) => MAIN_GUARD.test(text));
  if (guarded) return { file: guarded[0], why: `${guarded[0]} has a __main__ block` };
  for (const [file, text] of texts) {
    const m = TOP_LEVEL_CALL.exec(text);
    if (m) return { file, why: `${file}:${text.slice(0, m.index).split('\n').length} runs code at the top level (no __main__ guard)` };
  }
  return undefined;
}

/** `[project.scripts]` (or Poetry's `[tool.poetry.scripts]`): the one named like the project, else the first. */
async function consoleScript(ctx: DetectContext): Promise<{ name: string; target: string; evidence: string } | undefined> {
  const rel = inDir(ctx.dir, 'pyproject.toml');
  const text = await ctx.manifests.text(rel);
  if (text === null) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch {
    return undefined; // manifests.ts already warned about a broken pyproject.toml
  }
  const table = (value: unknown): Record<string, unknown> | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined);
  const project = table(doc.project);
  const poetry = table(table(doc.tool)?.poetry);
  for (const [where, scripts] of [
    ['project.scripts', table(project?.scripts)],
    ['tool.poetry.scripts', table(poetry?.scripts)],
  ] as const) {
    const names = Object.keys(scripts ?? {}).filter((name) => /^[\w.-]+$/.test(name) && typeof scripts?.[name] === 'string');
    if (names.length === 0) continue;
    const own = typeof project?.name === 'string' ? project.name : typeof poetry?.name === 'string' ? poetry.name : '';
    const name = names.find((n) => n === own) ?? (names[0] as string);
    return { name, target: String(scripts?.[name]), evidence: `${rel}: ${where}.${name} = "${String(scripts?.[name])}"` };
  }
  return undefined;
}

/**
 * A folder with no Python manifest but a `main.py` / `app.py` / `bot.py` / `server.py` (and no
 * other ecosystem's manifest) is a Python service that runs that script. A script that imports only
 * the standard library needs nothing installed; third-party imports are named in a warning.
 */
async function loneScript(ctx: DetectContext): Promise<Detection | null> {
  if (OTHER_MANIFESTS.some((file) => ctx.fs.has(inDir(ctx.dir, file))) || ctx.fs.list(ctx.dir).some((name) => /\.(?:csproj|fsproj|vbproj|cabal)$/.test(name))) return null;
  const candidates = LONE_SCRIPTS.map((file) => inDir(ctx.dir, file)).filter((file) => ctx.fs.has(file));
  if (candidates.length === 0) return null;
  const serving = candidates.find((file) => ctx.scan.httpHits.some((hit) => hit.file === file));
  const picked = serving ? { file: serving, why: `${serving} starts an HTTP server` } : await runnableScript(ctx, candidates);
  if (!picked) return null;
  const local = ctx.dir === '' ? picked.file : picked.file.slice(ctx.dir.length + 1);
  const fields: Conclusions = {
    language: { value: 'python', evidence: `${picked.file} with no Python manifest` },
    entry_point: { value: local, evidence: picked.why },
    scripts_start: { value: `python ${local}`, evidence: picked.why },
    project_type: projectType(ctx),
  };
  // Which modules would need installing: not the standard library, not the folder's own modules.
  const own = new Set(ctx.fs.list(ctx.dir).map((name) => name.replace(/\/$/, '').replace(/\.py$/, '')));
  const thirdParty = importedModules((await ctx.fs.read(picked.file))?.text ?? '').filter((name) => !PYTHON_STDLIB.has(name) && !own.has(name));
  const detection: Detection = { id: 'python', tier: TIER.runnable, fields, toolchain: { install: '', runPrefix: '' } };
  // A web framework the script runs itself (`app.run()`, `web.run_app(app)`) listens on that framework's default port.
  const web = thirdParty.map((name) => [name, LONE_WEB_DEFAULTS[name]] as const).find(([, port]) => port !== undefined);
  if (web && fields.project_type?.value !== 'web') fields.project_type = { value: 'web', evidence: `${picked.file} imports ${web[0]} and runs it` };
  if (web) detection.portDefault = { value: web[1] as number, evidence: `${web[0]} default port ${web[1]}` };
  if (thirdParty.length === 0) {
    fields.dependency_resolution = { value: 'locked', evidence: `${picked.file} imports only the Python standard library: nothing to install` };
  } else {
    fields.dependency_resolution = { value: 'unknown', evidence: `${picked.file} imports ${thirdParty.join(', ')} but no dependency manifest lists them` };
    ctx.warnings.add(`${picked.file} imports ${thirdParty.join(', ')} but there is no requirements.txt or pyproject.toml: add one so they are installed`);
  }
  return detection;
}
