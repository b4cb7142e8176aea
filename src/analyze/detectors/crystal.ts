/**
 * Crystal: `shard.yml`. Shards builds every target into `bin/<target>`: `shards install` (frozen with
 * `--production` when shard.lock exists) then `shards build --production --release`, start
 * `./bin/<target>` (the target named like the shard, else the first one, as nixpacks does). A shard
 * without targets is a library. Web when it depends on Kemal / Amber / Lucky / Athena / Grip or the
 * code creates an `HTTP::Server`; the port is the default of the code's `ENV["PORT"]` read or its
 * bind/listen literal, else Kemal's 3000.
 */
import { parseYaml } from '../yaml.js';
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const FRAMEWORKS: Readonly<Record<string, number>> = { kemal: 3000, amber: 3000, lucky: 3000, athena: 3000, grip: 3000 };
const PORT_PATTERNS = [
  /ENV\[\s*"PORT"\s*\]\??\s*(?:\.try[^|\n]*)?\|\|\s*"?(\d{2,5})/,
  /ENV\.fetch\(\s*"PORT"\s*,\s*"?(\d{2,5})/,
  /\bbind_tcp\s*\(?\s*(?:"[^"\n]*"\s*,\s*)?(?:port:\s*)?(\d{2,5})/,
  /\.listen\s*\(?\s*(?:"[^"\n]*"\s*,\s*)?(\d{2,5})\b/,
  /\bKemal\.run\s*\(?\s*(\d{2,5})/,
  /\bport\s*=\s*(\d{2,5})\b/,
];

export const crystal: RuntimeDetector = {
  id: 'crystal',
  kind: 'runtime',
  refusalHint: {
    languages: ['crystal'],
    missingStart: 'shard.yml declares no targets; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'shard.yml');
    const text = await ctx.manifests.text(rel);
    if (text === null) return null;
    let shard: { name?: unknown; crystal?: unknown; targets?: unknown; dependencies?: unknown } = {};
    try {
      shard = (parseYaml(text) as typeof shard | null) ?? {};
    } catch {
      ctx.warnings.add(`${rel} is not valid YAML; its targets and dependencies were not read`);
    }
    const fields: Conclusions = {
      language: { value: 'crystal', evidence: `${rel} exists` },
      package_manager: { value: 'shards', evidence: `${rel} exists` },
    };
    if (typeof shard.name === 'string') fields.name = { value: shard.name, evidence: `${rel}: name` };
    if (typeof shard.crystal === 'string') fields.language_version = { value: shard.crystal, evidence: `${rel}: crystal` };
    const deps = shard.dependencies && typeof shard.dependencies === 'object' ? Object.keys(shard.dependencies) : [];
    const lock = inDir(ctx.dir, 'shard.lock');
    const locked = ctx.fs.has(lock);
    if (locked) {
      fields.lockfile = { value: 'shard.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (deps.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${rel} has no dependencies: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${rel} has dependencies but shard.lock is missing` };
      ctx.warnings.add('shard.lock is missing: clean cloud builds may resolve different shard versions (run `shards install` and commit shard.lock)');
    }
    const install = deps.length > 0 ? (locked ? 'shards install --production' : 'shards install') : '';
    const detection: Detection = { id: 'crystal', tier: TIER.bare, fields, toolchain: { install, runPrefix: '' } };

    const targets = shard.targets && typeof shard.targets === 'object' ? Object.entries(shard.targets as Record<string, { main?: unknown } | null>) : [];
    const target = targets.find(([name]) => name === shard.name) ?? targets[0];
    if (!target) {
      ctx.warnings.add(`${rel} declares no targets: a library, nothing to build and run`);
      return detection;
    }
    const [name, spec] = target;
    const build = [install, `shards build ${name} --production --release`].filter(Boolean).join(' && ');
    fields.scripts_build = { value: build, evidence: `${rel}: targets.${name}` };
    fields.scripts_start = { value: `./bin/${name}`, evidence: `${rel}: targets.${name} is built into bin/${name}` };
    if (typeof spec?.main === 'string') fields.entry_point = { value: spec.main, evidence: `${rel}: targets.${name}.main` };
    if (targets.length > 1) ctx.warnings.add(`${rel} has several targets (${targets.map(([n]) => n).join(', ')}); ${name} was chosen, the others are not deployed`);
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.cr']);
    const framework = deps.find((dep) => FRAMEWORKS[dep] !== undefined);
    const server = await findInSources(ctx, files, /\bHTTP::Server\.new\b|\bKemal\.run\b|\bAmber::Server\b|\bLucky::Server\b|\bATH\.run\b/);
    if (framework || server) {
      fields.project_type = { value: 'web', evidence: server ? `${server.file}:${server.line} starts an HTTP server` : `${rel}: dependencies.${framework as string}` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
      if (framework) detection.portDefault = { value: FRAMEWORKS[framework] as number, evidence: `${framework} listens on ${FRAMEWORKS[framework] as number} by default` };
    } else {
      fields.project_type = { value: 'worker', evidence: `${rel}: a target but no HTTP server in the code` };
    }
    return detection;
  },
};
