/** Rust: `Cargo.toml`. Identifies the language, toolchain and Cargo lockfile only (see language-only.ts). */
import { TIER, inDir, type Conclusions, type RuntimeDetector } from '../types.js';
import { languageOnlyWarning } from './language-only.js';

export const rust: RuntimeDetector = {
  id: 'rust',
  kind: 'runtime',
  async detect(ctx) {
    const cargo = await ctx.manifests.cargoToml(ctx.dir);
    if (!cargo) return null;
    const fields: Conclusions = {
      language: { value: 'rust', evidence: `${cargo.path} exists` },
      package_manager: { value: 'cargo', evidence: `${cargo.path} exists` },
    };
    if (cargo.name) fields.name = { value: cargo.name, evidence: `${cargo.path}: package.name` };
    for (const file of ['rust-toolchain.toml', 'rust-toolchain']) {
      const rel = inDir(ctx.dir, file);
      const text = await ctx.manifests.text(rel);
      if (text === null) continue;
      const channel = file.endsWith('.toml') ? /^\s*channel\s*=\s*["']([^"']+)["']/m.exec(text)?.[1] : text.split(/\r?\n/)[0]?.trim();
      if (channel) fields.language_version = { value: channel, evidence: rel };
      break;
    }
    if (!fields.language_version && cargo.rustVersion) fields.language_version = { value: cargo.rustVersion, evidence: `${cargo.path}: package.rust-version` };
    const lock = inDir(ctx.dir, 'Cargo.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'Cargo.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (cargo.dependencies.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${cargo.path} declares no dependencies: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${cargo.path} declares dependencies but Cargo.lock is missing` };
      ctx.warnings.add('Cargo.lock is missing: clean cloud builds may resolve different crate versions (commit Cargo.lock)');
    }
    languageOnlyWarning(ctx, 'Rust');
    return { id: 'rust', tier: TIER.backend, fields };
  },
};
