/**
 * Elixir: `mix.exs`. Decides the Elixir version (.tool-versions, .elixir-version, else the mix.exs
 * `elixir:` requirement), Mix locking (mix.lock) and the production compile
 * (`mix deps.get --only prod && MIX_ENV=prod mix compile`). A start command comes from the phoenix
 * detector; a plain Mix project has none without evidence.
 */
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

/** A runtime (not only: :dev/:test) Hex dependency of mix.exs, or undefined. */
export async function hexDependency(ctx: DetectContext, name: string): Promise<string | undefined> {
  const mix = await ctx.manifests.mixExs(ctx.dir);
  const dep = mix?.dependencies.find((d) => d.name === name && !d.dev);
  return dep ? `${dep.source} :${dep.name}` : undefined;
}

export const elixir: RuntimeDetector = {
  id: 'elixir',
  kind: 'runtime',
  async detect(ctx) {
    const mix = await ctx.manifests.mixExs(ctx.dir);
    if (!mix) return null;
    const fields: Conclusions = {
      language: { value: 'elixir', evidence: `${mix.path} exists` },
      package_manager: { value: 'mix', evidence: `${mix.path} exists` },
    };
    if (mix.app) fields.name = { value: mix.app.replace(/_/g, '-'), evidence: `${mix.path}: app :${mix.app}` };
    const tools = inDir(ctx.dir, '.tool-versions');
    const fromTools = /^elixir\s+(\S+)/m.exec((await ctx.manifests.text(tools)) ?? '')?.[1];
    const versionFile = inDir(ctx.dir, '.elixir-version');
    const fromFile = (await ctx.manifests.text(versionFile))?.split(/\r?\n/)[0]?.trim();
    if (fromTools) fields.language_version = { value: fromTools, evidence: `${tools}: elixir` };
    else if (fromFile) fields.language_version = { value: fromFile, evidence: versionFile };
    else if (mix.elixir) fields.language_version = { value: mix.elixir, evidence: `${mix.path}: elixir requirement` };

    const lock = inDir(ctx.dir, 'mix.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'mix.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (mix.dependencies.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${mix.path} declares no dependencies: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${mix.path} declares dependencies but mix.lock is missing` };
      ctx.warnings.add('mix.lock is missing: clean cloud builds may resolve different package versions (commit mix.lock)');
    }
    const install = mix.dependencies.length > 0 ? 'mix deps.get --only prod' : '';
    fields.scripts_build = { value: [install, 'MIX_ENV=prod mix compile'].filter(Boolean).join(' && '), evidence: `${mix.path}: production compile` };
    const detection: Detection = { id: 'elixir', tier: TIER.bare, fields, toolchain: { install, runPrefix: '' } };
    const phoenix = mix.dependencies.some((dep) => dep.name === 'phoenix' && !dep.dev);
    if (!phoenix) {
      ctx.warnings.add(`${mix.path}: no Phoenix dependency; the start command of a plain Mix project is unknown (add a Procfile web entry or a Dockerfile with CMD)`);
    }
    return detection;
  },
};
