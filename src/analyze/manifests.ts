/**
 * Parsed project manifests. "Parse, don't grep": package.json, composer.json and friends go through
 * JSON.parse and a type check per field read, pyproject.toml / Pipfile / Cargo.toml through a TOML parser. Each manifest is
 * parsed once per folder and cached; a manifest that is malformed, binary or larger than the read cap
 * becomes a warning and is treated as absent (never a crash).
 *
 * requirements.txt, go.mod and Gemfile have no structured parser in our dependency set; they are
 * line-oriented formats and are read line by line with their documented grammar.
 */
import path from 'node:path';
import { parseToml } from './toml.js';
import { formatBytes, type FsSnapshot } from './fs-snapshot.js';
import {
  parseCsproj,
  parseGradle,
  parseGradleSettings,
  parseMixExs,
  parsePom,
  parseVersionCatalog,
  type Csproj,
  type GradleBuild,
  type GradleSettings,
  type MixExs,
  type PomXml,
} from './manifests-backend.js';
import type { Dependency } from './dependency.js';
import type { Warnings } from './warnings.js';
import { asRecord } from '../core/records.js';

// The declared-dependency record lives in its own module so the backend manifest parsers can
// produce it without importing this one.
export type { Dependency, Ecosystem } from './dependency.js';

/**
 * The field checks manifests need. They were zod schemas; plain guards with the same verdicts keep
 * zod (about 60 ms of start-up to load) off the path of every analysis.
 */
type FieldCheck<T> = (value: unknown) => value is T;

/** A JSON object (not an array or null), as zod's record accepts. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every(isString);
}

export interface PackageJson {
  path: string;
  name: string | undefined;
  main: string | undefined;
  type: string | undefined;
  packageManager: string | undefined;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  enginesNode: string | undefined;
  workspaces: boolean;
}

export interface RequirementLine {
  name: string;
  extras: string[];
  spec: string;
  line: number;
  file: string;
  /** Exactly pinned (`==1.2.3` or `===`), so an install cannot drift. */
  pinned: boolean;
}

export interface PyProject {
  path: string;
  name: string | undefined;
  requiresPython: string | undefined;
  /** PEP 621 `[project].dependencies` present (even when empty). */
  hasProjectTable: boolean;
  dependencies: Dependency[];
  poetry: boolean;
  uv: boolean;
  pythonFromPoetry: string | undefined;
  hasBuildSystem: boolean;
}

export interface GoMod {
  path: string;
  module: string | undefined;
  goVersion: string | undefined;
  requires: Dependency[];
}

export interface CargoToml {
  path: string;
  name: string | undefined;
  rustVersion: string | undefined;
  dependencies: Dependency[];
  workspace: boolean;
  /** A [package] table exists (a workspace root may have none). */
  hasPackage: boolean;
  defaultRun: string | undefined;
  /** `[[bin]]` targets. */
  bins: Array<{ name: string; path: string | undefined }>;
  /** `[workspace] members` / `exclude` globs. */
  members: string[];
  exclude: string[];
  /** Features of each [workspace.dependencies] entry, for members that inherit them. */
  workspaceFeatures: Record<string, string[]>;
  /** Folder (relative to the snapshot root) of each [workspace.dependencies] entry with a `path`. */
  workspacePaths: Record<string, string>;
  /** Runtime dependencies on local crates (`core = { path = "../core" }`, or inherited from the workspace), by folder. */
  pathDeps: Array<{ name: string; dir: string }>;
}

/** `rel` resolved against the folder `dir` (both relative to the snapshot root); null when it leaves the snapshot. */
function resolveIn(dir: string, rel: string): string | null {
  const joined = path.posix.normalize(path.posix.join(dir === '' ? '.' : dir, rel)).replace(/\/+$/, '');
  if (joined === '..' || joined.startsWith('../') || path.posix.isAbsolute(joined)) return null;
  return joined === '.' ? '' : joined;
}

export function normalisePyName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const MAX_LOCAL_CRATES = 20;

function join(dir: string, file: string): string {
  return dir === '' || dir === '.' ? file : `${dir}/${file}`;
}

const PEP508 = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/;

