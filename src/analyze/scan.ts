/**
 * One pass over the service's source files, searched with patterns because source code has no
 * structure to parse for these facts: env references, listen calls, health routes, app objects and
 * mining markers.
 * Structured files are never grepped for their structure; they are read by `manifests.ts`.
 *
 * What is language syntax lives here (`process.env`, `os.getenv`, listen calls, a quoted `/health`
 * literal); what a framework adds (its route and config syntaxes, app objects, public env prefixes,
 * build configuration files) comes from the detector that owns it, collected by the registry.
 *
 * Every file is read once, without caching, with a file-count, byte and time budget, and in parallel;
 * results are kept in file order, so the output does not depend on timing.
 */
import path from 'node:path';
import { isEnvExampleName } from './env-example-names.js';
import { formatBytes, type FsSnapshot } from './fs-snapshot.js';
import { SCAN_KNOWLEDGE } from './registry.js';
import {
  NAME,
  NONE,
  TOLERANT,
  argFallback,
  hasPublicPrefix,
  isTestPath,
  jsFallback,
  literalDefault,
  sourceLanguageOf,
  type EnvPattern,
  type EnvRef,
  type EnvReadSyntax,
  type FallbackInfo,
  type HealthRoute,
  type Hit,
  type MiningHit,
  type PortHint,
  type PyAppObject,
  type ScanKnowledge,
  type ScanLimits,
  type ScanResult,
  type SourceLanguage,
} from './scan-model.js';
import type { Warnings } from './warnings.js';

export { healthRank, isTestPath, sourceLanguageOf } from './scan-model.js';
export type { EnvRef, HealthRoute, Hit, MiningHit, PortHint, PyAppObject, ScanLimits, ScanResult, SourceLanguage } from './scan-model.js';

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxFiles: 20_000, maxBytes: 64 * 1024 * 1024 };

/** Text files scanned only for refusal markers (configs and scripts can launch a miner too). */
const CONFIG_EXTENSIONS = new Set(['.json', '.yaml', '.yml', '.toml', '.ini', '.cfg', '.conf', '.txt', '.service', '.example', '.sample', '.template', '.ps1', '.bat', '.cmd', '.html', '.htm', '.properties']);
const CONFIG_NAMES = /^(?:Dockerfile.*|Containerfile.*|Procfile.*|Makefile|Justfile|Gemfile|Pipfile|crontab)$/;

/** Lockfiles are large, generated, and list package names only: not scanned. */
const LOCKFILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'poetry.lock',
  'uv.lock',
  'Pipfile.lock',
  'Cargo.lock',
  'composer.lock',
  'Gemfile.lock',
  'go.sum',
  'mix.lock',
]);

/** Bundler and tool configuration files (`webpack.config.js`); frameworks name their own (`buildConfigFiles`). */
const BUILD_TOOL_CONFIGS = ['vitest', 'webpack', 'rollup', 'tailwind', 'postcss', 'babel', 'tsup', 'esbuild'];
const ENTRYPOINT_SCRIPTS = /^(?:docker-)?entrypoint\.sh$|^start\.sh$/;

/** Names the OS or runtime always sets; they are not configuration. */
const IGNORED_ENV_NAMES = new Set(['NODE_ENV', 'PATH', 'HOME', 'PWD', 'USER', 'SHELL', 'TERM', 'LANG', 'HOSTNAME', 'TMPDIR', 'CI']);

