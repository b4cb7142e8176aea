/**
 * Scala: sbt (`build.sbt`). With sbt-native-packager (`enablePlugins(JavaAppPackaging)`, or Play's
 * `PlayScala`) the app is staged, as nixpacks and Heroku's Scala buildpack do: `sbt stage`, start
 * `target/universal/stage/bin/<script>` (`executableScriptName`, else the normalized project name).
 * Play listens on `-Dhttp.port=$PORT` (9000 by default). With sbt-assembly: `sbt assembly` and
 * `java -jar` the fat jar. Neither: the start command is unknown.
 *
 * Web when it depends on http4s / Akka HTTP / Pekko HTTP / Play / Cask / ZIO HTTP / Scalatra /
 * Finatra; the port is the default of the code's PORT read or the literal it binds.
 */
import { TIER, inDir, type Conclusions, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const SERVER_LIBS = /^(?:http4s-(?:ember|blaze|netty|jetty)-server|akka-http|pekko-http|play|cask|zio-http|scalatra|finatra-http-server|finagle-http|tapir-netty-server|vertx-web)/;
const PORT_PATTERNS = [
  /"PORT"\s*[,)][^\n]{0,60}?"?(\d{2,5})"?/,
  /\.withPort\(\s*(?:port"|Port\.fromInt\(\s*)?(\d{2,5})/,
  /\b(?:newServerAt|bindHttp|bindAndHandle)\([^)\n]*?(\d{2,5})\s*\)/,
  /\bdef\s+port\s*(?::\s*Int\s*)?=\s*(\d{2,5})/,
  /\bdefaultWithPort\(\s*(\d{2,5})/,
];

export const scala: RuntimeDetector = {
  id: 'scala',
  kind: 'runtime',
  refusalHint: {
    languages: ['scala'],
    missingStart: 'build.sbt enables neither sbt-native-packager (JavaAppPackaging) nor sbt-assembly; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'build.sbt');
    const raw = await ctx.manifests.text(rel);
    if (raw === null) return null;
    const text = raw.replace(/(?<!:)\/\/.*$/gm, '');
    const plugins = ((await ctx.manifests.text(inDir(ctx.dir, 'project/plugins.sbt'))) ?? '').replace(/(?<!:)\/\/.*$/gm, '');
    const fields: Conclusions = {
      language: { value: 'scala', evidence: `${rel} exists` },
      package_manager: { value: 'sbt', evidence: `${rel} exists` },
    };
    const name = /\bname\s*:=\s*"([^"]+)"/.exec(text)?.[1];
    if (name) fields.name = { value: name, evidence: `${rel}: name` };
    const version = /\bscalaVersion\s*:=\s*"([^"]+)"/.exec(text)?.[1];
    if (version) fields.language_version = { value: version, evidence: `${rel}: scalaVersion` };
    const sbtVersion = /^\s*sbt\.version\s*=\s*(\S+)/m.exec((await ctx.manifests.text(inDir(ctx.dir, 'project/build.properties'))) ?? '')?.[1];
    if (sbtVersion) fields.package_manager_version = { value: sbtVersion, evidence: `${inDir(ctx.dir, 'project/build.properties')}: sbt.version` };
    const deps = [...text.matchAll(/"([\w.-]+)"\s*%%%?\s*"([\w.-]+)"|"([\w.-]+)"\s*%\s*"([\w.-]+)"/g)].map((m) => (m[2] ?? m[4]) as string);
    const dynamic = [...text.matchAll(/%\s*"(latest\.\w+|[^"]*\+)"/g)].map((m) => m[1] as string);
    fields.dependency_resolution =
      dynamic.length > 0
        ? { value: 'unlocked', evidence: `${rel} declares dynamic versions (${dynamic.slice(0, 3).join(', ')})` }
        : { value: 'locked', evidence: `${rel} pins every declared version` };
    const detection: Detection = { id: 'scala', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };

    const play = /\bPlayScala\b|\bPlayJava\b/.test(text);
    const packager = play || /enablePlugins\([^)]*\bJavaAppPackaging\b/.test(text);
    const assembly = /sbt-assembly/.test(plugins);
    const normalized = (name ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const script = /\bexecutableScriptName\s*:=\s*"([^"]+)"/.exec(text)?.[1] ?? normalized;
    if (packager && script) {
      const why = play ? `${rel}: enablePlugins(PlayScala)` : `${rel}: enablePlugins(JavaAppPackaging)`;
      fields.scripts_build = { value: 'sbt stage', evidence: `${why} (sbt-native-packager)` };
      fields.scripts_start = {
        value: `target/universal/stage/bin/${script}${play ? ' -Dhttp.port=$PORT' : ''}`,
        evidence: /executableScriptName/.test(text) ? `${rel}: executableScriptName "${script}"` : `sbt stage writes bin/${script} (the normalized name "${name as string}")`,
      };
    } else if (assembly) {
      const jar = /assemblyJarName\s*(?:in\s+assembly\s*)?:=\s*"([^"]+)"/.exec(text)?.[1];
      fields.scripts_build = { value: 'sbt assembly', evidence: `${inDir(ctx.dir, 'project/plugins.sbt')}: sbt-assembly` };
      fields.scripts_start = { value: `java -jar target/scala-*/${jar ?? '*-assembly-*.jar'}`, evidence: jar ? `${rel}: assemblyJarName "${jar}"` : 'sbt assembly writes target/scala-<version>/<name>-assembly-<version>.jar' };
    } else {
      ctx.warnings.add(`${rel}: no sbt-native-packager (enablePlugins(JavaAppPackaging)) or sbt-assembly; the start command is unknown (add one of them, a Procfile web entry or a Dockerfile with CMD)`);
      return detection;
    }
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.scala', '.sc']);
    const lib = deps.find((dep) => SERVER_LIBS.test(dep)) ?? (play ? 'play' : undefined);
    if (lib) {
      fields.project_type = { value: 'web', evidence: play ? `${rel}: Play Framework` : `${rel}: ${lib}` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files, [/Root\s*\/\s*\"(health|healthz|ready|readyz|livez)\"/]);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
      if (play) detection.portDefault = { value: 9000, evidence: 'Play listens on 9000 unless -Dhttp.port says otherwise' };
      const server = await findInSources(ctx, files, /\bextends\s+(?:IOApp|ZIOAppDefault|cask\.MainRoutes)|\bdef\s+main\s*\(|@main\b/);
      if (server) fields.entry_point = { value: ctx.dir === '' ? server.file : server.file.slice(ctx.dir.length + 1), evidence: `${server.file}:${server.line} is the main entry` };
    } else {
      fields.project_type = { value: 'worker', evidence: `${rel}: no HTTP server dependency` };
    }
    return detection;
  },
};