/** Parses one PEP 508 requirement (`celery[redis]>=5; python_version>"3.8"`). */
export function parsePep508(text: string): { name: string; extras: string[]; spec: string } | null {
  const withoutMarker = text.split(';')[0] ?? '';
  const match = PEP508.exec(withoutMarker);
  if (!match) return null;
  const name = match[1] as string;
  const extras = (match[2] ?? '')
    .split(',')
    .map((extra) => extra.trim().toLowerCase())
    .filter((extra) => extra !== '');
  const spec = (match[3] ?? '').trim();
  return { name: normalisePyName(name), extras, spec };
}

function isExactPin(spec: string): boolean {
  return /^===?\s*[^,*\s]+$/.test(spec.trim());
}

export class Manifests {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fs: FsSnapshot,
    private readonly warnings: Warnings,
  ) {}

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit) return hit as Promise<T>;
    const pending = load();
    this.cache.set(key, pending);
    return pending;
  }

  /** Text of a manifest, or null (absent, unreadable, binary, or too large to parse safely). */
  async text(rel: string): Promise<string | null> {
    const result = await this.fs.read(rel);
    if (!result) return null;
    if (result.truncated) {
      this.warnings.add(
        `${rel} is ${formatBytes(result.size)}, larger than the ${formatBytes(this.fs.limits.maxFileBytes)} read cap; it was not parsed`,
      );
      return null;
    }
    return result.text;
  }

  private async json(rel: string): Promise<Record<string, unknown> | null> {
    const text = await this.text(rel);
    if (text === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Keep only the position: newer V8 messages quote a snippet of the file, which is not ours to copy.
      const message = error instanceof Error ? error.message : '';
      const position = /position \d+(?: \(line \d+ column \d+\))?/.exec(message)?.[0];
      const where = position ? `syntax error at ${position}` : /end of JSON input/.test(message) ? 'unexpected end of input' : 'syntax error';
      this.warnings.add(`${rel} is not valid JSON (${where}); it was ignored`);
      return null;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      this.warnings.add(`${rel} is not a JSON object; it was ignored`);
      return null;
    }
    return value as Record<string, unknown>;
  }

  private async toml(rel: string): Promise<Record<string, unknown> | null> {
    const text = await this.text(rel);
    if (text === null) return null;
    try {
      return parseToml(text) as Record<string, unknown>;
    } catch (error) {
      const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
      this.warnings.add(`${rel} is not valid TOML (${detail}); it was ignored`);
      return null;
    }
  }

  /** Reads one field with its type check; a field of the wrong type is a warning and counts as absent. */
  private field<T>(rel: string, obj: Record<string, unknown>, key: string, check: FieldCheck<T>): T | undefined {
    if (!(key in obj) || obj[key] === undefined) return undefined;
    const value = obj[key];
    // A record is copied (as zod's parse did), so no caller can change the cached manifest.
    if (check(value)) return (isRecord(value) ? { ...value } : value) as T;
    this.warnings.add(`${rel}: field "${key}" has an unexpected shape; it was ignored`);
    return undefined;
  }

  packageJson(dir: string): Promise<PackageJson | null> {
    const rel = join(dir, 'package.json');
    return this.once(`pkg:${rel}`, async () => {
      const obj = await this.json(rel);
      if (!obj) return null;
      const engines = this.field(rel, obj, 'engines', isRecord);
      const node = engines?.node;
      const workspaces = obj.workspaces;
      return {
        path: rel,
        name: this.field(rel, obj, 'name', isString),
        main: this.field(rel, obj, 'main', isString),
        type: this.field(rel, obj, 'type', isString),
        packageManager: this.field(rel, obj, 'packageManager', isString),
        scripts: this.field(rel, obj, 'scripts', isStringRecord) ?? {},
        dependencies: this.field(rel, obj, 'dependencies', isStringRecord) ?? {},
        devDependencies: this.field(rel, obj, 'devDependencies', isStringRecord) ?? {},
        optionalDependencies: this.field(rel, obj, 'optionalDependencies', isStringRecord) ?? {},
        enginesNode: typeof node === 'string' ? node : undefined,
        workspaces: Array.isArray(workspaces) || (typeof workspaces === 'object' && workspaces !== null),
      } satisfies PackageJson;
    });
  }

  /**
   * The folder's requirements file: `requirements.txt`, else the production file of a
   * `requirements/` folder (cookiecutter-django: `requirements/production.txt` includes base.txt).
   */
  requirementsFile(dir: string): string {
    const candidates = ['requirements.txt', 'requirements/production.txt', 'requirements/prod.txt', 'requirements/base.txt', 'requirements/common.txt'];
    return candidates.find((file) => this.fs.has(join(dir, file))) ?? 'requirements.txt';
  }

  /** requirements.txt (see requirementsFile) with `-r` includes followed (once each). */
  requirements(dir: string, file = this.requirementsFile(dir)): Promise<RequirementLine[] | null> {
    const rel = join(dir, file);
    return this.once(`req:${rel}`, async () => {
      const visited = new Set<string>();
      const out: RequirementLine[] = [];
      const load = async (current: string): Promise<boolean> => {
        if (visited.has(current)) return true;
        visited.add(current);
        const text = await this.text(current);
        if (text === null) return false;
        const lines = text.split(/\r?\n/);
        let logical = '';
        let startLine = 0;
        for (let i = 0; i < lines.length; i += 1) {
          const raw = lines[i] as string;
          if (logical === '') startLine = i + 1;
          if (raw.endsWith('\\')) {
            logical += `${raw.slice(0, -1)} `;
            continue;
          }
          logical += raw;
          const line = logical.replace(/(^|\s)#.*$/, '').trim();
          logical = '';
          if (line === '') continue;
          const include = /^(?:-r|--requirement)\s*=?\s*(\S+)/.exec(line);
          if (include) {
            const base = current.includes('/') ? current.slice(0, current.lastIndexOf('/')) : '';
            await load(join(base, include[1] as string));
            continue;
          }
          if (line.startsWith('-') || line.startsWith('.') || line.startsWith('/')) continue;
          let requirement = line.replace(/\s--hash[=\s]\S+/g, '').trim();
          const egg = /#egg=([A-Za-z0-9._-]+)/.exec(raw);
          if (/^[a-z+]+:\/\//i.test(requirement)) {
            if (!egg) continue;
            out.push({ name: normalisePyName(egg[1] as string), extras: [], spec: requirement, line: startLine, file: current, pinned: false });
            continue;
          }
          requirement = requirement.split(/\s+--/)[0] ?? requirement;
          const parsed = parsePep508(requirement);
          if (!parsed) continue;
          out.push({ ...parsed, line: startLine, file: current, pinned: isExactPin(parsed.spec) });
        }
        return true;
      };
      const found = await load(rel);
      return found ? out : null;
    });
  }

  pyproject(dir: string): Promise<PyProject | null> {
    const rel = join(dir, 'pyproject.toml');
    return this.once(`pyproject:${rel}`, async () => {
      const doc = await this.toml(rel);
      if (!doc) return null;
      const project = asRecord(doc.project);
      const tool = asRecord(doc.tool);
      const poetry = asRecord(tool?.poetry);
      const deps: Dependency[] = [];
      const projectDeps = project?.dependencies;
      if (Array.isArray(projectDeps)) {
        projectDeps.forEach((entry, index) => {
          if (typeof entry !== 'string') return;
          const parsed = parsePep508(entry);
          if (parsed) deps.push({ ecosystem: 'pypi', ...parsed, source: `${rel}: project.dependencies[${index}]`, dev: false });
        });
      }
      const poetryDeps = asRecord(poetry?.dependencies);
      if (poetryDeps) {
        for (const [name, spec] of Object.entries(poetryDeps)) {
          if (name.toLowerCase() === 'python') continue;
          const extras = Array.isArray(asRecord(spec)?.extras) ? (asRecord(spec)?.extras as unknown[]).filter((x): x is string => typeof x === 'string') : [];
          deps.push({
            ecosystem: 'pypi',
            name: normalisePyName(name),
            extras,
            spec: typeof spec === 'string' ? spec : '',
            source: `${rel}: tool.poetry.dependencies.${name}`,
            dev: false,
          });
        }
      }
      const python = poetryDeps?.python;
      return {
        path: rel,
        name: typeof project?.name === 'string' ? project.name : typeof poetry?.name === 'string' ? poetry.name : undefined,
        requiresPython: typeof project?.['requires-python'] === 'string' ? project['requires-python'] : undefined,
        hasProjectTable: project !== undefined,
        dependencies: deps,
        poetry: poetry !== undefined,
        uv: asRecord(tool?.uv) !== undefined,
        pythonFromPoetry: typeof python === 'string' ? python : undefined,
        hasBuildSystem: asRecord(doc['build-system']) !== undefined,
      } satisfies PyProject;
    });
  }

  pipfile(dir: string): Promise<{ path: string; dependencies: Dependency[]; pythonVersion: string | undefined } | null> {
    const rel = join(dir, 'Pipfile');
    return this.once(`pipfile:${rel}`, async () => {
      const doc = await this.toml(rel);
      if (!doc) return null;
      const deps: Dependency[] = [];
      for (const [section, dev] of [['packages', false], ['dev-packages', true]] as const) {
        const table = asRecord(doc[section]);
        if (!table) continue;
        for (const [name, spec] of Object.entries(table)) {
          const extras = asRecord(spec)?.extras;
          deps.push({
            ecosystem: 'pypi',
            name: normalisePyName(name),
            extras: Array.isArray(extras) ? extras.filter((x): x is string => typeof x === 'string') : [],
            spec: typeof spec === 'string' ? spec : '',
            source: `${rel}: ${section}.${name}`,
            dev,
          });
        }
      }
      const requires = asRecord(doc.requires);
      const pythonVersion = requires?.python_full_version ?? requires?.python_version;
      return { path: rel, dependencies: deps, pythonVersion: typeof pythonVersion === 'string' ? pythonVersion : undefined };
    });
  }

  goMod(dir: string): Promise<GoMod | null> {
    const rel = join(dir, 'go.mod');
    return this.once(`gomod:${rel}`, async () => {
      const text = await this.text(rel);
      if (text === null) return null;
      let module: string | undefined;
      let goVersion: string | undefined;
      const requires: Dependency[] = [];
      let inRequire = false;
      text.split(/\r?\n/).forEach((rawLine, index) => {
        const line = rawLine.replace(/\/\/.*$/, '').trim();
        if (line === '') return;
        if (inRequire) {
          if (line === ')') {
            inRequire = false;
            return;
          }
          const [name, version] = line.split(/\s+/);
          // `// indirect` marks a module the code does not import itself.
          const extras = /\/\/\s*indirect\b/.test(rawLine) ? ['indirect'] : [];
          if (name) requires.push({ ecosystem: 'go', name, extras, spec: version ?? '', source: `${rel}:${index + 1}`, dev: false });
          return;
        }
        const moduleMatch = /^module\s+(\S+)/.exec(line);
        if (moduleMatch) module = moduleMatch[1];
        const goMatch = /^go\s+(\d+(?:\.\d+){0,2})/.exec(line);
        if (goMatch) goVersion = goMatch[1];
        if (/^require\s*\($/.test(line)) {
          inRequire = true;
          return;
        }
        const single = /^require\s+(\S+)\s+(\S+)/.exec(line);
        if (single) {
          const extras = /\/\/\s*indirect\b/.test(rawLine) ? ['indirect'] : [];
          requires.push({ ecosystem: 'go', name: single[1] as string, extras, spec: single[2] as string, source: `${rel}:${index + 1}`, dev: false });
        }
      });
      return { path: rel, module, goVersion, requires } satisfies GoMod;
    });
  }

  cargoToml(dir: string): Promise<CargoToml | null> {
    const rel = join(dir, 'Cargo.toml');
    return this.once(`cargo:${rel}`, async () => {
      const doc = await this.toml(rel);
      if (!doc) return null;
      const pkg = asRecord(doc.package);
      const deps: Dependency[] = [];
      for (const [section, dev] of [['dependencies', false], ['dev-dependencies', true]] as const) {
        const table = asRecord(doc[section]);
        if (!table) continue;
        for (const [name, spec] of Object.entries(table)) {
          const features = asRecord(spec)?.features;
          deps.push({
            ecosystem: 'cargo',
            name,
            extras: Array.isArray(features) ? features.filter((x): x is string => typeof x === 'string') : [],
            spec: typeof spec === 'string' ? spec : String(asRecord(spec)?.version ?? ''),
            source: `${rel}: ${section}.${name}`,
            dev,
          });
        }
      }
      const rustVersion = pkg?.['rust-version'];
      const workspace = asRecord(doc.workspace);
      const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : []);
      const bins = Array.isArray(doc.bin)
        ? doc.bin.map(asRecord).flatMap((bin) => (bin && typeof bin.name === 'string' ? [{ name: bin.name, path: typeof bin.path === 'string' ? bin.path : undefined }] : []))
        : [];
      // Workspace-inherited dependencies (`sqlx = { workspace = true }`) take their features from
      // [workspace.dependencies] of this file or of the workspace root above; merge them so engines
      // behind features (sqlx "postgres") are still recognised.
      const shared = asRecord(workspace?.dependencies);
      const workspaceFeatures: Record<string, string[]> = {};
      for (const [name, spec] of Object.entries(shared ?? {})) workspaceFeatures[name] = strings(asRecord(spec)?.features);
      const workspacePaths: Record<string, string> = {};
      for (const [name, spec] of Object.entries(shared ?? {})) {
        const local = asRecord(spec)?.path;
        const resolved = typeof local === 'string' ? resolveIn(dir, local) : null;
        if (resolved !== null) workspacePaths[name] = resolved;
      }
      const specOf = (dep: Dependency): Record<string, unknown> | undefined => asRecord(asRecord(doc[dep.dev ? 'dev-dependencies' : 'dependencies'])?.[dep.name]);
      const inheriting = deps.filter((dep) => specOf(dep)?.workspace === true);
      let rootFeatures: Record<string, string[]> = workspaceFeatures;
      let rootPaths: Record<string, string> = workspacePaths;
      if (inheriting.length > 0 && !workspace && dir !== '' && dir !== '.') {
        const parts = dir.split('/');
        for (let up = parts.length - 1; up >= 0 && up >= parts.length - 3; up -= 1) {
          const root = await this.cargoToml(parts.slice(0, up).join('/'));
          if (root?.workspace) {
            rootFeatures = root.workspaceFeatures;
            rootPaths = root.workspacePaths;
            break;
          }
        }
      }
      const pathDeps: Array<{ name: string; dir: string }> = [];
      for (const dep of deps) {
        if (dep.dev) continue;
        const spec = specOf(dep);
        const local = typeof spec?.path === 'string' ? resolveIn(dir, spec.path) : spec?.workspace === true ? (rootPaths[dep.name] ?? null) : null;
        if (local !== null && local !== dir) pathDeps.push({ name: dep.name, dir: local });
      }
      for (const dep of inheriting) {
        for (const feature of rootFeatures[dep.name] ?? []) if (!dep.extras.includes(feature)) dep.extras.push(feature);
      }
      return {
        path: rel,
        name: typeof pkg?.name === 'string' ? pkg.name : undefined,
        rustVersion: typeof rustVersion === 'string' ? rustVersion : undefined,
        dependencies: deps,
        workspace: workspace !== undefined,
        hasPackage: pkg !== undefined,
        defaultRun: typeof pkg?.['default-run'] === 'string' ? pkg['default-run'] : undefined,
        bins,
        members: strings(workspace?.members),
        exclude: strings(workspace?.exclude),
        workspaceFeatures,
        workspacePaths,
        pathDeps,
      } satisfies CargoToml;
    });
  }

  composerJson(
    dir: string,
  ): Promise<{ path: string; name: string | undefined; phpVersion: string | undefined; dependencies: Dependency[]; scripts: Record<string, string[]> } | null> {
    const rel = join(dir, 'composer.json');
    return this.once(`composer:${rel}`, async () => {
      const obj = await this.json(rel);
      if (!obj) return null;
      const deps: Dependency[] = [];
      let phpVersion: string | undefined;
      for (const [section, dev] of [['require', false], ['require-dev', true]] as const) {
        const table = this.field(rel, obj, section, isStringRecord) ?? {};
        for (const [name, spec] of Object.entries(table)) {
          if (name === 'php') {
            if (!dev) phpVersion = spec;
            continue;
          }
          deps.push({ ecosystem: 'composer', name: name.toLowerCase(), extras: [], spec, source: `${rel}: ${section}.${name}`, dev });
        }
      }
      // Composer scripts are a command or a list of commands.
      const scripts: Record<string, string[]> = {};
      const rawScripts = obj.scripts;
      if (rawScripts && typeof rawScripts === 'object' && !Array.isArray(rawScripts)) {
        for (const [name, value] of Object.entries(rawScripts as Record<string, unknown>)) {
          const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
          if (list.length > 0) scripts[name] = list;
        }
      }
      return { path: rel, name: this.field(rel, obj, 'name', isString), phpVersion, dependencies: deps, scripts };
    });
  }

  gemfile(dir: string): Promise<{ path: string; rubyVersion: string | undefined; dependencies: Dependency[] } | null> {
    const rel = join(dir, 'Gemfile');
    return this.once(`gemfile:${rel}`, async () => {
      const text = await this.text(rel);
      if (text === null) return null;
      const deps: Dependency[] = [];
      let rubyVersion: string | undefined;
      // A stack of open `do` blocks: true for a development/test-only group.
      const blocks: boolean[] = [];
      text.split(/\r?\n/).forEach((rawLine, index) => {
        const line = rawLine.replace(/#.*$/, '').trim();
        if (/\bdo(?:\s*\|[^|]*\|)?$/.test(line)) {
          blocks.push(/^group\b/.test(line) && /:(?:development|test)\b/.test(line) && !/:production\b/.test(line));
          return;
        }
        if (line === 'end') {
          blocks.pop();
          return;
        }
        const ruby = /^ruby\s+['"]([^'"]+)['"]/.exec(line);
        if (ruby) rubyVersion = ruby[1];
        const gem = /^gem\s+['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?/.exec(line);
        if (gem) {
          const inline = /\bgroups?:\s*(\[[^\]]*\]|%i\[[^\]]*\]|:\w+)/.exec(line)?.[1];
          const inlineDev = inline !== undefined && /\b(?:development|test)\b/.test(inline) && !/\bproduction\b/.test(inline);
          deps.push({ ecosystem: 'rubygems', name: gem[1] as string, extras: [], spec: gem[2] ?? '', source: `${rel}:${index + 1}`, dev: blocks.includes(true) || inlineDev });
        }
      });
      return { path: rel, rubyVersion, dependencies: deps };
    });
  }

  pomXml(dir: string): Promise<PomXml | null> {
    const rel = join(dir, 'pom.xml');
    return this.once(`pom:${rel}`, async () => {
      const text = await this.text(rel);
      if (text === null) return null;
      const pom = parsePom(text, rel);
      if (!pom) this.warnings.add(`${rel} has no <project> element; it was ignored`);
      return pom;
    });
  }

  /** build.gradle.kts or build.gradle, with the version catalog (gradle/libs.versions.toml) resolved. */
  gradleBuild(dir: string, catalogDir = dir): Promise<GradleBuild | null> {
    return this.once(`gradle:${join(dir, 'build.gradle')}`, async () => {
      const rel = [join(dir, 'build.gradle.kts'), join(dir, 'build.gradle')].find((file) => this.fs.has(file));
      if (!rel) return null;
      const text = await this.text(rel);
      if (text === null) return null;
      const catalogRel = join(catalogDir, 'gradle/libs.versions.toml');
      const catalogText = this.fs.has(catalogRel) ? await this.text(catalogRel) : null;
      const catalog = catalogText === null ? null : parseVersionCatalog(catalogText);
      if (catalogText !== null && !catalog) this.warnings.add(`${catalogRel} is not valid TOML; catalog dependencies were not resolved`);
      return parseGradle(text, rel, catalog);
    });
  }

  gradleSettings(dir: string): Promise<GradleSettings | null> {
    return this.once(`gradle-settings:${join(dir, 'settings.gradle')}`, async () => {
      const rel = [join(dir, 'settings.gradle.kts'), join(dir, 'settings.gradle')].find((file) => this.fs.has(file));
      if (!rel) return null;
      const text = await this.text(rel);
      return text === null ? null : parseGradleSettings(text, rel);
    });
  }

  /** The *.csproj files directly in the folder, parsed, in name order. */
  csprojs(dir: string): Promise<Csproj[]> {
    return this.once(`csproj:${dir}`, async () => {
      const out: Csproj[] = [];
      for (const name of this.fs.list(dir)) {
        if (!name.endsWith('.csproj')) continue;
        const rel = join(dir, name);
        const text = await this.text(rel);
        if (text === null) continue;
        const project = parseCsproj(text, rel);
        if (project) out.push(project);
        else this.warnings.add(`${rel} has no <Project> element; it was ignored`);
      }
      return out;
    });
  }

  mixExs(dir: string): Promise<MixExs | null> {
    const rel = join(dir, 'mix.exs');
    return this.once(`mix:${rel}`, async () => {
      const text = await this.text(rel);
      return text === null ? null : parseMixExs(text, rel);
    });
  }

  /** Python dependencies from every manifest in the folder: requirements.txt, pyproject.toml, Pipfile. */
  async pythonDependencies(dir: string): Promise<Dependency[]> {
    const out: Dependency[] = [];
    const requirements = await this.requirements(dir);
    for (const req of requirements ?? []) {
      out.push({ ecosystem: 'pypi', name: req.name, extras: req.extras, spec: req.spec, source: `${req.file}:${req.line}`, dev: false });
    }
    out.push(...((await this.pyproject(dir))?.dependencies ?? []));
    out.push(...((await this.pipfile(dir))?.dependencies ?? []));
    return out;
  }

  /**
   * The folders of the local crates a crate depends on at runtime, transitively (a binary's library
   * crates in its workspace), in discovery order; bounded.
   */
  async cargoLocalCrates(dir: string): Promise<string[]> {
    const found: string[] = [];
    const queue = [dir];
    while (queue.length > 0 && found.length < MAX_LOCAL_CRATES) {
      const next = queue.shift() as string;
      for (const dep of (await this.cargoToml(next))?.pathDeps ?? []) {
        if (dep.dir === dir || found.includes(dep.dir)) continue;
        found.push(dep.dir);
        queue.push(dep.dir);
      }
    }
    return found.slice(0, MAX_LOCAL_CRATES);
  }

  /** Every declared dependency of the folder, across ecosystems, in a fixed order. */
  async allDependencies(dir: string): Promise<Dependency[]> {
    const out: Dependency[] = [];
    const pkg = await this.packageJson(dir);
    if (pkg) {
      for (const [section, dev] of [
        ['dependencies', false],
        ['optionalDependencies', false],
        ['devDependencies', true],
      ] as const) {
        for (const [name, spec] of Object.entries(pkg[section])) {
          out.push({ ecosystem: 'npm', name, extras: [], spec, source: `${pkg.path}: ${section}.${name}`, dev });
        }
      }
    }
    out.push(...(await this.pythonDependencies(dir)));
    out.push(...((await this.goMod(dir))?.requires ?? []));
    out.push(...((await this.cargoToml(dir))?.dependencies ?? []));
    // A crate's local path dependencies (a workspace's library crates) are part of the binary: their
    // runtime dependencies (sqlx, redis) are the service's too.
    for (const local of await this.cargoLocalCrates(dir)) out.push(...((await this.cargoToml(local))?.dependencies ?? []).filter((dep) => !dep.dev));
    out.push(...((await this.composerJson(dir))?.dependencies ?? []));
    out.push(...((await this.gemfile(dir))?.dependencies ?? []));
    out.push(...((await this.pomXml(dir))?.dependencies ?? []));
    out.push(...((await this.gradleBuild(dir))?.dependencies ?? []));
    for (const project of await this.csprojs(dir)) out.push(...project.packages);
    out.push(...((await this.mixExs(dir))?.dependencies ?? []));
    return out;
  }
}

