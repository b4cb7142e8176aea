/**
 * Parsers for the JVM, .NET and Elixir manifests (pom.xml, build.gradle(.kts) with its version
 * catalog and settings file, *.csproj, mix.exs). Pure functions of the file text; `manifests.ts`
 * reads, caps and caches the files and calls these.
 *
 * - pom.xml and *.csproj are XML: read with the tolerant reader in xml.ts.
 * - Gradle build scripts are Groovy or Kotlin programs and mix.exs is Elixir: there is no data
 *   format to parse, so the few declarations we need (plugins, dependency coordinates, toolchain
 *   version, project name) are read with anchored patterns over the declaration syntax, after
 *   comments are removed. Anything written differently (computed coordinates, custom DSLs) is simply
 *   not seen, which errs toward "unknown", never toward a wrong value.
 * - The Gradle version catalog (gradle/libs.versions.toml) is TOML: parsed with smol-toml.
 */
import { parseToml } from './toml.js';
import type { Dependency } from './dependency.js';
import { child, childrenNamed, parseXml, textAt, type XmlNode } from './xml.js';

// ---------------------------------------------------------------------------------------------
// Maven

export interface PomXml {
  path: string;
  groupId: string | undefined;
  artifactId: string | undefined;
  version: string | undefined;
  packaging: string | undefined;
  parent: { groupId: string; artifactId: string; version: string } | undefined;
  properties: Record<string, string>;
  dependencies: Dependency[];
  /** `groupId:artifactId` of build plugins (groupId defaults to org.apache.maven.plugins). */
  plugins: string[];
  finalName: string | undefined;
  modules: string[];
  /** A dependency or plugin declares a version range (`[1.0,2.0)`), so resolution can drift. */
  versionRanges: string[];
}

function coordinates(node: XmlNode): { groupId: string; artifactId: string; version: string } {
  return { groupId: textAt(node, ['groupId']) ?? '', artifactId: textAt(node, ['artifactId']) ?? '', version: textAt(node, ['version']) ?? '' };
}

/** `${java.version}` -> its value from <properties> (one level; unknown stays as written). */
export function substitutePomProperties(value: string, pom: Pick<PomXml, 'properties' | 'artifactId' | 'version' | 'groupId'>): string {
  return value.replace(/\$\{([\w.-]+)\}/g, (all, key: string) => {
    if (key === 'project.artifactId' || key === 'artifactId') return pom.artifactId ?? all;
    if (key === 'project.version' || key === 'version') return pom.version ?? all;
    if (key === 'project.groupId' || key === 'groupId') return pom.groupId ?? all;
    const prop = pom.properties[key];
    return prop !== undefined && !prop.includes('${') ? prop : all;
  });
}

