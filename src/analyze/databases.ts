/**
 * Managed engines the service needs: from
 * compose images, runtime (non-dev) manifest dependencies, Prisma's datasource provider, and env
 * names. Each engine once; nothing detected -> nothing provisioned.
 *
 * `dependencies` is in a fixed order (postgres, mysql, mongodb, redis, clickhouse) so the output
 * does not depend on discovery order; `database_type` is the first non-cache engine, else redis.
 */
import type { ComposeInfo } from './compose.js';
import { isDevOnlyFile } from './env-vars.js';
import type { Dependency, Ecosystem } from './manifests.js';
import type { EnvRef } from './scan-model.js';
import type { Engine, Evidence } from './schema.js';
import { ENGINES } from './vocabulary.js';
import type { DetectContext } from './types.js';
import { inDir } from './types.js';

type Matcher = (dep: Dependency) => Engine | null;

const BY_NAME: Readonly<Record<Ecosystem, Readonly<Record<string, Engine>>>> = {
  npm: {
    pg: 'postgres',
    'pg-promise': 'postgres',
    postgres: 'postgres',
    '@vercel/postgres': 'postgres',
    '@neondatabase/serverless': 'postgres',
    slonik: 'postgres',
    'pg-boss': 'postgres',
    'graphile-worker': 'postgres',
    mysql: 'mysql',
    mysql2: 'mysql',
    mariadb: 'mysql',
    mongoose: 'mongodb',
    mongodb: 'mongodb',
    redis: 'redis',
    ioredis: 'redis',
    '@redis/client': 'redis',
    bullmq: 'redis',
    bull: 'redis',
    'connect-redis': 'redis',
    'bee-queue': 'redis',
    kue: 'redis',
    'rate-limit-redis': 'redis',
    '@socket.io/redis-adapter': 'redis',
    '@clickhouse/client': 'clickhouse',
  },
  pypi: {
    psycopg: 'postgres',
    'psycopg-binary': 'postgres',
    psycopg2: 'postgres',
    'psycopg2-binary': 'postgres',
    asyncpg: 'postgres',
    pg8000: 'postgres',
    mysqlclient: 'mysql',
    pymysql: 'mysql',
    'mysql-connector-python': 'mysql',
    aiomysql: 'mysql',
    asyncmy: 'mysql',
    pymongo: 'mongodb',
    motor: 'mongodb',
    mongoengine: 'mongodb',
    beanie: 'mongodb',
    redis: 'redis',
    aioredis: 'redis',
    'django-redis': 'redis',
    rq: 'redis',
    'django-rq': 'redis',
    arq: 'redis',
    'channels-redis': 'redis',
    'clickhouse-driver': 'clickhouse',
    'clickhouse-connect': 'clickhouse',
    'clickhouse-sqlalchemy': 'clickhouse',
    aiochclient: 'clickhouse',
    asynch: 'clickhouse',
    'psycopg-pool': 'postgres',
    mariadb: 'mysql',
    odmantic: 'mongodb',
    'redis-om': 'redis',
    valkey: 'redis',
  },
  go: {
    'github.com/lib/pq': 'postgres',
    'github.com/jackc/pgx': 'postgres',
    'github.com/jackc/pgx/v4': 'postgres',
    'github.com/jackc/pgx/v5': 'postgres',
    'gorm.io/driver/postgres': 'postgres',
    'github.com/go-sql-driver/mysql': 'mysql',
    'gorm.io/driver/mysql': 'mysql',
    'go.mongodb.org/mongo-driver': 'mongodb',
    'go.mongodb.org/mongo-driver/v2': 'mongodb',
    'github.com/redis/go-redis/v9': 'redis',
    'github.com/go-redis/redis': 'redis',
    'github.com/go-redis/redis/v8': 'redis',
    'github.com/ClickHouse/clickhouse-go': 'clickhouse',
    'github.com/ClickHouse/clickhouse-go/v2': 'clickhouse',
    'github.com/go-pg/pg/v10': 'postgres',
    'github.com/uptrace/bun/dialect/pgdialect': 'postgres',
    'github.com/uptrace/bun/driver/pgdriver': 'postgres',
    'github.com/uptrace/bun/dialect/mysqldialect': 'mysql',
    'github.com/gomodule/redigo': 'redis',
    'github.com/redis/rueidis': 'redis',
    'github.com/hibiken/asynq': 'redis',
    'github.com/gocraft/work': 'redis',
  },
  cargo: {
    'tokio-postgres': 'postgres',
    postgres: 'postgres',
    'deadpool-postgres': 'postgres',
    'bb8-postgres': 'postgres',
    mysql: 'mysql',
    mysql_async: 'mysql',
    mongodb: 'mongodb',
    redis: 'redis',
    'deadpool-redis': 'redis',
    'bb8-redis': 'redis',
    fred: 'redis',
    clickhouse: 'clickhouse',
    'clickhouse-rs': 'clickhouse',
    klickhouse: 'clickhouse',
  },
  composer: {
    'predis/predis': 'redis',
    'mongodb/mongodb': 'mongodb',
    'mongodb/laravel-mongodb': 'mongodb',
    'jenssegers/mongodb': 'mongodb',
    'smi2/phpclickhouse': 'clickhouse',
  },
  rubygems: {
    pg: 'postgres',
    mysql2: 'mysql',
    trilogy: 'mysql',
    mongoid: 'mongodb',
    mongo: 'mongodb',
    redis: 'redis',
    sidekiq: 'redis',
    resque: 'redis',
    'redis-client': 'redis',
    'click_house': 'clickhouse',
    'clickhouse-activerecord': 'clickhouse',
  },
  maven: {
    'org.postgresql:postgresql': 'postgres',
    'org.postgresql:r2dbc-postgresql': 'postgres',
    'io.r2dbc:r2dbc-postgresql': 'postgres',
    'com.mysql:mysql-connector-j': 'mysql',
    'mysql:mysql-connector-java': 'mysql',
    'org.mariadb.jdbc:mariadb-java-client': 'mysql',
    'io.asyncer:r2dbc-mysql': 'mysql',
    'org.springframework.boot:spring-boot-starter-data-mongodb': 'mongodb',
    'org.springframework.boot:spring-boot-starter-data-mongodb-reactive': 'mongodb',
    'org.mongodb:mongodb-driver-sync': 'mongodb',
    'org.mongodb:mongodb-driver-reactivestreams': 'mongodb',
    'org.springframework.boot:spring-boot-starter-data-redis': 'redis',
    'org.springframework.boot:spring-boot-starter-data-redis-reactive': 'redis',
    'redis.clients:jedis': 'redis',
    'io.lettuce:lettuce-core': 'redis',
    'org.redisson:redisson': 'redis',
    'com.clickhouse:clickhouse-jdbc': 'clickhouse',
    'com.clickhouse:client-v2': 'clickhouse',
  },
  nuget: {
    npgsql: 'postgres',
    'npgsql.entityframeworkcore.postgresql': 'postgres',
    'mysql.data': 'mysql',
    mysqlconnector: 'mysql',
    'pomelo.entityframeworkcore.mysql': 'mysql',
    'mysql.entityframeworkcore': 'mysql',
    'mongodb.driver': 'mongodb',
    'mongodb.entityframeworkcore': 'mongodb',
    'stackexchange.redis': 'redis',
    'microsoft.extensions.caching.stackexchangeredis': 'redis',
    'clickhouse.client': 'clickhouse',
  },
  hex: {
    postgrex: 'postgres',
    myxql: 'mysql',
    mongodb_driver: 'mongodb',
    redix: 'redis',
    ch: 'clickhouse',
    ecto_ch: 'clickhouse',
  },
};

