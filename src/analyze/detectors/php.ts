/**
 * PHP: `composer.json` (or, with no Composer manifest, an `index.php` front controller). Decides the PHP requirement, Composer locking, the production install
 * (`composer install --no-dev --optimize-autoloader --no-interaction`) and the front controller
 * (`public/index.php`, else `index.php`).
 *
 * Every PHP app gets a runnable start on `$PORT` (phpServer below): FrankenPHP when the project uses
 * it (a Caddyfile with `php_server`, a Dockerfile on the FrankenPHP image, the FrankenPHP Symfony
 * runtime), as railpack serves every PHP app; otherwise PHP's built-in server on the document root
 * (`php -S 0.0.0.0:$PORT -t public`), with a warning that it serves one request at a time. A
 * Composer script that runs the built-in server keeps its own port. Framework detectors (laravel,
 * symfony) refine it.
 */
import { TIER, inDir, type Conclusion, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';
import { caddySitePort, runsFrankenphp } from './caddy.js';

export const COMPOSER_INSTALL = 'composer install --no-dev --optimize-autoloader --no-interaction';

/** A runtime (require, not require-dev) Composer package, or undefined. */
export async function composerPackage(ctx: DetectContext, name: string): Promise<string | undefined> {
  const composer = await ctx.manifests.composerJson(ctx.dir);
  return composer?.dependencies.find((dep) => dep.name === name && !dep.dev)?.source;
}

/** The front controller the web server routes every request to. */
export function frontController(ctx: DetectContext): string | undefined {
  return ['public/index.php', 'index.php', 'web/index.php', 'public/app.php'].find((file) => ctx.fs.has(inDir(ctx.dir, file)));
}

/** How the project itself runs FrankenPHP: its Caddyfile, its Dockerfile, or the FrankenPHP runtime package. */
export async function frankenphpEvidence(ctx: DetectContext): Promise<{ caddyfile: string | null; evidence: string } | null> {
  const caddyfile = inDir(ctx.dir, 'Caddyfile');
  const caddy = await ctx.manifests.text(caddyfile);
  if (caddy !== null && runsFrankenphp(caddy)) return { caddyfile, evidence: `${caddyfile} runs PHP with FrankenPHP (php_server)` };
  for (const name of ['Dockerfile', 'Containerfile']) {
    const rel = inDir(ctx.dir, name);
    const text = await ctx.manifests.text(rel);
    const line = text?.split(/\r?\n/).findIndex((l) => /^\s*FROM\s+\S*frankenphp/i.test(l) || /\bfrankenphp\s+(?:run|php-server)\b/.test(l));
    if (line !== undefined && line >= 0) return { caddyfile: null, evidence: `${rel}:${line + 1} uses FrankenPHP` };
  }
  const runtime = (await composerPackage(ctx, 'runtime/frankenphp-symfony')) ?? (await composerPackage(ctx, 'dunglas/frankenphp'));
  return runtime ? { caddyfile: null, evidence: runtime } : null;
}

export interface PhpServe {
  start: Conclusion<string>;
  port: Conclusion<number>;
  /** From the project's own Caddyfile site address: a stated port, not a default. */
  stated: boolean;
}

/**
 * A production start for a PHP app served from `docroot` (`public`, or `.` for the project root):
 * FrankenPHP when the project uses it, else PHP's built-in server (warned: one request at a time).
 */
export async function phpServer(ctx: DetectContext, docroot: string, framework: string): Promise<PhpServe> {
  const franken = await frankenphpEvidence(ctx);
  if (franken?.caddyfile) {
    const text = (await ctx.manifests.text(franken.caddyfile)) ?? '';
    const port = caddySitePort(franken.caddyfile, text);
    return {
      start: { value: 'frankenphp run --config Caddyfile --adapter caddyfile', evidence: franken.evidence },
      port: port ?? { value: 80, evidence: `${franken.caddyfile}: no port in the site address (Caddy's HTTP default 80)` },
      stated: port !== undefined,
    };
  }
  if (franken) {
    return {
      start: { value: `frankenphp php-server --listen 0.0.0.0:$PORT --root ${docroot === '.' ? './' : `${docroot}/`}`, evidence: franken.evidence },
      port: { value: 8000, evidence: 'frankenphp php-server listens on $PORT (8000, as for the other PHP servers)' },
      stated: false,
    };
  }
  const where = docroot === '.' ? '' : ` -t ${docroot}`;
  ctx.warnings.add(
    `${framework === 'PHP' ? 'The app' : framework} is started with PHP's built-in server (php -S), which handles one request at a time: fine to try the app, too slow for real traffic; use FrankenPHP (a Caddyfile with php_server or the dunglas/frankenphp image) or PHP-FPM behind a web server for production`,
  );
  return {
    start: { value: `php -S 0.0.0.0:$PORT${where}`, evidence: `${framework}: PHP's built-in server serving ${docroot === '.' ? 'the project root' : `${docroot}/`}` },
    port: { value: 8000, evidence: "php -S listens on $PORT (8000 in PHP's documentation of the built-in server)" },
    stated: false,
  };
}

/** Writes the start and port of `phpServer` into a detection. */
export function applyPhpServer(detection: Detection, serve: PhpServe): void {
  detection.fields.scripts_start = serve.start;
  if (serve.stated) detection.portHints = [serve.port];
  else detection.portDefault = serve.port;
}

export const php: RuntimeDetector = {
  id: 'php',
  kind: 'runtime',
  refusalHint: {
    languages: ['php'],
    missingStart: 'no front controller (public/index.php or index.php); add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const composer = await ctx.manifests.composerJson(ctx.dir);
    if (!composer) {
      // A plain PHP site with no Composer manifest: only its front controller identifies it.
      const front = ['index.php', 'public/index.php'].find((file) => ctx.fs.has(inDir(ctx.dir, file)));
      if (!front || ctx.fs.has(inDir(ctx.dir, 'composer.json'))) return null;
      const why = `${inDir(ctx.dir, front)} exists and there is no composer.json`;
      const plain: Detection = {
        id: 'php',
        tier: TIER.runnable,
        fields: {
          language: { value: 'php', evidence: why },
          dependency_resolution: { value: 'locked', evidence: `${why}: no dependencies to resolve` },
          entry_point: { value: front, evidence: why },
          project_type: { value: 'web', evidence: why },
        },
        toolchain: { install: '', runPrefix: '' },
      };
      applyPhpServer(plain, await phpServer(ctx, front.includes('/') ? (front.split('/')[0] as string) : '.', 'PHP'));
      return plain;
    }
    const fields: Conclusions = {
      language: { value: 'php', evidence: `${composer.path} exists` },
      package_manager: { value: 'composer', evidence: `${composer.path} exists` },
    };
    const name = composer.name?.split('/').pop();
    if (name) fields.name = { value: name, evidence: `${composer.path}: name` };
    if (composer.phpVersion) fields.language_version = { value: composer.phpVersion, evidence: `${composer.path}: require.php` };
    const packages = composer.dependencies.filter((dep) => !dep.name.startsWith('ext-') && !dep.name.startsWith('lib-'));
    const lock = inDir(ctx.dir, 'composer.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'composer.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (packages.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${composer.path} requires no packages: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${composer.path} requires packages but composer.lock is missing` };
      ctx.warnings.add('composer.lock is missing: clean cloud builds may resolve different package versions (commit composer.lock)');
    }
    const install = packages.length > 0 ? COMPOSER_INSTALL : '';
    if (install) fields.scripts_build = { value: install, evidence: `${composer.path} requires packages` };

    const detection: Detection = { id: 'php', tier: TIER.bare, fields, toolchain: { install, runPrefix: '' } };
    const front = frontController(ctx);
    if (front) {
      fields.entry_point = { value: front, evidence: `${inDir(ctx.dir, front)} is the front controller` };
      fields.project_type = { value: 'web', evidence: `${inDir(ctx.dir, front)} exists` };
      detection.tier = TIER.backend;
    }
    // A Composer script that runs PHP's built-in server is the project's own way to serve it.
    for (const [script, commands] of Object.entries(composer.scripts)) {
      for (const command of commands) {
        const serve = /\bphp\s+-S\s+([\w.[\]:-]+):(\d{2,5})(?:\s+-t\s+([\w./-]+))?/.exec(command);
        if (!serve) continue;
        const docroot = serve[3] ?? (front?.includes('/') ? front.split('/')[0] : undefined);
        const why = `${composer.path}: scripts.${script} "${command}"`;
        fields.scripts_start = { value: `php -S 0.0.0.0:$PORT${docroot ? ` -t ${docroot}` : ''}`, evidence: why };
        fields.project_type = { value: 'web', evidence: why };
        detection.portHints = [{ value: Number(serve[2]), evidence: why }];
        detection.tier = TIER.backend;
        ctx.warnings.add(`${why} uses PHP's built-in development server; for production, serve ${front ?? 'the app'} with PHP-FPM or FrankenPHP`);
        return detection;
      }
    }
    // Laravel and Symfony decide their own start (artisan serve, their document root).
    const framework = packages.some((dep) => dep.name === 'laravel/framework' || dep.name === 'symfony/framework-bundle') || ctx.fs.has(inDir(ctx.dir, 'artisan'));
    if (front && !framework) applyPhpServer(detection, await phpServer(ctx, front.includes('/') ? (front.split('/')[0] as string) : '.', 'PHP'));
    return detection;
  },
};
