/**
 * The built-in exclusion policy of the source archive: which folders
 * are never entered, which files are never sent, and which of those count as secrets worth reporting.
 *
 * These rules cannot be overridden by a negation in `.gitignore` or `.opendeployignore`: they are the
 * floor under whatever the project says, because a wrong "include" here either leaks a credential or
 * uploads hundreds of megabytes the builder recreates anyway.
 */

/**
 * Folder names excluded at any depth. The walk never enters them, so their size does not matter.
 * - VCS and tool state: `.git` (also matched as a pointer *file*, see `isExcludedFileName`),
 *   `.opendeploy` (our own state, may hold attempt records).
 * - Dependencies the builder reinstalls: `node_modules`, `.venv`, `.tox`, `__pycache__`.
 * - Build outputs and caches the builder regenerates: `dist`, `.next`, `.nuxt`, `.output`,
 *   `.svelte-kit`, `target`, `coverage`, `.turbo`, `.cache`, `.parcel-cache`, `.vercel`, `.netlify`.
 *   `build` is deliberately absent: see `buildDirIsGeneratedOutput`.
 * - Local agent metadata, which breaks `COPY . .` builds and may hold transcripts:
 *   `.agents`, `.claude`, `.codex`, `.gstack`.
 * Virtualenvs under other names (`venv`, `env`, anything) are recognised by their `pyvenv.cfg`
 * marker instead of by name (see VENV_MARKER): a folder called `env` is often real source.
 */
export const EXCLUDED_DIR_NAMES: ReadonlySet<string> = new Set([
  '.git',
  '.opendeploy',
  'node_modules',
  '.venv',
  '.tox',
  '__pycache__',
  'dist',
  '.next',
  '.nuxt',
  '.output',
  '.svelte-kit',
  'target',
  'coverage',
  '.turbo',
  '.cache',
  '.parcel-cache',
  '.vercel',
  '.netlify',
  '.agents',
  '.claude',
  '.codex',
  '.gstack',
]);

/** A folder holding this file is a Python virtualenv root (PEP 405), whatever it is called. */
export const VENV_MARKER = 'pyvenv.cfg';

/**
 * Folder names whose whole content is credentials (cloud CLI config, SSH and GPG keys). They are
 * secrets, so unlike plain ignored folders they are reported (as `name/`) in `excluded_secrets`.
 */
export const SECRET_DIR_NAMES: ReadonlySet<string> = new Set(['.aws', '.ssh', '.gnupg', '.kube']);

/** Env files that only carry key names and harmless defaults (§11): kept in the archive. */
const ENV_TEMPLATES: ReadonlySet<string> = new Set(['.env.example', '.env.sample', '.env.template']);
/** Variants of those templates (`.env.production.example`, `.env.example.local`): templates too. */
const ENV_TEMPLATE_VARIANT = /^\.env\.(?:[\w-]+\.)+(?:example|sample|template)$|^\.env\.(?:example|sample|template)\.[\w.-]+$/;

/** Exact secret file names, compared lower-case. */
const SECRET_NAMES: ReadonlySet<string> = new Set([
  '.env',
  // direnv files are shell scripts of `export KEY=value`: the same material as `.env`.
  '.envrc',
  'id_rsa',
  'id_rsa.pub',
  '.pypirc',
  '.netrc',
  // git's plain-text credential store (`https://user:token@host` lines).
  '.git-credentials',
  'credentials.json',
  // PostgreSQL's password file (`host:port:db:user:password` lines).
  '.pgpass',
  // Apache/nginx basic-auth users with password hashes.
  '.htpasswd',
  // Cloudflare wrangler's local secrets, in dotenv format.
  '.dev.vars',
]);

/** Extensions of key and certificate-bundle files, compared lower-case. */
const SECRET_EXTENSIONS = [
  '.pem',
  '.key',
  '.p12',
  '.pfx',
  // Java key stores (Android signing keys, TLS keys of JVM servers).
  '.keystore',
  '.jks',
  // Terraform variable files hold the provider credentials and passwords of a plan.
  '.tfvars',
  '.tfvars.json',
];

/**
 * Secret files recognised by their folder and name together: the name alone is too common
 * (`config.json`, `secrets.yml` of a test fixture). Pairs of (parent folder, base name), lower-case.
 * - `.docker/config.json`: registry auths (`auths.*.auth` is base64 `user:password`). Not the whole
 *   `.docker/` folder: projects keep Dockerfiles and nginx configs there.
 * - `config/secrets.yml`: Rails' pre-5.2 secrets file (secret_key_base and API keys).
 */
const SECRET_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['.docker', 'config.json'],
  ['config', 'secrets.yml'],
];

/** Base names that appear in SECRET_PATHS. */
const SECRET_PATH_NAMES: ReadonlySet<string> = new Set(SECRET_PATHS.map(([, name]) => name));

/** Prefixes of SSH private/public key files (`id_ed25519`, `id_ed25519.pub`, `id_ecdsa_sk`, ...). */
const SECRET_PREFIXES = ['id_ed25519', 'id_ecdsa', 'id_dsa'];

/** True when a folder with this name is never entered (not counting virtualenv detection). */
export function isExcludedDirName(name: string): boolean {
  return EXCLUDED_DIR_NAMES.has(name);
}

