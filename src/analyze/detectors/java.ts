/**
 * JVM: Maven (`pom.xml`) or Gradle (`build.gradle(.kts)`, or a `settings.gradle(.kts)` root).
 * Decides the language (Kotlin when the Kotlin plugin is applied or src/main/kotlin exists, else
 * Java), the Java version (.java-version, system.properties, .sdkmanrc, pom properties, Gradle
 * toolchain / sourceCompatibility), the build tool and its wrapper version, and a generic build
 * (`./mvnw -DskipTests package`, `./gradlew build -x test`). A start command is written only with
 * evidence: Gradle's `application` plugin (`installDist` -> `build/install/<name>/bin/<name>`, the
 * name from settings or, as Gradle does, the folder); a jar whose manifest names its main class
 * (Maven: maven-jar-plugin / maven-shade-plugin / maven-assembly-plugin `mainClass`; Gradle: the
 * `jar` task's `Main-Class` attribute) -> `java -jar` that jar (never a `-plain` jar); Maven's
 * exec-maven-plugin -> `mvn exec:java`. Such a plain JVM app is web when its code starts a server
 * (JDK HttpServer, Javalin, Jetty, Undertow, Vert.x, Helidon, Spark); the port is the default of its
 * PORT read or the literal it binds. The spring-boot detector refines it.
 */
