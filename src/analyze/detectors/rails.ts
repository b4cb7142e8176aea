/**
 * Rails: `config/application.rb` defining a `Rails::Application`, or a `rails` /
 * `railties` gem. Start: `bundle exec rails server -b 0.0.0.0 -p $PORT` (Puma, configured by
 * config/puma.rb). Build: `bundle install`, the JS install when package.json has dependencies
 * (jsbundling/cssbundling run through assets:precompile), then `bundle exec rails
 * assets:precompile` when an asset pipeline gem (sprockets, propshaft) is used and the app is not
 * API-only. Database engine from config/database.yml (production, then default adapter) besides the
 * driver gems. Default port 3000.
 */
import { parseYaml } from '../yaml.js';
import { chain, detectNodePackageManager } from '../package-manager.js';
import type { Engine } from '../schema.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { gem, gemOrLocked } from './ruby.js';
import type { HealthRouteSyntax } from '../scan-model.js';
import { asRecord } from '../../core/records.js';

const ADAPTERS: Readonly<Record<string, Engine | null>> = {
  postgresql: 'postgres',
  postgis: 'postgres',
  mysql2: 'mysql',
  trilogy: 'mysql',
  sqlite3: null,
};

function parseErbYaml(text: string, merge: boolean): Record<string, unknown> | undefined {
  return asRecord(parseYaml(text.replace(/<%[\s\S]*?%>/g, 'erb'), { merge, maxAliasCount: 100 }));
}

/**
 * The production database adapter of config/database.yml (ERB tags blanked before YAML parsing).
 * A production section that sets `url:` and no adapter of its own (`<<: *default` then
 * `url: <%= ENV["DATABASE_URL"] %>`) takes its adapter from the URL at runtime: the driver gem
 * the production bundle installs decides then, not the default (often sqlite3 for development).
 */
export async function railsAdapter(ctx: DetectContext): Promise<{ adapter: string; evidence: string } | null> {
  const rel = inDir(ctx.dir, 'config/database.yml');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  let doc: Record<string, unknown> | undefined;
  let own: Record<string, unknown> | undefined;
  try {
    doc = parseErbYaml(text, true);
    own = asRecord(parseErbYaml(text, false)?.production);
  } catch {
    ctx.warnings.add(`${rel} could not be parsed as YAML; its adapter was not read`);
    return null;
  }
  const production = asRecord(doc?.production);
  const inherited = production?.adapter;
  if (own && typeof own.url === 'string' && typeof own.adapter !== 'string' && (inherited === undefined || inherited === 'sqlite3')) {
    for (const [name, adapter] of [['pg', 'postgresql'], ['mysql2', 'mysql2'], ['trilogy', 'trilogy']] as const) {
      const driver = await gem(ctx, name);
      if (driver) return { adapter, evidence: `${rel}: production.url is set at runtime; ${driver.source} ${driver.name}` };
    }
  }
  const primary = asRecord(production?.primary);
  for (const [where, section] of [
    ['production.adapter', production],
    ['production.primary.adapter', primary],
    ['default.adapter', asRecord(doc?.default)],
  ] as const) {
    const adapter = section?.adapter;
    if (typeof adapter === 'string') return { adapter, evidence: `${rel}: ${where} ${adapter}` };
  }
  return null;
}

/** Redis used by the production environment: Action Cable's adapter, the cache or session store. */
async function railsRedisUse(ctx: DetectContext): Promise<string | null> {
  const cable = inDir(ctx.dir, 'config/cable.yml');
  const cableText = await ctx.manifests.text(cable);
  if (cableText !== null) {
    try {
      const adapter = asRecord(asRecord(parseErbYaml(cableText, true)?.production))?.adapter;
      if (adapter === 'redis') return `${cable}: production.adapter redis (Action Cable)`;
    } catch {
      ctx.warnings.add(`${cable} could not be parsed as YAML; its adapter was not read`);
    }
  }
  const production = inDir(ctx.dir, 'config/environments/production.rb');
  const text = (await ctx.fs.read(production))?.text ?? '';
  const m = /^\s*config\.(cache_store|session_store)\s*=?\s*:redis_(?:cache_)?store\b/m.exec(text);
  if (m) return `${production}:${text.slice(0, m.index).split('\n').length} ${m[1]} is Redis`;
  return null;
}

