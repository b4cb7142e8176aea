/**
 * Managed dependencies on this machine: a real PostgreSQL or Redis server, started from the
 * binaries already installed, on a free 127.0.0.1 port with its data under the gateway's data
 * folder. An engine that is not installed (or not supported locally) is an EngineError with one
 * clear sentence; the gateway marks the dependency `failed` with it — no database is ever faked.
 */

import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnGroup, type GroupProcess } from './processes.js';
import { which } from './which.js';

export class EngineError extends Error {}

export interface EngineSpec {
  /** Dependency row id: names the data folder. */
  id: string;
  engine: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** `<dataDir>/dependencies`. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** Engine output lines (kept short by the caller). */
  onLine?: (line: string) => void;
}

export interface RunningEngine {
  pid: number | undefined;
  process: GroupProcess;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function startEngine(spec: EngineSpec): Promise<RunningEngine> {
  if (spec.engine === 'postgres') return startPostgres(spec);
  if (spec.engine === 'redis') return startRedis(spec);
  throw new EngineError(
    `${ENGINE_NAMES[spec.engine] ?? spec.engine} cannot run in a local preview yet: only PostgreSQL and Redis are started on this machine. ` +
      `${connectionHint(spec.engine)}, or deploy to the hosted gateway.`,
  );
}

const ENGINE_NAMES: Record<string, string> = { postgres: 'PostgreSQL', redis: 'Redis', mysql: 'MySQL', mongodb: 'MongoDB', clickhouse: 'ClickHouse' };

/** The variable that carries each engine's connection string (what the gateway would set). */
export const CONNECTION_VARIABLES: Record<string, string> = {
  postgres: 'DATABASE_URL',
  mysql: 'DATABASE_URL',
  mongodb: 'MONGODB_URI',
  redis: 'REDIS_URL',
  clickhouse: 'CLICKHOUSE_URL',
};

// Without user:password: every printed URL has its credentials masked, so an example holding them
// would read `redis://***@host`. Users add their own credentials to the URL.
const URL_EXAMPLES: Record<string, string> = {
  postgres: 'postgresql://host:5432/app',
  mysql: 'mysql://host:3306/app',
  mongodb: 'mongodb://host:27017/app',
  redis: 'redis://host:6379',
  clickhouse: 'http://host:8123/app',
};

/** "Or use a server of yours: pass its connection string with --env-file (DATABASE_URL=…)". */
export function connectionHint(engine: string): string {
  const variable = CONNECTION_VARIABLES[engine] ?? 'DATABASE_URL';
  return (
    `Use a server of yours instead: put ${variable}=${URL_EXAMPLES[engine] ?? '…'} in a file and deploy with \`--vars-file <file>\` ` +
    `(no ${engine} is provisioned then)`
  );
}

/** Package names of the engines' servers, per package manager. */
const PACKAGES: Record<string, Record<string, string>> = {
  postgres: { 'apt-get': 'postgresql', dnf: 'postgresql-server', yum: 'postgresql-server', apk: 'postgresql', pacman: 'postgresql', zypper: 'postgresql-server', brew: 'postgresql@17' },
  redis: { 'apt-get': 'redis-server', dnf: 'redis', yum: 'redis', apk: 'redis', pacman: 'redis', zypper: 'redis', brew: 'redis' },
};

/**
 * How to install an engine's server on this machine: the command of the package manager found here
 * (`sudo apt-get install postgresql`, `brew install redis`), or the generic advice when none is.
 */
export function installHint(engine: string, pathEnv: string | undefined, platform: NodeJS.Platform = process.platform, isRoot = process.getuid?.() === 0): string {
  const packages = PACKAGES[engine];
  const name = ENGINE_NAMES[engine] ?? engine;
  if (!packages) return `install ${name}`;
  const managers = platform === 'darwin' ? ['brew'] : ['apt-get', 'dnf', 'yum', 'apk', 'pacman', 'zypper', 'brew'];
  for (const manager of managers) {
    if (!which(manager, pathEnv)) continue;
    const sudo = manager === 'brew' || isRoot ? '' : 'sudo ';
    const install = manager === 'pacman' ? '-S' : manager === 'apk' ? 'add' : 'install';
    return `install ${name} with \`${sudo}${manager} ${install} ${packages[manager]}\``;
  }
  return `install ${name} (the ${packages['apt-get']} package on Debian/Ubuntu, ${packages['brew']} with Homebrew)`;
}

/** The whole sentence for an engine that is not installed: how to install it, or how to skip it. */
export function missingEngineMessage(engine: string, binaries: string, pathEnv: string | undefined): string {
  return `${binaries}: not found on this machine — ${installHint(engine, pathEnv)} to preview this app with its ${engine === 'redis' ? 'cache' : 'database'} locally. ${connectionHint(engine)}.`;
}

// ------------------------------------------------------------------------------------ postgres

function postgresBin(name: string, pathEnv: string | undefined): string | null {
  const onPath = which(name, pathEnv);
  if (onPath) return onPath;
  // Debian/Ubuntu keep the server binaries out of PATH.
  for (const root of ['/usr/lib/postgresql', '/usr/local/pgsql']) {
    try {
      const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
      for (const version of versions) {
        const candidate = path.join(root, version, 'bin', name);
        if (existsSync(candidate)) return candidate;
      }
      const direct = path.join(root, 'bin', name);
      if (existsSync(direct)) return direct;
    } catch {
      // not there
    }
  }
  return null;
}

interface SystemUser {
  uid: number;
  gid: number;
}

async function systemUser(name: string): Promise<SystemUser | null> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

async function runOnce(command: string, spec: EngineSpec, cwd: string, owner: SystemUser | null, input?: string): Promise<string[]> {
  const lines: string[] = [];
  const child = spawnGroup({
    command,
    cwd,
    env: spec.env,
    ...(input !== undefined ? { input } : {}),
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    onLine: (_stream, line) => {
      lines.push(line);
      if (lines.length > 40) lines.shift();
    },
  });
  const exit = await child.exited;
  if (exit.code !== 0) {
    throw new EngineError(`\`${command.split(' ')[0]}\` failed (${exit.error?.message ?? `exit code ${exit.code ?? exit.signal}`}): ${lines.slice(-5).join(' | ')}`);
  }
  return lines;
}

async function startPostgres(spec: EngineSpec): Promise<RunningEngine> {
  const postgres = postgresBin('postgres', spec.env.PATH);
  const initdb = postgresBin('initdb', spec.env.PATH);
  if (!postgres || !initdb) {
    throw new EngineError(missingEngineMessage('postgres', 'postgres and initdb', spec.env.PATH));
  }
  // PostgreSQL refuses to run as root: as root, run it as the `postgres` system user, with its data
  // in a folder that user owns (a root-only data folder is not reachable for it).
  let owner: SystemUser | null = null;
  let home = path.join(spec.baseDir, spec.id);
  if (process.getuid?.() === 0) {
    owner = await systemUser('postgres');
    if (!owner) {
      throw new EngineError('PostgreSQL refuses to run as root and this machine has no `postgres` system user: run the local gateway as a normal user');
    }
    home = path.join(os.tmpdir(), `opendeploy-pg-${spec.id}`);
  }
  const data = path.join(home, 'data');
  await mkdir(home, { recursive: true, mode: 0o700 });
  if (owner) await chown(home, owner.uid, owner.gid);
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    await rm(data, { recursive: true, force: true });
    const pwfile = path.join(home, 'pwfile');
    await writeFile(pwfile, `${spec.password}\n`, { mode: 0o600 });
    if (owner) await chown(pwfile, owner.uid, owner.gid);
    try {
      await runOnce(
        `${shellQuote(initdb)} -D ${shellQuote(data)} -U ${shellQuote(spec.user)} --pwfile=${shellQuote(pwfile)} -A scram-sha-256 -E UTF8`,
        spec,
        home,
        owner,
      );
    } finally {
      await rm(pwfile, { force: true });
    }
    if (spec.database && spec.database !== 'postgres') {
      const name = spec.database.replace(/"/g, '""');
      await runOnce(`${shellQuote(postgres)} --single -D ${shellQuote(data)} postgres`, spec, home, owner, `CREATE DATABASE "${name}";\n`);
    }
  }
  const command = [
    shellQuote(postgres),
    '-D', shellQuote(data),
    '-p', String(spec.port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', "unix_socket_directories=''",
  ].join(' ');
  return startServer(spec, command, home, owner, /ready to accept connections/i, 'SIGINT');
}

// ------------------------------------------------------------------------------------ redis

async function startRedis(spec: EngineSpec): Promise<RunningEngine> {
  const server = which('redis-server', spec.env.PATH);
  if (!server) throw new EngineError(missingEngineMessage('redis', 'redis-server', spec.env.PATH));
  const home = path.join(spec.baseDir, spec.id);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const config = path.join(home, 'redis.conf');
  // The password goes in a 0600 config file, never on the command line (visible in `ps`).
  await writeFile(
    config,
    [`port ${spec.port}`, 'bind 127.0.0.1', `dir ${home}`, 'appendonly yes', 'save ""', 'protected-mode yes', `requirepass "${spec.password.replace(/"/g, '\\"')}"`, ''].join('\n'),
    { mode: 0o600 },
  );
  await chmod(config, 0o600);
  return startServer(spec, `${shellQuote(server)} ${shellQuote(config)}`, home, null, /ready to accept connections/i, 'SIGTERM');
}

// ------------------------------------------------------------------------------------ shared

async function startServer(
  spec: EngineSpec,
  command: string,
  cwd: string,
  owner: SystemUser | null,
  ready: RegExp,
  stopSignal: NodeJS.Signals,
): Promise<RunningEngine> {
  const recent: string[] = [];
  let resolveReady: () => void = () => undefined;
  const isReady = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  const child = spawnGroup({
    command,
    cwd,
    env: spec.env,
    stopSignal,
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    onLine: (_stream, line) => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      spec.onLine?.(line);
      if (ready.test(line)) resolveReady();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    isReady.then(() => 'ready' as const),
    child.exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    await child.stop(2000);
    const tail = recent.slice(-5).join(' | ');
    throw new EngineError(
      outcome === 'timeout'
        ? `${spec.engine} did not become ready within ${READY_TIMEOUT_MS / 1000} s: ${tail}`
        : `${spec.engine} exited while starting: ${tail}`,
    );
  }
  return {
    pid: child.pid,
    process: child,
    stop: async () => {
      await child.stop(10_000);
    },
  };
}
