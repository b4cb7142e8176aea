/**
 * The vocabulary of the one-pass source scan (scan.ts), shared with the detectors that teach it:
 * what a hit is, which files are source in which language, how a read of an environment variable
 * copes when the variable is unset, and the shapes of the knowledge a detector contributes (health
 * routes, application objects, env-read syntaxes, public env prefixes, build configuration files,
 * refusal hints). The registry collects that knowledge from every detector; the scan and the refusal
 * checklist use only the collected form, so they name no framework themselves.
 */
import path from 'node:path';

export type SourceLanguage =
  | 'js' | 'py' | 'go' | 'rs' | 'rb' | 'php' | 'java' | 'cs' | 'ex' | 'sh' | 'props'
  // Ecosystems whose detectors read their own server and port facts (source-hints.ts): scanned here for env reads, health routes and refusal markers.
  | 'clj' | 'cr' | 'dart' | 'gleam' | 'hs' | 'scala' | 'swift' | 'zig' | 'c' | 'fs';

const CODE_EXTENSIONS: Readonly<Record<string, SourceLanguage>> = {
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'js',
  '.ts': 'js',
  '.tsx': 'js',
  '.mts': 'js',
  '.cts': 'js',
  '.vue': 'js',
  '.svelte': 'js',
  '.astro': 'js',
  '.py': 'py',
  '.go': 'go',
  '.rs': 'rs',
  '.rb': 'rb',
  '.php': 'php',
  '.java': 'java',
  '.kt': 'java',
  '.kts': 'java',
  '.cs': 'cs',
  '.vb': 'cs',
  '.fs': 'fs',
  '.fsx': 'fs',
  '.ex': 'ex',
  '.exs': 'ex',
  '.sh': 'sh',
  '.bash': 'sh',
  '.clj': 'clj',
  '.cljc': 'clj',
  '.cr': 'cr',
  '.dart': 'dart',
  '.gleam': 'gleam',
  '.hs': 'hs',
  '.scala': 'scala',
  '.sc': 'scala',
  '.swift': 'swift',
  '.zig': 'zig',
  '.c': 'c',
  '.h': 'c',
  '.cc': 'c',
  '.cpp': 'c',
  '.cxx': 'c',
  '.hpp': 'c',
};

const TEST_DIRS = new Set(['test', 'tests', '__tests__', '__mocks__', 'spec', 'e2e', 'cypress', 'playwright', 'fixtures', 'testdata']);
const TEST_FILE = /(?:\.(?:test|spec|e2e)\.[a-z]+$|^test_.*\.py$|_test\.(?:py|go)$|^conftest\.py$)/;

export interface Hit {
  file: string;
  /** 1-based; 0 when the hit is the file name itself. */
  line: number;
}

export interface EnvRef extends Hit {
  name: string;
  /** How the code copes when the variable is unset. */
  fallback: 'none' | 'default' | 'tolerant';
  /** Literal default found in code (empty when none or not a literal). */
  default: string;
  /** Read at build time: public client prefix, build config file, compile-time macro. */
  build: boolean;
}

export interface PortHint extends Hit {
  port: number;
  snippet: string;
}

export interface HealthRoute extends Hit {
  path: string;
}

export interface MiningHit extends Hit {
  marker: string;
}

export interface PyAppObject extends Hit {
  variable: string;
  factory: string;
}

export interface ScanResult {
  envRefs: EnvRef[];
  portHints: PortHint[];
  /** Code that starts an HTTP server (listen calls, server constructors). */
  httpHits: Hit[];
  healthRoutes: HealthRoute[];
  miningHits: MiningHit[];
  /** Python application objects (`app = FastAPI(`) of the constructors the detectors name. */
  pyApps: PyAppObject[];
  scannedFiles: number;
  /** The public env prefixes the frameworks declare (`NEXT_PUBLIC_`): names the client bundle inlines at build time. */
  publicEnvPrefixes: readonly string[];
}

export interface ScanLimits {
  maxFiles: number;
  maxBytes: number;
}

export function sourceLanguageOf(file: string): SourceLanguage | undefined {
  return CODE_EXTENSIONS[path.posix.extname(file).toLowerCase()];
}

