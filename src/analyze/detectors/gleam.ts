/**
 * Gleam: `gleam.toml`. On the Erlang target (the default) the app ships as an Erlang shipment, as
 * Railway's railpack and Gleam's own deployment guide do: `gleam export erlang-shipment`, start
 * `./build/erlang-shipment/entrypoint.sh run`. The JavaScript target runs with `gleam run`.
 * manifest.toml is the lockfile. Web when it uses Mist / Wisp / Glisten / Elli; the port is the one
 * the code passes (`mist.port(8000)`), the default of its PORT read, else unknown.
 */
import { parseToml } from '../toml.js';
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const SERVER_LIBS = ['mist', 'wisp', 'glisten', 'elli', 'gleam_elli', 'cowboy', 'gleam_cowboy'];
const PORT_PATTERNS = [/"PORT"[\s\S]{0,200}?\bunwrap\(\s*"?(\d{2,5})"?\s*\)/, /\bmist\.port\(\s*(\d{2,5})\s*\)/, /\bport:\s*(\d{2,5})\b/];

export const gleam: RuntimeDetector = {
  id: 'gleam',
  kind: 'runtime',
  refusalHint: {
    languages: ['gleam'],
    missingStart: 'no src/<name>.gleam main module; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'gleam.toml');
    const text = await ctx.manifests.text(rel);
    if (text === null) return null;
    let config: { name?: unknown; gleam?: unknown; target?: unknown; dependencies?: unknown } = {};
    try {
      config = parseToml(text) as typeof config;
    } catch {
      ctx.warnings.add(`${rel} is not valid TOML; its name and dependencies were not read`);
    }
    const fields: Conclusions = {
      language: { value: 'gleam', evidence: `${rel} exists` },
      package_manager: { value: 'gleam', evidence: `${rel} exists` },
    };
    if (typeof config.name === 'string') fields.name = { value: config.name.replace(/_/g, '-'), evidence: `${rel}: name` };
    if (typeof config.gleam === 'string') fields.language_version = { value: config.gleam, evidence: `${rel}: gleam` };
    const deps = config.dependencies && typeof config.dependencies === 'object' ? Object.keys(config.dependencies) : [];
    const lock = inDir(ctx.dir, 'manifest.toml');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'manifest.toml', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (deps.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${rel} has no dependencies: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${rel} has dependencies but manifest.toml is missing` };
      ctx.warnings.add('manifest.toml is missing: clean cloud builds may resolve different package versions (run `gleam build` and commit manifest.toml)');
    }
    const detection: Detection = { id: 'gleam', tier: TIER.bare, fields, toolchain: { install: 'gleam deps download', runPrefix: '' } };
    const main = typeof config.name === 'string' ? `src/${config.name}.gleam` : undefined;
    if (!main || !ctx.fs.has(inDir(ctx.dir, main))) {
      ctx.warnings.add(`${rel}: no src/<name>.gleam module with main: nothing to run`);
      return detection;
    }
    fields.entry_point = { value: main, evidence: `${inDir(ctx.dir, main)}: the package's main module` };
    if (config.target === 'javascript') {
      fields.scripts_build = { value: 'gleam build --target javascript', evidence: `${rel}: target = "javascript"` };
      fields.scripts_start = { value: 'gleam run --target javascript', evidence: `${rel}: target = "javascript"` };
    } else {
      fields.scripts_build = { value: 'gleam export erlang-shipment', evidence: `${rel}: Erlang target (the default)` };
      fields.scripts_start = { value: './build/erlang-shipment/entrypoint.sh run', evidence: 'gleam export erlang-shipment writes build/erlang-shipment/entrypoint.sh' };
    }
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.gleam']);
    const lib = SERVER_LIBS.find((name) => deps.includes(name));
    const server = await findInSources(ctx, files, /\bmist\.(?:start|start_http)\b|\bmist\.new\(|\bglisten\.(?:serve|start)\b|\belli\.(?:start|become)\b/);
    if (lib || server) {
      fields.project_type = { value: 'web', evidence: server ? `${server.file}:${server.line} starts an HTTP server` : `${rel}: dependencies.${lib as string}` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files, [/\[\s*\"(health|healthz|ready|readyz|livez)\"\s*\]/]);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
    } else {
      fields.project_type = { value: 'worker', evidence: `${main}: no HTTP server in the code` };
    }
    return detection;
  },
};
