/**
 * Spring Boot: the `spring-boot-starter-parent` parent, a `spring-boot-starter*` dependency or the
 * Boot plugin (Maven) / the `org.springframework.boot` plugin (Gradle), at the root or in one module
 * of a multi-module build.
 *
 * Build: `./mvnw -DskipTests package` (`-pl <module> -am` for a module) or `./gradlew bootJar`
 * (`:<module>:bootJar`). Start: `java -Dserver.port=$PORT -jar <jar>`, the jar named from
 * finalName / artifactId-version (Maven) or archiveFileName / project name-version (Gradle), a glob
 * when the name is computed. Port: `server.port` in application.properties / application.yml
 * (`${PORT:8080}` -> 8080), else Spring Boot's 8080. Engines also from `spring.datasource.url`
 * (`jdbc:postgresql:`), `spring.data.mongodb.*` and `spring.data.redis.*` / `spring.redis.*`.
 * A Boot app without a web starter is a worker (no port).
 */
import path from 'node:path';
import { parseAllDocuments } from '../yaml.js';
import { engineOfDependency } from '../databases.js';
import { substitutePomProperties } from '../manifests-backend.js';
import type { Engine } from '../schema.js';
import { TIER, inDir, joinRel, type Conclusion, type Conclusions, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { jvmProject, springBootApp, type JvmProject } from './java.js';
import type { EnvReadSyntax } from '../scan-model.js';

const EMBEDDED_DATABASES = ['com.h2database:h2', 'org.hsqldb:hsqldb', 'org.apache.derby:derby', 'org.apache.derby:derbyclient'];
const WEB_STARTERS = ['web', 'webflux', 'jersey', 'websocket', 'data-rest', 'graphql', 'hateoas', 'web-services'].map((s) => `org.springframework.boot:spring-boot-starter-${s}`);

/** Flattened `a.b.c` -> value of the default profile of application.properties / .yml. */
async function springConfig(ctx: DetectContext, moduleDir: string): Promise<{ values: Map<string, { value: string; where: string }>; file: string } | null> {
  const base = inDir(joinRel(ctx.dir, moduleDir), 'src/main/resources');
  for (const name of ['application.properties', 'application.yml', 'application.yaml']) {
    const rel = inDir(base, name);
    const text = await ctx.manifests.text(rel);
    if (text === null) continue;
    const values = new Map<string, { value: string; where: string }>();
    if (name.endsWith('.properties')) {
      text.split(/\r?\n/).forEach((line, index) => {
        const m = /^\s*([\w.[\]-]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
        if (m && !line.trimStart().startsWith('#') && !line.trimStart().startsWith('!')) values.set(m[1] as string, { value: m[2] as string, where: `${rel}:${index + 1}` });
      });
      return { values, file: rel };
    }
    try {
      for (const doc of parseAllDocuments(text)) {
        const json = doc.toJS({ maxAliasCount: 100 }) as unknown;
        const flat = new Map<string, string>();
        const walk = (value: unknown, prefix: string): void => {
          if (value && typeof value === 'object' && !Array.isArray(value)) {
            for (const [key, inner] of Object.entries(value as Record<string, unknown>)) walk(inner, prefix ? `${prefix}.${key}` : key);
          } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') flat.set(prefix, String(value));
        };
        walk(json, '');
        if (flat.has('spring.config.activate.on-profile') || flat.has('spring.profiles')) continue; // a profile-specific document
        for (const [key, value] of flat) if (!values.has(key)) values.set(key, { value, where: `${rel}: ${key}` });
      }
    } catch {
      ctx.warnings.add(`${rel} could not be parsed as YAML; server.port and datasource settings were not read`);
    }
    return { values, file: rel };
  }
  return null;
}

/** `8080`, `${PORT:8080}`, `${SERVER_PORT:${PORT:8080}}` -> 8080; `${PORT}` -> undefined. */
export function springPort(value: string): number | undefined {
  const literal = /^(\d{2,5})$/.exec(value.trim()) ?? /:(\d{2,5})\}+$/.exec(value.trim());
  const port = literal ? Number(literal[1]) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

function jdbcEngine(url: string): Engine | null {
  if (/^jdbc:postgresql:|^r2dbc:postgres(?:ql)?:/.test(url)) return 'postgres';
  if (/^jdbc:(?:mysql|mariadb):|^r2dbc:(?:mysql|mariadb):/.test(url)) return 'mysql';
  if (/^jdbc:(?:clickhouse|ch):/.test(url)) return 'clickhouse';
  return null;
}

function jarOf(project: JvmProject, root: JvmProject, module: string): { path: string; evidence: string } {
  const prefix = module ? `${module}/` : '';
  if (project.tool === 'maven' && project.pom) {
    const pom = project.pom;
    const raw = pom.finalName ?? (pom.artifactId && pom.version ? `${pom.artifactId}-${pom.version}` : undefined);
    const name = raw ? substitutePomProperties(raw, pom) : undefined;
    if (name && !name.includes('${')) return { path: `${prefix}target/${name}.jar`, evidence: pom.finalName ? `${pom.path}: build.finalName` : `${pom.path}: artifactId-version` };
    return { path: `${prefix}target/*.jar`, evidence: `${pom.path}: the jar name is computed` };
  }
  const gradle = project.gradle;
  if (gradle?.archiveFileName) return { path: `${prefix}build/libs/${gradle.archiveFileName}`, evidence: `${gradle.path}: archiveFileName` };
  const base = gradle?.archiveBaseName ?? (module ? module.split('/').pop() : root.settings?.rootProjectName);
  // The version comes from the module, else the root build (allprojects { version = ... }); a computed one is unknown.
  const versionFrom = gradle?.version ? gradle : module && root.gradle?.version ? root.gradle : undefined;
  const computed = !versionFrom && (gradle?.versionDeclared || (module !== '' && root.gradle?.versionDeclared));
  if (base && !computed) {
    const where = gradle?.archiveBaseName ? `${gradle.path}: archiveBaseName` : module ? `module ${module}` : `${root.settings?.path}: rootProject.name`;
    return { path: `${prefix}build/libs/${base}${versionFrom ? `-${versionFrom.version}` : ''}.jar`, evidence: `${where}${versionFrom ? `; ${versionFrom.path}: version` : '; no version (Gradle leaves it out)'}` };
  }
  return { path: `${prefix}build/libs/*.jar`, evidence: 'bootJar writes one jar to build/libs' };
}

/** The @SpringBootApplication class, for the entry point. */
async function applicationClass(ctx: DetectContext, moduleDir: string): Promise<string | undefined> {
  const root = joinRel(ctx.dir, moduleDir);
  const sources = ctx.fs.filesUnder(inDir(root, 'src/main')).filter((file) => /\.(?:java|kt)$/.test(file));
  const ordered = [...sources.filter((file) => /Application\.(?:java|kt)$/.test(file)), ...sources.filter((file) => !/Application\.(?:java|kt)$/.test(file))].slice(0, 200);
  for (const file of ordered) {
    if (/@SpringBootApplication\b/.test((await ctx.fs.read(file))?.text ?? '')) return ctx.dir === '' ? file : file.slice(ctx.dir.length + 1);
  }
  return undefined;
}

// Only the default profile's files: application-<profile>.* apply when that profile is active.
const SPRING_CONFIG = /^application\.(?:properties|ya?ml)$/;

/** `${NAME}` / `${NAME:default}` placeholders in the application configuration read env. */
const PLACEHOLDERS: EnvReadSyntax = {
  language: 'props',
  prefilter: /\$\{/,
  configFile: (file) => SPRING_CONFIG.test(path.posix.basename(file)) && file.includes('src/main/resources/'),
  patterns: [
    {
      regex: /\$\{([A-Z][A-Z0-9_]*)(?::([^}\n]*))?\}/g,
      nameGroup: 1,
      fallback: (m) => (m[2] === undefined ? { fallback: 'none', default: '' } : m[2] === '' ? { fallback: 'tolerant', default: '' } : { fallback: 'default', default: m[2] }),
    },
  ],
};

export const springBoot: FrameworkDetector = {
  id: 'spring-boot',
  kind: 'framework',
  runtimes: ['java'],
  envReadSyntaxes: [PLACEHOLDERS],
  async detect(ctx) {
    const root = await jvmProject(ctx);
    if (!root) return null;
    const app = await springBootApp(ctx, root);
    if (!app) return null;
    const { module, project } = app;
    const fields: Conclusions = { framework: { value: 'spring-boot', evidence: app.evidence } };
    const detection: Detection = { id: 'spring-boot', tier: TIER.backend, fields };

    if (root.tool === 'maven') {
      fields.scripts_build = { value: `${root.command} -DskipTests${module ? ` -pl ${module} -am` : ''} package`, evidence: `${app.evidence}: Spring Boot repackages an executable jar` };
    } else {
      fields.scripts_build = { value: `${root.command} ${module ? `:${module.replace(/\//g, ':')}:` : ''}bootJar`, evidence: `${app.evidence}: bootJar builds the executable jar` };
    }
    const deps = [...(project.pom?.dependencies ?? []), ...(project.gradle?.dependencies ?? [])];
    const web = deps.find((dep) => !dep.dev && WEB_STARTERS.includes(dep.name));
    const jar = jarOf(project, root, module);
    fields.scripts_start = { value: `java ${web ? '-Dserver.port=$PORT ' : ''}-jar ${jar.path}`, evidence: `${app.evidence}; jar ${jar.path} (${jar.evidence})` };
    const main = await applicationClass(ctx, module);
    if (main) fields.entry_point = { value: main, evidence: `${inDir(ctx.dir, main)} declares @SpringBootApplication` };

    if (web) {
      fields.project_type = { value: 'web', evidence: web.source };
      detection.portDefault = { value: 8080, evidence: 'Spring Boot default port 8080' };
      const actuator = deps.find((dep) => !dep.dev && dep.name === 'org.springframework.boot:spring-boot-starter-actuator');
      if (actuator) detection.healthCheck = { value: '/actuator/health', evidence: `${actuator.source}: Actuator health endpoint` };
    } else {
      fields.project_type = { value: 'worker', evidence: 'Spring Boot app without a web starter (spring-boot-starter-web/webflux)' };
    }

    const config = await springConfig(ctx, module);
    if (config) {
      const port = config.values.get('server.port');
      const value = port ? springPort(port.value) : undefined;
      if (port && value !== undefined && web) detection.portHints = [{ value, evidence: `${port.where} server.port=${port.value}` } satisfies Conclusion<number>];
      const engines: NonNullable<Detection['engines']> = [];
      for (const key of ['spring.datasource.url', 'spring.r2dbc.url']) {
        const url = config.values.get(key);
        const engine = url ? jdbcEngine(url.value) : null;
        if (url && engine) engines.push({ engine, evidence: `${url.where} ${key}` });
      }
      const mongo = [...config.values.keys()].find((key) => key.startsWith('spring.data.mongodb.'));
      if (mongo) engines.push({ engine: 'mongodb', evidence: `${config.values.get(mongo)?.where} ${mongo}` });
      const redis = [...config.values.keys()].find((key) => key.startsWith('spring.data.redis.') || key.startsWith('spring.redis.'));
      if (redis) engines.push({ engine: 'redis', evidence: `${config.values.get(redis)?.where} ${redis}` });
      if (engines.length > 0) detection.engines = engines;
    }
    // Spring Boot falls back to an embedded database (H2, HSQLDB, Derby) when no datasource URL is
    // configured: declared MySQL/PostgreSQL drivers then serve optional profiles only.
    const embedded = deps.find((dep) => !dep.dev && EMBEDDED_DATABASES.includes(dep.name));
    const urlConfigured =
      (config?.values.has('spring.datasource.url') ?? false) ||
      (config?.values.has('spring.r2dbc.url') ?? false) ||
      ctx.scan.envRefs.some((ref) => /^(?:SPRING_DATASOURCE_URL|SPRING_R2DBC_URL|JDBC_DATABASE_URL|DATABASE_URL)$/.test(ref.name));
    if (embedded && !urlConfigured) {
      detection.optionalEngines = {
        engines: ['postgres', 'mysql'],
        reason: `the default configuration runs on the embedded database (${embedded.source}; no spring.datasource.url) \u2014 activate a profile that sets it to use them`,
      };
    }
    // A module's own dependencies are not the root's: their engines are reported here.
    if (module) {
      for (const dep of deps) {
        const engine = dep.dev ? null : engineOfDependency(dep);
        if (engine) (detection.engines ??= []).push({ engine, evidence: dep.source });
      }
    }
    return detection;
  },
};
