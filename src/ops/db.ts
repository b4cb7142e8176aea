/**
 * `opendeploy db add <engine>`: create a managed database for the linked project, wait until it
 * runs, merge its connection variables into the service env (GET → merge → full PUT → read back),
 * then redeploy the current source so the pods get them.
 *
 * Connection variables exist only in the create response. Until the service holds them they wait in
 * `.opendeploy/dependency-env.json` (0600, the same file the deploy pipeline uses), so an
 * interrupted `db add` finishes when it is run again.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { dashboardUrl } from '../auth/index.js';
import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { pollIntervalFor } from './connect.js';
import {
  clearPendingDependencyEnv,
  loadPendingDependencyEnv,
  savePendingDependencyEnv,
  waitForDependency,
} from '../deploy/stages/dependencies.js';
import { stateDir, writeJsonAtomic, writeProjectState, type ProjectState } from '../deploy/state.js';
import { isAmbiguous } from '../deploy/run-deployment.js';
import { throwIfAborted } from '../core/sleep.js';
import { readEnv, replaceEnv } from './env.js';
import { newerSourceAfterRollback, redeploy } from './redeploy.js';
import { refuseChangeAfterRollback } from './live-source.js';
import { shellQuote } from '../core/text.js';
import type { OpsTarget } from './target.js';

export const DB_ENGINES = ['postgres', 'mysql', 'mongodb', 'redis'] as const;
export type DbEngine = (typeof DB_ENGINES)[number];

const ALIASES: Record<string, DbEngine> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  pg: 'postgres',
  mysql: 'mysql',
  mongodb: 'mongodb',
  mongo: 'mongodb',
  redis: 'redis',
};

/** The engine for a user-typed name; anything else is invalid_input listing the four. */
export function parseEngine(name: string): DbEngine {
  const engine = ALIASES[name.trim().toLowerCase()];
  if (!engine) {
    throw new OdError('invalid_input', `"${name}" is not a database opendeploy can add. Choose one of: ${DB_ENGINES.join(', ')}.`, {
      nextAction: 'For example: opendeploy db add postgres',
      details: { engines: [...DB_ENGINES] },
    });
  }
  return engine;
}

export interface DbAddOptions {
  exec: ExecutionContext;
  reporter: Reporter;
  signal: AbortSignal;
  /** Replace existing service variables of the same name (default: keep them). */
  overwrite: boolean;
  /** Redeploy the current source after merging (default true; `--no-redeploy`). */
  redeploy: boolean;
  /** How long to wait for the database to run. */
  readyTimeoutMs?: number;
  /** The run's target flags, for the commands a refusal prints. */
  targetFlags?: string[];
}

export interface DbAddResult {
  status: 'success' | 'skipped';
  project_id: string;
  service_id: string;
  engine: DbEngine;
  dependency_id: string;
  /** Variable names only, never values. */
  env_added: string[];
  env_kept: string[];
  env_replaced: string[];
  redeployed: boolean;
  deployment_id: string | null;
  url: string | null;
  [key: string]: unknown;
}