/** True for non-secret files that are never sent: git pointer files and Python bytecode. */
export function isExcludedFileName(name: string): boolean {
  // In git worktrees and submodules `.git` is a one-line pointer file; it means nothing to the builder.
  if (name === '.git') return true;
  const lower = name.toLowerCase();
  return lower.endsWith('.pyc') || lower.endsWith('.pyo');
}

/** True for a secret-holding folder name (`.aws`, `.ssh`, `.gnupg`). */
export function isSecretDirName(name: string): boolean {
  return SECRET_DIR_NAMES.has(name);
}

/**
 * True when a file with this base name is secret by name alone. Case-insensitive: `.ENV` or
 * `SERVER.PEM` on a case-insensitive disk is the same file to the builder. `.npmrc` is not here
 * because it depends on its content (see npmrc.ts).
 */
export function isSecretBaseName(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_NAMES.has(lower)) return true;
  // `.env.*` is secret except the template names and their variants (§9.2 and §11).
  if (lower.startsWith('.env.')) return !ENV_TEMPLATES.has(lower) && !ENV_TEMPLATE_VARIANT.test(lower);
  if (SECRET_EXTENSIONS.some((ext) => lower.endsWith(ext))) return true;
  if (SECRET_PREFIXES.some((prefix) => lower.startsWith(prefix))) return true;
  if (lower.startsWith('service-account') && lower.endsWith('.json')) return true;
  return lower.includes('kubeconfig');
}

/**
 * True when a relative path names a secret-like file: its base name is secret, or it lies inside a
 * secret folder (`.aws/credentials`, `deploy/.ssh/config`). Name-only: `.npmrc` needs its content.
 * Accepts `/` or `\` separators and a trailing `/` for folders.
 */
export function isSecretFileName(rel: string): boolean {
  const parts = rel.split(/[\\/]/).filter((part) => part !== '');
  const base = parts[parts.length - 1];
  if (base === undefined) return false;
  return parts.some((part) => SECRET_DIR_NAMES.has(part)) || isSecretBaseName(base) || isSecretPath(rel);
}

/**
 * True when a relative path is secret by its last folder and name together (`.docker/config.json`,
 * `config/secrets.yml`, at any depth). Case-insensitive like `isSecretBaseName`.
 */
export function isSecretPath(rel: string): boolean {
  // Every walked entry comes through here: rule out the common case on the base name alone.
  const last = rel.charCodeAt(rel.length - 1);
  if (last !== 0x2f && last !== 0x5c) {
    const cut = Math.max(rel.lastIndexOf('/'), rel.lastIndexOf('\\'));
    if (!SECRET_PATH_NAMES.has(rel.slice(cut + 1).toLowerCase())) return false;
  }
  const parts = rel.toLowerCase().split(/[\\/]/).filter((part) => part !== '');
  if (parts.length < 2) return false;
  const base = parts[parts.length - 1];
  const parent = parts[parts.length - 2];
  return SECRET_PATHS.some(([dir, name]) => dir === parent && name === base);
}

/** Build tools whose `build` command writes to `./build` by default. */
const BUILD_TOOLS = /(?:^|[\s;&|(])(?:react-scripts|craco|react-app-rewired|docusaurus|remix)\s+build\b/;

/** An explicit output-directory flag pointing at `build` (tsc, babel, webpack, parcel, ncc, esbuild). */
const BUILD_OUT_FLAG =
  /(?:^|\s)(?:--out-?dir|--dist-dir|--output-path|-d|-o)(?:=|\s+)["']?(?:\.\/)?build\/?["']?(?=$|[\s;&|)])/i;

/** SvelteKit adapters whose default output folder is `build`. */
const BUILD_ADAPTERS = ['@sveltejs/adapter-node', '@sveltejs/adapter-static'];

function stringRecord(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (typeof inner === 'string') out[key] = inner;
  }
  return out;
}

/**
 * Decides whether a top-level `build/` folder is generated output, from the parsed root
 * `package.json` (pass `undefined` when there is none).
 *
 * Why not exclude `build/` everywhere like `dist/`: many stacks keep *source* there (Gradle-less
 * Java helpers, Go `build/package/Dockerfile`, CMake scripts, Python `build/` generators), and a
 * Dockerfile that copies them fails when they are missing. So `build/` goes
 * only with evidence that a JS tool writes it: a script running react-scripts/craco/
 * react-app-rewired/docusaurus/remix `build`, a script with an output flag pointing at `build`, or a
 * SvelteKit node/static adapter. A `build/` listed in `.gitignore` is excluded by the ignore rules
 * anyway, which covers every other stack that treats it as output.
 */
export function buildDirIsGeneratedOutput(packageJson: unknown): boolean {
  if (packageJson === null || typeof packageJson !== 'object') return false;
  const pkg = packageJson as Record<string, unknown>;
  const scripts = Object.values(stringRecord(pkg.scripts));
  if (scripts.some((script) => BUILD_TOOLS.test(script) || BUILD_OUT_FLAG.test(script))) return true;
  const deps = { ...stringRecord(pkg.dependencies), ...stringRecord(pkg.devDependencies) };
  return BUILD_ADAPTERS.some((name) => name in deps);
}
