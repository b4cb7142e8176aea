/**
 * Persisted state of the local gateway: one JSON document in `<dataDir>/state.json`.
 *
 * Why one file: the local gateway holds at most a few hundred rows, and a single document keeps
 * restarts trivially consistent (no partial tables). Writes are coalesced (many mutations per
 * simulated build step) and atomic (temp file + rename) so a crash never leaves half a file behind.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export type AgentState = 'pending' | 'bound';

export interface AgentRow {
  id: string;
  /** sha256 of the plaintext token: the plaintext is shown once and never stored. */
  token_sha256: string;
  bind_sig: string;
  state: AgentState;
  name: string;
  source_ip: string;
  user_agent: string;
  source_hint: string;
  created_at: string;
  bound_at: string | null;
  last_deployed_at: string | null;
}

export type SourceStatus = 'extracting' | 'ready' | 'failed' | null;

export interface ProjectRow {
  id: string;
  name: string;
  description: string;
  repo_url: string;
  branch: string;
  region_id: string;
  /** Internal: `agent:<id>` while the creating agent is pending, the local user id otherwise. */
  owner_id: string;
  agent_id: string | null;
  skip_validation: boolean;
  build_config: string;
  deploy_config: string;
  source_path: string;
  source_status: SourceStatus;
  original_file_path: string;
  original_file_size: number;
  analyze_config: unknown;
  extraction_error: string | null;
  status: 'active';
  created_at: string;
  updated_at: string;
}

export interface ServiceRow {
  id: string;
  project_id: string;
  name: string;
  type: string;
  environment: string;
  language: string;
  framework: string;
  port: number;
  source_path: string;
  dockerfile: string;
  dockerfile_path: string;
  build_context: string;
  build_command: string;
  start_command: string;
  build_variables: Record<string, string>;
  runtime_variables: Record<string, string>;
  health_check_path: string;
  readiness_path: string;
  cpu_request: string;
  cpu_limit: string;
  memory_request: string;
  memory_limit: string;
  replicas: number;
  auto_scaling: boolean;
  dependencies: string[];
  internal_only: boolean;
  volumes: unknown[];
  builder: 'dockerfile' | 'railpack';
  port_locked: boolean;
  start_command_locked: boolean;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface DependencyRow {
  id: string;
  project_id: string;
  dependency_id: string;
  name: string;
  display_name: string;
  type: string;
  status: string;
  environment: string;
  env_vars: Record<string, string>;
  connection_info: { host: string; port: number; username: string; database: string };
  service_id: string | null;
  /** Why it is stopped or failed (real local engines only). */
  message?: string;
  created_at: string;
  updated_at: string;
}

export interface UploadRow {
  id: string;
  temp_file_path: string;
  filename: string;
  size: number;
  is_git: boolean;
  git_url: string;
  branch: string;
  project_name: string;
  region_id: string;
  owner_id: string;
  created_at: string;
}

export type DeploymentStatus =
  | 'pending'
  | 'analyzing'
  | 'pending_review'
  | 'building'
  | 'deploying'
  | 'success'
  | 'failed'
  | 'cancelled'
  | 'rolled_back';

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set<DeploymentStatus>([
  'success',
  'failed',
  'cancelled',
  'rolled_back',
]);

export type FailurePhase = 'source' | 'build' | 'deploy' | 'runtime';

/** How a deployment will end; fixed at creation so a restart resumes the same story. */
export interface DeploymentPlan {
  outcome: 'success' | 'failed';
  phase?: FailurePhase;
  error_msg?: string;
  log_lines?: string[];
}

export interface DeploymentRow {
  id: string;
  project_id: string;
  service_id: string;
  environment: string;
  source: string;
  branch: string;
  temp_file_path: string;
  file_name: string;
  source_path: string;
  strategy: string;
  version_type: string;
  description: string;
  dependencies: string[];
  status: DeploymentStatus;
  progress: number;
  build_percent: number;
  message: string;
  error_msg: string;
  error_context: Record<string, unknown> | null;
  is_current: boolean;
  is_rollback: boolean;
  rollback_from: string | null;
  runtime_variables: string;
  build_variables: string;
  source_code_info: string;
  plan: DeploymentPlan;
  /** Internal: index of the next simulated step, so a restarted gateway resumes mid-build. */
  sim_step: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface LogLine {
  timestamp: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  source: 'buildctl' | 'runtime';
}

export interface DomainRow {
  id: string;
  service_id: string;
  project_id: string;
  domain: string;
  subdomain: string;
  environment: string;
  type: 'auto' | 'custom';
  status: 'pending' | 'active' | 'verified' | 'failed';
  ssl_enabled: boolean;
  is_primary: boolean;
  cname_target: string;
  created_at: string;
  updated_at: string;
}

export interface LocalUser {
  id: string;
  email: string;
  name: string;
  plan: string;
  /** Real mode: sha256 of the local key this gateway minted into `<dataDir>/auth.json`. */
  key_sha256?: string;
}

export interface State {
  version: 1;
  /** HMAC key for bind signatures; persisted so claim URLs stay valid across restarts. */
  secret: string;
  user: LocalUser;
  agents: AgentRow[];
  projects: ProjectRow[];
  services: ServiceRow[];
  dependencies: DependencyRow[];
  uploads: UploadRow[];
  deployments: DeploymentRow[];
  logs: Record<string, LogLine[]>;
  domains: DomainRow[];
}

export const STATE_FILE = 'state.json';

/** Delay that merges the many mutations of one simulated step into one write. */
const SAVE_DEBOUNCE_MS = 20;

function freshState(): State {
  return {
    version: 1,
    secret: randomBytes(32).toString('hex'),
    user: { id: randomUUID(), email: 'local@opendeploy.local', name: 'Local User', plan: 'free' },
    agents: [],
    projects: [],
    services: [],
    dependencies: [],
    uploads: [],
    deployments: [],
    logs: {},
    domains: [],
  };
}

/** Fills collections missing from an older or hand-edited file instead of crashing on them. */
function normalise(raw: unknown): State | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Partial<State>;
  if (r.version !== 1 || typeof r.secret !== 'string' || typeof r.user !== 'object' || r.user === null) return null;
  return {
    version: 1,
    secret: r.secret,
    user: r.user,
    agents: Array.isArray(r.agents) ? r.agents : [],
    projects: Array.isArray(r.projects) ? r.projects : [],
    services: Array.isArray(r.services) ? r.services : [],
    dependencies: Array.isArray(r.dependencies) ? r.dependencies : [],
    uploads: Array.isArray(r.uploads) ? r.uploads : [],
    deployments: Array.isArray(r.deployments) ? r.deployments : [],
    logs: typeof r.logs === 'object' && r.logs !== null ? r.logs : {},
    domains: Array.isArray(r.domains) ? r.domains : [],
  };
}

export class Store {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly state: State,
    private readonly file: string,
    private readonly log?: (line: string) => void,
  ) {}

