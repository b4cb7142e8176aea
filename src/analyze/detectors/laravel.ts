/**
 * Laravel: an `artisan` file or a `laravel/framework` requirement. Served from
 * `public/index.php`. Build: the Composer production install, then the JS install and `build` script
 * when package.json has one (Vite is reported as the build tool, never as the framework).
 *
 * Start: Octane (`laravel/octane`) -> `php artisan octane:start`; FrankenPHP when the project uses
 * it (php.ts `phpServer`); otherwise Laravel's own server, `php artisan serve --host 0.0.0.0 --port
 * $PORT` (PHP's built-in server with Laravel's router script; warned: one request at a time). They
 * listen on 8000 by default. `APP_PORT` in .env.example is a stated port.
 *
 * Database from `DB_CONNECTION` (.env.example, else config/database.php's default); Redis when the
 * cache, session, queue or broadcast driver is redis. Laravel's generated config reads REDIS_* and
 * MYSQL_ATTR_* whether or not they are used, so those names alone are not engine evidence.
 */
import path from 'node:path';
import { chain, detectNodePackageManager, nodeRunScript } from '../package-manager.js';
import { parseDotenv } from '../env-vars.js';
import type { Engine } from '../schema.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { applyPhpServer, composerPackage, frankenphpEvidence, phpServer } from './php.js';
import type { HealthRouteSyntax } from '../scan-model.js';

const CONNECTIONS: Readonly<Record<string, Engine | null>> = { mysql: 'mysql', mariadb: 'mysql', pgsql: 'postgres', sqlite: null, sqlsrv: null, mongodb: 'mongodb' };
const REDIS_DRIVERS = ['CACHE_STORE', 'CACHE_DRIVER', 'SESSION_DRIVER', 'QUEUE_CONNECTION', 'BROADCAST_CONNECTION', 'BROADCAST_DRIVER'];

/** Names and values of the example env file (values only for driver names, never reported). */
async function exampleEnv(ctx: DetectContext): Promise<Map<string, { value: string; where: string }>> {
  const out = new Map<string, { value: string; where: string }>();
  for (const file of ['.env.example', '.env.sample', '.env.template']) {
    const rel = inDir(ctx.dir, file);
    const text = await ctx.manifests.text(rel);
    if (text === null) continue;
    for (const entry of parseDotenv(text, rel)) if (!out.has(entry.name)) out.set(entry.name, { value: entry.value, where: `${rel}:${entry.line}` });
  }
  return out;
}

