/**
 * Managed engines the service needs (spec/analysis.md "Databases", client-rules §12–13): from
 * compose images, runtime (non-dev) manifest dependencies, Prisma's datasource provider, and env
 * names. Each engine once; nothing detected → nothing provisioned.
 *
 * `dependencies` is in a fixed order (postgres, mysql, mongodb, redis, clickhouse) so the output
 * does not depend on discovery order; `database_type` is the first non-cache engine, else redis.
 */
import type { ComposeInfo } from './compose.js';
import type { Dependency, Ecosystem } from './manifests.js';
import { ENGINES, type Engine, type Evidence } from './schema.js';
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
    '@clickhouse/client': 'clickhouse',
  },
  pypi: {
    psycopg: 'postgres',
    'psycopg-binary': 'postgres',
    psycopg2: 'postgres',
    'psycopg2-binary': 'postgres',
    asyncpg: 'postgres',
    pg8000: 'postgres',
    'dj-database-url': 'postgres',
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
  const unused = new Set<Engine>();
  for (const dep of await ctx.manifests.allDependencies(ctx.dir)) {
    if (dep.dev) continue;
    const engine = engineOfDependency(dep);
    if (!engine) continue;
    if (input.optionalEngines?.engines.includes(engine)) unused.add(engine);
    else note(engine, describeDependency(dep));
  }
  if (unused.size > 0) {
    ctx.warnings.add(`${[...unused].join(', ')} driver(s) are declared but ${input.optionalEngines?.reason}; no database is provisioned for them`);
  }
  for (const file of ['prisma/schema.prisma', 'schema.prisma']) {
    const rel = inDir(ctx.dir, file);
    const text = (await ctx.fs.read(rel))?.text;
    if (text === undefined) continue;
    const provider = /datasource\s+\w+\s*\{[^}]{0,2000}?\bprovider\s*=\s*"(\w+)"/.exec(text)?.[1];
    const engine = provider === 'postgresql' || provider === 'cockroachdb' ? 'postgres' : provider === 'mysql' ? 'mysql' : provider === 'mongodb' ? 'mongodb' : null;
    if (engine) note(engine, `${rel}: datasource provider "${provider}"`);
    break;
  }
  for (const [name, source] of input.envNames) {
    if (input.boilerplateEnv?.test(name)) continue;
    for (const [regex, engine] of ENV_ENGINES) if (regex.test(name)) note(engine, `env ${name} (${source})`);
    const value = input.exampleValues.get(name);
    if (value && /_URL$|_URI$|^DATABASE_URL$/.test(name)) {
      for (const [regex, engine] of URL_SCHEMES) if (regex.test(value)) note(engine, `env ${name} example value scheme (${source})`);
    }
  }

  const dependencies = ENGINES.filter((engine) => found.has(engine));
  const primary = dependencies.find((engine) => engine !== 'redis') ?? (dependencies.includes('redis') ? 'redis' : '');
  if (input.envNames.has('DATABASE_URL') && dependencies.every((engine) => engine === 'redis')) {
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