/** The scan's tables, built once from what the detectors know. */
interface Tables {
  /** Code patterns per language (the language's own first, then the detectors'), with the file prefilter. */
  env: Map<SourceLanguage, { prefilter: RegExp[]; patterns: EnvPattern[] }>;
  /** Configuration files that read env (`props`). */
  configFiles: Array<(file: string, text: string) => boolean>;
  buildConfig: RegExp;
  publicPrefixes: readonly string[];
  appObject: RegExp | null;
  appPrefilter: RegExp | null;
  /** One pattern per language: the first server start in a file is the hit (only its line counts). */
  http: Map<SourceLanguage, RegExp>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function buildTables(knowledge: ScanKnowledge): Tables {
  const env = new Map<SourceLanguage, { prefilter: RegExp[]; patterns: EnvPattern[] }>();
  const addSyntax = (syntax: Pick<EnvReadSyntax, 'language' | 'prefilter' | 'patterns'>): void => {
    const entry = env.get(syntax.language) ?? { prefilter: [], patterns: [] };
    entry.prefilter.push(syntax.prefilter);
    entry.patterns.push(...syntax.patterns);
    env.set(syntax.language, entry);
  };
  for (const [language, patterns] of Object.entries(LANGUAGE_ENV) as Array<[SourceLanguage, EnvPattern[]]>) {
    addSyntax({ language, prefilter: LANGUAGE_ENV_PREFILTER[language] as RegExp, patterns });
  }
  for (const syntax of knowledge.envReadSyntaxes) addSyntax(syntax);
  const configFiles = knowledge.envReadSyntaxes.flatMap((syntax) => (syntax.configFile ? [syntax.configFile] : []));
  const buildConfig = new RegExp(`^(?:${[...knowledge.buildConfigFiles, ...BUILD_TOOL_CONFIGS].map(escapeRegExp).join('|')})(?:\\.config)?\\.[cm]?[jt]s$`);
  const names = knowledge.appObjects.map(escapeRegExp).join('|');
  const http = new Map<SourceLanguage, RegExp>();
  const starts = [
    ...(Object.entries(HTTP_PATTERNS) as Array<[SourceLanguage, RegExp]>).map(([language, pattern]) => ({ language, pattern })),
    ...knowledge.serverStarts,
  ];
  for (const { language, pattern } of starts) {
    const before = http.get(language);
    http.set(language, before ? new RegExp(`${before.source}|${pattern.source}`) : pattern);
  }
  return {
    env,
    configFiles,
    buildConfig,
    publicPrefixes: knowledge.publicEnvPrefixes,
    appObject: names ? new RegExp(`^([A-Za-z_]\\w*)\\s*(?::\\s*[\\w.[\\]]+\\s*)?=\\s*(?:[\\w.]+\\.)?(${names})\\(`, 'gm') : null,
    appPrefilter: names ? new RegExp(names) : null,
    http,
  };
}

function isMinified(file: string): boolean {
  return /\.min\.[cm]?js$/.test(file);
}

// Built on first use: the language tables it merges with the detectors' are declared further down.
let builtTables: Tables | undefined;
function tables(): Tables {
  builtTables ??= buildTables(SCAN_KNOWLEDGE);
  return builtTables;
}



/** Line lookup built on first use; most files have no hits at all. */
class Lines {
  private starts: number[] | null = null;
  constructor(private readonly text: string) {}
  at(index: number): number {
    if (!this.starts) {
      const starts = [0];
      for (let i = 0; i < this.text.length; i += 1) if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
      this.starts = starts;
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Mining markers: a miner in the source or a config makes the refusal checklist refuse the deploy.
const MINING_WORDS = /\b(xmrig|ethminer|cgminer|gminer|lolminer)\b/gi;
/** `t-rex` is also a dinosaur (and Chrome's offline game): only the miner's binary and flags count. */
const TREX = /(?:\.\/|\/)t-rex\b|\bt-rex(?:\.exe\b|-\d|\s+-{1,2}[a-z])/gi;
const STRATUM = /stratum\d?\+(?:tcp|ssl|tls):\/\//gi;
const MINER_FILE = /^(xmrig|ethminer|cgminer|t-rex|gminer|lolminer)(?:\.exe)?$/i;
const MINING_PREFILTER = /miner|xmrig|t-rex|stratum/i;

function scanMining(file: string, text: string, lines: Lines, out: MiningHit[]): void {
  // Case-insensitive on the text itself rather than on a lower-cased copy of every file: the same
  // verdict (no character outside ASCII lower-cases into these words), without a copy per file.
  if (!MINING_PREFILTER.test(text)) return;
  const seen = new Set<string>();
  for (const regex of [MINING_WORDS, TREX, STRATUM]) {
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m; m = regex.exec(text)) {
      const marker = regex === STRATUM ? m[0].toLowerCase() : regex === TREX ? 't-rex' : (m[1] as string).toLowerCase();
      const line = lines.at(m.index);
      const key = `${marker}:${line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ file, line, marker: marker === 'lolminer' ? 'lolMiner' : marker });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Environment references: the variables the code reads, and how it copes when one is unset.
// Runtimes and bundlers other than Node add their own (`import.meta.env`, `Bun.env`, `Deno.env.get`).
const JS_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bprocess\\.env\\.(${NAME})`, 'g'), nameGroup: 1, fallback: (_m, b, a) => jsFallback(b, a) },
  { regex: new RegExp(`\\bprocess\\.env\\[\\s*(['"\`])(${NAME})\\1\\s*\\]`, 'g'), nameGroup: 2, fallback: (_m, b, a) => jsFallback(b, a) },
];

const PY_ENV: EnvPattern[] = [
  {
    regex: new RegExp(`\\bos\\.getenv\\(\\s*(['"])(${NAME})\\1\\s*(?:,\\s*([^)\\n]{0,200}))?\\)`, 'g'),
    nameGroup: 2,
    fallback: (m, _b, a) => argFallback(m[3], true, a),
  },
  {
    regex: new RegExp(`\\b(?:os\\.)?environ\\.get\\(\\s*(['"])(${NAME})\\1\\s*(?:,\\s*([^)\\n]{0,200}))?\\)`, 'g'),
    nameGroup: 2,
    fallback: (m, _b, a) => argFallback(m[3], true, a),
  },
  {
    // os.environ["X"]; an assignment (os.environ["X"] = ...) is not a read and is dropped below.
    regex: new RegExp(`\\b(?:os\\.)?environ\\[\\s*(['"])(${NAME})\\1\\s*\\](?!\\s*=[^=])`, 'g'),
    nameGroup: 2,
    fallback: (_m, _b, a) => argFallback(undefined, false, a),
  },
  {
    // django-environ / python-decouple: env("X", default=...), config("X", default=...)
    regex: new RegExp(`\\b(?:env|config)(?:\\.(?:str|bool|int|list|url|db_url|cache_url))?\\(\\s*(['"])(${NAME})\\1\\s*(?:,\\s*(?:default\\s*=\\s*)?([^)\\n]{0,200}))?\\)`, 'g'),
    nameGroup: 2,
    fallback: (m, _b, a) => argFallback(m[3]?.replace(/^cast\s*=\s*\w+\s*,?\s*(?:default\s*=\s*)?/, ''), false, a),
  },
];

/**
 * Go config structs read by envconfig (`envconfig:"PORT" default:"8080" required:"true"`),
 * caarlos0/env (`env:"PORT" envDefault:"8080"`, `env:"DB,required"`) and cleanenv (`env:"PORT" env-default:"8080"`):
 * the struct tag holds the name, its default and whether it is required.
 */
function goTagFallback(tag: string): FallbackInfo {
  const dflt = /\b(?:default|envDefault|env-default):"([^"]*)"/.exec(tag);
  if (dflt) return { fallback: 'default', default: dflt[1] as string };
  if (/\brequired:"true"|\benv-required:"true"|\benv:"[^"]*,required/.test(tag)) return NONE;
  return TOLERANT;
}

