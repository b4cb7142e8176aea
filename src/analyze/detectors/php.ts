/** PHP: `composer.json`. Identifies the language, PHP requirement and Composer lockfile only (see language-only.ts). */
import { TIER, inDir, type Conclusions, type RuntimeDetector } from '../types.js';
import { languageOnlyWarning } from './language-only.js';

export const php: RuntimeDetector = {
  id: 'php',
  kind: 'runtime',
  async detect(ctx) {
    const composer = await ctx.manifests.composerJson(ctx.dir);
    if (!composer) return null;
    const fields: Conclusions = {
      language: { value: 'php', evidence: `${composer.path} exists` },
      package_manager: { value: 'composer', evidence: `${composer.path} exists` },
    };
    const name = composer.name?.split('/').pop();
    if (name) fields.name = { value: name, evidence: `${composer.path}: name` };
    if (composer.phpVersion) fields.language_version = { value: composer.phpVersion, evidence: `${composer.path}: require.php` };
    const lock = inDir(ctx.dir, 'composer.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'composer.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (composer.dependencies.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${composer.path} requires no packages: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${composer.path} requires packages but composer.lock is missing` };
      ctx.warnings.add('composer.lock is missing: clean cloud builds may resolve different package versions (commit composer.lock)');
    }
    languageOnlyWarning(ctx, 'PHP');
    return { id: 'php', tier: TIER.backend, fields };
  },
};
