/**
 * Symfony: a `symfony/framework-bundle` requirement (in composer.json).
 * Served from `public/`: FrankenPHP when the project uses it (Symfony Docker's Caddyfile, the
 * runtime/frankenphp-symfony package), else PHP's built-in server `php -S 0.0.0.0:$PORT -t public`
 * as Symfony's docs show (warned: one request at a time). Build: the Composer
 * production install, `php bin/console asset-map:compile` with AssetMapper, and the JS build when
 * package.json has one (Webpack Encore).
 *
 * Database: Doctrine reads DATABASE_URL; its engine comes from the URL scheme in the committed
 * `.env` defaults file (Symfony's convention; only the scheme is read, never a value), or from
 * `doctrine.dbal.driver` in config/packages/doctrine.yaml. A compose `database` service counts too.
 */
import { parseYaml } from '../yaml.js';
import { chain, detectNodePackageManager, nodeRunScript } from '../package-manager.js';
import type { Engine } from '../schema.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { applyPhpServer, composerPackage, phpServer } from './php.js';
import type { EnvReadSyntax } from '../scan-model.js';

const SCHEMES: ReadonlyArray<readonly [RegExp, Engine | null]> = [
  [/^(?:postgres(?:ql)?|pgsql|pdo-pgsql)$/, 'postgres'],
  [/^(?:mysql|mysql2|mariadb|pdo-mysql)$/, 'mysql'],
  [/^(?:sqlite|sqlite3|pdo-sqlite)$/, null],
  [/^mongodb(?:\+srv)?$/, 'mongodb'],
];
const DRIVERS: Readonly<Record<string, Engine>> = { pdo_pgsql: 'postgres', pgsql: 'postgres', pdo_mysql: 'mysql', mysqli: 'mysql' };

/** The scheme of the active (uncommented) DATABASE_URL line in Symfony's env files. */
async function databaseUrlScheme(ctx: DetectContext): Promise<{ scheme: string; evidence: string } | null> {
  for (const file of ['.env.example', '.env.dist', '.env']) {
    const rel = inDir(ctx.dir, file);
    if (!ctx.fs.has(rel)) continue;
    const text = (await ctx.fs.read(rel))?.text ?? '';
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i += 1) {
      const m = /^\s*(?:export\s+)?DATABASE_URL\s*=\s*["']?([a-z][a-z0-9+.-]*):/i.exec(lines[i] as string);
      if (m) return { scheme: (m[1] as string).toLowerCase(), evidence: `${rel}:${i + 1} DATABASE_URL scheme "${(m[1] as string).toLowerCase()}"` };
    }
  }
  return null;
}

/** Service configuration reads env through `%env(NAME)%` (with processors: `%env(resolve:DATABASE_URL)%`). */
const ENV_PROCESSORS: EnvReadSyntax = {
  language: 'props',
  prefilter: /%env\(/,
  configFile: (file, text) => /\.ya?ml$/.test(file) && /(?:^|\/)config\/(?:packages\/)?[\w.-]+$/.test(file) && text.includes('%env('),
  patterns: [{ regex: /%env\((?:[\w-]+:)*([A-Z][A-Z0-9_]*)\)%/g, nameGroup: 1, fallback: () => ({ fallback: 'none', default: '' }) }],
};

export const symfony: FrameworkDetector = {
  id: 'symfony',
  kind: 'framework',
  runtimes: ['php'],
  envReadSyntaxes: [ENV_PROCESSORS],
  async detect(ctx) {
    const dep = await composerPackage(ctx, 'symfony/framework-bundle');
    if (!dep) return null;
    const fields: Conclusions = { framework: { value: 'symfony', evidence: dep }, project_type: { value: 'web', evidence: dep } };
    const detection: Detection = { id: 'symfony', tier: TIER.backend, fields };

    const assetMapper = await composerPackage(ctx, 'symfony/asset-mapper');
    let build = ctx.runtime.toolchain?.install ?? '';
    const why: string[] = build ? [`${inDir(ctx.dir, 'composer.json')} requires packages`] : [];
    if (assetMapper) {
      build = chain(build, 'php bin/console asset-map:compile');
      why.push(assetMapper);
    }
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    if (pkg && pkg.scripts.build !== undefined) {
      const pm = await detectNodePackageManager(ctx, pkg);
      build = chain(build, pm.install, nodeRunScript(pm.manager, 'build'));
      why.push(`${pkg.path}: scripts.build "${pkg.scripts.build}"`);
    }
    if (build) fields.scripts_build = { value: build, evidence: why.join('; ') };
    applyPhpServer(detection, await phpServer(ctx, 'public', 'Symfony'));

    if (await composerPackage(ctx, 'doctrine/doctrine-bundle')) {
      const url = await databaseUrlScheme(ctx);
      const scheme = url ? SCHEMES.find(([regex]) => regex.test(url.scheme)) : undefined;
      if (url && scheme?.[1]) detection.engines = [{ engine: scheme[1], evidence: url.evidence }];
      else if (url && scheme && scheme[1] === null) ctx.warnings.add(`${url.evidence}: SQLite is a file on the service's disk, not a managed database`);
      else {
        const rel = inDir(ctx.dir, 'config/packages/doctrine.yaml');
        const text = await ctx.manifests.text(rel);
        try {
          const driver = text === null ? undefined : ((parseYaml(text) as { doctrine?: { dbal?: { driver?: unknown } } } | null)?.doctrine?.dbal?.driver);
          const engine = typeof driver === 'string' ? DRIVERS[driver] : undefined;
          if (engine) detection.engines = [{ engine, evidence: `${rel}: doctrine.dbal.driver ${driver as string}` }];
        } catch {
          ctx.warnings.add(`${rel} could not be parsed as YAML; the Doctrine driver was not read`);
        }
      }
    }
    return detection;
  },
};
