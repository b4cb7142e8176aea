/**
 * Swift: Swift Package Manager (`Package.swift`). Build `swift build -c release`, start
 * `./.build/release/<product>`: the executable product (`.executable(name:)`), else the
 * `.executableTarget(name:)`, the one called App/Run/Server first. Vapor's binary takes its address
 * as arguments, as in Vapor's own Dockerfile: `serve --env production --hostname 0.0.0.0 --port $PORT`
 * (Vapor's default port is 8080). Hummingbird's template reads `--hostname`/`--port` the same way.
 * Package.resolved is the lockfile; the tools version is `// swift-tools-version:`.
 */
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const PORT_PATTERNS = [
  /"PORT"\][^\n]{0,80}?\?\?\s*"?(\d{2,5})"?/,
  /\bport:\s*Int\s*=\s*(\d{2,5})\b/,
  /\.port\s*=\s*(\d{2,5})\b/,
  /\bport:\s*(\d{2,5})\b/,
];
const PREFERRED = ['App', 'Run', 'Server', 'server', 'app'];

export const swift: RuntimeDetector = {
  id: 'swift',
  kind: 'runtime',
  refusalHint: {
    languages: ['swift'],
    missingStart: 'Package.swift declares no executable product or target; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'Package.swift');
    const raw = await ctx.manifests.text(rel);
    if (raw === null) return null;
    const tools = /^\/\/\s*swift-tools-version:\s*([\d.]+)/m.exec(raw)?.[1];
    const text = raw.replace(/(?<!:)\/\/.*$/gm, '');
    const fields: Conclusions = {
      language: { value: 'swift', evidence: `${rel} exists` },
      package_manager: { value: 'swiftpm', evidence: `${rel} exists` },
    };
    const name = /Package\(\s*name:\s*"([^"]+)"/.exec(text)?.[1];
    if (name) fields.name = { value: name, evidence: `${rel}: Package(name:)` };
    if (tools) fields.language_version = { value: tools, evidence: `${rel}: swift-tools-version` };
    const packages = [...text.matchAll(/\.package\(\s*(?:name:\s*"[^"]*",\s*)?url:\s*"[^"]*?\/([\w.-]+?)(?:\.git)?"/g)].map((m) => (m[1] as string).toLowerCase());
    const lock = inDir(ctx.dir, 'Package.resolved');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'Package.resolved', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else if (packages.length === 0) {
      fields.dependency_resolution = { value: 'locked', evidence: `${rel} has no package dependencies: nothing to resolve` };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${rel} has dependencies but Package.resolved is missing` };
      ctx.warnings.add('Package.resolved is missing: clean cloud builds may resolve different package versions (commit Package.resolved)');
    }
    const detection: Detection = { id: 'swift', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };
    const products = [...text.matchAll(/\.executable\(\s*name:\s*"([^"]+)"/g)].map((m) => m[1] as string);
    const targets = [...text.matchAll(/\.executableTarget\(\s*name:\s*"([^"]+)"/g)].map((m) => m[1] as string);
    const pool = products.length > 0 ? products : targets;
    const product = PREFERRED.find((p) => pool.includes(p)) ?? pool[0];
    if (!product) {
      ctx.warnings.add(`${rel} declares no executable product or target: a library, nothing to run`);
      return detection;
    }
    if (pool.length > 1) ctx.warnings.add(`${rel} has several executables (${pool.join(', ')}); ${product} was chosen, the others are not deployed`);
    const vapor = packages.includes('vapor');
    const why = `${rel}: ${products.length > 0 ? '.executable' : '.executableTarget'}(name: "${product}")`;
    fields.scripts_build = { value: 'swift build -c release', evidence: why };
    fields.scripts_start = vapor
      ? { value: `./.build/release/${product} serve --env production --hostname 0.0.0.0 --port $PORT`, evidence: `${why}; Vapor takes its address from serve --hostname/--port` }
      : { value: `./.build/release/${product}`, evidence: why };
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.swift']).filter((file) => !file.endsWith('Package.swift'));
    const server = await findInSources(ctx, files, /\bApplication\(|\bapp\.run\(\)|\bexecute\(\)|\bbuildApplication\(|\brunService\(\)|\bHTTPServer\(/);
    const lib = packages.find((p) => ['vapor', 'hummingbird', 'swift-nio', 'kitura', 'perfect-http-server'].includes(p));
    if (vapor || lib === 'hummingbird' || (lib && server)) {
      fields.project_type = { value: 'web', evidence: server ? `${server.file}:${server.line} starts the server` : `${rel}: dependency ${lib as string}` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files, [/\.get\(\s*\"(health|healthz|ready|readyz|livez)\"/]);
      if (health) detection.healthCheck = health;
      if (port && !vapor) detection.portHints = [port];
      if (vapor) detection.portDefault = { value: 8080, evidence: 'Vapor listens on 8080 by default' };
      else if (lib === 'hummingbird') detection.portDefault = { value: 8080, evidence: 'Hummingbird listens on 8080 by default' };
    } else {
      fields.project_type = { value: 'worker', evidence: `${product}: no HTTP server in the code` };
    }
    return detection;
  },
};