const GO_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\b(?:envconfig|env):"(${NAME})(?:,[^"]*)?"`, 'g'), nameGroup: 1, fallback: (m, b, a) => goTagFallback(`${/[^`\n]*$/.exec(b)?.[0] ?? ''}${m[0]}${/^[^`\n]*/.exec(a)?.[0] ?? ''}`) },
  { regex: new RegExp(`\\bos\\.Getenv\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: () => ({ fallback: 'tolerant', default: '' }) },
  { regex: new RegExp(`\\bos\\.LookupEnv\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: () => ({ fallback: 'tolerant', default: '' }) },
];

/**
 * Rust: what the statement does with the `Result` of `env::var("X")`. A literal in `unwrap_or("3000")`,
 * `unwrap_or_else(|_| "3000".to_string())` or `.ok().and_then(..).unwrap_or(8080)` is the default;
 * other non-failing handling is tolerant; `?`, `.unwrap()`, `.expect()` fail without it.
 */
function rustFallback(after: string): FallbackInfo {
  const statement = after.split(';')[0] ?? '';
  const literal = /\.unwrap_or(?:_else)?\(\s*(?:(?:move\s*)?\|[^|]*\|\s*)?(?:"([^"\n]*)"|(\d+))/.exec(statement);
  if (literal) return { fallback: 'default', default: literal[1] ?? literal[2] ?? '' };
  if (/^\s*\.(?:unwrap_or|ok\(\)|is_ok|is_err|unwrap_or_else|unwrap_or_default)/.test(after)) return { fallback: 'tolerant', default: '' };
  return { fallback: 'none', default: '' };
}

const RS_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\b(?:std::)?env::var(?:_os)?\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => rustFallback(a) },
  { regex: new RegExp(`\\benv!\\(\\s*"(${NAME})"`, 'g'), nameGroup: 1, fallback: () => ({ fallback: 'none', default: '' }), build: true },
  { regex: new RegExp(`\\boption_env!\\(\\s*"(${NAME})"`, 'g'), nameGroup: 1, fallback: () => ({ fallback: 'tolerant', default: '' }), build: true },
];

const RB_ENV: EnvPattern[] = [
  // ENV["X"] = ... and ENV["X"] ||= ... set the variable (the app's own default), they do not read config.
  { regex: new RegExp(`\\bENV\\[\\s*(['"])(${NAME})\\1\\s*\\](?!\\s*(?:\\|\\|)?=[^=])`, 'g'), nameGroup: 2, fallback: (_m, _b, a) => argFallback(undefined, true, a) },
  {
    regex: new RegExp(`\\bENV\\.fetch\\(\\s*(['"])(${NAME})\\1\\s*(?:,\\s*([^)\\n]{0,200}))?\\)`, 'g'),
    nameGroup: 2,
    fallback: (m, _b, a) => {
      // `ENV.fetch("PORT") { 3000 }`: the block is the default.
      const block = m[3] === undefined ? /^\s*\{\s*(?:\|[^|]*\|\s*)?([^}\n]{1,100}?)\s*\}/.exec(a) : null;
      if (block) return { fallback: 'default', default: literalDefault(block[1] as string) ?? '' };
      return argFallback(m[3], false, a);
    },
  },
];

