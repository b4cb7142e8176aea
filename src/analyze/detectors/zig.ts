/**
 * Zig: `build.zig`. Build `zig build -Doptimize=ReleaseSafe` (railpack builds in ReleaseSafe too),
 * start `./zig-out/bin/<name>`: the name of `b.addExecutable(.{ .name = "..." })`, else the `.name`
 * of build.zig.zon (railpack's rule). build.zig.zon pins dependencies by hash; its
 * `.minimum_zig_version` is the language version. Web when the code serves HTTP (std.http.Server,
 * zap, http.zig); the port is the default of its PORT read or the literal it binds.
 */
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const PORT_PATTERNS = [
  /"PORT"[^\n]{0,120}?(?:orelse|catch)[^\n]{0,60}?"?(\d{2,5})"?/,
  /\b(?:parseIp4?|resolveIp|parseAddress)\(\s*"[^"\n]*"\s*,\s*(\d{2,5})\s*\)/,
  /\.port\s*=\s*(\d{2,5})\b/,
];

export const zig: RuntimeDetector = {
  id: 'zig',
  kind: 'runtime',
  refusalHint: {
    languages: ['zig'],
    missingStart: 'build.zig builds no executable (addExecutable); add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'build.zig');
    const raw = await ctx.manifests.text(rel);
    if (raw === null) return null;
    const text = raw.replace(/(?<!:)\/\/.*$/gm, '');
    const zonRel = inDir(ctx.dir, 'build.zig.zon');
    const zon = ((await ctx.manifests.text(zonRel)) ?? '').replace(/(?<!:)\/\/.*$/gm, '');
    const fields: Conclusions = {
      language: { value: 'zig', evidence: `${rel} exists` },
      package_manager: { value: 'zig', evidence: `${rel} exists` },
    };
    const zonName = /\.name\s*=\s*(?:\.([A-Za-z_]\w*)|"([^"]+)")/.exec(zon);
    const packageName = zonName ? (zonName[1] ?? zonName[2]) : undefined;
    if (packageName) fields.name = { value: packageName.replace(/_/g, '-'), evidence: `${zonRel}: .name` };
    const minimum = /\.minimum_zig_version\s*=\s*"([^"]+)"/.exec(zon)?.[1];
    if (minimum) fields.language_version = { value: minimum, evidence: `${zonRel}: .minimum_zig_version` };
    fields.dependency_resolution = /\.dependencies\s*=\s*\.\{\s*\.\w/.test(zon)
      ? { value: 'locked', evidence: `${zonRel}: dependencies are pinned by .hash` }
      : { value: 'locked', evidence: `${rel}: no package dependencies to resolve` };
    const detection: Detection = { id: 'zig', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };

    const exe = /\baddExecutable\(\s*\.\{[^}]*?\.name\s*=\s*"([^"]+)"/.exec(text);
    const name = exe?.[1] ?? (/\baddExecutable\(/.test(text) ? packageName : undefined);
    if (!name) {
      ctx.warnings.add(`${rel} builds no executable (no addExecutable): nothing to run`);
      return detection;
    }
    const why = exe ? `${rel}: addExecutable .name = "${name}"` : `${rel}: addExecutable; ${zonRel}: .name`;
    fields.scripts_build = { value: 'zig build -Doptimize=ReleaseSafe', evidence: why };
    fields.scripts_start = { value: `./zig-out/bin/${name}`, evidence: `zig build installs ${name} into zig-out/bin` };
    const root = /\.root_source_file\s*=\s*b\.path\(\s*"([^"]+)"\s*\)/.exec(text)?.[1] ?? /\.root_source_file\s*=\s*\.\{\s*\.path\s*=\s*"([^"]+)"/.exec(text)?.[1];
    if (root && ctx.fs.has(inDir(ctx.dir, root))) fields.entry_point = { value: root, evidence: `${rel}: root_source_file` };
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.zig']).filter((file) => !file.endsWith('build.zig'));
    const server = await findInSources(ctx, files, /\bstd\.http\.Server\b|\bhttp\.Server\.init\(|\bzap\.HttpListener\b|\bhttpz\.Server\b|\.listen\(\s*\.\{/);
    if (server) {
      fields.project_type = { value: 'web', evidence: `${server.file}:${server.line} starts an HTTP server` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
    } else {
      fields.project_type = { value: 'worker', evidence: `${name}: no HTTP server in the code` };
    }
    return detection;
  },
};
