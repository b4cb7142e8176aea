import { chmod, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { OdError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { sleep } from '../../core/sleep.js';
import type { GatewayClient } from '../../gateway/index.js';
import type { Reporter } from '../../core/reporter.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { stateDir, writeJsonAtomic } from '../state.js';

/** Engine names the gateway provisions, keyed by every spelling analysis may use. */
const ENGINE_ALIASES: Record<string, string> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  mongodb: 'mongodb',
  mongo: 'mongodb',
  redis: 'redis',
  valkey: 'redis',
  clickhouse: 'clickhouse',
};

/** The managed engines this deploy needs: each distinct engine once, in a stable order. */
export function enginesFor(services: { dependencies: string[]; database_type: string }[]): string[] {
  const engines = new Set<string>();
  for (const service of services) {
    for (const name of [service.database_type, ...service.dependencies]) {
      const engine = ENGINE_ALIASES[name.toLowerCase()];
      if (engine) engines.add(engine);
    }
  }
  return [...engines];
}

const DEPENDENCY_READY_TIMEOUT_MS = 120_000;

/** Variables that carry each engine's connection string when the user brings a server of their own. */
const CONNECTION_VARIABLES: Record<string, string[]> = {
  postgres: ['DATABASE_URL', 'POSTGRES_URL', 'POSTGRESQL_URL'],
  mysql: ['DATABASE_URL', 'MYSQL_URL'],
  mongodb: ['MONGODB_URI', 'MONGODB_URL', 'MONGO_URL', 'MONGO_URI', 'DATABASE_URL'],
  redis: ['REDIS_URL', 'REDIS_URI'],
  clickhouse: ['CLICKHOUSE_URL'],
};
const ENGINE_SCHEMES: Record<string, RegExp> = {
  postgres: /^postgres(?:ql)?:/i,
  mysql: /^(?:mysql|mariadb)[a-z0-9+]*:/i,
  mongodb: /^mongodb(?:\+srv)?:/i,
  redis: /^rediss?:/i,
  clickhouse: /^(?:https?|clickhouse):/i,
};

/**
 * The variable of the user's own values (`--env-file`) that connects the app to `engine`, or null.
 * DATABASE_URL is shared by several engines: it counts for the one its scheme names.
 */
export function suppliedConnection(engine: string, userEnv: Record<string, string>): string | null {
  for (const name of CONNECTION_VARIABLES[engine] ?? []) {
    const value = userEnv[name]?.trim();
    if (!value) continue;
    if (name === 'DATABASE_URL' && /^[a-z][a-z0-9+.-]*:/i.test(value) && !ENGINE_SCHEMES[engine]?.test(value)) continue;
    return name;
  }
  return null;
}

/**
 * Connection variables exist only in the create response. If a run stops between creating a
 * database and creating the service, the next run still needs them, so they wait in a 0600 file
 * that is deleted as soon as the service holds them.
 */
function pendingEnvFile(root: string): string {
  return path.join(stateDir(root), 'dependency-env.json');
}

export async function loadPendingDependencyEnv(root: string): Promise<Record<string, string>> {
  try {
    const parsed = JSON.parse(await readFile(pendingEnvFile(root), 'utf8')) as Record<string, unknown>;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string') {
        env[key] = value;
        registerSecret(value);
      }
    }
    return env;
  } catch {
    return {};
  }
}

/** Saves connection variables that no service holds yet (0600), so an interrupted run can finish. */
export async function savePendingDependencyEnv(root: string, env: Record<string, string>): Promise<void> {
  await writeJsonAtomic(pendingEnvFile(root), env, 0o600);
  await chmod(pendingEnvFile(root), 0o600);
}

export async function clearPendingDependencyEnv(root: string): Promise<void> {
  await rm(pendingEnvFile(root), { force: true });
}

