/**
 * Dart: `pubspec.yaml`. A Dart server compiles to a native executable, as Dart's own server
 * templates and Dockerfile do: `dart pub get && dart compile exe bin/server.dart -o bin/server`, start
 * `./bin/server` (entry: bin/server.dart, else bin/<name>.dart, else the only bin/*.dart). Dart Frog
 * generates its server first (`dart_frog build`, then build/bin/server.dart). A Flutter app is a
 * static web build (`flutter build web`, served from build/web) when it has a web/ target, and not
 * deployable otherwise (mobile only).
 *
 * Web when it uses shelf / dart:io `HttpServer` / Dart Frog; the port is the default of the code's
 * `Platform.environment['PORT']` read or the literal it binds (Dart Frog: 8080).
 */
import { parseYaml } from '../yaml.js';
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const PORT_PATTERNS = [
  /environment\[\s*['"]PORT['"]\s*\]\s*\?\?\s*['"]?(\d{2,5})/,
  /\bserve\([^;]*?,\s*(\d{2,5})\s*\)/,
  /\bHttpServer\.bind\([^,]+,\s*(\d{2,5})\b/,
  /\bport\s*=\s*(\d{2,5})\b/,
];

export const dart: RuntimeDetector = {
  id: 'dart',
  kind: 'runtime',
  refusalHint: {
    languages: ['dart'],
    missingStart: 'no bin/server.dart or bin/<name>.dart entry (or a Flutter app without web/); add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'pubspec.yaml');
    const text = await ctx.manifests.text(rel);
    if (text === null) return null;
    let pubspec: { name?: unknown; environment?: { sdk?: unknown } | null; dependencies?: Record<string, unknown> | null } = {};
    try {
      pubspec = (parseYaml(text) as typeof pubspec | null) ?? {};
    } catch {
      ctx.warnings.add(`${rel} is not valid YAML; its name and dependencies were not read`);
    }
    const deps = pubspec.dependencies && typeof pubspec.dependencies === 'object' ? Object.keys(pubspec.dependencies) : [];
    const flutter = deps.includes('flutter');
    const fields: Conclusions = {
      language: { value: 'dart', evidence: `${rel} exists` },
      package_manager: { value: flutter ? 'flutter' : 'pub', evidence: `${rel}${flutter ? ': dependencies.flutter' : ' exists'}` },
    };
    const name = typeof pubspec.name === 'string' ? pubspec.name : undefined;
    if (name) fields.name = { value: name.replace(/_/g, '-'), evidence: `${rel}: name` };
    if (typeof pubspec.environment?.sdk === 'string') fields.language_version = { value: pubspec.environment.sdk, evidence: `${rel}: environment.sdk` };
    const lock = inDir(ctx.dir, 'pubspec.lock');
    if (ctx.fs.has(lock)) {
      fields.lockfile = { value: 'pubspec.lock', evidence: `${lock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: lock };
    } else {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${rel} without pubspec.lock` };
      ctx.warnings.add('pubspec.lock is missing: clean cloud builds may resolve different package versions (commit pubspec.lock for applications)');
    }
    const detection: Detection = { id: 'dart', tier: TIER.bare, fields, toolchain: { install: flutter ? 'flutter pub get' : 'dart pub get', runPrefix: '' } };

    if (flutter) {
      const web = inDir(ctx.dir, 'web/index.html');
      if (!ctx.fs.has(web)) {
        ctx.warnings.add(`${rel}: a Flutter app without a web/ target (mobile only): nothing to deploy as a web service`);
        return detection;
      }
      fields.framework = { value: 'static', evidence: `${rel}: Flutter web (${web})` };
      fields.project_type = { value: 'static', evidence: `${web}: Flutter builds a static web bundle` };
      fields.scripts_build = { value: 'flutter pub get && flutter build web --release', evidence: `${web} exists` };
      fields.output_directory = { value: 'build/web', evidence: 'flutter build web writes build/web' };
      detection.servesStatically = true;
      detection.tier = TIER.frontend;
      return detection;
    }

    const files = sourceFiles(ctx, ['.dart']);
    const frog = deps.includes('dart_frog');
    let entry: string | undefined;
    if (frog) {
      fields.scripts_build = { value: 'dart pub get && dart pub global activate dart_frog_cli && dart pub global run dart_frog_cli:dart_frog build && dart compile exe build/bin/server.dart -o build/bin/server', evidence: `${rel}: dependencies.dart_frog` };
      fields.scripts_start = { value: './build/bin/server', evidence: 'dart_frog build generates build/bin/server.dart, compiled to build/bin/server' };
    } else {
      const bins = ctx.fs.list(inDir(ctx.dir, 'bin')).filter((file) => file.endsWith('.dart'));
      entry = bins.includes('server.dart') ? 'bin/server.dart' : name && bins.includes(`${name}.dart`) ? `bin/${name}.dart` : bins.length === 1 ? `bin/${bins[0] as string}` : undefined;
      if (!entry) {
        ctx.warnings.add(`${rel}: no bin/server.dart, bin/${name ?? '<name>'}.dart or single bin/*.dart entry: nothing to compile and run`);
        return detection;
      }
      const exe = entry.replace(/\.dart$/, '');
      fields.entry_point = { value: entry, evidence: `${inDir(ctx.dir, entry)} exists` };
      fields.scripts_build = { value: `dart pub get && dart compile exe ${entry} -o ${exe}`, evidence: `${inDir(ctx.dir, entry)}: compiled to a native executable` };
      fields.scripts_start = { value: `./${exe}`, evidence: `the executable compiled from ${entry}` };
    }
    detection.tier = TIER.backend;
    const server = await findInSources(ctx, files, /\bshelf_io\.serve\(|\bio\.serve\(|\bHttpServer\.bind(?:Secure)?\(|\bserve\(\s*\w+/);
    if (frog || server || deps.includes('shelf')) {
      fields.project_type = { value: 'web', evidence: server ? `${server.file}:${server.line} starts an HTTP server` : `${rel}: dependencies.${frog ? 'dart_frog' : 'shelf'}` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
      if (frog) detection.portDefault = { value: 8080, evidence: 'Dart Frog serves on 8080 by default' };
    } else {
      fields.project_type = { value: 'worker', evidence: `${entry ?? rel}: no HTTP server in the code` };
    }
    return detection;
  },
};
