/** Ruby: a `Gemfile`. Identifies the language, Ruby version and Bundler lockfile only (see language-only.ts). */
import { TIER, inDir, type Conclusions, type RuntimeDetector } from '../types.js';
import { languageOnlyWarning } from './language-only.js';

export const ruby: RuntimeDetector = {
  id: 'ruby',
  kind: 'runtime',
  async detect(ctx) {
    const gemfile = await ctx.manifests.gemfile(ctx.dir);
    if (!gemfile) return null;
    const fields: Conclusions = {
      language: { value: 'ruby', evidence: `${gemfile.path} exists` },
      package_manager: { value: 'bundler', evidence: `${gemfile.path} exists` },
    };
    const versionFile = inDir(ctx.dir, '.ruby-version');
    const version = (await ctx.manifests.text(versionFile))?.split(/\r?\n/)[0]?.trim().replace(/^ruby-/, '');
    if (version) fields.language_version = { value: version, evidence: versionFile };
    else if (gemfile.rubyVersion) fields.language_version = { value: gemfile.rubyVersion, evidence: `${gemfile.path}: ruby directive` };
    const lock = inDir(ctx.dir, 'Gemfile.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'Gemfile.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (gemfile.dependencies.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${gemfile.path} declares no gems: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${gemfile.path} declares gems but Gemfile.lock is missing` };
      ctx.warnings.add('Gemfile.lock is missing: clean cloud builds may resolve different gem versions (run `bundle lock` and commit it)');
    }
    languageOnlyWarning(ctx, 'Ruby');
    return { id: 'ruby', tier: TIER.backend, fields };
  },
};
