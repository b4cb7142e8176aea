/**
 * Elixir: `mix.exs`. Decides the Elixir version (.tool-versions, .elixir-version, else the mix.exs
 * `elixir:` requirement), Mix locking (mix.lock) and the production compile
 * (`mix deps.get --only prod && MIX_ENV=prod mix compile`). Phoenix apps are refined by the phoenix
 * detector. A plain Mix app with an application module (`application: [mod: ...]`) runs its
 * supervision tree: `MIX_ENV=prod mix run --no-halt`, or its release when mix.exs declares releases
 * (`releases: [...]` or `releases: releases()`): `mix release`, then `_build/prod/rel/<app>/bin/<app>
 * start`. It is web when Plug.Cowboy or Bandit serves a plug; the port is the child spec's `port:`
 * or the default of its PORT read, else their default 4000.
 */
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, portFromSources, sourceFiles } from './source-hints.js';

/** A runtime (not only: :dev/:test) Hex dependency of mix.exs, or undefined. */
export async function hexDependency(ctx: DetectContext, name: string): Promise<string | undefined> {
  const mix = await ctx.manifests.mixExs(ctx.dir);
  const dep = mix?.dependencies.find((d) => d.name === name && !d.dev);
  return dep ? `${dep.source} :${dep.name}` : undefined;
}

/** mix.exs declares releases: a keyword list (`releases: [...]`) or a call (`releases: releases()`). */
export async function declaresReleases(ctx: DetectContext): Promise<boolean> {
  const text = (await ctx.manifests.text(inDir(ctx.dir, 'mix.exs'))) ?? '';
  return /^\s*releases:\s*(?:\[|[a-z_]\w*(?:\(\s*\))?\s*[,\]\n])/m.test(text.replace(/#.*$/gm, ''));
}

const SERVERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['plug_cowboy', /\{\s*Plug\.Cowboy\s*,|\bPlug\.Cowboy\.(?:http|child_spec)\b/],
  ['bandit', /\{\s*Bandit\s*,|\bBandit\.(?:start_link|child_spec)\b/],
];
const PORT_PATTERNS = [
  /System\.get_env\(\s*"PORT"\s*,\s*"(\d{2,5})"\s*\)/,
  /System\.get_env\(\s*"PORT"\s*\)\s*\|\|\s*"?(\d{2,5})/,
  /\bport:\s*(\d{2,5})\b/,
];

/** Start and port of a plain Mix application (no Phoenix). */
async function plainApp(ctx: DetectContext, detection: Detection, app: string | undefined, install: string): Promise<void> {
  const rel = inDir(ctx.dir, 'mix.exs');
  const text = ((await ctx.manifests.text(rel)) ?? '').replace(/#.*$/gm, '');
  const mod = /\bmod:\s*\{\s*([\w.]+)/.exec(text)?.[1];
  const { fields } = detection;
  if (!mod) {
    ctx.warnings.add(`${rel}: no Phoenix dependency and no application module (application: [mod: ...]); the start command is unknown (add a Procfile web entry or a Dockerfile with CMD)`);
    return;
  }
  if ((await declaresReleases(ctx)) && app) {
    fields.scripts_build = { value: [install, 'MIX_ENV=prod mix compile', 'MIX_ENV=prod mix release'].filter(Boolean).join(' && '), evidence: `${rel}: releases` };
    fields.scripts_start = { value: `_build/prod/rel/${app}/bin/${app} start`, evidence: `${rel}: releases; app :${app}` };
  } else {
    fields.scripts_start = { value: 'MIX_ENV=prod mix run --no-halt', evidence: `${rel}: application module ${mod} (its supervision tree runs until stopped)` };
  }
  detection.tier = TIER.backend;
  const files = sourceFiles(ctx, ['.ex', '.exs']).filter((file) => !file.endsWith('mix.exs'));
  for (const [dep, pattern] of SERVERS) {
    const declared = await hexDependency(ctx, dep);
    const child = declared ? await findInSources(ctx, files, pattern) : null;
    if (!declared || !child) continue;
    fields.project_type = { value: 'web', evidence: `${child.file}:${child.line} starts ${dep === 'bandit' ? 'Bandit' : 'Plug.Cowboy'} (${declared})` };
    fields.entry_point = { value: ctx.dir === '' ? child.file : child.file.slice(ctx.dir.length + 1), evidence: `${child.file}:${child.line} starts the HTTP server` };
    const port = await portFromSources(ctx, files, PORT_PATTERNS);
    if (port) detection.portHints = [port];
    detection.portDefault = { value: 4000, evidence: `${dep === 'bandit' ? 'Bandit' : 'Plug.Cowboy'} listens on 4000 unless port: says otherwise` };
    return;
  }
  fields.project_type = { value: 'worker', evidence: `${rel}: application ${mod} starts no HTTP server (no Plug.Cowboy or Bandit child)` };
}

export const elixir: RuntimeDetector = {
  id: 'elixir',
  kind: 'runtime',
  refusalHint: {
    languages: ['elixir'],
    missingStart: 'no Phoenix dependency and no application module (application: [mod: ...]); add a Dockerfile with CMD or a Procfile web entry',
  },
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
    if (!phoenix) await plainApp(ctx, detection, mix.app, install);
    return detection;
  },
};