export async function addDatabase(target: OpsTarget, engine: DbEngine, options: DbAddOptions): Promise<DbAddResult> {
  const service = target.service;
  if (!service) throw new OdError('internal', 'db add needs a resolved service.');
  const { client, audit } = target;
  const reporter = options.reporter;
  const linked: ProjectState | undefined = target.state?.project_id === target.projectId ? target.state : undefined;
  const base = { project_id: target.projectId, service_id: service.id, engine };

  // 1. Does the project already have this engine?
  const all = await client.getDependencyStatus(target.projectId);
  const linkedIds = new Set((linked?.dependencies ?? []).filter((dep) => dep.engine === engine).map((dep) => dep.dependency_id));
  const existing = all.find((dep) => dep.dependency_id === engine || linkedIds.has(dep.id));
  const pending = linked ? await loadPendingDependencyEnv(target.root) : {};

  // After a rollback to an older upload the redeploy would build the newer bound source and undo
  // the rollback: refused before anything is created or merged (a skipped run changes nothing and
  // is not refused), so the refusal leaves nothing half-done.
  const assertRedeployKeepsRollback = async (): Promise<void> => {
    if (!options.redeploy) return;
    const flags = options.targetFlags ?? [];
    const check = await newerSourceAfterRollback(target, flags);
    if (!check) return;
    throw refuseChangeAfterRollback(check, {
      serviceName: service.name,
      change: `adding the ${engine} database`,
      withoutRedeploy: shellQuote(['opendeploy', 'db', 'add', engine, ...(options.overwrite ? ['--overwrite'] : []), '--no-redeploy', ...flags]),
    });
  };

  let dependencyId: string;
  let connection: Record<string, string>;
  if (existing) {
    if (existing.status === 'failed') {
      throw new OdError('conflict', `Project ${target.projectId} already has a ${engine} database (${existing.id}), and it failed to provision.`, {
        nextAction: `Remove the failed database in the dashboard (${dashboardUrl(target.gatewayUrl, target.projectId)}), then run \`opendeploy db add ${engine}\` again; or contact hi@opendeploy.dev.`,
        details: { dependency_id: existing.id, engine, status: existing.status },
      });
    }
    await recordDependency(target, linked, engine, existing.id);
    // An earlier run whose create answer was lost never saw the connection variables: the status
    // read has them, and any the service lacks are wired now instead of reporting "skipped".
    const saved = linked ? await loadCredentials(target.root, engine) : undefined;
    const offered = saved ? (connectionOf(engine, existing, saved) ?? {}) : {};
    let unwired: string[] = [];
    if (Object.keys(pending).length === 0 && Object.keys(offered).length > 0) {
      const serviceEnv = await readEnv(target);
      unwired = Object.keys(offered).filter((key) => serviceEnv[key] !== offered[key]);
    }
    if (Object.keys(pending).length === 0 && unwired.length > 0) {
      await assertRedeployKeepsRollback();
      reporter.stageSkip('dependency.create', `Using the ${engine} database created by an earlier run (${existing.id}); wiring ${unwired.join(', ')} into ${service.name}`, { engine, dependency_id: existing.id });
      dependencyId = existing.id;
      connection = offered;
    } else if (Object.keys(pending).length === 0) {
      reporter.stageSkip('dependency.create', `Project already has a ${engine} database (${existing.id}, ${existing.status}); nothing added`, {
        engine,
        dependency_id: existing.id,
        dependency_status: existing.status,
      });
      audit.info('dependency.create', { ...base, dependency_id: existing.id, skipped: 'exists' });
      return { status: 'skipped', ...base, dependency_id: existing.id, env_added: [], env_kept: [], env_replaced: [], redeployed: false, deployment_id: null, url: linked?.url ?? null };
    } else {
      // An earlier `db add` stopped after creating it: finish the merge with the saved variables.
      await assertRedeployKeepsRollback();
      reporter.stageSkip('dependency.create', `Using the ${engine} database created by the interrupted run (${existing.id})`, { engine, dependency_id: existing.id });
      dependencyId = existing.id;
      connection = pending;
    }
  } else {
    await assertRedeployKeepsRollback();
    reporter.stageStart('dependency.create', `Provisioning ${engine}`);
    // Credentials are chosen here and saved (0600) before the request: if its answer is lost, the
    // variables can still be rebuilt from them and the database's host, instead of being unknowable.
    const credentials = (linked ? await loadCredentials(target.root, engine) : undefined) ?? generateCredentials(engine);
    if (linked) await saveCredentials(target.root, engine, credentials);
    const known = new Set(all.map((dep) => dep.id));
    let created;
    try {
      created = await client.createDependency({
        project_id: target.projectId,
        dependency_id: engine,
        environment: target.environment,
        username: credentials.username,
        password: credentials.password,
        ...(credentials.database ? { database_name: credentials.database } : {}),
      });
    } catch (error) {
      if (error instanceof OdError) audit.error('dependency.create', { ...base, error_code: error.code, status: error.status ?? null });
      if (!isAmbiguous(error)) throw error;
      // The answer was lost, not refused: read back whether the database exists now.
      const after = await client.getDependencyStatus(target.projectId).catch(() => undefined);
      const adopted = after?.find((dep) => !known.has(dep.id) && dep.dependency_id === engine);
      if (!adopted) throw error;
      const env = connectionOf(engine, adopted, credentials);
      if (!env) throw unreadableConnection(target, engine, adopted.id);
      reporter.warn(`The answer to the ${engine} create request was lost, but the gateway did create it (${adopted.id}); using it.`);
      created = { ...adopted, env_vars: env };
    }
    dependencyId = created.id;
    connection = created.env_vars && Object.keys(created.env_vars).length > 0 ? created.env_vars : (connectionOf(engine, created, credentials) ?? {});
    for (const value of Object.values(connection)) registerSecret(value);
    if (linked) await savePendingDependencyEnv(target.root, { ...pending, ...connection });
    await recordDependency(target, linked, engine, dependencyId);
    audit.info('dependency.create', { ...base, dependency_id: dependencyId, env_keys: Object.keys(connection).sort() });
  }

  // 2. Wait until it runs (bounded; a failed or slow database keeps its row and the saved variables).
  await waitForDependency(client, target.projectId, dependencyId, engine, {
    reporter,
    signal: options.signal,
    pollIntervalMs: pollIntervalFor(target.gatewayUrl),
    ...(options.readyTimeoutMs !== undefined ? { timeoutMs: options.readyTimeoutMs } : {}),
  });
  reporter.stageDone('dependency.create', `Database ${engine} running (${dependencyId})`, {
    engine,
    dependency_id: dependencyId,
    env_keys: Object.keys(connection).sort(),
  });
  throwIfAborted(options.signal);

  // 3. Merge its variables into the service env: existing keys win unless --overwrite.
  reporter.stageStart('env.merge', `Adding the ${engine} variables to ${service.name}`);
  const before = await readEnv(target);
  const next = { ...before };
  const added: string[] = [];
  const kept: string[] = [];
  const replaced: string[] = [];
  for (const key of Object.keys(connection).sort()) {
    const value = connection[key]!;
    if (!Object.hasOwn(before, key)) {
      added.push(key);
      next[key] = value;
    } else if (before[key] === value) {
      // Wired by an earlier run of this command: nothing to do, nothing to warn about.
    } else if (options.overwrite && before[key] !== value) {
      replaced.push(key);
      next[key] = value;
    } else {
      kept.push(key);
    }
  }
  if (added.length + replaced.length > 0) await replaceEnv(target, before, next, 'db.add');
  audit.info('dependency.env_merge', { ...base, dependency_id: dependencyId, keys_added: added, keys_kept: kept, keys_replaced: replaced });
  reporter.stageDone('env.merge', mergeSummary(service.name, added, kept, replaced), { env_added: added, env_kept: kept, env_replaced: replaced });
  if (kept.length > 0 && !options.overwrite) {
    reporter.warn(`${service.name} already had ${kept.join(', ')}; kept the existing value${kept.length === 1 ? '' : 's'} (use --overwrite to take the database's).`);
  }

  // 4. Env changes reach the pods only with a new deployment.
  if (!options.redeploy) {
    if (linked) await clearPendingDependencyEnv(target.root);
    if (linked) await clearCredentials(target.root, engine);
    reporter.info('Not redeployed (--no-redeploy): the new variables reach the app with the next deployment (`opendeploy redeploy`).');
    return { status: 'success', ...base, dependency_id: dependencyId, env_added: added, env_kept: kept, env_replaced: replaced, redeployed: false, deployment_id: null, url: linked?.url ?? null };
  }
  // The saved variables stay until this deployment ends, so a re-run after a failure here redeploys
  // (finishing the deployment it started, when nothing was merged in this run) instead of skipping.
  const deployed = await redeploy(target, { exec: options.exec, reporter, signal: options.signal, resume: added.length + replaced.length === 0 });
  if (linked) await clearPendingDependencyEnv(target.root);
  if (linked) await clearCredentials(target.root, engine);
  return {
    status: 'success',
    ...base,
    dependency_id: dependencyId,
    env_added: added,
    env_kept: kept,
    env_replaced: replaced,
    redeployed: true,
    deployment_id: deployed.deployment_id,
    url: deployed.url,
  };
}