import type { GradleBuild, GradleSettings } from '../manifests-backend.js';
import type { PomXml } from '../manifests-backend.js';
import { TIER, inDir, joinRel, type Conclusion, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';
import { child, childrenNamed, descendants, parseXml, textAt } from '../xml.js';
import { substitutePomProperties } from '../manifests-backend.js';
import { findInSources, folderName, portFromSources, sourceFiles } from './source-hints.js';

export interface JvmProject {
  tool: 'maven' | 'gradle';
  /** `./mvnw`, `mvn`, `./gradlew`, `gradle`. */
  command: string;
  pom: PomXml | null;
  gradle: GradleBuild | null;
  settings: GradleSettings | null;
}

export async function jvmProject(ctx: DetectContext): Promise<JvmProject | null> {
  const pom = await ctx.manifests.pomXml(ctx.dir);
  const gradle = await ctx.manifests.gradleBuild(ctx.dir);
  const settings = await ctx.manifests.gradleSettings(ctx.dir);
  if (!pom && !gradle && !settings) return null;
  // Both builds (spring-petclinic ships pom.xml and build.gradle): the one with a wrapper, else Maven.
  const hasMvnw = ctx.fs.has(inDir(ctx.dir, 'mvnw'));
  const hasGradlew = ctx.fs.has(inDir(ctx.dir, 'gradlew'));
  const tool = pom && (gradle || settings) ? (hasGradlew && !hasMvnw ? 'gradle' : 'maven') : pom ? 'maven' : 'gradle';
  const wrapper = tool === 'maven' ? 'mvnw' : 'gradlew';
  const command = ctx.fs.has(inDir(ctx.dir, wrapper)) ? `./${wrapper}` : tool === 'maven' ? 'mvn' : 'gradle';
  return { tool, command, pom, gradle, settings };
}

async function javaVersion(ctx: DetectContext, project: JvmProject): Promise<Conclusions['language_version']> {
  const javaVersionFile = inDir(ctx.dir, '.java-version');
  const first = (await ctx.manifests.text(javaVersionFile))?.split(/\r?\n/)[0]?.trim();
  if (first) return { value: first, evidence: javaVersionFile };
  const systemProperties = inDir(ctx.dir, 'system.properties');
  const runtime = /^\s*java\.runtime\.version\s*=\s*(\S+)/m.exec((await ctx.manifests.text(systemProperties)) ?? '')?.[1];
  if (runtime) return { value: runtime, evidence: `${systemProperties}: java.runtime.version` };
  const sdkman = inDir(ctx.dir, '.sdkmanrc');
  const fromSdkman = /^\s*java\s*=\s*(\d+(?:\.\d+)*)/m.exec((await ctx.manifests.text(sdkman)) ?? '')?.[1];
  if (fromSdkman) return { value: fromSdkman, evidence: `${sdkman}: java` };
  if (project.pom) {
    for (const key of ['java.version', 'maven.compiler.release', 'maven.compiler.source', 'maven.compiler.target', 'jdk.version', 'java.release']) {
      const value = project.pom.properties[key];
      if (value && /^\d/.test(value)) return { value: value.replace(/^1\.(\d{2,})$/, '$1'), evidence: `${project.pom.path}: properties.${key}` };
    }
  }
  if (project.gradle?.javaVersion) return { value: project.gradle.javaVersion.value, evidence: `${project.gradle.path}:${project.gradle.javaVersion.line}` };
  return undefined;
}

/** Maven or Gradle version from the wrapper's distributionUrl. */
async function wrapperVersion(ctx: DetectContext, tool: 'maven' | 'gradle'): Promise<{ value: string; evidence: string } | undefined> {
  const rel = inDir(ctx.dir, tool === 'maven' ? '.mvn/wrapper/maven-wrapper.properties' : 'gradle/wrapper/gradle-wrapper.properties');
  const text = await ctx.manifests.text(rel);
  const version = text ? (tool === 'maven' ? /apache-maven-(\d[\w.-]*?)-bin\.zip/ : /gradle-(\d[\w.-]*?)-(?:bin|all)\.zip/).exec(text)?.[1] : undefined;
  return version ? { value: version, evidence: `${rel}: distributionUrl` } : undefined;
}

/** Spring Boot evidence in one Maven or Gradle build: the parent, a Boot dependency or the plugin. */
export function springBootIn(project: Pick<JvmProject, 'pom' | 'gradle'>): string | undefined {
  const pom = project.pom;
  if (pom) {
    if (pom.parent?.artifactId === 'spring-boot-starter-parent') return `${pom.path}: parent spring-boot-starter-parent${pom.parent.version ? ` ${pom.parent.version}` : ''}`;
    if (pom.plugins.includes('org.springframework.boot:spring-boot-maven-plugin')) return `${pom.path}: spring-boot-maven-plugin`;
    const dep = pom.dependencies.find((d) => d.name.startsWith('org.springframework.boot:spring-boot-starter') && !d.dev);
    if (dep) return dep.source;
  }
  if (project.gradle?.plugins.includes('org.springframework.boot')) return `${project.gradle.path}: plugin org.springframework.boot`;
  return undefined;
}

/**
 * The Spring Boot application of a JVM build: the root itself, or the one module (Maven
 * `<modules>`, Gradle `include`) that applies Spring Boot with its plugin.
 */
export async function springBootApp(ctx: DetectContext, project: JvmProject): Promise<{ module: string; project: JvmProject; evidence: string } | null> {
  const root = springBootIn(project);
  const modules = project.tool === 'maven' ? (project.pom?.modules ?? []) : (project.settings?.includes ?? []);
  if (root && modules.length === 0) return { module: '', project, evidence: root };
  const found: Array<{ module: string; project: JvmProject; evidence: string; plugin: boolean }> = [];
  for (const module of modules.slice(0, 50)) {
    const dir = inDir(ctx.dir, module);
    const sub: JvmProject = {
      tool: project.tool,
      command: project.command,
      pom: project.tool === 'maven' ? await ctx.manifests.pomXml(dir) : null,
      gradle: project.tool === 'gradle' ? await ctx.manifests.gradleBuild(dir, ctx.dir) : null,
      settings: null,
    };
    const evidence = springBootIn(sub);
    if (!evidence) continue;
    const plugin = sub.pom?.plugins.includes('org.springframework.boot:spring-boot-maven-plugin') || sub.gradle?.plugins.includes('org.springframework.boot') || false;
    found.push({ module, project: sub, evidence, plugin });
  }
  const apps = found.filter((f) => f.plugin);
  const pick = apps[0] ?? found[0];
  if (pick) {
    if (apps.length > 1) ctx.warnings.add(`several Spring Boot modules (${apps.map((a) => a.module).join(', ')}); ${pick.module} was chosen, the others are not deployed`);
    return { module: pick.module, project: pick.project, evidence: pick.evidence };
  }
  return root ? { module: '', project, evidence: root } : null;
}

export function isKotlin(ctx: DetectContext, project: JvmProject, dir = ''): string | undefined {
  const plugin = project.gradle?.plugins.find((id) => id.startsWith('org.jetbrains.kotlin.'));
  if (plugin) return `${project.gradle?.path}: plugin ${plugin}`;
  if (project.pom?.plugins.includes('org.jetbrains.kotlin:kotlin-maven-plugin')) return `${project.pom.path}: kotlin-maven-plugin`;
  const sources = inDir(joinRel(ctx.dir, dir), 'src/main/kotlin');
  if (ctx.fs.hasDir(sources)) return `${sources} exists`;
  return undefined;
}

/**
 * The runnable jar a Maven build declares: the shaded jar (it replaces the main artifact), the
 * assembly's `-jar-with-dependencies` jar, or the maven-jar-plugin jar with a manifest main class;
 * exec-maven-plugin runs the class with Maven. Spring Boot's plugin is the spring-boot detector's.
 */
async function mavenMain(ctx: DetectContext, project: JvmProject): Promise<Conclusion<string> | null> {
  const pom = project.pom;
  if (!pom) return null;
  const root = child(parseXml((await ctx.manifests.text(pom.path)) ?? ''), 'project');
  const plugins = childrenNamed(child(child(root, 'build'), 'plugins'), 'plugin');
  const base = substitutePomProperties(pom.finalName ?? `${pom.artifactId ?? ''}-${pom.version ?? ''}`, pom);
  if (base.includes('${') || !pom.artifactId) return null;
  const mainOf = (plugin: string): string | undefined => {
    const node = plugins.find((p) => textAt(p, ['artifactId']) === plugin);
    const main = node ? descendants(node, 'mainClass')[0]?.text : undefined;
    return main && main !== '' ? substitutePomProperties(main, pom) : undefined;
  };
  for (const [plugin, jar] of [
    ['maven-shade-plugin', `${base}.jar`],
    ['maven-assembly-plugin', `${base}-jar-with-dependencies.jar`],
    ['maven-jar-plugin', `${base}.jar`],
  ] as const) {
    const main = mainOf(plugin);
    if (main) return { value: `java -jar target/${jar}`, evidence: `${pom.path}: ${plugin} mainClass ${main}` };
  }
  const exec = mainOf('exec-maven-plugin');
  if (exec) return { value: `${project.command} exec:java`, evidence: `${pom.path}: exec-maven-plugin mainClass ${exec}` };
  return null;
}

/** Gradle's `jar { manifest { attributes 'Main-Class': ... } }`: `java -jar build/libs/<name>[-<version>].jar`. */
async function gradleJarMain(ctx: DetectContext, project: JvmProject): Promise<Conclusion<string> | null> {
  const gradle = project.gradle;
  if (!gradle) return null;
  const text = (await ctx.manifests.text(gradle.path)) ?? '';
  const main = /["']Main-Class["']\s*(?::|to|\]\s*=|,)\s*["']([\w.$]+)["']/.exec(text)?.[1];
  if (!main) return null;
  const name = gradle.archiveBaseName ?? project.settings?.rootProjectName ?? folderName(ctx);
  const jar = gradle.archiveFileName ?? `${name}${gradle.version ? `-${gradle.version}` : ''}.jar`;
  if (!gradle.archiveFileName && gradle.versionDeclared && !gradle.version) return { value: `java -jar $(ls build/libs/${name}-*.jar | grep -v -- -plain)`, evidence: `${gradle.path}: jar Main-Class ${main} (computed version)` };
  return { value: `java -jar build/libs/${jar}`, evidence: `${gradle.path}: jar Main-Class ${main}; jar ${jar}` };
}

const JVM_SERVER = /\bHttpServer\.create\(|\bJavalin\.create\(|\bnew\s+Server\(\s*(?:\d|port)|\bUndertow\.builder\(|\bcreateHttpServer\(|\bWebServer\.builder\(|\bembeddedServer\(|\bSpark\.port\(|\bNettyServer\b|\bHttpServer\.newServer\(/;
const JVM_PORTS = [
  /getOrDefault\(\s*"PORT"\s*,\s*"(\d{2,5})"\s*\)/,
  /"PORT"\s*\)\s*\)?[^;\n]{0,80}?(?:orElse|:|,)\s*\(?\s*"?(\d{2,5})"?/,
  /\bnew\s+InetSocketAddress\(\s*(?:"[^"\n]*"\s*,\s*)?(\d{2,5})\s*\)/,
  /\.start\(\s*(\d{2,5})\s*\)/,
  /\bport\(\s*(\d{2,5})\s*\)/,
  /\bnew\s+Server\(\s*(\d{2,5})\s*\)/,
];

/** Web or worker for a plain JVM app (no Spring Boot / Quarkus / Ktor), from its code. */
async function plainJvmRole(ctx: DetectContext, detection: Detection): Promise<void> {
  const files = sourceFiles(ctx, ['.java', '.kt']).filter((file) => file.includes('src/main/'));
  const server = await findInSources(ctx, files, JVM_SERVER);
  if (!server) {
    detection.fields.project_type = { value: 'worker', evidence: 'a runnable JVM application whose code starts no HTTP server' };
    return;
  }
  detection.fields.project_type = { value: 'web', evidence: `${server.file}:${server.line} starts an HTTP server` };
  detection.fields.entry_point = { value: ctx.dir === '' ? server.file : server.file.slice(ctx.dir.length + 1), evidence: `${server.file}:${server.line} starts the server` };
  const port = await portFromSources(ctx, files, JVM_PORTS);
  if (port) detection.portHints = [port];
}

export const java: RuntimeDetector = {
  id: 'java',
  kind: 'runtime',
  refusalHint: {
    languages: ['java', 'kotlin'],
    missingStart: 'no Spring Boot application or Gradle application plugin; add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const project = await jvmProject(ctx);
    if (!project) return null;
    const manifest = project.tool === 'maven' ? (project.pom?.path as string) : (project.gradle?.path ?? project.settings?.path ?? '');
    const kotlin = isKotlin(ctx, project);
    const fields: Conclusions = {
      language: kotlin ? { value: 'kotlin', evidence: kotlin } : { value: 'java', evidence: `${manifest} exists` },
      package_manager: { value: project.tool, evidence: `${manifest} exists` },
    };
    const name = project.pom?.artifactId ?? project.settings?.rootProjectName;
    if (name) fields.name = { value: name, evidence: project.pom?.artifactId ? `${project.pom.path}: artifactId` : `${project.settings?.path}: rootProject.name` };
    const version = await javaVersion(ctx, project);
    if (version) fields.language_version = version;
    const toolVersion = await wrapperVersion(ctx, project.tool);
    if (toolVersion) fields.package_manager_version = toolVersion;

    const gradleLock = inDir(ctx.dir, 'gradle.lockfile');
    const drifting = project.tool === 'maven' ? (project.pom?.versionRanges ?? []) : (project.gradle?.dynamicVersions ?? []);
    if (project.tool === 'gradle' && ctx.fs.has(gradleLock)) {
      fields.lockfile = { value: 'gradle.lockfile', evidence: `${gradleLock} exists` };
      fields.dependency_resolution = { value: 'locked', evidence: gradleLock };
    } else if (drifting.length > 0) {
      fields.dependency_resolution = { value: 'unlocked', evidence: `${manifest} declares version ranges or dynamic versions (${drifting.slice(0, 3).join(', ')})` };
      ctx.warnings.add(`${manifest} declares version ranges or dynamic versions (${drifting.slice(0, 3).join(', ')}): clean cloud builds may resolve different versions`);
    } else {
      fields.dependency_resolution = { value: 'locked', evidence: `${manifest} pins every declared version (no ranges or dynamic versions)` };
    }

    const detection: Detection = { id: 'java', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };
    const deps = [...(project.pom?.dependencies ?? []), ...(project.gradle?.dependencies ?? [])].filter((dep) => !dep.dev);
    const quarkus =
      deps.find((dep) => dep.name.startsWith('io.quarkus:quarkus-')) ??
      (project.pom?.plugins.some((p) => p.endsWith(':quarkus-maven-plugin')) || project.gradle?.plugins.includes('io.quarkus') ? { source: `${manifest}: Quarkus plugin` } : undefined);
    const ktor = deps.find((dep) => dep.name.startsWith('io.ktor:ktor-server'));
    if (quarkus) {
      // Quarkus (no framework value in the spec's list): the fast-jar layout, HTTP on 8080.
      const out = project.tool === 'maven' ? 'target' : 'build';
      fields.scripts_build = { value: project.tool === 'maven' ? `${project.command} -DskipTests package` : `${project.command} build -x test`, evidence: quarkus.source };
      fields.scripts_start = { value: `java -Dquarkus.http.host=0.0.0.0 -Dquarkus.http.port=$PORT -jar ${out}/quarkus-app/quarkus-run.jar`, evidence: `${quarkus.source}: Quarkus fast-jar` };
      fields.project_type = { value: 'web', evidence: quarkus.source };
      detection.portDefault = { value: 8080, evidence: 'Quarkus default HTTP port 8080' };
      detection.tier = TIER.backend;
      return detection;
    }
    const boot = await springBootApp(ctx, project);
    if (project.tool === 'maven') {
      fields.scripts_build = { value: `${project.command} -DskipTests package`, evidence: `${manifest}: Maven package` };
      const main = boot ? null : await mavenMain(ctx, project);
      if (main) {
        fields.scripts_start = main;
        detection.tier = TIER.backend;
        await plainJvmRole(ctx, detection);
      }
    } else if (project.gradle?.plugins.includes('application')) {
      // Gradle names the project after its folder unless settings.gradle says otherwise.
      const app = project.settings?.rootProjectName ?? folderName(ctx);
      const named = project.settings?.rootProjectName ? `${project.settings.path}: rootProject.name` : `the folder name (Gradle's default project name; no rootProject.name)`;
      fields.scripts_build = { value: `${project.command} installDist -x test`, evidence: `${project.gradle.path}: application plugin` };
      fields.scripts_start = { value: `build/install/${app}/bin/${app}`, evidence: `${project.gradle.path}: application plugin; ${named}` };
      detection.tier = TIER.backend;
      if (ktor) {
        fields.project_type = { value: 'web', evidence: `${ktor.source} (Ktor server)` };
        detection.portDefault = { value: 8080, evidence: 'Ktor default port 8080' };
      } else await plainJvmRole(ctx, detection);
    } else {
      fields.scripts_build = { value: `${project.command} build -x test`, evidence: `${manifest}: Gradle build` };
      const main = boot ? null : await gradleJarMain(ctx, project);
      if (main) {
        fields.scripts_start = main;
        detection.tier = TIER.backend;
        await plainJvmRole(ctx, detection);
      }
    }
    if (!fields.scripts_start && !boot) {
      ctx.warnings.add(`${manifest}: no web framework and no runnable application was recognised; the start command is unknown (add a Procfile web entry or a Dockerfile with CMD)`);
    }
    return detection;
  },
};