export function parsePom(text: string, rel: string): PomXml | null {
  const project = child(parseXml(text), 'project');
  if (!project) return null;
  const properties: Record<string, string> = {};
  for (const prop of child(project, 'properties')?.children ?? []) properties[prop.name] = prop.text;
  const parentNode = child(project, 'parent');
  const dependencies: Dependency[] = [];
  const versionRanges: string[] = [];
  childrenNamed(child(project, 'dependencies'), 'dependency').forEach((dep, index) => {
    const c = coordinates(dep);
    if (!c.groupId || !c.artifactId) return;
    const scope = textAt(dep, ['scope']) ?? 'compile';
    if (/^[[(]/.test(c.version)) versionRanges.push(`${c.groupId}:${c.artifactId} ${c.version}`);
    dependencies.push({
      ecosystem: 'maven',
      name: `${c.groupId}:${c.artifactId}`,
      extras: [],
      spec: c.version,
      source: `${rel}: dependencies[${index}] ${c.groupId}:${c.artifactId}`,
      dev: scope === 'test' || scope === 'provided',
    });
  });
  const build = child(project, 'build');
  const pluginNodes = [...childrenNamed(child(build, 'plugins'), 'plugin'), ...childrenNamed(child(child(build, 'pluginManagement'), 'plugins'), 'plugin')];
  const plugins = pluginNodes.map((plugin) => `${textAt(plugin, ['groupId']) ?? 'org.apache.maven.plugins'}:${textAt(plugin, ['artifactId']) ?? ''}`);
  return {
    path: rel,
    groupId: textAt(project, ['groupId']) ?? (parentNode ? textAt(parentNode, ['groupId']) : undefined),
    artifactId: textAt(project, ['artifactId']),
    version: textAt(project, ['version']) ?? (parentNode ? textAt(parentNode, ['version']) : undefined),
    packaging: textAt(project, ['packaging']),
    parent: parentNode ? coordinates(parentNode) : undefined,
    properties,
    dependencies,
    plugins,
    finalName: textAt(build, ['finalName']),
    modules: childrenNamed(child(project, 'modules'), 'module').map((m) => m.text).filter((m) => m !== ''),
    versionRanges,
  };
}

// ---------------------------------------------------------------------------------------------
// Gradle

export interface GradleBuild {
  path: string;
  kotlinDsl: boolean;
  /** Plugin ids (`org.springframework.boot`, `org.jetbrains.kotlin.jvm`, `application`, ...). */
  plugins: string[];
  dependencies: Dependency[];
  /** Java version from a toolchain, jvmToolchain() or sourceCompatibility. */
  javaVersion: { value: string; line: number } | undefined;
  /** `version = '0.0.1-SNAPSHOT'`. */
  version: string | undefined;
  /** A version is assigned at all (literal or computed: `version = scmVersion.version`). */
  versionDeclared: boolean;
  /** A literal `archiveFileName` / `archiveBaseName` of the jar tasks, when set. */
  archiveFileName: string | undefined;
  archiveBaseName: string | undefined;
  /** Dynamic versions (`1.+`, `latest.release`) that make resolution drift. */
  dynamicVersions: string[];
}

export interface GradleSettings {
  path: string;
  rootProjectName: string | undefined;
  includes: string[];
}

/** Library and plugin aliases of a version catalog: `spring.boot.starter.web` -> `org.springframework.boot:spring-boot-starter-web`. */
export interface VersionCatalog {
  libraries: Map<string, string>;
  plugins: Map<string, string>;
}

/** Removes `//` line comments and block comments (outside string literals, approximately). */
function stripCStyleComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, ' ')).replace(/(^|[^:"'\\])\/\/.*$/gm, '$1');
}

/** 1-based line of a character index, by binary search over line starts (linear setup, log lookups). */
function lineLookup(text: string): (index: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (index) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function catalogAlias(alias: string): string {
  return alias.replace(/[-_.]+/g, '.').toLowerCase();
}

export function parseVersionCatalog(text: string): VersionCatalog | null {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const libraries = new Map<string, string>();
  const plugins = new Map<string, string>();
  const libs = doc.libraries;
  if (libs && typeof libs === 'object') {
    for (const [alias, spec] of Object.entries(libs as Record<string, unknown>)) {
      let coordinate: string | undefined;
      if (typeof spec === 'string') coordinate = spec.split(':').slice(0, 2).join(':');
      else if (spec && typeof spec === 'object') {
        const record = spec as Record<string, unknown>;
        if (typeof record.module === 'string') coordinate = record.module;
        else if (typeof record.group === 'string' && typeof record.name === 'string') coordinate = `${record.group}:${record.name}`;
      }
      if (coordinate) libraries.set(catalogAlias(alias), coordinate);
    }
  }
  const plugs = doc.plugins;
  if (plugs && typeof plugs === 'object') {
    for (const [alias, spec] of Object.entries(plugs as Record<string, unknown>)) {
      const id = typeof spec === 'string' ? spec.split(':')[0] : spec && typeof spec === 'object' ? (spec as Record<string, unknown>).id : undefined;
      if (typeof id === 'string') plugins.set(catalogAlias(alias), id);
    }
  }
  return { libraries, plugins };
}

const GRADLE_DEV_CONFIGURATIONS = /^(?:test\w*|compileOnly|annotationProcessor|developmentOnly|kapt\w*|ksp\w*|testFixtures\w*|detekt\w*|lint\w*)$/;
const GRADLE_CONFIGURATIONS = '(implementation|api|runtimeOnly|compileOnly|compile|runtime|developmentOnly|annotationProcessor|kapt|ksp|testImplementation|testRuntimeOnly|testCompileOnly|integrationTestImplementation)';

export function parseGradle(text: string, rel: string, catalog: VersionCatalog | null): GradleBuild {
  const source = stripCStyleComments(text);
  const lineOf = lineLookup(source);
  const plugins = new Set<string>();
  for (const m of source.matchAll(/\bid\s*\(?\s*["']([\w.-]+)["']/g)) plugins.add(m[1] as string);
  for (const m of source.matchAll(/\bapply\s*\(?\s*plugin\s*[:=]\s*["']([\w.-]+)["']/g)) plugins.add(m[1] as string);
  for (const m of source.matchAll(/\bkotlin\s*\(\s*"([\w.-]+)"\s*\)/g)) plugins.add(`org.jetbrains.kotlin.${m[1] as string}`);
  for (const m of source.matchAll(/\balias\s*\(\s*libs\.plugins\.([\w.]+)\s*\)/g)) {
    const id = catalog?.plugins.get(catalogAlias(m[1] as string));
    if (id) plugins.add(id);
  }
  // Core plugins are bare words in the plugins block: `plugins { application }`, `plugins { `java-library` }`.
  const pluginsBlock = /\bplugins\s*\{([^}]*)\}/.exec(source)?.[1] ?? '';
  for (const m of pluginsBlock.matchAll(/^\s*`?([a-z][\w-]*)`?\s*$/gm)) plugins.add(m[1] as string);
  if (/org\.springframework\.boot:spring-boot-gradle-plugin/.test(source)) plugins.add('org.springframework.boot');
  if (/org\.jetbrains\.kotlin:kotlin-gradle-plugin/.test(source)) plugins.add('org.jetbrains.kotlin.jvm');

  const dependencies: Dependency[] = [];
  const dynamicVersions: string[] = [];
  const literal = new RegExp(`(?:^|[\\s;{])${GRADLE_CONFIGURATIONS}\\s*\\(?\\s*(?:platform\\s*\\(\\s*)?["']([^"':\\s]+):([^"':\\s]+)(?::([^"'\\s]+))?["']`, 'gm');
  for (const m of source.matchAll(literal)) {
    const configuration = m[1] as string;
    const name = `${m[2] as string}:${m[3] as string}`;
    const version = m[4] ?? '';
    if (/\+|latest\./.test(version)) dynamicVersions.push(`${name}:${version}`);
    dependencies.push({ ecosystem: 'maven', name, extras: [], spec: version, source: `${rel}:${lineOf(m.index ?? 0)} ${configuration}`, dev: GRADLE_DEV_CONFIGURATIONS.test(configuration) });
  }
  const named = new RegExp(`(?:^|[\\s;{])${GRADLE_CONFIGURATIONS}\\s*\\(?\\s*group\\s*[:=]\\s*["']([^"']+)["']\\s*,\\s*name\\s*[:=]\\s*["']([^"']+)["']`, 'gm');
  for (const m of source.matchAll(named)) {
    const configuration = m[1] as string;
    dependencies.push({ ecosystem: 'maven', name: `${m[2] as string}:${m[3] as string}`, extras: [], spec: '', source: `${rel}:${lineOf(m.index ?? 0)} ${configuration}`, dev: GRADLE_DEV_CONFIGURATIONS.test(configuration) });
  }
  const fromCatalog = new RegExp(`(?:^|[\\s;{])${GRADLE_CONFIGURATIONS}\\s*\\(?\\s*(?:platform\\s*\\(\\s*)?libs\\.([\\w.]+)`, 'gm');
  for (const m of source.matchAll(fromCatalog)) {
    const configuration = m[1] as string;
    const name = catalog?.libraries.get(catalogAlias(m[2] as string));
    if (!name) continue;
    dependencies.push({ ecosystem: 'maven', name, extras: [], spec: '', source: `${rel}:${lineOf(m.index ?? 0)} ${configuration} libs.${m[2] as string}`, dev: GRADLE_DEV_CONFIGURATIONS.test(configuration) });
  }

  let javaVersion: GradleBuild['javaVersion'];
  const versionPatterns = [
    /JavaLanguageVersion\.of\(\s*["']?(\d+)["']?\s*\)/,
    /\bjvmToolchain\(\s*(\d+)\s*\)/,
    /\b(?:sourceCompatibility|targetCompatibility)\s*=\s*(?:JavaVersion\.VERSION_(\d+(?:_\d+)?)|["']?(\d+(?:\.\d+)?)["']?|JavaVersion\.toVersion\(\s*["']?(\d+)["']?\s*\))/,
    /\bjvmTarget\s*(?:=|\.set\()\s*(?:JvmTarget\.JVM_(\d+)|["'](\d+)["'])/,
  ];
  for (const pattern of versionPatterns) {
    const m = pattern.exec(source);
    if (!m) continue;
    const raw = (m[1] ?? m[2] ?? m[3] ?? '').replace(/_/g, '.');
    if (raw) {
      javaVersion = { value: raw.replace(/^1\.(\d+)$/, (_all, minor: string) => (Number(minor) >= 9 ? minor : `1.${minor}`)), line: lineOf(m.index) };
      break;
    }
  }
  const version = /^\s*(?:project\.)?version\s*=?\s*["']([^"'$]+)["']/m.exec(source)?.[1];
  const versionDeclared = /^\s*(?:project\.)?version\s*(?:=|["'])/m.test(source);
  const archiveFileName = /\barchiveFileName\s*(?:=|\.set\()\s*["']([^"'$]+)["']/.exec(source)?.[1];
  const archiveBaseName = /\barchiveBaseName\s*(?:=|\.set\()\s*["']([^"'$]+)["']/.exec(source)?.[1];
  return { path: rel, kotlinDsl: rel.endsWith('.kts'), plugins: [...plugins], dependencies, javaVersion, version, versionDeclared, archiveFileName, archiveBaseName, dynamicVersions };
}

export function parseGradleSettings(text: string, rel: string): GradleSettings {
  const source = stripCStyleComments(text);
  const rootProjectName = /\brootProject\.name\s*=\s*["']([^"'$]+)["']/.exec(source)?.[1];
  const includes: string[] = [];
  for (const m of source.matchAll(/\binclude\s*\(?([^)\n]*)\)?/g)) {
    for (const name of (m[1] ?? '').matchAll(/["']:?([\w.:-]+)["']/g)) includes.push((name[1] as string).replace(/:/g, '/'));
  }
  return { path: rel, rootProjectName, includes };
}

// ---------------------------------------------------------------------------------------------
// .NET

export interface Csproj {
  path: string;
  /** `Microsoft.NET.Sdk.Web`, `Microsoft.NET.Sdk`, `Microsoft.NET.Sdk.Worker`, ... */
  sdk: string | undefined;
  targetFrameworks: string[];
  assemblyName: string | undefined;
  outputType: string | undefined;
  packages: Dependency[];
  /** Floating versions (`8.*`) or ranges that make restore drift. */
  floating: string[];
}

export function parseCsproj(text: string, rel: string): Csproj | null {
  const project = child(parseXml(text), 'Project');
  if (!project) return null;
  let sdk = project.attrs.Sdk;
  sdk ??= child(project, 'Sdk')?.attrs.Name;
  sdk ??= childrenNamed(project, 'Import').find((node) => node.attrs.Sdk)?.attrs.Sdk;
  const groups = childrenNamed(project, 'PropertyGroup');
  const property = (name: string): string | undefined => groups.map((group) => textAt(group, [name])).find((value) => value !== undefined);
  const frameworks = property('TargetFramework') ?? property('TargetFrameworks') ?? '';
  const packages: Dependency[] = [];
  const floating: string[] = [];
  for (const group of childrenNamed(project, 'ItemGroup')) {
    for (const ref of childrenNamed(group, 'PackageReference')) {
      const name = ref.attrs.Include ?? ref.attrs.Update;
      if (!name) continue;
      const version = ref.attrs.Version ?? textAt(ref, ['Version']) ?? '';
      if (/\*|^[[(]/.test(version)) floating.push(`${name} ${version}`);
      const assets = (ref.attrs.PrivateAssets ?? textAt(ref, ['PrivateAssets']) ?? '').toLowerCase();
      packages.push({ ecosystem: 'nuget', name, extras: [], spec: version, source: `${rel}: PackageReference ${name}`, dev: assets === 'all' });
    }
  }
  return {
    path: rel,
    sdk: sdk?.split('/')[0],
    targetFrameworks: frameworks.split(';').map((tfm) => tfm.trim()).filter((tfm) => tfm !== ''),
    assemblyName: property('AssemblyName'),
    outputType: property('OutputType'),
    packages,
    floating,
  };
}

/** `net8.0` -> `8.0`, `netcoreapp3.1` -> `3.1`; `netstandard2.0` and .NET Framework -> undefined. */
export function dotnetVersionOf(tfm: string): string | undefined {
  return /^net(?:coreapp)?(\d+\.\d+)/.exec(tfm)?.[1];
}

/** Project paths a solution file references (`src/Api/Api.csproj`), with `/` separators. */
export function parseSln(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^Project\("[^"]*"\)\s*=\s*"[^"]*"\s*,\s*"([^"]+\.csproj)"/gm)) out.push((m[1] as string).replace(/\\/g, '/'));
  // .slnx (XML solution format)
  for (const m of text.matchAll(/<Project\s+Path="([^"]+\.csproj)"/g)) out.push((m[1] as string).replace(/\\/g, '/'));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Elixir

export interface MixExs {
  path: string;
  /** OTP application name (`app: :my_app`). */
  app: string | undefined;
  /** Elixir requirement (`elixir: "~> 1.15"`). */
  elixir: string | undefined;
  dependencies: Dependency[];
  /** The project declares `releases:`. */
  releases: boolean;
  /** Mix aliases defined in the file (`"assets.deploy"`, `setup`, ...). */
  aliases: string[];
}

/** Removes `#` comments outside string literals (approximately: a `#` not inside quotes on that line). */
function stripHashComments(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let quote = '';
      for (let i = 0; i < line.length; i += 1) {
        const c = line[i] as string;
        if (quote) {
          if (c === '\\') i += 1;
          else if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '#' && line[i + 1] !== '{') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
}

export function parseMixExs(text: string, rel: string): MixExs {
  const source = stripHashComments(text);
  const lineOf = lineLookup(source);
  const app = /\bapp:\s*:(\w+)/.exec(source)?.[1];
  const elixir = /\belixir:\s*"([^"]+)"/.exec(source)?.[1];
  const depsStart = source.search(/\bdefp?\s+deps\b/);
  const region = depsStart === -1 ? source : source.slice(depsStart);
  const dependencies: Dependency[] = [];
  for (const m of region.matchAll(/\{\s*:(\w+)\s*,([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)) {
    const name = m[1] as string;
    const rest = m[2] ?? '';
    if (!/^\s*(?:"|~[sS]|github:|git:|path:|only:|runtime:|in_umbrella:|override:|optional:)/.test(rest)) continue;
    const only = /\bonly:\s*(?::(\w+)|\[([^\]]*)\])/.exec(rest);
    const envs = only ? (only[1] ? [only[1]] : [...(only[2] ?? '').matchAll(/:(\w+)/g)].map((e) => e[1] as string)) : [];
    const dev = envs.length > 0 && envs.every((env) => env === 'dev' || env === 'test');
    const spec = /^\s*"([^"]*)"/.exec(rest)?.[1] ?? '';
    dependencies.push({ ecosystem: 'hex', name, extras: [], spec, source: `${rel}:${lineOf((depsStart === -1 ? 0 : depsStart) + (m.index ?? 0))}`, dev });
  }
  const aliases = [...source.matchAll(/^\s*"?([\w.]+)"?:\s*\[/gm)].map((m) => m[1] as string);
  return { path: rel, app, elixir, dependencies, releases: /\breleases:\s*\[/.test(source), aliases };
}