export function isTestPath(file: string): boolean {
  const parts = file.split('/');
  const base = parts[parts.length - 1] ?? '';
  return parts.slice(0, -1).some((part) => TEST_DIRS.has(part)) || TEST_FILE.test(base);
}

// ---------------------------------------------------------------------------------------------
// Health routes: a known path ranks by how conventional it is; the first of the best rank wins.
const HEALTH_ORDER = ['/health', '/healthz', '/api/health', '/api/healthz', '/ready', '/readyz', '/livez', '/up'];

export function healthRank(route: string): number {
  const index = HEALTH_ORDER.indexOf(route.replace(/\/$/, ''));
  return index === -1 ? HEALTH_ORDER.length : index;
}

/** A name the client bundle inlines at build time (one of the frameworks' public prefixes). */
export function hasPublicPrefix(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => name.startsWith(prefix));
}

/** One of the conventional health paths (a trailing `/` aside). */
export function isKnownHealthPath(route: string): boolean {
  return healthRank(route) < HEALTH_ORDER.length;
}

// ---------------------------------------------------------------------------------------------
// Environment reads: how the code copes when the variable is unset.
export type FallbackInfo = Pick<EnvRef, 'fallback' | 'default'>;

export const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const STRING_LITERAL = /^\s*(?:(['"`])((?:\\.|(?!\1)[^\\\n])*)\1|(-?\d+(?:\.\d+)?)\b|(true|false|True|False)\b)/;

export function literalDefault(text: string): string | undefined {
  const m = STRING_LITERAL.exec(text);
  if (!m) return undefined;
  if (m[1] === '`' && (m[2] ?? '').includes('${')) return undefined;
  return m[2] ?? m[3] ?? m[4] ?? '';
}

/** JS/TS: what follows `process.env.X` decides whether the code has a fallback. */
export function jsFallback(before: string, after: string): FallbackInfo {
  // `Number(process.env.PORT) || 3000`, `parseInt(process.env.PORT, 10) || 3000`, `?? '3000'`.
  const op = /^\s*(?:,\s*\d+\s*)?(?:\)\s*)?(\|\||\?\?)/.exec(after);
  if (op) return { fallback: 'default', default: literalDefault(after.slice(op[0].length)) ?? '' };
  // `process.env.PORT ? Number(process.env.PORT) : 3000` (Nx's generated server): the else branch is the default.
  const ternary = /^\s*\?(?![?.])[^:;\n]{0,200}:\s*/.exec(after);
  const otherwise = ternary ? literalDefault(after.slice(ternary[0].length)) : undefined;
  if (otherwise !== undefined) return { fallback: 'default', default: otherwise };
  if (/^\s*(?:===?|!==?|\?(?![?.]))/.test(after)) return { fallback: 'tolerant', default: '' };
  if (/(?:!|\bif\s*\(\s*|Boolean\(\s*|&&\s*|\?\?\s*|\|\|\s*)$/.test(before)) return { fallback: 'tolerant', default: '' };
  return { fallback: 'none', default: '' };
}

/** Python/Ruby/PHP/Elixir call with an optional second argument: `getenv("X", "d")`. */
export function argFallback(arg: string | undefined, tolerantWithout: boolean, after: string): FallbackInfo {
  if (arg !== undefined && arg.trim() !== '') {
    const trimmed = arg.trim();
    if (/^(?:None|nil|null)$/.test(trimmed)) return { fallback: 'tolerant', default: '' };
    return { fallback: 'default', default: literalDefault(trimmed) ?? '' };
  }
  const orMatch = /^\s*(?:\)\s*)?(?:\bor\b|\|\||\?\?|\?:)\s*/.exec(after);
  // `System.get_env("X") || raise "..."` (Elixir, Ruby): the alternative is failing, not a default.
  if (orMatch && /^raise\b/.test(after.slice(orMatch[0].length))) return { fallback: 'none', default: '' };
  if (orMatch) return { fallback: 'default', default: literalDefault(after.slice(orMatch[0].length)) ?? '' };
  return tolerantWithout ? { fallback: 'tolerant', default: '' } : { fallback: 'none', default: '' };
}

export const TOLERANT: FallbackInfo = { fallback: 'tolerant', default: '' };
export const NONE: FallbackInfo = { fallback: 'none', default: '' };

export interface EnvPattern {
  regex: RegExp;
  /** Index of the capture group holding the name. */
  nameGroup: number;
  fallback: (m: RegExpExecArray, before: string, after: string) => FallbackInfo;
  build?: boolean;
  /** The variable's name from the captured one (Clojure's `:database-url` keyword reads `DATABASE_URL`). */
  rename?: (captured: string) => string;
  /** Names this syntax reads that are the framework's own built-ins, not configuration (Vite's `import.meta.env.MODE`). */
  builtins?: ReadonlySet<string>;
}

// ---------------------------------------------------------------------------------------------
// What a detector contributes (collected by registry.ts).

/** Route declarations a framework writes its health endpoint with, beyond a quoted `/health` literal. */
export interface HealthRouteSyntax {
  language: SourceLanguage;
  /** Routes declared in one file's text (`lineAt` turns a character offset into a 1-based line). */
  find(text: string, lineAt: (index: number) => number): Array<{ line: number; path: string }>;
  /**
   * Files this syntax reads instead of the quoted-literal search (a router whose routes nest in
   * scopes, so a literal alone is not the full path).
   */
  claims?: RegExp;
  /** Listed after the quoted literals of the same file (the first route of the best rank wins). */
  afterLiterals?: boolean;
}

/** How a language or a framework's configuration reads environment variables. */
export interface EnvReadSyntax {
  /** `props` for configuration files, which name the files they apply to with `configFile`. */
  language: SourceLanguage;
  /** A file whose text does not match this is not searched with `patterns`. */
  prefilter: RegExp;
  patterns: EnvPattern[];
  /** For `props`: the configuration files (root-relative path, text) read this way. */
  configFile?: (file: string, text: string) => boolean;
}

/** What a detector teaches the source scan and the refusal checklist. */
export interface DetectorKnowledge {
  healthRoutes?: readonly HealthRouteSyntax[];
  /** Python constructors whose module-level result is the app object (`app = FastAPI(`). */
  appObjects?: readonly string[];
  envReadSyntaxes?: readonly EnvReadSyntax[];
  /** Env-name prefixes the framework inlines into the client bundle at build time (`NEXT_PUBLIC_`). */
  publicEnvPrefixes?: readonly string[];
  /** Code that starts the framework's HTTP server (`axum::serve`), beyond the language's own listen calls. */
  serverStarts?: ReadonlyArray<{ language: SourceLanguage; pattern: RegExp }>;
  /** Build configuration files (`next` for next.config.mjs): env reads in them happen at build time. */
  buildConfigFiles?: readonly string[];
  /** Why a service in these languages has no start command, said in the refusal reason. */
  refusalHint?: { languages: readonly string[]; missingStart: string };
}

/** Every detector's knowledge, in registry order (frameworks first, then runtimes). */
export interface ScanKnowledge {
  healthRoutes: HealthRouteSyntax[];
  appObjects: string[];
  envReadSyntaxes: EnvReadSyntax[];
  publicEnvPrefixes: string[];
  buildConfigFiles: string[];
  serverStarts: Array<{ language: SourceLanguage; pattern: RegExp }>;
  /** Missing-start explanation by service language. */
  missingStart: Map<string, string>;
}

export function collectKnowledge(detectors: readonly DetectorKnowledge[]): ScanKnowledge {
  const knowledge: ScanKnowledge = { healthRoutes: [], appObjects: [], envReadSyntaxes: [], publicEnvPrefixes: [], buildConfigFiles: [], serverStarts: [], missingStart: new Map() };
  const add = <T>(into: T[], items: readonly T[] | undefined): void => {
    for (const item of items ?? []) if (!into.includes(item)) into.push(item);
  };
  for (const detector of detectors) {
    add(knowledge.healthRoutes, detector.healthRoutes);
    add(knowledge.appObjects, detector.appObjects);
    add(knowledge.envReadSyntaxes, detector.envReadSyntaxes);
    add(knowledge.publicEnvPrefixes, detector.publicEnvPrefixes);
    add(knowledge.buildConfigFiles, detector.buildConfigFiles);
    add(knowledge.serverStarts, detector.serverStarts);
    for (const language of detector.refusalHint?.languages ?? []) {
      if (!knowledge.missingStart.has(language)) knowledge.missingStart.set(language, detector.refusalHint?.missingStart ?? '');
    }
  }
  return knowledge;
}