/** Go module paths carry a major-version suffix (`/v9`); match on the path without it. */
const GO_PREFIXES: ReadonlyArray<readonly [string, Engine]> = [
  ['github.com/jackc/pgx', 'postgres'],
  ['github.com/go-redis/redis', 'redis'],
  ['github.com/redis/go-redis', 'redis'],
  ['go.mongodb.org/mongo-driver', 'mongodb'],
  ['github.com/ClickHouse/clickhouse-go', 'clickhouse'],
];

const MATCHERS: Matcher[] = [
  (dep) => BY_NAME[dep.ecosystem][dep.ecosystem === 'nuget' ? dep.name.toLowerCase() : dep.name] ?? null,
  (dep) => (dep.ecosystem === 'go' ? (GO_PREFIXES.find(([prefix]) => dep.name === prefix || dep.name.startsWith(`${prefix}/`))?.[1] ?? null) : null),
  // celery[redis], sqlx/diesel features
  (dep) => (dep.ecosystem === 'pypi' && dep.name === 'celery' && dep.extras.includes('redis') ? 'redis' : null),
  (dep) => {
    if (dep.ecosystem !== 'cargo' || !['sqlx', 'diesel', 'sea-orm', 'diesel-async', 'sea-query'].includes(dep.name)) return null;
    if (dep.extras.some((f) => /(?:^|-)postgres/.test(f))) return 'postgres';
    if (dep.extras.some((f) => /(?:^|-)mysql/.test(f))) return 'mysql';
    return null;
  },
];

