/**
 * Environment variables the service reads, split into runtime and build-time maps.
 *
 * Sources: code references (scan.ts), `.env.example` / `.env.sample` / `.env.template` and their
 * variants (`.env.production.example`, `.env.example.local`; names and defaults only), compose `environment:` keys, Dockerfile `ARG`s and `$VARS` in the build script.
 * A real `.env` is never read here: its values must never reach analysis.json.
 *
 * Rules:
 * - default: the first literal fallback in code, else the example file's value. Secret-like names
 *   and dependency-provided names never carry a default: an example value there is a placeholder
 *   (`change-me`, `postgres://user:pass@localhost`), and must not become deployed config.
 * - required: no default from any source and no fallback in code (`|| "x"`, `getenv("X", d)`,
 *   `.get("X")`, comparisons). PORT is never required: the platform sets it.
 * - build-time: public client prefixes (NEXT_PUBLIC_, VITE_, ...), reads in build config files,
 *   compile-time macros, Dockerfile ARG, build script references. A name is in both maps only when
 *   both phases read it; public-prefixed names are build-time only (the bundler inlines them).
 */
import type { ComposeInfo } from './compose.js';
import type { DockerfileInfo } from './dockerfile.js';
import { ENV_EXAMPLE_BASES, ENV_EXAMPLE_VARIANT } from './env-example-names.js';
import { hasPublicPrefix, type EnvRef } from './scan-model.js';
import type { EnvKind, EnvVar, Evidence } from './schema.js';
import type { DetectContext } from './types.js';
import { inDir } from './types.js';

export const EXAMPLE_FILES = ENV_EXAMPLE_BASES;

/**
 * Files only the development or test environment loads (Rails `config/environments/development.rb`,
 * Django `settings/local.py`, Phoenix `config/dev.exs`): what they read is not deployed configuration.
 */
const DEV_ONLY_FILE = /(?:^|\/)(?:config\/environments\/(?:development|test)\.rb|settings\/(?:dev|development|local|test|testing)\.py|settings_(?:dev|local|test)\.py|config\/(?:dev|test)\.exs)$/;

export function isDevOnlyFile(file: string): boolean {
  return DEV_ONLY_FILE.test(file);
}

/** `.env.production.example`, `.env.example.local`, `.env.local.sample`: templates too, never secrets. */
const VARIANT_EXAMPLE = ENV_EXAMPLE_VARIANT;

/**
 * The env example files of a folder: the three usual names first, then their variants, production
 * ones (`.env.production.example`) before the others (`.env.example.local`), each in name order.
 */
export function exampleFiles(ctx: DetectContext): string[] {
  const production = (name: string): number => (/\.prod(?:uction)?\b/i.test(name) ? 0 : 1);
  const variants = ctx.fs
    .list(ctx.dir)
    .filter((name) => VARIANT_EXAMPLE.test(name))
    .sort((a, b) => production(a) - production(b) || (a < b ? -1 : a > b ? 1 : 0));
  return [...EXAMPLE_FILES, ...variants].map((file) => inDir(ctx.dir, file)).filter((rel) => ctx.fs.has(rel));
}

/** Every entry of the folder's env example files, first file first. */
export async function readExamples(ctx: DetectContext): Promise<ExampleEntry[]> {
  const out: ExampleEntry[] = [];
  for (const rel of exampleFiles(ctx)) {
    const text = await ctx.manifests.text(rel);
    if (text !== null) out.push(...parseDotenv(text, rel));
  }
  return out;
}

export interface ExampleEntry {
  name: string;
  value: string;
  file: string;
  line: number;
}

