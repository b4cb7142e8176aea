/**
 * Managed dependencies (databases and caches): catalogue, create with realistic connection env,
 * and status. Provisioning finishes after a short simulated delay.
 */

import { randomUUID } from 'node:crypto';
import { nowIso } from '../app.js';
import type { RequestContext, Router } from '../http.js';
import { httpError } from '../http.js';
import type { DependencyRow } from '../store.js';
import { randomLowerAlnum, randomPassword } from '../tokens.js';
import { environmentOf, optString } from '../validate.js';
import { dependencyStatusView } from '../views.js';
import { ownedProject } from './lookup.js';

const STRUCT = 'CreateDependencyRequest';

interface Engine {
  id: string;
  name: string;
  display_name: string;
  type: 'database' | 'cache';
  port: number;
  default_version: string;
  /** Default database name; empty for engines without one (redis). */
  database: string;
  env(host: string, port: number, user: string, password: string, db: string): Record<string, string>;
}

/** Stable catalogue ids: the newer backend wants these UUIDs, older clients send the names; both are accepted. */
const ENGINES: readonly Engine[] = [
  {
    id: '3f0a6a52-6a8e-4d2e-9a4b-0c1f2d3e4a01', name: 'postgres', display_name: 'PostgreSQL', type: 'database', port: 5432, default_version: '16', database: 'app',
    env: (host, port, user, password, db) => ({
      DATABASE_URL: `postgresql://${user}:${password}@${host}:${port}/${db}`,
      POSTGRES_HOST: host,
      POSTGRES_PORT: String(port),
      POSTGRES_USER: user,
      POSTGRES_PASSWORD: password,
      POSTGRES_DB: db,
    }),
  },
  {
    id: '3f0a6a52-6a8e-4d2e-9a4b-0c1f2d3e4a02', name: 'mysql', display_name: 'MySQL', type: 'database', port: 3306, default_version: '8.0', database: 'app',
    env: (host, port, user, password, db) => ({
      DATABASE_URL: `mysql://${user}:${password}@${host}:${port}/${db}`,
      MYSQL_HOST: host,
      MYSQL_PORT: String(port),
      MYSQL_USER: user,
      MYSQL_PASSWORD: password,
      MYSQL_DATABASE: db,
    }),
  },
  {
    id: '3f0a6a52-6a8e-4d2e-9a4b-0c1f2d3e4a03', name: 'mongodb', display_name: 'MongoDB', type: 'database', port: 27017, default_version: '7.0', database: 'app',
    env: (host, port, user, password, db) => ({
      MONGODB_URI: `mongodb://${user}:${password}@${host}:${port}/${db}?authSource=admin`,
    }),
  },
  {
    id: '3f0a6a52-6a8e-4d2e-9a4b-0c1f2d3e4a04', name: 'redis', display_name: 'Redis', type: 'cache', port: 6379, default_version: '7.2', database: '',
    env: (host, port, user, password) => ({ REDIS_URL: `redis://${user}:${password}@${host}:${port}` }),
  },
  {
    id: '3f0a6a52-6a8e-4d2e-9a4b-0c1f2d3e4a05', name: 'clickhouse', display_name: 'ClickHouse', type: 'database', port: 8123, default_version: '24.3', database: 'app',
    env: (host, port, user, password, db) => ({ CLICKHOUSE_URL: `http://${user}:${password}@${host}:${port}/${db}` }),
  },
];

function catalogue(ctx: RequestContext): void {
  ctx.send(200, {
    dependencies: ENGINES.map((e) => ({
      id: e.id,
      name: e.name,
      display_name: e.display_name,
      type: e.type,
      default_version: e.default_version,
      port: e.port,
    })),
  });
}

async function create(ctx: RequestContext): Promise<void> {
  const body = await ctx.json();
  const projectId = optString(body, 'project_id', STRUCT);
  const dependencyId = optString(body, 'dependency_id', STRUCT);
  if (!projectId) throw httpError(400, "Key: 'CreateDependencyRequest.ProjectID' Error:Field validation for 'ProjectID' failed on the 'required' tag");
  const engine = ENGINES.find((e) => e.name === dependencyId || e.id === dependencyId);
  if (!engine) throw httpError(400, 'Invalid dependency_id format');
  const environment = environmentOf(body, STRUCT);
  const project = ownedProject(ctx, projectId);

  const user = optString(body, 'username', STRUCT) || (engine.name === 'redis' ? 'default' : `app_${randomLowerAlnum(8)}`);
  const password = optString(body, 'password', STRUCT) || randomPassword(32);
  const database = optString(body, 'database_name', STRUCT) || engine.database;
  const displayName = optString(body, 'display_name', STRUCT) || engine.display_name;
  const name = `${engine.name}-${randomLowerAlnum(6)}`;
  // The variables point at where the executor will run it (real local mode: a free 127.0.0.1 port).
  const { host, port } = await ctx.app.executor.dependencyAddress(name, project.id, engine.port);
  const now = nowIso();
  const row: DependencyRow = {
    id: randomUUID(),
    project_id: project.id,
    dependency_id: engine.name,
    name,
    display_name: displayName,
    type: engine.type,
    status: 'provisioning',
    environment,
    env_vars: engine.env(host, port, user, password, database),
    connection_info: { host, port, username: user, database },
    service_id: null,
    created_at: now,
    updated_at: now,
  };
  ctx.app.store.state.dependencies.push(row);
  ctx.app.store.changed();
  ctx.app.executor.provisionDependency(row);
  ctx.send(200, {
    id: row.id,
    dependency_id: row.dependency_id,
    name: row.name,
    display_name: row.display_name,
    type: row.type,
    status: row.status,
    environment: row.environment,
    env_vars: row.env_vars,
    message: `${engine.display_name} provisioning started`,
  });
}

function status(ctx: RequestContext): void {
  const project = ownedProject(ctx, ctx.param('project_id'));
  const rows = ctx.app.store.state.dependencies.filter((d) => d.project_id === project.id).map(dependencyStatusView);
  ctx.send(200, { dependencies: rows });
}

export function registerDependencyRoutes(api: Router): void {
  api.add('GET', '/api/v1/dependencies', catalogue);
  api.add('POST', '/api/v1/dependencies/create', create);
  api.add('GET', '/api/v1/dependencies/status/:project_id', status);
}
