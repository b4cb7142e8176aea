/**
 * Go: `go.mod`. This version identifies the language, Go version and module dependencies only;
 * framework, build and start commands come with a later detector (a Dockerfile or Procfile still
 * provides them).
 */
import { TIER, inDir, type Conclusions, type RuntimeDetector } from '../types.js';
import { languageOnlyWarning } from './language-only.js';

export const go: RuntimeDetector = {
  id: 'go',
  kind: 'runtime',
  async detect(ctx) {
    const mod = await ctx.manifests.goMod(ctx.dir);
    if (!mod) return null;
    const fields: Conclusions = {
      language: { value: 'go', evidence: `${mod.path} exists` },
      package_manager: { value: 'go', evidence: `${mod.path}: Go modules` },
    };
    const name = mod.module?.split('/').pop();
    if (name) fields.name = { value: name, evidence: `${mod.path}: module ${mod.module}` };
    if (mod.goVersion) fields.language_version = { value: mod.goVersion, evidence: `${mod.path}: go directive` };
    const sum = inDir(ctx.dir, 'go.sum');
    if (ctx.fs.has(sum)) {
      fields.lockfile = { value: 'go.sum', evidence: `${sum} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: sum };
    } else if (mod.requires.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${mod.path} requires no modules: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${mod.path} requires modules but go.sum is missing` };
      ctx.warnings.add('go.sum is missing: run `go mod tidy` and commit it so cloud builds verify module checksums');
    }
    languageOnlyWarning(ctx, 'Go');
    return { id: 'go', tier: TIER.backend, fields };
  },
};