/** Laravel's routing bootstrap: `->withRouting(..., health: '/up')`. */
const BOOTSTRAP_HEALTH = /\bhealth:\s*['"](\/(?:up|health|healthz|ready|readyz|livez))['"]/g;

const LARAVEL_HEALTH: HealthRouteSyntax = {
  language: 'php',
  find(text, lineAt) {
    const routes: Array<{ line: number; path: string }> = [];
    BOOTSTRAP_HEALTH.lastIndex = 0;
    for (let m = BOOTSTRAP_HEALTH.exec(text); m; m = BOOTSTRAP_HEALTH.exec(text)) routes.push({ line: lineAt(m.index), path: `/${(m[1] as string).replace(/^\//, '')}` });
    return routes;
  },
};

export const laravel: FrameworkDetector = {
  id: 'laravel',
  kind: 'framework',
  runtimes: ['php'],
  healthRoutes: [LARAVEL_HEALTH],
  async detect(ctx) {
    const artisan = inDir(ctx.dir, 'artisan');
    const hasArtisan = ctx.fs.has(artisan);
    const dep = await composerPackage(ctx, 'laravel/framework');
    if (!hasArtisan && !dep) return null;
    const evidence = [hasArtisan ? `${artisan} exists` : '', dep ?? ''].filter(Boolean).join('; ');
    const fields: Conclusions = { framework: { value: 'laravel', evidence }, project_type: { value: 'web', evidence } };
    const detection: Detection = { id: 'laravel', tier: TIER.backend, fields, boilerplateEnv: /^(?:REDIS_\w+|MYSQL_ATTR_\w+)$/ };
    // `laravel/laravel` is the skeleton's package name, not the app's: the folder names it.
    const composerName = (await ctx.manifests.composerJson(ctx.dir))?.name;
    if (composerName === 'laravel/laravel') {
      const folder = path.basename(ctx.dir === '' ? ctx.fs.root : ctx.dir);
      fields.name = { value: folder, evidence: `folder name "${folder}" (composer.json keeps the skeleton name laravel/laravel)` };
    }

    // Build: Composer, then the front-end bundle.
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    let build = ctx.runtime.toolchain?.install ?? '';
    let buildWhy = build ? `${inDir(ctx.dir, 'composer.json')} requires packages` : '';
    if (pkg) {
      const pm = await detectNodePackageManager(ctx, pkg);
      const script = pkg.scripts.build !== undefined ? nodeRunScript(pm.manager, 'build') : '';
      build = chain(build, pm.install, script);
      if (script) buildWhy = [buildWhy, `${pkg.path}: scripts.build "${pkg.scripts.build}"`].filter(Boolean).join('; ');
    }
    if (build) fields.scripts_build = { value: build, evidence: buildWhy };

    // Start and port: only with evidence.
    const env = await exampleEnv(ctx);
    const composer = await ctx.manifests.composerJson(ctx.dir);
    const octane = await composerPackage(ctx, 'laravel/octane');
    const serveScript = Object.entries(composer?.scripts ?? {}).find(([, commands]) => commands.some((command) => /\bartisan\s+serve\b/.test(command)));
    if (octane) {
      fields.scripts_start = { value: 'php artisan octane:start --host 0.0.0.0 --port $PORT', evidence: octane };
      detection.portDefault = { value: 8000, evidence: `${octane}: Octane listens on 8000 by default` };
    } else if (serveScript) {
      const why = `${composer?.path}: scripts.${serveScript[0]} runs php artisan serve`;
      fields.scripts_start = { value: 'php artisan serve --host 0.0.0.0 --port $PORT', evidence: why };
      detection.portDefault = { value: 8000, evidence: `${why} (default port 8000)` };
      ctx.warnings.add("php artisan serve is PHP's single-process development server; for production traffic use Octane or PHP-FPM behind a web server");
    } else if (hasArtisan && !(await frankenphpEvidence(ctx))) {
      // Laravel's own server: PHP's built-in server with Laravel's router script, on PORT.
      fields.scripts_start = { value: 'php artisan serve --host 0.0.0.0 --port $PORT', evidence: `${artisan}: Laravel's own server (php artisan serve)` };
      detection.portDefault = { value: 8000, evidence: 'php artisan serve listens on 8000 by default' };
      ctx.warnings.add(
        "Laravel is started with php artisan serve (PHP's built-in server), which handles one request at a time: fine to try the app, too slow for real traffic; use Octane, FrankenPHP or PHP-FPM behind a web server for production",
      );
    } else {
      applyPhpServer(detection, await phpServer(ctx, 'public', 'Laravel'));
    }
    const appPort = env.get('APP_PORT');
    if (appPort && /^\d{2,5}$/.test(appPort.value)) detection.portHints = [{ value: Number(appPort.value), evidence: `${appPort.where} APP_PORT` }];

    // Databases from Laravel's own configuration.
    const engines: NonNullable<Detection['engines']> = [];
    let connection = env.get('DB_CONNECTION');
    if (!connection) {
      const config = inDir(ctx.dir, 'config/database.php');
      const text = (await ctx.fs.read(config))?.text ?? '';
      const m = /['"]default['"]\s*=>\s*env\(\s*['"]DB_CONNECTION['"]\s*,\s*['"](\w+)['"]\s*\)/.exec(text);
      if (m) connection = { value: m[1] as string, where: `${config}:${text.slice(0, m.index).split('\n').length} default connection` };
    }
    if (connection) {
      const engine = CONNECTIONS[connection.value];
      if (engine) engines.push({ engine, evidence: `${connection.where} DB_CONNECTION=${connection.value}` });
      // config/database.php falls back to its own default; the deployed app must use the configured one.
      if (engine) detection.envDefaults = { DB_CONNECTION: { value: connection.value, evidence: `${connection.where} DB_CONNECTION=${connection.value}` } };
      else if (connection.value === 'sqlite') ctx.warnings.add(`${connection.where}: DB_CONNECTION=sqlite is a file on the service's disk, not a managed database; data is lost on redeploy without a volume`);
    }
    const redis = REDIS_DRIVERS.map((name) => [name, env.get(name)] as const).find(([, entry]) => entry?.value === 'redis');
    if (redis) engines.push({ engine: 'redis', evidence: `${redis[1]?.where} ${redis[0]}=redis` });
    if (engines.length > 0) detection.engines = engines;
    return detection;
  },
};