  /**
   * Loads `<dataDir>/state.json`, or starts empty. A file that cannot be parsed is moved aside
   * (never deleted: it may be the only copy of someone's local test state) and a fresh one begins.
   */
  static async open(dataDir: string, log?: (line: string) => void): Promise<Store> {
    const file = path.join(dataDir, STATE_FILE);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let state: State | null = null;
    if (text !== undefined) {
      try {
        state = normalise(JSON.parse(text));
      } catch {
        state = null;
      }
      if (state === null) {
        const aside = `${file}.corrupt-${Date.now()}`;
        await rename(file, aside);
        log?.(`local-gateway: unreadable ${STATE_FILE} moved to ${path.basename(aside)}; starting fresh`);
      }
    }
    const store = new Store(state ?? freshState(), file, log);
    if (state === null) {
      store.changed();
      await store.flush();
    }
    return store;
  }

  /** Marks the state dirty; the write happens shortly after, off the request path. */
  changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueueWrite();
    }, SAVE_DEBOUNCE_MS);
  }

  /** Writes any pending change now and waits until every queued write has landed. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.enqueueWrite();
    }
    await this.writing;
  }

  /** Final flush; later `changed()` calls (stray timers) are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private enqueueWrite(): void {
    // Serialised so two writes never race on the same temp file. A failed write is logged, not
    // thrown: it happens off the request path and the next mutation writes the whole state again.
    this.writing = this.writing.then(() =>
      this.writeAtomically().catch((err: unknown) => {
        this.log?.(`local-gateway: could not save state: ${err instanceof Error ? err.message : String(err)}`);
      }),
    );
  }

  private async writeAtomically(): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const data = JSON.stringify(this.state, null, 2);
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}
