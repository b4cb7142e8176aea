/**
 * Ruby: a `Gemfile`. Decides the Ruby version (.ruby-version, .tool-versions, the Gemfile `ruby`
 * directive, Gemfile.lock's RUBY VERSION), Bundler and its version (Gemfile.lock BUNDLED WITH),
 * locking, `bundle install`, and the start command of a plain Rack app (`config.ru`):
 * `bundle exec rackup config.ru -o 0.0.0.0 -p $PORT` (or puma when Rack 3 has no rackup gem).
 * Framework detectors (rails, sinatra) refine it.
 */
import type { Dependency } from '../manifests.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

export interface GemfileLock {
  path: string;
  bundler: string | undefined;
  ruby: string | undefined;
  /** Resolved gems (`specs:` entries) -> version. */
  gems: Map<string, string>;
}

/** Gemfile.lock is Bundler's own indented format: sections, `    name (version)` spec lines. */
export async function gemfileLock(ctx: DetectContext): Promise<GemfileLock | null> {
  const rel = inDir(ctx.dir, 'Gemfile.lock');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  const gems = new Map<string, string>();
  for (const m of text.matchAll(/^ {4}([A-Za-z0-9_.-]+) \(([^)]+)\)$/gm)) if (!gems.has(m[1] as string)) gems.set(m[1] as string, m[2] as string);
  const bundler = /^BUNDLED WITH\r?\n\s+(\d[\w.]*)/m.exec(text)?.[1];
  const ruby = /^RUBY VERSION\r?\n\s+ruby (\d+\.\d+(?:\.\d+)?)/m.exec(text)?.[1];
  return { path: rel, bundler, ruby, gems };
}

/** A runtime (non development/test) gem of the Gemfile, or undefined. */
export async function gem(ctx: DetectContext, name: string): Promise<Dependency | undefined> {
  const gemfile = await ctx.manifests.gemfile(ctx.dir);
  return gemfile?.dependencies.find((dep) => dep.name === name && !dep.dev);
}

/** Gem used at runtime, declared or resolved (a dependency of a declared gem). */
export async function gemOrLocked(ctx: DetectContext, name: string): Promise<string | undefined> {
  const declared = await gem(ctx, name);
  if (declared) return declared.source;
  const lock = await gemfileLock(ctx);
  return lock?.gems.has(name) ? `${lock.path}: ${name} (${lock.gems.get(name)})` : undefined;
}

/** How to serve `config.ru`: rackup when it is available (Rack 2, or the rackup gem), else puma. */
async function rackServer(ctx: DetectContext): Promise<{ command: string; evidence: string }> {
  const lock = await gemfileLock(ctx);
  const rack = lock?.gems.get('rack');
  const rackup = lock?.gems.has('rackup') || (await gem(ctx, 'rackup')) !== undefined;
  const puma = (await gemOrLocked(ctx, 'puma')) !== undefined;
  if (!rackup && puma && rack !== undefined && /^[3-9]/.test(rack)) {
    return { command: 'bundle exec puma config.ru -b tcp://0.0.0.0:$PORT', evidence: `Rack ${rack} has no rackup without the rackup gem; puma serves config.ru` };
  }
  return { command: 'bundle exec rackup config.ru -o 0.0.0.0 -p $PORT', evidence: 'config.ru is a Rack app' };
}

export const ruby: RuntimeDetector = {
  id: 'ruby',
  kind: 'runtime',
  refusalHint: {
    languages: ['ruby'],
    missingStart: 'no Rails app, config.ru or Sinatra file that runs; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const gemfile = await ctx.manifests.gemfile(ctx.dir);
    if (!gemfile) return null;
    const fields: Conclusions = {
      language: { value: 'ruby', evidence: `${gemfile.path} exists` },
      package_manager: { value: 'bundler', evidence: `${gemfile.path} exists` },
    };
    const lock = await gemfileLock(ctx);
    const versionFile = inDir(ctx.dir, '.ruby-version');
    const version = (await ctx.manifests.text(versionFile))?.split(/\r?\n/)[0]?.trim().replace(/^ruby-/, '');
    const toolVersions = inDir(ctx.dir, '.tool-versions');
    const fromTools = /^ruby\s+(\S+)/m.exec((await ctx.manifests.text(toolVersions)) ?? '')?.[1];
    if (version) fields.language_version = { value: version, evidence: versionFile };
    else if (fromTools) fields.language_version = { value: fromTools, evidence: `${toolVersions}: ruby` };
    else if (gemfile.rubyVersion) fields.language_version = { value: gemfile.rubyVersion, evidence: `${gemfile.path}: ruby directive` };
    else if (lock?.ruby) fields.language_version = { value: lock.ruby, evidence: `${lock.path}: RUBY VERSION` };
    if (lock?.bundler) fields.package_manager_version = { value: lock.bundler, evidence: `${lock.path}: BUNDLED WITH` };
    if (lock) {
      fields.lockfile = { value: 'Gemfile.lock', evidence: `${lock.path} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock.path };
    } else if (gemfile.dependencies.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${gemfile.path} declares no gems: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${gemfile.path} declares gems but Gemfile.lock is missing` };
      ctx.warnings.add('Gemfile.lock is missing: clean cloud builds may resolve different gem versions (run `bundle lock` and commit it)');
    }
    const install = gemfile.dependencies.length > 0 ? 'bundle install' : '';
    if (install) fields.scripts_build = { value: install, evidence: `${gemfile.path} declares gems` };

    const detection: Detection = { id: 'ruby', tier: TIER.bare, fields, toolchain: { install, runPrefix: 'bundle exec ' } };
    const configRu = inDir(ctx.dir, 'config.ru');
    if (ctx.fs.has(configRu)) {
      const server = await rackServer(ctx);
      fields.entry_point = { value: 'config.ru', evidence: `${configRu} exists` };
      fields.scripts_start = { value: server.command, evidence: `${configRu}: ${server.evidence}` };
      fields.project_type = { value: 'web', evidence: `${configRu} is a Rack app` };
      detection.tier = TIER.backend;
      detection.portDefault = { value: 9292, evidence: 'Rack (rackup/puma) default port 9292' };
    }
    return detection;
  },
};