const PHP_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bgetenv\\(\\s*(['"])(${NAME})\\1\\s*\\)`, 'g'), nameGroup: 2, fallback: (_m, _b, a) => argFallback(undefined, true, a) },
  { regex: new RegExp(`\\$_ENV\\[\\s*(['"])(${NAME})\\1\\s*\\]`, 'g'), nameGroup: 2, fallback: (_m, _b, a) => argFallback(undefined, true, a) },
  { regex: new RegExp(`(?<![\\w$>:])env\\(\\s*(['"])(${NAME})\\1\\s*(?:,\\s*([^)\\n]{0,200}))?\\)`, 'g'), nameGroup: 2, fallback: (m, _b, a) => argFallback(m[3], true, a) },
];

const JAVA_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bSystem\\.getenv\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: () => ({ fallback: 'tolerant', default: '' }) },
];

const CS_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bEnvironment\\.GetEnvironmentVariable\\(\\s*"(${NAME})"`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => argFallback(undefined, true, a) },
];

const EX_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bSystem\\.get_env\\(\\s*"(${NAME})"\\s*(?:,\\s*([^)\\n]{0,200}))?\\)`, 'g'), nameGroup: 1, fallback: (m, _b, a) => argFallback(m[2], true, a) },
  { regex: new RegExp(`\\bSystem\\.fetch_env!\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: () => ({ fallback: 'none', default: '' }) },
];

const SH_ENV: EnvPattern[] = [
  {
    regex: /\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-=])([^}]*))?\}|\$([A-Z_][A-Z0-9_]*)/g,
    nameGroup: 1,
    fallback: (m) => (m[2] ? { fallback: 'default', default: m[3] ?? '' } : { fallback: 'tolerant', default: '' }),
  },
];

/** The statement (up to `;` or the end of the line) after a match. */
function statementAfter(after: string): string {
  return /^[^;\n]*/.exec(after)?.[0] ?? '';
}

/** A nullable read followed by the language's default operator (`?? "d"`, `orelse "d"`, `|| "d"`): default, else tolerant. */
function operatorFallback(after: string, operator: RegExp): FallbackInfo {
  const op = operator.exec(after);
  if (!op) return { fallback: 'tolerant', default: '' };
  // A Scala string interpolator (`port"8080"`) around the literal is still that literal.
  const rest = after.slice(op.index + op[0].length).replace(/^[a-z]\w*(?=")/, '');
  return { fallback: 'default', default: literalDefault(rest) ?? '' };
}


/** Clojure: `(System/getenv "X")` and environ's `(env :x)` (keyword `:database-url` is `DATABASE_URL`); `(or <read> "d")` is the default. */
function cljFallback(before: string, after: string): FallbackInfo {
  if (!/\(or\s*$/.test(before)) return TOLERANT;
  return { fallback: 'default', default: literalDefault(after) ?? '' };
}

const CLJ_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\(System/getenv\\s+"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, b, a) => cljFallback(b, a) },
  { regex: /\(env\s+:([a-z][a-z0-9-]*)\s*\)/g, nameGroup: 1, fallback: (_m, b, a) => cljFallback(b, a), rename: (key) => key.toUpperCase().replace(/-/g, '_') },
];

/** Crystal: `ENV["X"]` raises when unset, `ENV["X"]?` is nil, `ENV.fetch("X", "d")` / `ENV.fetch("X") { "d" }` default. */
const CR_ENV: EnvPattern[] = [
  {
    regex: new RegExp(`\\bENV\\[\\s*"(${NAME})"\\s*\\](\\?)?(?!\\s*=[^=])`, 'g'),
    nameGroup: 1,
    fallback: (m, _b, a) => (m[2] ? operatorFallback(a, /^\s*(?:\)\s*)?\|\|\s*/) : NONE),
  },
  RB_ENV[1] as EnvPattern,
];

const DART_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bPlatform\\.environment\\[\\s*(['"])(${NAME})\\1\\s*\\]`, 'g'), nameGroup: 2, fallback: (_m, _b, a) => operatorFallback(a, /^\s*!?\s*\?\?\s*/) },
  // Compile-time constants (`--dart-define`), read at build time.
  {
    regex: new RegExp(`\\b(?:String|int|bool)\\.fromEnvironment\\(\\s*(['"])(${NAME})\\1\\s*(?:,\\s*defaultValue:\\s*([^)\\n]{0,200}))?\\)`, 'g'),
    nameGroup: 2,
    fallback: (m) => (m[3] !== undefined ? { fallback: 'default', default: literalDefault(m[3]) ?? '' } : TOLERANT),
    build: true,
  },
];

/** Gleam: `envoy.get("X")` / `os.get_env("X")` return a Result; `result.unwrap(..., "d")` or `|> result.unwrap("d")` in the same expression is the default. */
function gleamFallback(after: string): FallbackInfo {
  const expression = after.split(/\n\s*\n|\n\s*(?:let|pub|fn)\b/)[0] ?? '';
  const unwrap = /\bresult\.(?:unwrap|lazy_unwrap)\(\s*(?:fn\(\)\s*\{\s*)?(?:\)\s*,\s*)?("[^"\n]*"|\d+)/.exec(expression) ?? /^\s*,\s*("[^"\n]*"|\d+)\s*\)/.exec(after);
  return unwrap ? { fallback: 'default', default: literalDefault(unwrap[1] as string) ?? '' } : TOLERANT;
}

