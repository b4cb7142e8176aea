/**
 * Reads a compose file with a real YAML parser into a model of its services, then classifies them
 * (the first service-split rule):
 * - repo-local `build:` services with a web or worker role are services to deploy;
 * - database / cache images are dependencies (postgres, mysql/mariadb -> mysql, mongo -> mongodb,
 *   redis/valkey -> redis, clickhouse);
 * - `image:`-only entries are prebuilt sidecars, reported as warnings (queues and search engines
 *   as external services the user must provide);
 * - dev/test/tooling entries (devcontainer, test, e2e, mock, storybook, docs, seed, one-shot init
 *   and migration jobs, admin UIs, mail catchers, `profiles: [dev]`) and locally built reverse
 *   proxies are ignored;
 * - a build context that is not in the repository (Laravel Sail's `./vendor/laravel/sail/runtimes`,
 *   anything under `vendor/` or `node_modules/`) is installed tooling, not a service;
 * - a service that runs the image another service builds (same build, or `image:` naming it) with
 *   its own `command:` and no ports is a worker of that app;
 * - a file that is a development environment (compose-dev.ts) still says which services and
 *   workers exist, but its ports, databases, environment and development Dockerfiles are not
 *   production evidence.
 * Per service it gives the container ports (port priority 2), `environment:` key names and the
 * engines that service uses (its `depends_on`, or engines its environment points at).
 */
import { parseYaml } from './yaml.js';
import { developmentReason } from './compose-dev.js';
import type { ComposeFile, ComposeService } from './compose-model.js';
import type { Engine } from './schema.js';
import type { DetectContext } from './types.js';
import { inDir } from './types.js';
import { asRecord } from '../core/records.js';

export const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** The compose view of one deployed service: what port, env and database decisions need. */
export interface ComposeInfo {
  path: string;
  /** The repo-local compose service analysed as this service, or null. */
  appService: string | null;
  ports: Array<{ port: number; evidence: string }>;
  envNames: Array<{ name: string; evidence: string }>;
  engines: Array<{ engine: Engine; evidence: string }>;
}

export type { ComposeFile, ComposeService } from './compose-model.js';

export type ComposeRole = 'web' | 'worker';

export interface ComposeSplit {
  /** `sharedWith`: the app service whose image this worker runs with another command, or `''`. */
  apps: Array<{ service: ComposeService; role: ComposeRole; sharedWith: string }>;
}

const IMAGE_ENGINES: ReadonlyArray<readonly [RegExp, Engine]> = [
  [/^(?:postgres|postgis|timescaledb|pgvector|timescale)/, 'postgres'],
  [/^(?:mysql|mariadb|percona)/, 'mysql'],
  [/^mongo/, 'mongodb'],
  [/^(?:redis|valkey|keydb|dragonfly)/, 'redis'],
  [/^clickhouse/, 'clickhouse'],
];

/** Services opendeploy does not manage: the app needs them, the user provides them. */
const EXTERNAL_SERVICES = /^(?:rabbitmq|elasticsearch|opensearch|meilisearch|minio|typesense|kafka|cp-kafka|zookeeper|nats|memcached|qdrant|weaviate|chromadb|chroma|milvus|neo4j|cassandra|localstack)/;

/** `bitnami/postgresql:16` -> `postgres`. */
export function engineOfImage(image: string): Engine | null {
  const name = imageName(image);
  for (const [regex, engine] of IMAGE_ENGINES) if (regex.test(name)) return engine;
  return null;
}

function imageName(image: string): string {
  return (image.split('@')[0] ?? '').split(':')[0]?.split('/').pop()?.toLowerCase() ?? '';
}

const TOOLING = /(?:^|[-_])(?:devcontainer|dev-?container|test|tests|e2e|mock|mocks|storybook|docs|seed|seeder|init|migrate|migration|migrations|adminer|pgadmin|phpmyadmin|mailhog|mailpit|mailcatcher|maildev|redis-?commander|mongo-express|prometheus|grafana|jaeger|otel-collector)(?:$|[-_])/i;
/** Path segments of installed dependencies: a build context there comes from a package, not the repo. */
const INSTALLED_SEGMENT = /(?:^|\/)(?:vendor|node_modules)(?:\/|$)/;
const TOOLING_PROFILES = /^(?:dev|development|test|tests|testing|debug|tools|tooling|e2e|ci|docs)$/i;
const PROXY = /^(?:nginx|caddy|traefik|haproxy|envoy|proxy|reverse-proxy|gateway-proxy)$/i;
const WORKER_NAME = /(?:^|[-_])(?:worker|workers|queue|queues|celery|celeryworker|sidekiq|scheduler|beat|celerybeat|cron|clock|jobs?|consumer|rq)(?:$|[-_])/i;
const WORKER_COMMAND = /\bcelery\b[^\n]*\b(?:worker|beat)\b|\bsidekiq\b|\brq\s+worker\b|\bqueue:work\b|\bhorizon\b|\bmanage\.py\s+(?:rqworker|qcluster|runworker)\b|\bworker\b/;
/** Commands that run a development server: the Dockerfile's own CMD is used instead. */
const DEV_COMMAND = /\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?dev\b|\bnext\s+dev\b|\bnodemon\b|\brunserver\b|--reload\b|\bflask\s+run\b|\b(?:vite|astro|nuxt)\s+dev\b|--watch\b/;

