/**
 * Django: `manage.py` (even without a declared dependency) or a `django`
 * dependency with manage.py one folder down (`src/manage.py`, `backend/manage.py`).
 *
 * The settings module comes from manage.py's DJANGO_SETTINGS_MODULE (`config.settings.production`
 * -> the files of config/settings/); WSGI_APPLICATION / ASGI_APPLICATION there name the server
 * targets (falling back to `<project>/wsgi.py`). Start, in order: an ASGI project (Channels:
 * ASGI_APPLICATION set) with daphne or uvicorn; gunicorn on the WSGI module; uvicorn or daphne on
 * asgi.py; else `manage.py runserver` (warned). Build: the install, then `manage.py collectstatic
 * --noinput` when STATIC_ROOT is set. Default port 8000.
 */
import { chain, detectNodePackageManager, nodeRunScript } from '../package-manager.js';
import type { Engine } from '../schema.js';
import { TIER, inDir, joinRel, type Conclusions, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { pythonDependency, runtimePrefix } from './python.js';
import type { HealthRouteSyntax } from '../scan-model.js';

interface Settings {
  module: string;
  line: number;
  /** Text of each file of the settings module (every file of a settings package). */
  texts: string[];
  files: string[];
}

async function readSettings(ctx: DetectContext, appDir: string, module: string, line: number): Promise<Settings> {
  const base = inDir(joinRel(ctx.dir, appDir), module.split('.').join('/'));
  const files: string[] = [];
  if (ctx.fs.has(`${base}.py`)) {
    // `config.settings.production` usually imports `base.py` next to it: read the whole package.
    const parent = base.includes('/') ? base.slice(0, base.lastIndexOf('/')) : '';
    const siblings = ctx.fs.has(inDir(parent, '__init__.py')) && /settings/.test(parent) ? ctx.fs.list(parent).filter((n) => n.endsWith('.py')).map((n) => inDir(parent, n)) : [];
    files.push(`${base}.py`, ...siblings.filter((f) => f !== `${base}.py`));
  } else if (ctx.fs.hasDir(base)) {
    files.push(...ctx.fs.list(base).filter((n) => n.endsWith('.py')).map((n) => inDir(base, n)));
  }
  const texts: string[] = [];
  for (const file of files.slice(0, 20)) texts.push((await ctx.fs.read(file))?.text ?? '');
  return { module, line, texts, files: files.slice(0, 20) };
}

/** A top-level `NAME = 'dotted.value'` (or just `NAME =` with `any`) in the settings files, with where. */
function setting(settings: Settings, name: string, any = false): { value: string; where: string } | undefined {
  const regex = new RegExp(any ? `^${name}\\s*=\\s*(.*)$` : `^${name}\\s*=\\s*['"]([\\w.]+)['"]`, 'm');
  for (let i = 0; i < settings.texts.length; i += 1) {
    const text = settings.texts[i] as string;
    const m = regex.exec(text);
    if (m) return { value: (m[1] as string).trim(), where: `${settings.files[i] as string}:${text.slice(0, m.index).split('\n').length}` };
  }
  return undefined;
}

const BACKENDS: Readonly<Record<string, Engine | null>> = {
  postgresql: 'postgres',
  postgresql_psycopg2: 'postgres',
  postgis: 'postgres',
  mysql: 'mysql',
  sqlite3: null,
  spatialite: null,
};
const URL_ENGINES: ReadonlyArray<readonly [RegExp, Engine | null]> = [
  [/^(?:postgres(?:ql)?|postgis|pgsql|psql)(?:\+\w+)?:/i, 'postgres'],
  [/^(?:mysql|mysqlgis|mariadb)(?:\+\w+)?:/i, 'mysql'],
  [/^(?:sqlite|spatialite):/i, null],
];

/** Development and test settings (`local.py`, `dev.py`, `test.py`) never describe the deployed database. */
const DEV_SETTINGS = /(?:^|\/)(?:local|dev|development|test|testing|ci)\.py$|settings_(?:local|dev|test)\.py$/;

/**
 * The engine of `DATABASES['default']`: the `ENGINE` backend (`django.db.backends.postgresql`, also
 * as an env fallback), or the default URL of dj-database-url / django-environ
 * (`dj_database_url.config(default="sqlite:///...")`). Production-named settings first.
 */
function databaseEngine(settings: Settings): { engine: Engine | null; where: string } | undefined {
  const order = settings.files
    .map((file, index) => ({ file, text: settings.texts[index] as string, rank: /(?:^|\/)(?:production|prod)\.py$/.test(file) ? 0 : index === 0 ? 1 : 2 }))
    .filter((entry) => entry.rank < 2 || !DEV_SETTINGS.test(entry.file))
    .sort((a, b) => a.rank - b.rank);
  for (const { file, text } of order) {
    const at = (index: number): string => `${file}:${text.slice(0, index).split('\n').length}`;
    const engine = /['"]ENGINE['"]\s*:[^\n]*?(?:django\.(?:contrib\.gis\.)?db\.backends\.(\w+)|(django_cockroachdb))/.exec(text);
    if (engine) {
      const backend = engine[2] ? 'postgresql' : (engine[1] as string);
      if (backend in BACKENDS) return { engine: BACKENDS[backend] as Engine | null, where: `${at(engine.index)} ENGINE ${engine[2] ?? `django.db.backends.${backend}`}` };
    }
    const url = /\b(?:dj_database_url\.(?:config|parse)|env\.db(?:_url)?)\([^)]*?\bdefault\s*=\s*f?['"]([\w+]+):/.exec(text);
    if (url) {
      const scheme = url[1] as string;
      const hit = URL_ENGINES.find(([regex]) => regex.test(`${scheme}:`));
      if (hit) return { engine: hit[1], where: `${at(url.index)} DATABASES default URL "${scheme}:\u2026"` };
    }
  }
  return undefined;
}

/** Django's own Redis cache backend (4.0+) in the deployed settings: the `redis` client is used in production. */
function redisCache(settings: Settings): string | undefined {
  for (let i = 0; i < settings.files.length; i += 1) {
    const file = settings.files[i] as string;
    if (i > 0 && DEV_SETTINGS.test(file)) continue;
    const text = settings.texts[i] as string;
    const m = /['"]BACKEND['"]\s*:\s*['"]django\.core\.cache\.backends\.redis\.RedisCache['"]/.exec(text);
    if (m) return `${file}:${text.slice(0, m.index).split('\n').length} CACHES uses django.core.cache.backends.redis.RedisCache`;
  }
  return undefined;
}

/** `path('health/', ...)` / `re_path(r'^healthz$', ...)` in a URLconf. */
const DJANGO_HEALTH = /\b(?:re_)?path\(\s*r?['"]\^?((?:api\/)?(?:health|healthz|ready|readyz|livez))(\/?)\$?['"]/g;

const URLCONF_HEALTH: HealthRouteSyntax = {
  language: 'py',
  // A URLconf route comes after a quoted `/health` literal of the same file.
  afterLiterals: true,
  find(text, lineAt) {
    const routes: Array<{ line: number; path: string }> = [];
    DJANGO_HEALTH.lastIndex = 0;
    for (let m = DJANGO_HEALTH.exec(text); m; m = DJANGO_HEALTH.exec(text)) routes.push({ line: lineAt(m.index), path: `/${m[1] as string}${m[2] as string}` });
    return routes;
  },
};

export const django: FrameworkDetector = {
  id: 'django',
  kind: 'framework',
  runtimes: ['python'],
  healthRoutes: [URLCONF_HEALTH],
  async detect(ctx) {
    const dep = await pythonDependency(ctx, 'django');
    let appDir = '';
    let managePy = inDir(ctx.dir, 'manage.py');
    let hasManage = ctx.fs.has(managePy);
    if (!hasManage && dep) {
      const nested = ctx.fs
        .list(ctx.dir)
        .filter((name) => name.endsWith('/') && !name.startsWith('.'))
        .map((name) => name.slice(0, -1))
        .filter((name) => ctx.fs.has(inDir(ctx.dir, `${name}/manage.py`)));
      if (nested.length === 1) {
        appDir = nested[0] as string;
        managePy = inDir(ctx.dir, `${appDir}/manage.py`);
        hasManage = true;
      }
    }
    if (!hasManage && !dep) return null;
    const evidence = hasManage ? `${managePy} exists` : (dep?.evidence as string);
    const prefix = runtimePrefix(ctx.runtime);
    const fields: Conclusions = {
      framework: { value: 'django', evidence: dep ? `${evidence}; ${dep.evidence}` : evidence },
      project_type: { value: 'web', evidence },
    };
    const portDefault = { value: 8000, evidence: 'Django default port 8000' };
    if (!dep) ctx.warnings.add('manage.py exists but django is not a declared dependency; add it to requirements.txt or pyproject.toml');
    const local = (file: string): string => (appDir ? `${appDir}/${file}` : file);

    let settings: Settings | undefined;
    if (hasManage) {
      const text = (await ctx.fs.read(managePy))?.text ?? '';
      const match = /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]/.exec(text);
      if (match) settings = await readSettings(ctx, appDir, match[1] as string, text.slice(0, match.index).split('\n').length);
    }
    const project = settings?.module.split('.')[0];
    const settingsWhy = settings ? `${managePy}:${settings.line} DJANGO_SETTINGS_MODULE ${settings.module}` : '';
    const target = (name: 'WSGI_APPLICATION' | 'ASGI_APPLICATION', fallback: string): { module: string; object: string; file: string; why: string } | undefined => {
      const declared = settings ? setting(settings, name) : undefined;
      const dotted = declared?.value ?? (project ? `${project}.${fallback}.application` : undefined);
      if (!dotted) return undefined;
      const module = dotted.slice(0, dotted.lastIndexOf('.'));
      const file = `${module.split('.').join('/')}.py`;
      if (!ctx.fs.has(inDir(ctx.dir, local(file)))) return undefined;
      return { module, object: dotted.slice(dotted.lastIndexOf('.') + 1), file: local(file), why: declared ? `${settingsWhy}; ${declared.where} ${name} ${declared.value}` : settingsWhy };
    };
    const wsgi = target('WSGI_APPLICATION', 'wsgi');
    const asgi = target('ASGI_APPLICATION', 'asgi');
    const channels = settings ? setting(settings, 'ASGI_APPLICATION') !== undefined : false;

    const gunicorn = await pythonDependency(ctx, 'gunicorn');
    const uvicornDep = await pythonDependency(ctx, 'uvicorn');
    const daphne = await pythonDependency(ctx, 'daphne');
    const chdir = appDir ? ` --chdir ${appDir}` : '';
    const appDirFlag = appDir ? ` --app-dir ${appDir}` : '';
    const cd = appDir ? `cd ${appDir} && ` : '';
    const asgiTarget = asgi ? `${asgi.module}:${asgi.object}` : '';

    if (asgi && channels && daphne) {
      fields.entry_point = { value: asgi.file, evidence: `${asgi.why}; ${daphne.evidence}` };
      fields.scripts_start = { value: `${cd}${prefix}daphne -b 0.0.0.0 -p $PORT ${asgiTarget}`, evidence: `${asgi.why}; ${daphne.evidence}` };
    } else if (asgi && channels && uvicornDep) {
      fields.entry_point = { value: asgi.file, evidence: `${asgi.why}; ${uvicornDep.evidence}` };
      fields.scripts_start = { value: `${prefix}uvicorn ${asgiTarget}${appDirFlag} --host 0.0.0.0 --port $PORT`, evidence: `${asgi.why}; ${uvicornDep.evidence}` };
    } else if (gunicorn && wsgi) {
      const why = `${wsgi.why}; ${gunicorn.evidence}`;
      const object = wsgi.object === 'application' ? '' : `:${wsgi.object}`;
      fields.entry_point = { value: wsgi.file, evidence: why };
      fields.scripts_start = { value: `${prefix}gunicorn ${wsgi.module}${object}${chdir} --bind 0.0.0.0:$PORT`, evidence: why };
    } else if (asgi && uvicornDep) {
      fields.entry_point = { value: asgi.file, evidence: `${asgi.why}; ${uvicornDep.evidence}` };
      fields.scripts_start = { value: `${prefix}uvicorn ${asgiTarget}${appDirFlag} --host 0.0.0.0 --port $PORT`, evidence: `${asgi.why}; ${uvicornDep.evidence}` };
    } else if (asgi && daphne) {
      fields.entry_point = { value: asgi.file, evidence: `${asgi.why}; ${daphne.evidence}` };
      fields.scripts_start = { value: `${cd}${prefix}daphne -b 0.0.0.0 -p $PORT ${asgiTarget}`, evidence: `${asgi.why}; ${daphne.evidence}` };
    } else if (hasManage) {
      if (gunicorn) ctx.warnings.add(`gunicorn is a dependency but the project's wsgi.py was not found from manage.py; using runserver`);
      else ctx.warnings.add("gunicorn is not a dependency: the app is started with Django's development server; add gunicorn");
      fields.entry_point = { value: local('manage.py'), evidence: `${managePy} exists` };
      fields.scripts_start = { value: `${prefix}python ${local('manage.py')} runserver 0.0.0.0:$PORT`, evidence: `${managePy} exists; gunicorn is not usable` };
    } else {
      ctx.warnings.add('django is a dependency but manage.py was not found; the start command is unknown');
    }
    // Deploys apply pending migrations before the server starts, as the established builders do
    // (and as Rails gets db:migrate).
    const start = fields.scripts_start;
    if (hasManage && start) {
      fields.scripts_start = { value: `${prefix}python ${local('manage.py')} migrate && ${start.value}`, evidence: `${start.evidence}; ${managePy} migrate runs before the server starts` };
    }

    // Build: the install, a front-end build next to it (package.json `build`, its output is collected
    // as static files), then collectstatic, which needs STATIC_ROOT.
    const install = ctx.runtime.toolchain?.install ?? '';
    const why: string[] = install ? [ctx.runtime.fields.scripts_build?.evidence ?? 'install'] : [];
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    let frontend = '';
    if (pkg?.scripts.build !== undefined) {
      const pm = await detectNodePackageManager(ctx, pkg);
      frontend = chain(pm.install, nodeRunScript(pm.manager, 'build'));
      why.push(`${pkg.path}: scripts.build "${pkg.scripts.build}"`);
    }
    const staticRoot = settings ? setting(settings, 'STATIC_ROOT', true) : undefined;
    const collect = hasManage && staticRoot && staticRoot.value !== 'None' ? `${prefix}python ${local('manage.py')} collectstatic --noinput` : '';
    if (collect && staticRoot) why.push(`${staticRoot.where} STATIC_ROOT is set`);
    if (frontend || collect) fields.scripts_build = { value: chain(install, frontend, collect), evidence: why.join('; ') };
    const detection: Detection = { id: 'django', tier: TIER.backend, fields, portDefault };

    // DATABASES decides the SQL engine; other SQL drivers in the requirements do not add one.
    const db = settings ? databaseEngine(settings) : undefined;
    const redis = settings ? redisCache(settings) : undefined;
    if (redis) detection.engines = [{ engine: 'redis', evidence: redis }];
    if (db?.engine) detection.engines = [{ engine: db.engine, evidence: db.where }, ...(detection.engines ?? [])];
    else if (db) {
      ctx.warnings.add(`${db.where}: SQLite is a file on the service's disk, not a managed database; data is lost on redeploy without a volume`);
      detection.optionalEngines = { engines: ['postgres', 'mysql'], reason: `DATABASES uses SQLite (${db.where})` };
    }
    return detection;
  },
};