const ENV_ENGINES: ReadonlyArray<readonly [RegExp, Engine]> = [
  [/^(?:POSTGRES(?:QL)?_\w+|PG(?:HOST|PORT|USER|PASSWORD|DATABASE))$/, 'postgres'],
  [/^MYSQL_\w+$/, 'mysql'],
  [/^MONGO\w*$/, 'mongodb'],
  [/^(?:REDIS_\w+|REDISCLOUD_URL|VALKEY_URL)$/, 'redis'],
  [/^CLICKHOUSE_\w+$/, 'clickhouse'],
];

const URL_SCHEMES: ReadonlyArray<readonly [RegExp, Engine]> = [
  [/^postgres(?:ql)?(?:\+\w+)?:\/\//i, 'postgres'],
  [/^(?:mysql|mariadb)(?:\+\w+)?:\/\//i, 'mysql'],
  [/^mongodb(?:\+srv)?:\/\//i, 'mongodb'],
  [/^rediss?:\/\//i, 'redis'],
  [/^clickhouse:\/\//i, 'clickhouse'],
];

/** The engine a dependency stands for, or null. */
export function engineOfDependency(dep: Dependency): Engine | null {
  for (const matcher of MATCHERS) {
    const engine = matcher(dep);
    if (engine) return engine;
  }
  return null;
}

/** `package.json: dependencies.pg`, `requirements.txt:3 psycopg2-binary`, `requirements.txt:2 celery[redis]`. */
export function describeDependency(dep: Dependency): string {
  const extras = dep.extras.length > 0 && dep.ecosystem === 'pypi' ? `[${dep.extras.join(',')}]` : '';
  return dep.source.endsWith(dep.name) && extras === '' ? dep.source : `${dep.source} ${dep.name}${extras}`;
}

/**
 * Redis client libraries: a client alone is no evidence that the deployed app needs Redis (it is
 * often there for a dev cache or an optional feature). It counts when something uses Redis in
 * production: a job queue or cache/session store, the framework's config, or Redis env names.
 */
const REDIS_CLIENTS: Readonly<Partial<Record<Ecosystem, ReadonlySet<string>>>> = {
  npm: new Set(['redis', 'ioredis', '@redis/client']),
  pypi: new Set(['redis', 'aioredis', 'redis-om', 'valkey']),
  go: new Set(['github.com/redis/go-redis/v9', 'github.com/go-redis/redis', 'github.com/go-redis/redis/v8', 'github.com/gomodule/redigo', 'github.com/redis/rueidis']),
  cargo: new Set(['redis', 'deadpool-redis', 'bb8-redis', 'fred']),
  rubygems: new Set(['redis', 'redis-client']),
};

/** Libraries that run on a Redis connection in production (queues, cache and session stores) without naming it. */
const REDIS_USERS: Readonly<Partial<Record<Ecosystem, ReadonlySet<string>>>> = {
  npm: new Set(['cache-manager-redis-store', 'cache-manager-ioredis', '@keyv/redis', 'socket.io-redis']),
  // Each of these can run on Redis or on something else: with a Redis client declared next to it, that is what it uses.
  pypi: new Set(['celery', 'dramatiq', 'huey', 'flask-caching', 'flask-session', 'django-cacheops']),
  rubygems: new Set(['redis-rails', 'redis-store', 'redis-namespace']),
  go: new Set(['github.com/go-redis/cache/v9', 'github.com/go-redis/redis_rate/v10']),
};

function isRedisClient(dep: Dependency): boolean {
  if (dep.ecosystem === 'go') return [...(REDIS_CLIENTS.go ?? [])].some((name) => dep.name === name || dep.name.startsWith(`${name}/`)) || /^github\.com\/(?:redis|go-redis)\/(?:go-)?redis(?:\/v\d+)?$/.test(dep.name);
  return REDIS_CLIENTS[dep.ecosystem]?.has(dep.name) ?? false;
}

function engineOfUrl(value: string): Engine | null | undefined {
  if (/^(?:sqlite|file):/i.test(value)) return null;
  for (const [regex, engine] of URL_SCHEMES) if (regex.test(value)) return engine;
  return undefined;
}

const SQL_ENGINES: ReadonlySet<Engine> = new Set(['postgres', 'mysql']);

/** The SQL engine the app's own database configuration names (null: SQLite, a file, no server). */
interface SqlDecision {
  engine: Engine | null;
  evidence: string;
}

const PRISMA_PROVIDERS: Readonly<Record<string, Engine | null>> = { postgresql: 'postgres', cockroachdb: 'postgres', mysql: 'mysql', mongodb: 'mongodb', sqlite: null, sqlserver: null };
const DRIZZLE_DIALECTS: Readonly<Record<string, Engine | null>> = {
  postgresql: 'postgres',
  pg: 'postgres',
  mysql: 'mysql',
  mysql2: 'mysql',
  singlestore: 'mysql',
  sqlite: null,
  turso: null,
  'better-sqlite': null,
  libsql: null,
  d1: null,
  'd1-http': null,
  'durable-sqlite': null,
  expo: null,
  pglite: null,
};

async function prismaProvider(ctx: DetectContext): Promise<SqlDecision | null> {
  for (const file of ['prisma/schema.prisma', 'schema.prisma', 'prisma/schema/schema.prisma']) {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.fs.read(rel))?.text;
    if (text === undefined) continue;
    const provider = /datasource\s+\w+\s*\{[^}]{0,2000}?\bprovider\s*=\s*"(\w+)"/.exec(text)?.[1];
    if (provider === undefined || !(provider in PRISMA_PROVIDERS)) return null;
    return { engine: PRISMA_PROVIDERS[provider] as Engine | null, evidence: `${rel}: datasource provider "${provider}"` };
  }
  return null;
}

/** drizzle.config.*: `dialect: "postgresql"` (drizzle-kit >= 0.21) or the older `driver: "pg"`. */
async function drizzleDialect(ctx: DetectContext): Promise<SqlDecision | null> {
  for (const file of ['drizzle.config.ts', 'drizzle.config.js', 'drizzle.config.mjs', 'drizzle.config.cjs', 'drizzle.config.mts']) {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.fs.read(rel))?.text;
    if (text === undefined) continue;
    const m = /\b(dialect|driver)\s*:\s*['"]([\w-]+)['"]/.exec(text);
    const dialect = m?.[2];
    if (dialect === undefined || !(dialect in DRIZZLE_DIALECTS)) return null;
    return { engine: DRIZZLE_DIALECTS[dialect] as Engine | null, evidence: `${rel}: ${m?.[1]} "${dialect}"` };
  }
  return null;
}

const DATABASE_URL_NAMES = /^(?:\w+_)?(?:DATABASE_(?:URL|URI)|DB_(?:URL|URI))$|^SQLALCHEMY_DATABASE_URI$/;

/**
 * The code's own fallback for its database URL: a multi-dialect ORM configured as
 * `DATABASE_URL || "sqlite:..."` (sequelize, knex, SQLAlchemy, Prisma's `file:`) runs on a SQLite file
 * and needs no database server; `|| "postgres://..."` names the engine.
 */
const DIALECTS: Readonly<Record<string, Engine | null>> = {
  pg: 'postgres',
  'pg-native': 'postgres',
  postgres: 'postgres',
  postgresql: 'postgres',
  cockroachdb: 'postgres',
  mysql: 'mysql',
  mysql2: 'mysql',
  mariadb: 'mysql',
  sqlite: null,
  sqlite3: null,
  'better-sqlite3': null,
};

/**
 * The ORM's own configuration: knexfile `client` (the production section first), sequelize-cli
 * `config/config.json` production `dialect`, TypeORM `type`, a SQLAlchemy URL written as a literal
 * (`create_engine("sqlite:///app.db")`).
 */
async function ormConfig(ctx: DetectContext): Promise<SqlDecision | null> {
  const read = async (file: string): Promise<{ rel: string; text: string } | null> => {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.fs.read(rel))?.text;
    return text === undefined ? null : { rel, text };
  };
  const decide = (rel: string, what: string, value: string | undefined): SqlDecision | null =>
    value !== undefined && value in DIALECTS ? { engine: DIALECTS[value] as Engine | null, evidence: `${rel}: ${what} "${value}"` } : null;
  for (const file of ['knexfile.js', 'knexfile.ts', 'knexfile.cjs', 'knexfile.mjs']) {
    const knex = await read(file);
    if (!knex) continue;
    const production = /\bproduction\s*:\s*\{[^}]*?\bclient\s*:\s*['"]([\w-]+)['"]/.exec(knex.text)?.[1];
    const found = decide(knex.rel, production ? 'production client' : 'client', production ?? /\bclient\s*:\s*['"]([\w-]+)['"]/.exec(knex.text)?.[1]);
    if (found) return found;
  }
  const sequelize = await read('config/config.json');
  if (sequelize) {
    try {
      const production = (JSON.parse(sequelize.text) as Record<string, Record<string, unknown> | undefined>).production;
      const found = typeof production?.dialect === 'string' ? decide(sequelize.rel, 'production.dialect', production.dialect) : null;
      if (found) return found;
    } catch {
      // not sequelize-cli's JSON: nothing decided here
    }
  }
  for (const file of ['ormconfig.json', 'ormconfig.js', 'ormconfig.ts', 'src/data-source.ts', 'data-source.ts', 'src/database/data-source.ts']) {
    const typeorm = await read(file);
    const found = typeorm ? decide(typeorm.rel, 'type', /["']?type["']?\s*:\s*['"]([\w-]+)['"]/.exec(typeorm.text)?.[1]) : null;
    if (found) return found;
  }
  // A literal URL decides only when the code reads no database URL from the env (a Config class may
  // hard-code SQLite for development next to `DATABASE_URL` for production).
  if (productionRefs(ctx).some((ref) => DATABASE_URL_NAMES.test(ref.name))) return null;
  const pyFiles = ctx.fs.filesUnder(ctx.dir).filter((f) => /(?:^|\/)(?:config|settings|database|db|models|app|main|__init__|extensions)\.py$/.test(f) && !isDevOnlyFile(f)).slice(0, 50);
  for (const file of pyFiles) {
    const text = (await ctx.fs.read(file))?.text ?? '';
    const m = /\b(?:create_(?:async_)?engine\(\s*|SQLALCHEMY_DATABASE_URI\s*=\s*)f?["'](\w+)(?:\+\w+)?:\/\//.exec(text);
    const found = m ? decide(`${file}:${text.slice(0, m.index).split('\n').length}`, 'SQLAlchemy URL scheme', m[1]) : null;
    if (found) return found;
  }
  return null;
}

/** The service's own env reads, without development/test-only configuration files. */
function productionRefs(ctx: DetectContext): EnvRef[] {
  // The scan is already the service's own (services.ts scopeScan).
  return ctx.scan.envRefs.filter((ref) => !isDevOnlyFile(ref.file));
}

function codeDefaultUrl(ctx: DetectContext): SqlDecision | null {
  for (const ref of productionRefs(ctx)) {
    if (!DATABASE_URL_NAMES.test(ref.name) || ref.fallback !== 'default') continue;
    const engine = engineOfUrl(ref.default);
    if (engine === null) return { engine: null, evidence: `${ref.file}:${ref.line} ${ref.name} falls back to a SQLite URL` };
    if (engine && SQL_ENGINES.has(engine)) return { engine, evidence: `${ref.file}:${ref.line} ${ref.name} falls back to a ${engine} URL` };
  }
  return null;
}

/** A Redis URL as the code's fallback (`CELERY_BROKER_URL`, `CACHE_URL` or `|| "redis://..."`): Redis is used. */
function codeRedisDefault(ctx: DetectContext): { engine: Engine; evidence: string } | null {
  const ref = productionRefs(ctx).find((r) => r.fallback === 'default' && /^rediss?:\/\//i.test(r.default));
  return ref ? { engine: 'redis', evidence: `${ref.file}:${ref.line} ${ref.name} falls back to a Redis URL` } : null;
}

export interface DatabaseResult {
  databaseType: Engine | '';
  dependencies: Engine[];
  evidence: Evidence[];
}

export async function detectDatabases(
  ctx: DetectContext,
  input: {
    compose: ComposeInfo | null;
    envNames: Map<string, string>;
    exampleValues: Map<string, string>;
    /** Engines named by the framework's own configuration (database.yml, DB_CONNECTION, ...). */
    frameworkEngines?: ReadonlyArray<{ engine: Engine; evidence: string }>;
    /** Env names the framework's generated config reads regardless of use: not engine evidence. */
    boilerplateEnv?: RegExp | undefined;
    /** Engines whose declared drivers the framework's default configuration does not use. */
    optionalEngines?: { engines: Engine[]; reason: string } | undefined;
  },
): Promise<DatabaseResult> {
  const found = new Map<Engine, string>();
  const note = (engine: Engine, evidence: string): void => {
    if (!found.has(engine)) found.set(engine, evidence);
  };

  for (const { engine, evidence } of input.compose?.engines ?? []) note(engine, evidence);
  for (const { engine, evidence } of input.frameworkEngines ?? []) note(engine, evidence);

  // The app's database configuration decides the SQL engine; other SQL drivers do not add one.
  const frameworkSql = (input.frameworkEngines ?? []).find((e) => SQL_ENGINES.has(e.engine));
  const prisma = await prismaProvider(ctx);
  if (prisma?.engine) note(prisma.engine, prisma.evidence);
  const drizzle = prisma ? null : await drizzleDialect(ctx);
  if (drizzle?.engine) note(drizzle.engine, drizzle.evidence);
  const sqlDecision: SqlDecision | null =
    (frameworkSql ? { engine: frameworkSql.engine, evidence: frameworkSql.evidence } : null) ??
    (prisma && prisma.engine !== 'mongodb' ? prisma : null) ??
    drizzle ??
    (input.optionalEngines?.engines.some((e) => SQL_ENGINES.has(e)) ? null : ((await ormConfig(ctx)) ?? codeDefaultUrl(ctx)));

  // Env names read only by development/test configuration never reach here (env-vars.ts drops them).
  const envEngines: Array<{ engine: Engine; evidence: string }> = [];
  for (const [name, source] of input.envNames) {
    if (input.boilerplateEnv?.test(name)) continue;
    for (const [regex, engine] of ENV_ENGINES) if (regex.test(name)) envEngines.push({ engine, evidence: `env ${name} (${source})` });
    const value = input.exampleValues.get(name);
    if (value && /_URL$|_URI$|^DATABASE_URL$/.test(name)) {
      const engine = engineOfUrl(value);
      if (engine) envEngines.push({ engine, evidence: `env ${name} example value scheme (${source})` });
    }
  }
  const redisDefault = codeRedisDefault(ctx);
  if (redisDefault) envEngines.push(redisDefault);
  // Engines compose, the framework's config or the env commit to: their drivers are evidence, never dropped.
  const committed = new Set<Engine>([...found.keys(), ...envEngines.map((e) => e.engine)]);

  const deps = (await ctx.manifests.allDependencies(ctx.dir)).filter((dep) => !dep.dev && !(dep.ecosystem === 'go' && dep.extras.includes('indirect')));
  const redisUsed =
    found.has('redis') ||
    envEngines.some((e) => e.engine === 'redis') ||
    deps.some((dep) => (REDIS_USERS[dep.ecosystem]?.has(dep.name) ?? false) || (engineOfDependency(dep) === 'redis' && !isRedisClient(dep)));

  const unused = new Set<Engine>();
  const notUsedSql: string[] = [];
  const idleRedis: string[] = [];
  for (const dep of deps) {
    const engine = engineOfDependency(dep);
    if (!engine) continue;
    if (committed.has(engine)) note(engine, describeDependency(dep));
    else if (input.optionalEngines?.engines.includes(engine)) unused.add(engine);
    else if (sqlDecision && SQL_ENGINES.has(engine) && engine !== sqlDecision.engine) notUsedSql.push(describeDependency(dep));
    else if (engine === 'redis' && isRedisClient(dep) && !redisUsed) idleRedis.push(describeDependency(dep));
    else note(engine, describeDependency(dep));
  }
  for (const { engine, evidence } of envEngines) note(engine, evidence);
  if (sqlDecision?.engine) note(sqlDecision.engine, sqlDecision.evidence);
  if (unused.size > 0) {
    ctx.warnings.add(`${[...unused].join(', ')} driver(s) are declared but ${input.optionalEngines?.reason}; no database is provisioned for them`);
  }
  if (notUsedSql.length > 0 && sqlDecision) {
    const what = sqlDecision.engine ? `the app's database is ${sqlDecision.engine}` : 'the app runs on SQLite (a file on the service disk)';
    ctx.warnings.add(`${notUsedSql.join(', ')} ${notUsedSql.length === 1 ? 'is' : 'are'} declared but ${what} (${sqlDecision.evidence}); no other database is provisioned for ${notUsedSql.length === 1 ? 'it' : 'them'}`);
  }
  if (idleRedis.length > 0 && !found.has('redis')) {
    ctx.warnings.add(
      `${idleRedis.join(', ')} ${idleRedis.length === 1 ? 'is a Redis client' : 'are Redis clients'} but nothing uses Redis in production (no job queue, cache or session store, Action Cable adapter or REDIS_URL); no Redis is provisioned`,
    );
  }
  if (sqlDecision?.engine === null && ![...found.keys()].some((e) => SQL_ENGINES.has(e)) && notUsedSql.length === 0) {
    ctx.warnings.add(`${sqlDecision.evidence}: SQLite is a file on the service's disk, not a managed database; data is lost on redeploy without a volume`);
  }

  const dependencies = ENGINES.filter((engine) => found.has(engine));
  const primary = dependencies.find((engine) => engine !== 'redis') ?? (dependencies.includes('redis') ? 'redis' : '');
  if (input.envNames.has('DATABASE_URL') && dependencies.every((engine) => engine === 'redis') && sqlDecision?.engine !== null) {
    ctx.warnings.add('DATABASE_URL is read but no dependency shows which database engine it is; no database will be provisioned for it');
  }
  const evidence: Evidence[] = dependencies.map((engine) => ({ decision: 'dependency', value: engine, evidence: found.get(engine) as string }));
  if (primary) {
    evidence.unshift({
      decision: 'database_type',
      value: primary,
      evidence: primary === 'redis' ? `redis is the only engine (${found.get('redis')})` : `first non-cache engine (${found.get(primary)})`,
    });
  }
  return { databaseType: primary, dependencies, evidence };
}
