/**
 * PHP: `composer.json` (or, with no Composer manifest, an `index.php` front controller). Decides the PHP requirement, Composer locking, the production install
 * (`composer install --no-dev --optimize-autoloader --no-interaction`) and the front controller
 * (`public/index.php`, else `index.php`).
 *
 * PHP apps are normally served by a web server in front of PHP-FPM (or FrankenPHP, Apache mod_php),
 * not by a command of their own; a start command is only written with evidence: a Composer script
 * that runs PHP's built-in server (`php -S host:port -t public`). Framework detectors (laravel,
 * symfony) refine it.
 */
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

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

export function noPhpStartWarning(ctx: DetectContext, framework: string): void {
  ctx.warnings.add(
    `${framework} apps are served by a web server with PHP-FPM (or FrankenPHP): no start command or port was derived; add a Procfile web entry or a Dockerfile with CMD and EXPOSE`,
  );
}

export const php: RuntimeDetector = {
  id: 'php',
  kind: 'runtime',
  async detect(ctx) {
    const composer = await ctx.manifests.composerJson(ctx.dir);
    if (!composer) {
      // A plain PHP site with no Composer manifest: only its front controller identifies it.
      const front = ['index.php', 'public/index.php'].find((file) => ctx.fs.has(inDir(ctx.dir, file)));
      if (!front || ctx.fs.has(inDir(ctx.dir, 'composer.json'))) return null;
      const why = `${inDir(ctx.dir, front)} exists and there is no composer.json`;
      noPhpStartWarning(ctx, 'PHP');
      return {
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
    // Laravel and Symfony say this themselves (they may have evidence of a server command).
    const framework = packages.some((dep) => dep.name === 'laravel/framework' || dep.name === 'symfony/framework-bundle');
    if (front && !framework) noPhpStartWarning(ctx, 'PHP');
    return detection;
  },
};