/** Stage 6: one managed dependency per detected engine, waited until running. */
export async function dependenciesStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const projectId = ctx.state.project_id!;
  const engines = enginesFor(ctx.analysis?.services ?? []).filter((engine) => {
    // The user brings this database: provisioning another one would only override theirs.
    const variable = suppliedConnection(engine, ctx.inputs.userEnv);
    if (variable) ctx.reporter.stageSkip('dependency.create', `Not provisioning ${engine}: the app connects with the ${variable} you passed`, { engine, variable });
    return variable === null;
  });
  if (engines.length === 0) return;

  Object.assign(ctx.dependencyEnv, await loadPendingDependencyEnv(ctx.inputs.root));
  const servicesExist = ctx.state.services.length > 0;

  for (const engine of engines) {
    if (ctx.state.dependencies.some((dep) => dep.engine === engine)) {
      ctx.reporter.stageSkip('dependency.create', `Using existing ${engine} database`, { engine });
      continue;
    }
    ctx.reporter.stageStart('dependency.create', `Provisioning ${engine}`);
    // A run that died mid-create may have left the dependency behind: adopt it instead of a second one.
    const existing = ctx.resumed
      ? (await client.getDependencyStatus(projectId)).find((dep) => dep.dependency_id === engine)
      : undefined;
    let dependencyId: string;
    if (existing) {
      dependencyId = existing.id;
      if (!servicesExist) {
        ctx.reporter.warn(
          `Found the ${engine} database from an interrupted run, but its connection variables were not saved; add them with \`opendeploy env set\` if the app needs them.`,
        );
      }
    } else {
      const created = await client.createDependency({
        project_id: projectId,
        dependency_id: engine,
        environment: ctx.inputs.environment,
      });
      dependencyId = created.id;
      const env = created.env_vars ?? {};
      for (const value of Object.values(env)) registerSecret(value);
      Object.assign(ctx.dependencyEnv, env);
      await savePendingDependencyEnv(ctx.inputs.root, ctx.dependencyEnv);
      ctx.audit.info('dependency.create', { project_id: projectId, dependency_id: dependencyId, engine, env_keys: Object.keys(env) });
    }
    ctx.state.dependencies.push({ engine, dependency_id: dependencyId });
    await saveState(ctx);
    await waitUntilRunning(ctx, projectId, dependencyId, engine);
    ctx.reporter.stageDone('dependency.create', `Database ${engine} running (${dependencyId})`, {
      engine,
      dependency_id: dependencyId,
      env_keys: Object.keys(ctx.dependencyEnv),
    });
  }
}

async function waitUntilRunning(ctx: DeployContext, projectId: string, dependencyId: string, engine: string): Promise<void> {
  await waitForDependency(requireClient(ctx), projectId, dependencyId, engine, {
    reporter: ctx.reporter,
    signal: ctx.signal,
    pollIntervalMs: ctx.inputs.pollIntervalMs,
  });
}

export interface DependencyWaitOptions {
  reporter: Reporter;
  signal: AbortSignal;
  pollIntervalMs: number;
  /** Default 120 s. */
  timeoutMs?: number;
  /** The stage name of the progress events (default `dependency.create`). */
  stage?: string;
}

/**
 * Polls `GET /v1/dependencies/status/:project_id` until the dependency is `running` (bounded), with
 * one progress event per status change. `failed` and the timeout end it with `deploy_failed`.
 */
export async function waitForDependency(
  client: GatewayClient,
  projectId: string,
  dependencyId: string,
  engine: string,
  options: DependencyWaitOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEPENDENCY_READY_TIMEOUT_MS;
  const stage = options.stage ?? 'dependency.create';
  const deadline = Date.now() + timeoutMs;
  let lastStatus = '';
  for (;;) {
    const all = await client.getDependencyStatus(projectId);
    const row = all.find((dep) => dep.id === dependencyId);
    const status = row?.status ?? 'pending';
    if (status === 'running') return;
    if (status === 'failed') {
      // The local gateway says why (e.g. the engine is not installed on this machine).
      const reason = typeof row?.['message'] === 'string' && row['message'] !== '' ? ` ${String(row['message'])}` : '';
      throw new OdError('deploy_failed', `The managed ${engine} database failed to provision.${reason}`, {
        nextAction: reason
          ? 'Do what the message says — install the engine, or pass your own connection string with --vars-file — then run the same command again.'
          : 'Open the project dashboard to remove the failed database, then re-run; or contact hi@opendeploy.dev.',
        details: { dependency_id: dependencyId, engine },
      });
    }
    if (status !== lastStatus) {
      options.reporter.progress(stage, `${engine}: ${status}`, { engine, status });
      lastStatus = status;
    }
    if (Date.now() > deadline) {
      throw new OdError('deploy_failed', `The ${engine} database was still "${status}" after ${timeoutMs / 1000} s.`, {
        retryable: true,
        nextAction: 'Re-run the same command to keep waiting; the database is kept.',
      });
    }
    await sleep(Math.min(options.pollIntervalMs, 2000), options.signal);
  }
}