/** Container side of a compose port: `"8080:80"` -> 80, `"127.0.0.1:5432:5432/tcp"` -> 5432, `{target: 80}` -> 80. */
export function containerPort(entry: unknown): number | null {
  const record = asRecord(entry);
  if (record) {
    const target = Number(record.target);
    return Number.isInteger(target) && target >= 1 && target <= 65535 ? target : null;
  }
  if (typeof entry !== 'string' && typeof entry !== 'number') return null;
  let text = String(entry).replace(/\$\{\w+:?-([^}]*)\}/g, '$1').replace(/\/(?:tcp|udp)$/i, '');
  if (text.includes('$')) return null;
  text = text.split(':').pop() ?? '';
  if (!/^\d+$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/** `./api/` -> `api`, `.` -> `''`; null when it leaves the repository. */
function repoPath(base: string, raw: string): string | null {
  if (/^[a-z][\w+.-]*:\/\//i.test(raw) || raw.startsWith('/') || /^git@/.test(raw)) return null;
  const parts = base === '' ? [] : base.split('/');
  for (const part of raw.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((x): x is string => typeof x === 'string');
  const record = asRecord(value);
  return record ? Object.keys(record) : [];
}

/** The compose file of the folder, parsed into services; null when absent, unreadable or not a compose document. */
export async function loadCompose(ctx: DetectContext): Promise<ComposeFile | null> {
  const rel = COMPOSE_NAMES.map((name) => inDir(ctx.dir, name)).find((name) => ctx.fs.has(name));
  if (!rel) return null;
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  let doc: unknown;
  try {
    // `merge`: `<<: *app` extensions share one service definition (x-app anchors) between services.
    doc = parseYaml(text, { maxAliasCount: 100, merge: true });
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    ctx.warnings.add(`${rel} is not valid YAML (${detail}); it was ignored`);
    return null;
  }
  const services = asRecord(asRecord(doc)?.services);
  if (!services) return null;

  const file: ComposeFile = { path: rel, services: [], development: '' };
  for (const [name, value] of Object.entries(services)) {
    const service = asRecord(value);
    if (!service) continue;
    const image = typeof service.image === 'string' ? service.image : '';
    const build = service.build;
    const buildRecord = asRecord(build);
    let context: string | null = null;
    let dockerfile = '';
    let external = false;
    let missing = false;
    if (build !== undefined && build !== null) {
      const rawContext = typeof build === 'string' ? build : typeof buildRecord?.context === 'string' ? buildRecord.context : '.';
      const resolved = repoPath(ctx.dir, rawContext);
      if (resolved === null) external = true;
      else {
        context = resolved;
        missing = INSTALLED_SEGMENT.test(resolved) || (resolved !== '' && !ctx.fs.hasDir(resolved));
        if (typeof buildRecord?.dockerfile === 'string') dockerfile = repoPath(resolved, buildRecord.dockerfile) ?? '';
      }
    }
    const target = typeof buildRecord?.target === 'string' ? buildRecord.target : '';
    const rawArgs = buildRecord?.args;
    const argList = Array.isArray(rawArgs) ? rawArgs.map(String) : Object.entries(asRecord(rawArgs) ?? {}).map(([key, value]) => `${key}=${String(value)}`);
    const args = [...argList].sort().join('\n');
    const rawCommand = service.command;
    const command = typeof rawCommand === 'string' ? rawCommand : Array.isArray(rawCommand) ? rawCommand.filter((x) => typeof x === 'string' || typeof x === 'number').join(' ') : '';

    const ports: ComposeService['ports'] = [];
    (Array.isArray(service.ports) ? service.ports : []).forEach((entry, index) => {
      const port = containerPort(entry);
      if (port !== null) ports.push({ port, evidence: `${rel}: services.${name}.ports[${index}] ${JSON.stringify(entry)}` });
    });
    const envNames: ComposeService['envNames'] = [];
    const envValues: string[] = [];
    const environment = service.environment;
    if (Array.isArray(environment)) {
      environment.forEach((entry, index) => {
        if (typeof entry !== 'string') return;
        const match = /^([A-Za-z_]\w*)(?:=(.*))?$/.exec(entry);
        if (!match) return;
        envNames.push({ name: match[1] as string, evidence: `${rel}: services.${name}.environment[${index}]` });
        if (match[2]) envValues.push(match[2]);
      });
    } else {
      for (const [key, raw] of Object.entries(asRecord(environment) ?? {})) {
        if (!/^[A-Za-z_]\w*$/.test(key)) continue;
        envNames.push({ name: key, evidence: `${rel}: services.${name}.environment.${key}` });
        if (typeof raw === 'string') envValues.push(raw);
      }
    }
    file.services.push({
      name,
      image,
      context,
      dockerfile,
      external,
      missing,
      target,
      args,
      imageOf: '',
      mounts: bindMounts(ctx.dir, service.volumes),
      command,
      dependsOn: stringList(service.depends_on),
      profiles: stringList(service.profiles),
      ports,
      envNames,
      envValues,
      engine: image ? engineOfImage(image) : null,
    });
  }
  linkSharedImages(file);
  file.development = developmentReason(file, text, ctx.dir);
  return file;
}

/** Repo-relative host paths of bind mounts (`./src:/app/src`, `{type: bind, source: .}`). */
function bindMounts(base: string, volumes: unknown): string[] {
  const out: string[] = [];
  for (const entry of Array.isArray(volumes) ? volumes : []) {
    const record = asRecord(entry);
    const source = record ? (record.type === 'bind' && typeof record.source === 'string' ? record.source : '') : typeof entry === 'string' ? (entry.split(':')[0] ?? '') : '';
    // Named volumes (`pgdata:/var/lib/...`) and anonymous ones (`/app/node_modules`) are not source.
    if (!/^\.{1,2}(?:\/|$)/.test(source)) continue;
    const resolved = repoPath(base, source);
    if (resolved !== null) out.push(resolved);
  }
  return out;
}

/**
 * A service without `build:` whose `image:` is the image another service builds runs that build:
 * it gets the builder's context and Dockerfile, and `imageOf` names the builder.
 */
function linkSharedImages(file: ComposeFile): void {
  for (const service of file.services) {
    if (service.context !== null || service.external || !service.image) continue;
    const builder = file.services.find((other) => other !== service && other.context !== null && other.image === service.image);
    if (!builder) continue;
    service.context = builder.context;
    service.dockerfile = builder.dockerfile;
    service.target = builder.target;
    service.args = builder.args;
    service.missing = builder.missing;
    service.imageOf = builder.name;
  }
}

/** Services built the same way (context, Dockerfile, target, args) run the same image. */
function buildKey(service: ComposeService): string {
  return [service.context ?? '', service.dockerfile, service.target, service.args].join('\u0000');
}

/**
 * Among services that run one image, the app is the one with ports, else the one without a
 * `command:` override, else the first; the others that run another command and publish no port
 * are its workers. Returns the app service of each shared build.
 */
function sharedBuildApps(services: readonly ComposeService[]): Map<string, ComposeService> {
  const groups = new Map<string, ComposeService[]>();
  for (const service of services) groups.set(buildKey(service), [...(groups.get(buildKey(service)) ?? []), service]);
  const apps = new Map<string, ComposeService>();
  for (const [key, group] of groups) {
    if (group.length < 2) continue;
    const app = group.find((s) => s.ports.length > 0) ?? group.find((s) => s.command === '') ?? (group[0] as ComposeService);
    apps.set(key, app);
  }
  return apps;
}

function isTooling(service: ComposeService): boolean {
  return TOOLING.test(service.name) || service.profiles.some((profile) => TOOLING_PROFILES.test(profile));
}

/**
 * Classifies the services: apps to deploy (with their role), and warnings for sidecars, external
 * services, proxies and builds from outside the repository.
 */
export function splitCompose(file: ComposeFile, warnings: { add(message: string): void }): ComposeSplit {
  const apps: ComposeSplit['apps'] = [];
  const sidecars: string[] = [];
  const externals: string[] = [];
  const candidates: ComposeService[] = [];
  for (const service of file.services) {
    if (service.engine) continue;
    if (isTooling(service)) continue;
    if (service.context === null && !service.external) {
      if (!service.image) continue;
      if (EXTERNAL_SERVICES.test(imageName(service.image))) externals.push(`${service.name} (${service.image})`);
      else sidecars.push(`${service.name} (${service.image})`);
      continue;
    }
    if (service.external) {
      warnings.add(`${file.path}: services.${service.name} is built from outside this repository; it is not deployed`);
      continue;
    }
    if (service.missing) {
      warnings.add(
        `${file.path}: services.${service.name} is built from ${service.context}, which is not part of the repository (installed tooling such as Laravel Sail's runtime, or a missing folder); it is not deployed`,
      );
      continue;
    }
    if (PROXY.test(service.name)) {
      warnings.add(`${file.path}: services.${service.name} is a reverse proxy; the platform routes traffic to the services itself, so it is not deployed`);
      continue;
    }
    candidates.push(service);
  }
  const shared = sharedBuildApps(candidates);
  for (const service of candidates) {
    const app = shared.get(buildKey(service));
    const named = WORKER_NAME.test(service.name) || (service.command !== '' && WORKER_COMMAND.test(service.command) && service.ports.length === 0);
    const sameImageWorker = !named && app !== undefined && app !== service && service.command !== '' && service.command !== app.command && service.ports.length === 0;
    apps.push({ service, role: named || sameImageWorker ? 'worker' : 'web', sharedWith: sameImageWorker ? app.name : '' });
  }
  if (sidecars.length > 0) warnings.add(`${file.path}: prebuilt image sidecars are not deployed by opendeploy: ${sidecars.join(', ')}`);
  if (externals.length > 0) warnings.add(`${file.path}: ${externals.join(', ')} ${externals.length === 1 ? 'is an external service' : 'are external services'} opendeploy does not manage; provide the connection settings yourself`);
  return { apps };
}

/** A compose `command:` usable as a production start command, or '' (absent, or a development server). */
export function productionCommand(service: ComposeService): string {
  return service.command !== '' && !DEV_COMMAND.test(service.command) ? service.command : '';
}

/**
 * Engines a compose service uses: the database services it `depends_on` or whose name its
 * environment points at (`postgres://db:5432`); with `all`, every database service of the file.
 */
export function enginesOf(file: ComposeFile, app: ComposeService, all: boolean): ComposeInfo['engines'] {
  const out: ComposeInfo['engines'] = [];
  for (const service of file.services) {
    if (!service.engine) continue;
    const mentioned = app.envValues.some((value) => new RegExp(`(?:^|[@/:=,\\s])${service.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:[:/,\\s]|$)`).test(value));
    if (all || app.dependsOn.includes(service.name) || mentioned) out.push({ engine: service.engine, evidence: `${file.path}: services.${service.name}.image ${service.image}` });
  }
  return out;
}

/** The compose view of one app service. */
export function composeInfoFor(file: ComposeFile, app: ComposeService | null, allEngines: boolean): ComposeInfo {
  if (file.development !== '') return { path: file.path, appService: app?.name ?? null, ports: [], envNames: [], engines: [] };
  const engines = app ? enginesOf(file, app, allEngines) : file.services.flatMap((s) => (s.engine ? [{ engine: s.engine, evidence: `${file.path}: services.${s.name}.image ${s.image}` }] : []));
  return { path: file.path, appService: app?.name ?? null, ports: app?.ports ?? [], envNames: app?.envNames ?? [], engines };
}

/**
 * The compose view for a folder analysed as one service: the repo-local service built from the
 * folder itself (or the only one), with every database of the file.
 */
export async function readCompose(ctx: DetectContext): Promise<ComposeInfo | null> {
  const file = await loadComposeWarned(ctx);
  if (!file) return null;
  const { apps } = splitCompose(file, ctx.warnings);
  const own = apps.find((app) => app.service.context === ctx.dir) ?? (apps.length === 1 ? apps[0] : undefined);
  return composeInfoFor(file, own?.service ?? null, true);
}

/**
 * The folder's compose file; a development environment (see compose-dev.ts) is said so once, and
 * contributes no ports, databases or environment (`composeInfoFor`).
 */
export async function loadComposeWarned(ctx: DetectContext): Promise<ComposeFile | null> {
  const file = await loadCompose(ctx);
  if (file && file.development !== '') {
    ctx.warnings.add(`${file.path} is a development environment (${file.development}); its ports, databases and environment were not used`);
  }
  return file;
}