const GLEAM_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\b(?:envoy\\.get|os\\.get_env|os\\.getenv|env\\.get_string|env\\.get_int)\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => gleamFallback(a) },
];

/** Haskell: `getEnv "X"` throws when unset, `lookupEnv "X"` is a Maybe; `fromMaybe "d" <$> lookupEnv "X"` / `maybe 3000 read <$>` is the default. */
function hsFallback(before: string): FallbackInfo {
  const d = /\b(?:fromMaybe|maybe)\s+(\("?[^"()\n]*"?\)|"[^"\n]*"|\d+)\s*(?:read\s*)?(?:<\$>|\.|\$)?\s*(?:<\$>\s*)?$/.exec(before);
  return d ? { fallback: 'default', default: literalDefault((d[1] as string).replace(/^\((.*)\)$/, '$1')) ?? '' } : TOLERANT;
}

const HS_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bgetEnv\\s+"(${NAME})"`, 'g'), nameGroup: 1, fallback: () => NONE },
  { regex: new RegExp(`\\blookupEnv\\s+"(${NAME})"`, 'g'), nameGroup: 1, fallback: (_m, b) => hsFallback(b) },
];

const SCALA_ENV: EnvPattern[] = [
  // sys.env("X") throws when unset; sys.env.get("X") is an Option (`.getOrElse("d")` defaults).
  { regex: new RegExp(`\\bsys\\.env\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: () => NONE },
  { regex: new RegExp(`\\bsys\\.env\\.get\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => operatorFallback(statementAfter(a), /\.getOrElse\(\s*/) },
  { regex: new RegExp(`\\b(?:sys\\.env\\.getOrElse|Properties\\.envOrElse|scala\\.util\\.Properties\\.envOrElse)\\(\\s*"(${NAME})"\\s*,\\s*([^)\\n]{0,200})\\)`, 'g'), nameGroup: 1, fallback: (m) => ({ fallback: 'default', default: literalDefault(m[2] as string) ?? '' }) },
  { regex: new RegExp(`\\bSystem\\.getenv\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: () => TOLERANT },
];

const SWIFT_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bEnvironment\\.get\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => operatorFallback(a, /^\s*(?:\)\s*)?(?:\.flatMap\([^)\n]*\)\s*)?\?\?\s*/) },
  { regex: new RegExp(`\\bProcessInfo\\.processInfo\\.environment\\[\\s*"(${NAME})"\\s*\\]`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => operatorFallback(a, /^\s*(?:\)\s*)?(?:\.flatMap\([^)\n]*\)\s*)?\?\?\s*/) },
];

/** Zig: `std.posix.getenv("X")` is optional (`orelse "d"` defaults); `getEnvVarOwned(alloc, "X")` errors when unset (`catch "d"` defaults, `try` fails). */
const ZIG_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\bstd\\.(?:posix|os)\\.getenv\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => operatorFallback(a, /^\s*orelse\s+/) },
  {
    regex: new RegExp(`\\bgetEnvVarOwned\\(\\s*[\\w.]+\\s*,\\s*"(${NAME})"\\s*\\)`, 'g'),
    nameGroup: 1,
    fallback: (_m, _b, a) => {
      const c = /^\s*catch\s*(?:\|[^|]*\|\s*)?(?:blk:\s*)?/.exec(a);
      if (!c) return NONE;
      // `catch "8080"`, or the literal the handler copies (`catch try allocator.dupe(u8, "8080")`).
      const rest = statementAfter(a.slice(c[0].length));
      return { fallback: 'default', default: literalDefault(rest) ?? /"([^"\n]*)"/.exec(rest)?.[1] ?? '' };
    },
  },
];

/** C/C++: `getenv("X")` returns NULL when unset; `getenv("X") ?: "d"` (GNU) or a ternary on the call is the default. */
const C_ENV: EnvPattern[] = [
  { regex: new RegExp(`\\b(?:std::)?(?:secure_)?getenv\\(\\s*"(${NAME})"\\s*\\)`, 'g'), nameGroup: 1, fallback: (_m, _b, a) => operatorFallback(a, /^\s*(?:\)\s*)?\?\s*[^:;\n]*:\s*/) },
];

/** F#: `Environment.GetEnvironmentVariable "X"` or `("X")`; null when unset (`|> Option.ofObj |> Option.defaultValue "d"` defaults). */
const FS_ENV: EnvPattern[] = [
  {
    regex: new RegExp(`\\bEnvironment\\.GetEnvironmentVariable\\s*\\(?\\s*"(${NAME})"\\s*\\)?`, 'g'),
    nameGroup: 1,
    fallback: (_m, _b, a) => operatorFallback(statementAfter(a).replace(/\|>\s*Option\.ofObj\s*/, ''), /^\s*\|>\s*Option\.defaultValue\s+/),
  },
];