/** Parses dotenv syntax: `KEY=value`, `export KEY="value"`, comments and blanks skipped. */
export function parseDotenv(text: string, file: string): ExampleEntry[] {
  const out: ExampleEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(raw);
    if (!match) return;
    let value = (match[2] as string).trim();
    const quoted = /^(['"`])(.*)\1/.exec(value);
    if (quoted) value = quoted[2] as string;
    else value = value.replace(/\s+#.*$/, '').trim();
    out.push({ name: match[1] as string, value, file, line: index + 1 });
  });
  return out;
}

const DEPENDENCY_PROVIDED =
  /^(?:DATABASE_URL|DATABASE_PRIVATE_URL|DIRECT_URL|DB_(?:HOST|PORT|USER|USERNAME|PASSWORD|PASS|NAME|DATABASE|URL)|REDIS_(?:URL|HOST|PORT|PASSWORD|TLS_URL|USERNAME)|REDISCLOUD_URL|VALKEY_URL|CACHE_URL|CELERY_BROKER_URL|BROKER_URL|MONGO(?:DB)?_(?:URL|URI|HOST|PORT|USER|USERNAME|PASSWORD|DATABASE|DB|DB_NAME)|MONGO_URL|POSTGRES(?:QL)?_\w+|PG(?:HOST|PORT|USER|PASSWORD|DATABASE|SSLMODE)|MYSQL_\w+|CLICKHOUSE_\w+)$/;
const GENERATED_SECRET =
  /^(?:SECRET_KEY|DJANGO_SECRET_KEY|FLASK_SECRET_KEY|APP_SECRET|APP_SECRET_KEY|APP_KEY|SECRET_KEY_BASE|SESSION_SECRET|SESSION_KEY|COOKIE_SECRET|JWT_SECRET|JWT_SECRET_KEY|AUTH_SECRET|NEXTAUTH_SECRET|BETTER_AUTH_SECRET|ENCRYPTION_KEY|SIGNING_KEY|CSRF_SECRET|TOKEN_SECRET)$/;
const LATE_BOUND_URL =
  /^(?:APP_URL|BASE_URL|PUBLIC_URL|SITE_URL|SERVER_URL|HOST_URL|ORIGIN|NEXTAUTH_URL|AUTH_URL|BETTER_AUTH_URL|FRONTEND_URL|ALLOWED_HOSTS|DJANGO_ALLOWED_HOSTS|CSRF_TRUSTED_ORIGINS|NEXT_PUBLIC_(?:APP|SITE|BASE)_URL|VITE_(?:APP|SITE|BASE)_URL|PUBLIC_(?:SITE|APP)_URL)$/;
const LOCAL_ADDRESS = /^(?:https?:\/\/)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?(?:\/|$)/i;
const SECRET_LIKE = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|_KEY$|^KEY$|SALT|_DSN$|^DSN$|_AUTH$/i;

export function isSecretLike(name: string): boolean {
  return SECRET_LIKE.test(name);
}

export function classifyEnv(name: string, required: boolean): EnvKind {
  if (DEPENDENCY_PROVIDED.test(name)) return 'dependency_provided';
  if (GENERATED_SECRET.test(name)) return 'generated_app_secret';
  if (LATE_BOUND_URL.test(name)) return 'late_bound_url';
  if (name === 'PORT' || required) return 'startup_critical';
  return 'feature_optional';
}

interface Accumulator {
  name: string;
  runtimeRefs: EnvRef[];
  buildRefs: EnvRef[];
  example: ExampleEntry | undefined;
  composeEvidence: string | undefined;
  argDefault: { value: string; evidence: string } | undefined;
  buildScriptEvidence: string | undefined;
}

export interface EnvResult {
  runtime: EnvVar[];
  build: EnvVar[];
  /** Every name seen with where it was first seen (for refusal and databases). */
  names: Map<string, string>;
  /** Example-file values by name (for engine hints like `postgres://` in DATABASE_URL). */
  exampleValues: Map<string, string>;
  evidence: Evidence[];
}

export async function collectEnvVars(
  ctx: DetectContext,
  extra: { dockerfile: DockerfileInfo | null; compose: ComposeInfo | null; buildScript: string },
): Promise<EnvResult> {
  const byName = new Map<string, Accumulator>();
  const get = (name: string): Accumulator => {
    let acc = byName.get(name);
    if (!acc) {
      acc = { name, runtimeRefs: [], buildRefs: [], example: undefined, composeEvidence: undefined, argDefault: undefined, buildScriptEvidence: undefined };
      byName.set(name, acc);
    }
    return acc;
  };

  // The scan is the service's own (services.ts scopeScan: its folder, without nested services, plus
  // the library crates a Cargo binary depends on).
  for (const ref of ctx.scan.envRefs) {
    if (isDevOnlyFile(ref.file)) continue;
    const acc = get(ref.name);
    (ref.build ? acc.buildRefs : acc.runtimeRefs).push(ref);
  }
  const exampleValues = new Map<string, string>();
  for (const entry of await readExamples(ctx)) {
    const acc = get(entry.name);
    acc.example ??= entry;
    if (!exampleValues.has(entry.name)) exampleValues.set(entry.name, entry.value);
  }
  for (const { name, evidence } of extra.compose?.envNames ?? []) get(name).composeEvidence ??= evidence;
  for (const arg of extra.dockerfile?.args ?? []) {
    get(arg.name).argDefault ??= { value: arg.default, evidence: `${extra.dockerfile?.path}:${arg.line} ARG ${arg.name}` };
  }
  for (const match of extra.buildScript.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g)) {
    get(match[1] as string).buildScriptEvidence ??= `build script "${extra.buildScript}"`;
  }

  const runtime: EnvVar[] = [];
  const build: EnvVar[] = [];
  const names = new Map<string, string>();
  const evidence: Evidence[] = [];
  for (const acc of [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const name = acc.name;
    const publicName = hasPublicPrefix(name, ctx.scan.publicEnvPrefixes);
    const firstRef = acc.runtimeRefs[0] ?? acc.buildRefs[0];
    const source = firstRef ? `${firstRef.file}:${firstRef.line}` : acc.example ? `${acc.example.file}:${acc.example.line}` : acc.composeEvidence ?? acc.argDefault?.evidence ?? acc.buildScriptEvidence ?? '';
    names.set(name, source);

    const protectedValue = isSecretLike(name) || DEPENDENCY_PROVIDED.test(name) || GENERATED_SECRET.test(name);
    const refs = [...acc.runtimeRefs, ...acc.buildRefs];
    const codeDefault = refs.find((ref) => ref.fallback === 'default' && ref.default !== '')?.default;
    const hasFallback = refs.some((ref) => ref.fallback !== 'none');
    // A public URL the deployment gets later (NEXTAUTH_URL, APP_URL) whose example is a local address
    // (`http://localhost:3000`) is the developer's machine, never the deployed value.
    const localUrl = LATE_BOUND_URL.test(name) && LOCAL_ADDRESS.test(acc.example?.value ?? '');
    const exampleDefault = acc.example && acc.example.value !== '' && !localUrl ? acc.example.value : undefined;

    const make = (phase: 'runtime' | 'build'): EnvVar => {
      let dflt = codeDefault ?? exampleDefault ?? (phase === 'build' ? acc.argDefault?.value : undefined) ?? '';
      if (protectedValue) dflt = '';
      let required = !hasFallback && dflt === '' && name !== 'PORT';
      if (phase === 'runtime' && refs.length === 0 && !acc.example) required = false; // compose-only: unsure
      if (localUrl) required = false; // the example's value shows the app runs with one; the deployed one is bound once the URL is known
      if (phase === 'build' && refs.length === 0) required = false; // ARG or build script only: unsure
      return { name, required, default: dflt, kind: classifyEnv(name, required) };
    };

    const readAtRuntime = acc.runtimeRefs.length > 0 || ((acc.example !== undefined || acc.composeEvidence !== undefined) && !publicName);
    const readAtBuild = acc.buildRefs.length > 0 || acc.argDefault !== undefined || acc.buildScriptEvidence !== undefined || (publicName && acc.example !== undefined);
    if (readAtRuntime && !publicName) {
      const v = make('runtime');
      runtime.push(v);
      evidence.push({ decision: 'runtime_var', value: name, evidence: runtimeSource(acc) });
    }
    if (readAtBuild) {
      const v = make('build');
      build.push(v);
      evidence.push({ decision: 'build_time_var', value: name, evidence: buildSource(acc) });
    }
  }
  return { runtime, build, names, exampleValues, evidence };
}

function runtimeSource(acc: Accumulator): string {
  const ref = acc.runtimeRefs[0];
  if (ref) return `${ref.file}:${ref.line}${ref.fallback === 'none' ? '' : ref.fallback === 'default' ? ' (with fallback)' : ' (optional read)'}`;
  if (acc.example) return `${acc.example.file}:${acc.example.line}`;
  return acc.composeEvidence ?? '';
}

function buildSource(acc: Accumulator): string {
  const ref = acc.buildRefs[0];
  if (ref) return `${ref.file}:${ref.line}`;
  if (acc.argDefault) return acc.argDefault.evidence;
  if (acc.buildScriptEvidence) return acc.buildScriptEvidence;
  return acc.example ? `${acc.example.file}:${acc.example.line}` : '';
}
