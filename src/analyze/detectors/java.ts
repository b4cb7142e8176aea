/**
 * JVM: Maven (`pom.xml`) or Gradle (`build.gradle(.kts)`, or a `settings.gradle(.kts)` root).
 * Decides the language (Kotlin when the Kotlin plugin is applied or src/main/kotlin exists, else
 * Java), the Java version (.java-version, system.properties, .sdkmanrc, pom properties, Gradle
 * toolchain / sourceCompatibility), the build tool and its wrapper version, and a generic build
 * (`./mvnw -DskipTests package`, `./gradlew build -x test`). A start command is written only with
 * evidence: Gradle's `application` plugin (`installDist` → `build/install/<name>/bin/<name>`).
 * The spring-boot detector refines it.
 */
import type { GradleBuild, GradleSettings } from '../manifests-backend.js';
import type { PomXml } from '../manifests-backend.js';
import { TIER, inDir, joinRel, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

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

export const java: RuntimeDetector = {
  id: 'java',
  kind: 'runtime',
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
    if (project.tool === 'maven') {
      fields.scripts_build = { value: `${project.command} -DskipTests package`, evidence: `${manifest}: Maven package` };
    } else if (project.gradle?.plugins.includes('application')) {
      const app = project.settings?.rootProjectName;
      fields.scripts_build = { value: `${project.command} installDist -x test`, evidence: `${project.gradle.path}: application plugin` };
      if (app) {
        fields.scripts_start = { value: `build/install/${app}/bin/${app}`, evidence: `${project.gradle.path}: application plugin; ${project.settings?.path}: rootProject.name` };
        fields.project_type = ktor
          ? { value: 'web', evidence: `${ktor.source} (Ktor server)` }
          : { value: 'worker', evidence: 'a JVM application with no web framework detected' };
        if (ktor) detection.portDefault = { value: 8080, evidence: 'Ktor default port 8080' };
        detection.tier = TIER.backend;
      }
    } else {
      fields.scripts_build = { value: `${project.command} build -x test`, evidence: `${manifest}: Gradle build` };
    }
    if (!fields.scripts_start && !(await springBootApp(ctx, project))) {
      ctx.warnings.add(`${manifest}: no web framework and no runnable application was recognised; the start command is unknown (add a Procfile web entry or a Dockerfile with CMD)`);
    }
    return detection;
  },
};