const LANGUAGE_ENV: Readonly<Partial<Record<SourceLanguage, EnvPattern[]>>> = {
  js: JS_ENV,
  py: PY_ENV,
  go: GO_ENV,
  rs: RS_ENV,
  rb: RB_ENV,
  php: PHP_ENV,
  java: JAVA_ENV,
  cs: CS_ENV,
  ex: EX_ENV,
  sh: SH_ENV,
  clj: CLJ_ENV,
  cr: CR_ENV,
  dart: DART_ENV,
  gleam: GLEAM_ENV,
  hs: HS_ENV,
  scala: SCALA_ENV,
  swift: SWIFT_ENV,
  zig: ZIG_ENV,
  c: C_ENV,
  fs: FS_ENV,
};

const LANGUAGE_ENV_PREFILTER: Readonly<Partial<Record<SourceLanguage, RegExp>>> = {
  js: /process\.env/,
  py: /environ|getenv|env\(|config\(/,
  go: /os\.(?:Getenv|LookupEnv)|\benv(?:config)?:"/,
  rs: /env/,
  rb: /ENV/,
  php: /env|ENV/,
  java: /getenv/,
  cs: /GetEnvironmentVariable/,
  ex: /_env/,
  sh: /\$/,
  clj: /getenv|\(env\s/,
  cr: /ENV/,
  dart: /environment|fromEnvironment/,
  gleam: /env/,
  hs: /Env\s/,
  scala: /env|getenv|envOrElse/,
  swift: /Environment|environment/,
  zig: /getenv|getEnvVarOwned/,
  c: /getenv/,
  fs: /GetEnvironmentVariable/,
};

/** `const { A, B = "x" } = process.env` */
const JS_DESTRUCTURE = /\b(?:const|let|var)\s*\{([^}]{0,500})\}\s*=\s*process\.env\b/g;

function scanEnv(file: string, lang: SourceLanguage, text: string, lines: Lines, build: boolean, out: EnvRef[]): void {
  const syntax = tables().env.get(lang);
  if (!syntax || !syntax.prefilter.some((prefilter) => prefilter.test(text))) return;
  const found: EnvRef[] = [];
  for (const pattern of syntax.patterns) {
    pattern.regex.lastIndex = 0;
    for (let m = pattern.regex.exec(text); m; m = pattern.regex.exec(text)) {
      const captured = m[pattern.nameGroup] ?? m[4];
      if (!captured) continue;
      const name = pattern.rename ? pattern.rename(captured) : captured;
      const end = m.index + m[0].length;
      const before = text.slice(Math.max(0, m.index - 40), m.index);
      const after = text.slice(end, end + 160);
      const info = pattern.fallback(m, before, after);
      if (pattern.builtins?.has(name)) continue;
      found.push({ file, line: lines.at(m.index), name, ...info, build: build || pattern.build === true || hasPublicPrefix(name, tables().publicPrefixes) });
    }
  }
  if (lang === 'js') {
    JS_DESTRUCTURE.lastIndex = 0;
    for (let m = JS_DESTRUCTURE.exec(text); m; m = JS_DESTRUCTURE.exec(text)) {
      const line = lines.at(m.index);
      for (const part of (m[1] ?? '').split(',')) {
        const d = new RegExp(`^\\s*(${NAME})\\s*(?::\\s*${NAME}\\s*)?(?:=\\s*(.*))?$`, 's').exec(part);
        if (!d) continue;
        const name = d[1] as string;
        const dflt = d[2];
        found.push({
          file,
          line,
          name,
          fallback: dflt !== undefined ? 'default' : 'none',
          default: dflt !== undefined ? (literalDefault(dflt) ?? '') : '',
          build: build || hasPublicPrefix(name, tables().publicPrefixes),
        });
      }
    }
  }
  found.sort((a, b) => a.line - b.line);
  for (const ref of found) if (!IGNORED_ENV_NAMES.has(ref.name)) out.push(ref);
}

// ---------------------------------------------------------------------------------------------
// Listen calls and port literals: ports the code states, one of the sources port.ts decides from.
const PORT_PATTERNS: Readonly<Partial<Record<SourceLanguage, RegExp[]>>> = {
  js: [
    /\.listen\(\s*(\d{2,5})\s*[,)]/g,
    /\.listen\(\s*\{[^}]{0,300}?\bport\s*:\s*['"]?(\d{2,5})\b/g,
    /\b(?:const|let|var)\s+(?:PORT|port)\s*=\s*['"]?(\d{2,5})['"]?\s*;?\s*$/gm,
    // Bun.serve({ port: 3000 }), Deno.serve({ port: 8000 }, h), @hono/node-server serve({ fetch, port: 3000 })
    /\b(?:Bun\.serve|Deno\.serve|serve)\(\s*\{[^}]{0,300}?\bport\s*:\s*['"]?(\d{2,5})\b/g,
    // export default { port: 3000, fetch: app.fetch } (Bun)
    /\bexport\s+default\s*\{[^}]{0,300}?\bport\s*:\s*['"]?(\d{2,5})\b/g,
  ],
  py: [
    /\.run\([^)\n]{0,300}\bport\s*=\s*(\d{2,5})\b/g,
    /\b(?:HTTPServer|ThreadingHTTPServer|TCPServer|ThreadingTCPServer|make_server)\(\s*\(?\s*['"][^'"\n]{0,100}['"]\s*,\s*(\d{2,5})\s*\)?/g,
    /^(?:PORT|port)\s*=\s*(\d{2,5})\s*$/gm,
  ],
  go: [
    /\b(?:ListenAndServe(?:TLS)?|Run|Start|Listen)\(\s*"[^":\n]{0,100}:(\d{2,5})"/g,
    // `port := "8080"` / `port = "8080"` (the usual fallback after os.Getenv("PORT")), `addr := ":8080"`
    /\b(?:[pP]ort|PORT|[aA]ddr|ADDR)\s*:?=\s*":?(\d{2,5})"/g,
    // http.Server{Addr: ":8080"}
    /\bAddr\s*:\s*"[^":\n]{0,100}:(\d{2,5})"/g,
  ],
  rs: [/\.bind\(\s*\(\s*"[^"\n]{0,100}"\s*,\s*(\d{2,5})\s*\)/g, /"(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]):(\d{2,5})"/g],
  rb: [/\bset\s+:port\s*,\s*(\d{2,5})\b/g],
  cs: [/\b(?:UseUrls|Urls\.Add|\.Run)\(\s*"https?:\/\/[^":/\n]{1,100}:(\d{2,5})/g, /\bListen(?:AnyIP|Localhost)\(\s*(\d{2,5})\s*[,)]/g],
  sh: [/--port[=\s]+(\d{2,5})\b/g, /--bind[=\s]+\S*:(\d{2,5})\b/g],
};

function scanPorts(file: string, lang: SourceLanguage, text: string, lines: Lines, out: PortHint[]): void {
  for (const regex of PORT_PATTERNS[lang] ?? []) {
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m; m = regex.exec(text)) {
      const port = Number(m[1]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
      out.push({ file, line: lines.at(m.index), port, snippet: m[0].trim().slice(0, 80) });
    }
  }
}

// Listen calls of the language and its standard library; frameworks add theirs (`serverStarts`).
const HTTP_PATTERNS: Readonly<Partial<Record<SourceLanguage, RegExp>>> = {
  js: /\.listen\(|\bcreateServer\(/,
  py: /\b(?:HTTPServer|ThreadingHTTPServer|TCPServer|ThreadingTCPServer|make_server)\(|\.serve_forever\(|\bweb\.run_app\(|\buvicorn\.run\(/,
  go: /\bListenAndServe(?:TLS)?\(|\bhttp\.Serve\(|\.ListenAndServe\(/,
  rs: /\bTcpListener::bind\b|\bwarp::serve\b|\bServer::bind\b|\bPoem::|\bSalvo::|\bServer::new\(/,
};

function scanHttp(file: string, lang: SourceLanguage, text: string, lines: Lines, out: Hit[]): void {
  const regex = tables().http.get(lang);
  if (!regex) return;
  const m = regex.exec(text);
  if (m) out.push({ file, line: lines.at(m.index) });
}

// ---------------------------------------------------------------------------------------------
// Health routes: a quoted path literal in any language; frameworks add their route syntaxes.
// Go 1.22 ServeMux patterns carry a method: "GET /healthz".
const HEALTH_LITERAL = /(['"`])(?:(?:GET|HEAD)\s+)?(\/(?:api\/)?(?:health|healthz|ready|readyz|livez))\1/g;

function scanHealth(file: string, lang: SourceLanguage, text: string, lines: Lines, out: HealthRoute[]): void {
  if (!/health|ready|livez/.test(text)) return;
  const syntaxes = SCAN_KNOWLEDGE.healthRoutes.filter((syntax) => syntax.language === lang);
  const claimed = syntaxes.find((syntax) => syntax.claims?.test(text));
  const lineAt = (index: number): number => lines.at(index);
  const add = (syntax: (typeof syntaxes)[number]): void => {
    for (const route of syntax.find(text, lineAt)) out.push({ file, line: route.line, path: route.path });
  };
  if (claimed) {
    add(claimed);
    return;
  }
  for (const syntax of syntaxes) if (!syntax.afterLiterals) add(syntax);
  HEALTH_LITERAL.lastIndex = 0;
  for (let m = HEALTH_LITERAL.exec(text); m; m = HEALTH_LITERAL.exec(text)) {
    out.push({ file, line: lines.at(m.index), path: m[2] as string });
  }
  for (const syntax of syntaxes) if (syntax.afterLiterals) add(syntax);
}

// ---------------------------------------------------------------------------------------------
// Python application objects (`app = FastAPI(`) of the constructors the detectors name.
function scanPyApps(file: string, text: string, lines: Lines, apps: PyAppObject[]): void {
  const { appObject, appPrefilter } = tables();
  if (!appObject || !appPrefilter?.test(text)) return;
  appObject.lastIndex = 0;
  for (let m = appObject.exec(text); m; m = appObject.exec(text)) {
    apps.push({ file, line: lines.at(m.index), variable: m[1] as string, factory: m[2] as string });
  }
}

// ---------------------------------------------------------------------------------------------

/** Scans the files under `dir` (relative to the snapshot root, `''` for the root). */
export async function scanSources(
  fs: FsSnapshot,
  dir: string,
  warnings: Warnings,
  limits: ScanLimits = DEFAULT_SCAN_LIMITS,
): Promise<ScanResult> {
  const result: ScanResult = { envRefs: [], portHints: [], httpHits: [], healthRoutes: [], miningHits: [], pyApps: [], scannedFiles: 0, publicEnvPrefixes: tables().publicPrefixes };
  const files = fs.filesUnder(dir);
  // Which files are scanned, one byte per file rather than an array of their paths: a growing array
  // of 20,000 paths left each of its outgrown copies in the old generation.
  const candidate = new Uint8Array(files.length);
  let candidates = 0;
  for (let i = 0; i < files.length; i += 1) {
    const file = files[i] as string;
    const base = path.posix.basename(file);
    if (MINER_FILE.test(base)) result.miningHits.push({ file, line: 0, marker: base.toLowerCase().replace(/\.exe$/, '') });
    if (LOCKFILES.has(base)) continue;
    const ext = path.posix.extname(base).toLowerCase();
    // Env templates and their variants (`.env.example.local`) are read like the analysis reads them (env-example-names.ts).
    if (sourceLanguageOf(base) || CONFIG_EXTENSIONS.has(ext) || CONFIG_NAMES.test(base) || isEnvExampleName(base)) {
      candidate[i] = 1;
      candidates += 1;
    }
  }

  if (candidates > limits.maxFiles) {
    warnings.add(
      `scanned the first ${limits.maxFiles} of ${candidates} source and config files; env references and refusal markers in the rest were not checked`,
    );
  }

  // Synchronous reads in batches, yielding between batches: much faster than one async read per
  // file, and the event loop (spinners, signals) still runs. Budgets are checked per batch.
  // Files are scanned in order and their hits go straight into the result, so it is in file order
  // without a per-file record: 20,000 records of six arrays each lived until the last file was
  // scanned, long enough for V8 to move every one of them to the old generation.
  let bytes = 0;
  let budgetHit: 'bytes' | 'time' | null = null;
  const truncated: string[] = [];
  const BATCH = 256;
  const toScan = Math.min(candidates, limits.maxFiles);
  // `at`: the file after the last candidate taken; `taken`: how many candidates were taken.
  let at = 0;
  let taken = 0;
  for (let start = 0; start < toScan && !budgetHit; start += BATCH) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (fs.remainingMs() <= 0) {
      budgetHit = 'time';
      break;
    }
    const end = Math.min(start + BATCH, toScan);
    for (; taken < end; taken += 1) {
      while (candidate[at] === 0) at += 1;
      const file = files[at] as string;
      at += 1;
      const read = fs.readSyncUncached(file);
      if (!read) continue;
      bytes += Math.min(read.size, fs.limits.maxFileBytes);
      scanFile(file, read.text, result);
      result.scannedFiles += 1;
      if (read.truncated) truncated.push(file);
      if (bytes > limits.maxBytes) {
        budgetHit = 'bytes';
        break;
      }
    }
  }

  if (truncated.length > 0) {
    const shown = truncated.slice(0, 5).join(', ');
    warnings.add(
      `${truncated.length} file(s) larger than ${formatBytes(fs.limits.maxFileBytes)} were only partly scanned: ${shown}${truncated.length > 5 ? ` and ${truncated.length - 5} more` : ''}`,
    );
  }
  if (budgetHit === 'bytes') {
    warnings.add(`stopped scanning source after ${formatBytes(limits.maxBytes)}; env references and refusal markers in the rest were not checked`);
  } else if (budgetHit === 'time') {
    warnings.add('stopped scanning source when the time budget ran out; env references and refusal markers in the rest were not checked');
  }
  result.miningHits.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return result;
}

/** Scans one file, adding its hits to `out` (in the order the file's own scans find them). */
function scanFile(file: string, text: string, out: ScanResult): void {
  const lines = new Lines(text);
  scanMining(file, text, lines, out.miningHits);
  const base = path.posix.basename(file);
  let lang = sourceLanguageOf(file);
  if (lang === 'sh' && !ENTRYPOINT_SCRIPTS.test(base)) lang = undefined;
  // Framework configuration files that read env (their detectors say which) are the `props` language.
  if (!lang && tables().configFiles.some((isConfig) => isConfig(file, text))) lang = 'props';
  if (!lang || isTestPath(file) || isMinified(file) || file.endsWith('.d.ts')) return;
  scanEnv(file, lang, text, lines, tables().buildConfig.test(base), out.envRefs);
  scanPorts(file, lang, text, lines, out.portHints);
  scanHttp(file, lang, text, lines, out.httpHits);
  scanHealth(file, lang, text, lines, out.healthRoutes);
  if (lang === 'py') scanPyApps(file, text, lines, out.pyApps);
}