/** Rails routes: `get "up" => "rails/health#show"`, `get "healthz"`. */
const ROUTES_HEALTH = /\bget\s+['"]\/?((?:api\/)?(?:up|health|healthz|ready|readyz|livez))['"]/g;

const RAILS_HEALTH: HealthRouteSyntax = {
  language: 'rb',
  find(text, lineAt) {
    const routes: Array<{ line: number; path: string }> = [];
    ROUTES_HEALTH.lastIndex = 0;
    for (let m = ROUTES_HEALTH.exec(text); m; m = ROUTES_HEALTH.exec(text)) routes.push({ line: lineAt(m.index), path: `/${(m[1] as string).replace(/^\//, '')}` });
    return routes;
  },
};

export const rails: FrameworkDetector = {
  id: 'rails',
  kind: 'framework',
  runtimes: ['ruby'],
  healthRoutes: [RAILS_HEALTH],
  async detect(ctx) {
    const appRb = inDir(ctx.dir, 'config/application.rb');
    const appText = (await ctx.fs.read(appRb))?.text ?? '';
    const railsApp = /Rails::Application\b/.test(appText);
    const dep = (await gem(ctx, 'rails')) ?? (await gem(ctx, 'railties'));
    if (!railsApp && !dep) return null;
    const evidence = railsApp ? `${appRb} defines a Rails::Application` : (dep?.source as string);
    const fields: Conclusions = {
      framework: { value: 'rails', evidence: dep && railsApp ? `${evidence}; ${dep.source} ${dep.name}` : evidence },
      project_type: { value: 'web', evidence },
    };
    const detection: Detection = { id: 'rails', tier: TIER.backend, fields, portDefault: { value: 3000, evidence: 'Rails (Puma) default port 3000' } };
    // Rails runs in development unless told otherwise; config/puma.rb's `ENV.fetch("RAILS_ENV") { "development" }` is the developer's default.
    detection.envDefaults = { RAILS_ENV: { value: 'production', evidence: 'a deployed Rails app runs with RAILS_ENV=production (as the established builders set it)' } };
    // In production Rails needs a secret_key_base: from its encrypted credentials (which RAILS_MASTER_KEY
    // opens) when the app has them, else from SECRET_KEY_BASE.
    const credentials = ['config/credentials/production.yml.enc', 'config/credentials.yml.enc'].map((file) => inDir(ctx.dir, file)).find((file) => ctx.fs.has(file));
    detection.envRequired = credentials
      ? { RAILS_MASTER_KEY: `${credentials} is opened with RAILS_MASTER_KEY (the content of config/master.key) in production` }
      : { SECRET_KEY_BASE: 'Rails needs SECRET_KEY_BASE in production when it has no encrypted credentials' };

    // Build: gems, JS packages, compiled assets.
    const install = ctx.runtime.toolchain?.install ?? '';
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const nodeInstall = pkg ? (await detectNodePackageManager(ctx, pkg)).install : '';
    const apiOnly = /^\s*config\.api_only\s*=\s*true/m.test(appText);
    const pipeline = (await gemOrLocked(ctx, 'propshaft')) ?? (await gemOrLocked(ctx, 'sprockets-rails')) ?? (await gemOrLocked(ctx, 'sprockets'));
    const precompile = pipeline && !apiOnly ? 'bundle exec rails assets:precompile' : '';
    const build = chain(install, nodeInstall, precompile);
    if (build) {
      const why = [install && `${inDir(ctx.dir, 'Gemfile')} gems`, nodeInstall && `${pkg?.path} dependencies`, precompile && `asset pipeline (${pipeline})`].filter(Boolean).join('; ');
      fields.scripts_build = { value: build, evidence: why };
    }
    if (pipeline && apiOnly) ctx.warnings.add(`${appRb} sets config.api_only = true: assets are not precompiled`);

    // Start: the Rails server (Puma reads config/puma.rb).
    const configRu = inDir(ctx.dir, 'config.ru');
    if (ctx.fs.has(configRu)) fields.entry_point = { value: 'config.ru', evidence: `${configRu}: the Rack app rails server runs` };
    fields.scripts_start = { value: 'bundle exec rails server -b 0.0.0.0 -p $PORT', evidence: `${evidence}; rails server binds 0.0.0.0 on $PORT` };
    if (!ctx.fs.has(inDir(ctx.dir, 'bin/rails'))) ctx.warnings.add('bin/rails is missing: run `bundle binstubs railties` and commit it');

    // config/database.yml decides the SQL engine; other driver gems do not add one (databases.ts).
    const engines: NonNullable<Detection['engines']> = [];
    const adapter = await railsAdapter(ctx);
    if (adapter) {
      const engine = ADAPTERS[adapter.adapter];
      if (engine) engines.push({ engine, evidence: adapter.evidence });
      else if (engine === null) {
        ctx.warnings.add(`${adapter.evidence}: SQLite is a file on the service's disk, not a managed database; data is lost on redeploy without a volume`);
        detection.optionalEngines = { engines: ['postgres', 'mysql'], reason: `production uses SQLite (${adapter.evidence})` };
      }
    }
    const redis = await railsRedisUse(ctx);
    if (redis) engines.push({ engine: 'redis', evidence: redis });
    if (engines.length > 0) detection.engines = engines;
    return detection;
  },
};
