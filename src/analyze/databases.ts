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
  },
  cargo: {
    'tokio-postgres': 'postgres',
    postgres: 'postgres',
    mysql: 'mysql',
    mysql_async: 'mysql',
    mongodb: 'mongodb',
    redis: 'redis',
    clickhouse: 'clickhouse',
  },
  composer: {
    'predis/predis': 'redis',
    'mongodb/mongodb': 'mongodb',
  },
  rubygems: {
    pg: 'postgres',
    mysql2: 'mysql',
    mongoid: 'mongodb',
    mongo: 'mongodb',
    redis: 'redis',
    sidekiq: 'redis',
  },
};

const MATCHERS: Matcher[] = [
  (dep) => BY_NAME[dep.ecosystem][dep.name] ?? null,
  // celery[redis], sqlx/diesel features
  (dep) => (dep.ecosystem === 'pypi' && dep.name === 'celery' && dep.extras.includes('redis') ? 'redis' : null),
  (dep) => {
    if (dep.ecosystem !== 'cargo' || (dep.name !== 'sqlx' && dep.name !== 'diesel')) return null;
    if (dep.extras.some((f) => f.startsWith('postgres'))) return 'postgres';
    if (dep.extras.some((f) => f.startsWith('mysql'))) return 'mysql';
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
  input: { compose: ComposeInfo | null; envNames: Map<string, string>; exampleValues: Map<string, string> },
): Promise<DatabaseResult> {
  const found = new Map<Engine, string>();
  const note = (engine: Engine, evidence: string): void => {
    if (!found.has(engine)) found.set(engine, evidence);
  };

  for (const { engine, evidence } of input.compose?.engines ?? []) note(engine, evidence);
  for (const dep of await ctx.manifests.allDependencies(ctx.dir)) {
    if (dep.dev) continue;
    for (const matcher of MATCHERS) {
      const engine = matcher(dep);
      if (engine) {
        note(engine, describeDependency(dep));
        break;
      }
    }
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
