/**
 * The detector plugin contract. A detector looks at evidence (manifests, config files, lockfiles,
 * the source scan) and returns what it concluded, with the evidence behind every field. It never
 * fabricates: a field it cannot establish is simply absent from its result.
 */
import type { FsSnapshot } from './fs-snapshot.js';
import type { Manifests } from './manifests.js';
import type { DetectorKnowledge, ScanResult } from './scan-model.js';
import type { AnalyzedService, DependencyResolution, Engine, ProjectType } from './schema.js';
import type { Warnings } from './warnings.js';

/** A value and the file/line or manifest key it came from. */
export interface Conclusion<T> {
  value: T;
  evidence: string;
}

/** The service fields a detector may decide (the shared pieces decide the rest). */
export interface DetectedFields {
  name: string;
  language: string;
  language_version: string;
  framework: string;
  project_type: ProjectType;
  package_manager: string;
  package_manager_version: string;
  lockfile: string;
  dependency_resolution: DependencyResolution;
  build_tool: string;
  entry_point: string;
  output_directory: string;
  scripts_build: string;
  scripts_start: string;
}

export type Conclusions = { [K in keyof DetectedFields]?: Conclusion<DetectedFields[K]> };

/**
 * How strongly a detection claims the folder, used by the registry to decide precedence:
 * backend evidence beats front-end tooling, which beats plain static files.
 */
export const TIER = {
  /** A runtime manifest with nothing runnable (no start script, no entry file, no framework). */
  bare: 0,
  /** Static HTML only. */
  static: 1,
  /** Front-end tooling (a bundler, an SPA) with no server of its own. */
  frontend: 2,
  /** A runtime with a runnable entry point or an SSR framework. */
  runnable: 3,
  /** Backend evidence: a server framework, manage.py, go.mod, Cargo.toml, Gemfile, composer.json. */
  backend: 4,
} as const;

export interface Detection {
  /** Detector id (`node`, `express`, ...). */
  id: string;
  tier: number;
  fields: Conclusions;
  /** Ports the framework configuration states (`next start -p 4000`): port priority 3. */
  portHints?: Conclusion<number>[];
  /** The framework's documented default port: port priority 4. */
  portDefault?: Conclusion<number>;
  /** True when the platform serves files and no process listens (static sites). */
  servesStatically?: boolean;
  /** A health route known from file-based routing (`app/api/health/route.ts`). */
  healthCheck?: Conclusion<string>;
  /** Set by runtime detectors: what framework detectors need to write commands. */
  toolchain?: Toolchain;
  /**
   * Engines the framework's own configuration names (Rails `config/database.yml` adapter, Laravel
   * `DB_CONNECTION`, Spring `spring.datasource.url`), in addition to the shared evidence.
   */
  engines?: Array<{ engine: Engine; evidence: string }>;
  /**
   * Env names the framework's generated config reads whether or not the app uses that engine
   * (Laravel's `REDIS_HOST`, `MYSQL_ATTR_SSL_CA`): they stay env vars but are not engine evidence.
   */
  boilerplateEnv?: RegExp;
  /**
   * Engines whose drivers are declared but that the framework's default configuration does not use
   * (Spring Boot on embedded H2 with MySQL/PostgreSQL drivers for optional profiles): their
   * dependencies are not provisioned, with a warning naming the reason.
   */
  optionalEngines?: { engines: Engine[]; reason: string };
  /**
   * Runtime-variable defaults the framework's configuration decides over a code fallback (Laravel's
   * `DB_CONNECTION`: config/database.php falls back to sqlite, the app is configured for mysql).
   */
  envDefaults?: Record<string, Conclusion<string>>;
  /**
   * Variables the framework itself needs at start, whether or not the app's code names them
   * (Rails in production: RAILS_MASTER_KEY for its encrypted credentials), by name with the evidence.
   */
  envRequired?: Record<string, string>;
}

export interface Toolchain {
  /** Install step for a clean build (`npm ci`), `''` when there is nothing to install. */
  install: string;
  /** Prefix for commands that run inside the manager's environment (`poetry run `), or `''`. */
  runPrefix: string;
}

export interface DetectContext {
  /** Service folder relative to the root (`''` for the root). */
  dir: string;
  fs: FsSnapshot;
  manifests: Manifests;
  scan: ScanResult;
  warnings: Warnings;
  /** For framework detectors: the runtime detection they refine. */
  runtime?: Detection;
  /** Set when the folder is a workspace member built from the workspace root (services.ts). */
  workspace?: WorkspaceMember;
  /** The build target inside the folder when it holds several services (a Go `cmd/<name>` main package). */
  target?: string;
}

/**
 * A workspace member that installs and builds from the workspace root (its lockfile is there):
 * commands are filtered to the member (`pnpm --filter web run build`, `cargo build -p api`,
 * `uv sync --package api`). Cargo, go.work and uv members have runner '' and no buildDeps.
 */
export interface WorkspaceMember {
  /** Workspace root folder (`''` for the repository root). */
  root: string;
  /** The member's package name: the filter target. */
  name: string;
  /** The file that declares the workspace (evidence). */
  marker: string;
  /** Task runner configured at the root: it builds the member's local dependencies first. */
  runner: 'turbo' | 'nx' | '';
  /** Local packages the member depends on (transitively) that have a build script, dependencies first. */
  buildDeps: string[];
}

/** A detector also teaches the source scan and the refusal checklist what its framework writes (DetectorKnowledge). */
export interface RuntimeDetector extends DetectorKnowledge {
  id: string;
  kind: 'runtime';
  detect(ctx: DetectContext): Promise<Detection | null>;
}

export interface FrameworkDetector extends DetectorKnowledge {
  id: string;
  kind: 'framework';
  /** Runtime detector ids this framework refines. */
  runtimes: readonly string[];
  detect(ctx: DetectContext & { runtime: Detection }): Promise<Detection | null>;
}

export type Detector = RuntimeDetector | FrameworkDetector;

export type ServiceDraft = Omit<AnalyzedService, 'evidence'>;

/** `a/b` for two relative paths where either may be `''` (the root); never a stray `/`. */
export function joinRel(a: string, b: string): string {
  if (a === '' || a === '.') return b;
  if (b === '' || b === '.') return a;
  return `${a}/${b}`;
}

/** Path inside the service folder, relative to the root. */
export function inDir(dir: string, file: string): string {
  return dir === '' || dir === '.' ? file : `${dir}/${file}`;
}
