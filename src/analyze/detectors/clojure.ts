/**
 * Clojure: Leiningen (`project.clj`) or the Clojure CLI (`deps.edn`).
 *
 * Leiningen: `lein uberjar` (or `lein ring uberjar` with the lein-ring plugin) builds
 * `<target-path>/<name>-<version>-standalone.jar` (`:uberjar-name` renames it); the default
 * `:target-path "target/%s"` puts it in `target/uberjar/`. Only a project with `:main` (or a lein-ring
 * handler) makes a runnable jar: start `java -jar <jar>`, as Heroku's Clojure buildpack and nixpacks
 * do. deps.edn: a `build.clj` (tools.build) builds the jar with `clojure -T:build uber`; without it
 * an alias with `:main-opts ["-m" ns]` runs with `clojure -M:<alias>`.
 *
 * Web when the code starts Jetty / http-kit / Aleph / Pedestal; the port is the default of the code's
 * `PORT` read or the literal `:port` it passes.
 */
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';
import { findInSources, healthFromSources, portFromSources, sourceFiles } from './source-hints.js';

const SERVER_LIBS = /^(?:ring\/ring-jetty-adapter|http-kit|http-kit\/http-kit|aleph|aleph\/aleph|info\.sunng\/ring-jetty9-adapter|io\.pedestal\/pedestal\.jetty|luminus\/ring-undertow-adapter|ring\/ring-undertow-adapter)$/;
const SERVER_CALL = /\((?:[\w.-]+\/)?(?:run-jetty|run-server|start-server|run-undertow)\b|\(http\/create-server|\(server\/start\b/;
const PORT_PATTERNS = [/\(System\/getenv\s+"PORT"\)\s+"?(\d{2,5})"?/, /\(or\s+\(env\s+:port\)\s+"?(\d{2,5})/, /:port\s+(\d{2,5})\b/];

interface CljProject {
  manifest: string;
  tool: 'lein' | 'clojure';
  name: string | undefined;
  deps: string[];
  drifting: string[];
}

async function readProject(ctx: DetectContext): Promise<{ project: CljProject; text: string } | null> {
  const lein = inDir(ctx.dir, 'project.clj');
  const leinText = await ctx.manifests.text(lein);
  if (leinText !== null) {
    const text = leinText.replace(/;.*$/gm, '');
    const head = /\(defproject\s+(?:[\w.-]+\/)?([\w.-]+)\s+"([^"]+)"/.exec(text);
    const deps = [...text.matchAll(/\[([\w.-]+(?:\/[\w.-]+)?)\s+"([^"]*)"/g)].map((m) => ({ name: m[1] as string, version: m[2] as string }));
    return {
      project: { manifest: lein, tool: 'lein', name: head?.[1], deps: deps.map((d) => d.name), drifting: deps.filter((d) => /^(?:RELEASE|LATEST)$|^[[(]/.test(d.version)).map((d) => d.name) },
      text,
    };
  }
  const edn = inDir(ctx.dir, 'deps.edn');
  const ednText = await ctx.manifests.text(edn);
  if (ednText === null) return null;
  const text = ednText.replace(/;.*$/gm, '');
  const deps = [...text.matchAll(/([\w.-]+\/[\w.-]+|[\w.-]+)\s+\{:(?:mvn\/version|git\/sha|git\/tag|local\/root)\s+"([^"]*)"/g)].map((m) => ({ name: m[1] as string, version: m[2] as string }));
  return {
    project: { manifest: edn, tool: 'clojure', name: undefined, deps: deps.map((d) => d.name), drifting: deps.filter((d) => /^(?:RELEASE|LATEST)$/.test(d.version)).map((d) => d.name) },
    text,
  };
}

/** The uberjar lein writes: `:uberjar-name`, else `<name>-<version>-standalone.jar`, in `target/uberjar/` (`target/%s`). */
function leinJar(text: string): { path: string; evidence: string } | null {
  const head = /\(defproject\s+(?:[\w.-]+\/)?([\w.-]+)\s+"([^"]+)"/.exec(text);
  if (!head) return null;
  const target = /:target-path\s+"([^"]+)"/.exec(text)?.[1] ?? 'target/%s';
  const dir = target.replace(/%s/, 'uberjar').replace(/\/$/, '');
  const named = /:uberjar-name\s+"([^"]+)"/.exec(text)?.[1];
  const jar = named ?? `${head[1] as string}-${head[2] as string}-standalone.jar`;
  const why = named ? `:uberjar-name "${named}"` : `defproject ${head[1] as string} "${head[2] as string}"`;
  return { path: `${dir}/${jar}`, evidence: `${why}; :target-path "${target}"${/:target-path/.test(text) ? '' : " (Leiningen's default)"}` };
}

/** tools.build: the uber file build.clj writes (a literal, or `(format "target/%s-%s-standalone.jar" (name lib) version)`). */
async function toolsBuildJar(ctx: DetectContext): Promise<{ path: string; evidence: string } | null> {
  const rel = inDir(ctx.dir, 'build.clj');
  const text = (await ctx.manifests.text(rel))?.replace(/;.*$/gm, '');
  if (!text) return null;
  const literal = /\(def\s+uber-file\s+"([^"]+)"\)/.exec(text)?.[1];
  if (literal) return { path: literal, evidence: `${rel}: uber-file` };
  const format = /\(def\s+uber-file\s+\(format\s+"([^"]+)"\s+\(name\s+lib\)\s+version\)\)/.exec(text)?.[1];
  const lib = /\(def\s+lib\s+'(?:[\w.-]+\/)?([\w.-]+)\)/.exec(text)?.[1];
  const version = /\(def\s+version\s+"([^"]+)"\)/.exec(text)?.[1];
  if (format && lib && version) return { path: format.replace('%s', lib).replace('%s', version), evidence: `${rel}: uber-file, lib ${lib}, version ${version}` };
  return { path: 'target/*-standalone.jar', evidence: `${rel} builds an uberjar (its name is computed)` };
}

export const clojure: RuntimeDetector = {
  id: 'clojure',
  kind: 'runtime',
  refusalHint: {
    languages: ['clojure'],
    missingStart: 'project.clj has no :main (deps.edn: no build.clj or -m alias); add a Dockerfile with CMD or a Procfile web entry',
  },
  async detect(ctx) {
    const read = await readProject(ctx);
    if (!read) return null;
    const { project, text } = read;
    const fields: Conclusions = {
      language: { value: 'clojure', evidence: `${project.manifest} exists` },
      package_manager: { value: project.tool, evidence: `${project.manifest} exists` },
    };
    if (project.name) fields.name = { value: project.name, evidence: `${project.manifest}: defproject` };
    fields.dependency_resolution =
      project.drifting.length > 0
        ? { value: 'unlocked', evidence: `${project.manifest} asks for RELEASE/LATEST or ranges (${project.drifting.slice(0, 3).join(', ')})` }
        : { value: 'locked', evidence: `${project.manifest} pins every dependency version` };
    const detection: Detection = { id: 'clojure', tier: TIER.bare, fields, toolchain: { install: '', runPrefix: '' } };

    let start: string | undefined;
    let why = '';
    if (project.tool === 'lein') {
      const main = /:main\s+(?:\^:skip-aot\s+)?([\w.-]+)/.exec(text)?.[1];
      const ring = /lein-ring/.test(text) && /:ring\s+\{[^}]*:handler\s+([\w./-]+)/.exec(text)?.[1];
      const jar = leinJar(text);
      if ((main || ring) && jar) {
        fields.scripts_build = { value: ring && !main ? 'lein ring uberjar' : 'lein uberjar', evidence: `${project.manifest}: ${main ? `:main ${main}` : `lein-ring handler ${ring as string}`}` };
        start = `java -jar ${jar.path}`;
        why = `${project.manifest}: ${jar.evidence}`;
        if (ring && !main) detection.portDefault = { value: 3000, evidence: `${project.manifest}: lein-ring serves on 3000 unless :port says otherwise` };
      }
    } else {
      const jar = await toolsBuildJar(ctx);
      const alias = /:(\w[\w-]*)\s+\{[^{}]*:main-opts\s+\[\s*"-m"\s+"([\w.-]+)"/.exec(text);
      if (jar) {
        fields.scripts_build = { value: 'clojure -T:build uber', evidence: `${inDir(ctx.dir, 'build.clj')} exists (tools.build)` };
        start = `java -jar ${jar.path}`;
        why = jar.evidence;
      } else if (alias) {
        start = `clojure -M:${alias[1] as string}`;
        why = `${project.manifest}: alias :${alias[1] as string} runs -m ${alias[2] as string}`;
      }
    }
    if (!start) {
      ctx.warnings.add(`${project.manifest}: no :main namespace (or build.clj / -m alias); the start command is unknown (add a Procfile web entry or a Dockerfile with CMD)`);
      return detection;
    }
    fields.scripts_start = { value: start, evidence: why };
    detection.tier = TIER.backend;

    const files = sourceFiles(ctx, ['.clj', '.cljc']);
    const lib = project.deps.find((dep) => SERVER_LIBS.test(dep));
    const call = await findInSources(ctx, files, SERVER_CALL);
    if (call || lib || detection.portDefault) {
      fields.project_type = { value: 'web', evidence: call ? `${call.file}:${call.line} starts an HTTP server` : lib ? `${project.manifest}: ${lib}` : `${project.manifest}: lein-ring` };
      const port = await portFromSources(ctx, files, PORT_PATTERNS);
      const health = await healthFromSources(ctx, files);
      if (health) detection.healthCheck = health;
      if (port) detection.portHints = [port];
    } else {
      fields.project_type = { value: 'worker', evidence: 'a runnable jar but no HTTP server in the code' };
    }
    return detection;
  },
};