interface DbCredentials {
  username: string;
  password: string;
  /** Empty for engines without a database name (redis). */
  database: string;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Strong credentials as the gateway spec recommends: `app_<8 hex>`, a 32-character random password. */
function generateCredentials(engine: DbEngine): DbCredentials {
  const bytes = randomBytes(32);
  const password = Array.from(bytes, (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
  registerSecret(password);
  return { username: engine === 'redis' ? 'default' : `app_${randomBytes(4).toString('hex')}`, password, database: engine === 'redis' ? '' : 'app' };
}

function credentialsFile(root: string): string {
  return path.join(stateDir(root), 'dependency-credentials.json');
}

async function readCredentialsFile(root: string): Promise<Record<string, DbCredentials>> {
  try {
    const parsed = JSON.parse(await readFile(credentialsFile(root), 'utf8')) as Record<string, DbCredentials>;
    for (const entry of Object.values(parsed)) registerSecret(entry.password);
    return parsed;
  } catch {
    return {};
  }
}

async function loadCredentials(root: string, engine: DbEngine): Promise<DbCredentials | undefined> {
  const entry = (await readCredentialsFile(root))[engine];
  return entry && typeof entry.username === 'string' && typeof entry.password === 'string' ? { ...entry, database: entry.database ?? '' } : undefined;
}

async function saveCredentials(root: string, engine: DbEngine, credentials: DbCredentials): Promise<void> {
  const all = await readCredentialsFile(root);
  all[engine] = credentials;
  await writeJsonAtomic(credentialsFile(root), all, 0o600);
}

async function clearCredentials(root: string, engine: DbEngine): Promise<void> {
  const all = await readCredentialsFile(root);
  if (!Object.hasOwn(all, engine)) return;
  delete all[engine];
  if (Object.keys(all).length === 0) await rm(credentialsFile(root), { force: true });
  else await writeJsonAtomic(credentialsFile(root), all, 0o600);
}

/**
 * The connection variables of a database: the ones the gateway returned, else the documented set
 * rebuilt from the credentials this client chose and the host the status shows. Undefined when
 * neither is possible (or the database was not made with these credentials).
 */
function connectionOf(engine: DbEngine, dep: { env_vars?: Record<string, string> | undefined; [key: string]: unknown }, credentials: DbCredentials): Record<string, string> | undefined {
  if (dep.env_vars && Object.keys(dep.env_vars).length > 0) return dep.env_vars;
  const info = dep['connection_info'] as { host?: unknown; port?: unknown; username?: unknown } | undefined;
  const host = typeof info?.host === 'string' ? info.host : undefined;
  const port = typeof info?.port === 'number' || typeof info?.port === 'string' ? String(info.port) : undefined;
  if (!host || !port || (typeof info?.username === 'string' && info.username !== credentials.username)) return undefined;
  const { username: user, password, database: db } = credentials;
  const env: Record<string, string> =
    engine === 'postgres'
      ? { DATABASE_URL: `postgresql://${user}:${password}@${host}:${port}/${db}`, POSTGRES_HOST: host, POSTGRES_PORT: port, POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: db }
      : engine === 'mysql'
        ? { DATABASE_URL: `mysql://${user}:${password}@${host}:${port}/${db}`, MYSQL_HOST: host, MYSQL_PORT: port, MYSQL_USER: user, MYSQL_PASSWORD: password, MYSQL_DATABASE: db }
        : engine === 'mongodb'
          ? { MONGODB_URI: `mongodb://${user}:${password}@${host}:${port}/${db}?authSource=admin` }
          : { REDIS_URL: `redis://${user}:${password}@${host}:${port}` };
  for (const value of Object.values(env)) registerSecret(value);
  return env;
}

function unreadableConnection(target: OpsTarget, engine: DbEngine, dependencyId: string): OdError {
  return new OdError('conflict', `The ${engine} database ${dependencyId} was created, but its connection variables cannot be read back through the API.`, {
    retryable: false,
    nextAction: `Copy its connection string from the dashboard (${dashboardUrl(target.gatewayUrl, target.projectId)}) into \`opendeploy env set\`, then run \`opendeploy redeploy\`.`,
    details: { engine, dependency_id: dependencyId },
  });
}

async function recordDependency(target: OpsTarget, linked: ProjectState | undefined, engine: string, dependencyId: string): Promise<void> {
  if (!linked || linked.dependencies.some((dep) => dep.dependency_id === dependencyId)) return;
  linked.dependencies.push({ engine, dependency_id: dependencyId });
  await writeProjectState(target.root, linked);
}

function mergeSummary(serviceName: string, added: string[], kept: string[], replaced: string[]): string {
  const parts: string[] = [];
  if (added.length) parts.push(`added ${added.join(', ')}`);
  if (replaced.length) parts.push(`replaced ${replaced.join(', ')}`);
  if (kept.length) parts.push(`kept existing ${kept.join(', ')}`);
  return `Variables of ${serviceName}: ${parts.length ? parts.join('; ') : 'nothing to add'}`;
}

export function humanDbAdd(result: DbAddResult, serviceName: string): string[] {
  if (result.status === 'skipped') {
    return [`Project ${result.project_id} already has a ${result.engine} database (${result.dependency_id}); nothing was added.`];
  }
  const lines = [
    '',
    `Added ${result.engine} (${result.dependency_id}) to ${serviceName}`,
    `  variables   added: ${result.env_added.join(', ') || '—'}`,
  ];
  if (result.env_kept.length) lines.push(`              kept (already set): ${result.env_kept.join(', ')}`);
  if (result.env_replaced.length) lines.push(`              replaced: ${result.env_replaced.join(', ')}`);
  lines.push(
    result.redeployed
      ? `  deployment  ${result.deployment_id}  success  ${result.url ?? ''}`.trimEnd()
      : '  deployment  not redeployed; run `opendeploy redeploy` to apply the variables',
  );
  return lines;
}
