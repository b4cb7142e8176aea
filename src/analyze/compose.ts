/**
 * Reads a compose file with a real YAML parser: container ports of the app service (port
 * priority 2), database/cache images (dependencies), and the app's `environment:` key names.
 *
 * This version analyses the folder as one service; a compose file with several repo-local `build:`
 * services is reported as a warning (the service split of spec/analysis.md comes later).
 */
import { parse as parseYaml } from 'yaml';
import type { Engine } from './schema.js';
import type { DetectContext } from './types.js';
import { inDir } from './types.js';

export const COMPOSE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export interface ComposeInfo {
  path: string;
  /** The repo-local service analysed as this folder (`build:` context `.`), or null. */
  appService: string | null;
  ports: Array<{ port: number; evidence: string }>;
  envNames: Array<{ name: string; evidence: string }>;
  engines: Array<{ engine: Engine; evidence: string }>;
}

const IMAGE_ENGINES: ReadonlyArray<readonly [RegExp, Engine]> = [
  [/^(?:postgres|postgis|timescaledb|pgvector|timescale)/, 'postgres'],
  [/^(?:mysql|mariadb|percona)/, 'mysql'],
  [/^mongo/, 'mongodb'],
  [/^(?:redis|valkey|keydb|dragonfly)/, 'redis'],
  [/^clickhouse/, 'clickhouse'],
];

/** `bitnami/postgresql:16` → `postgres`. */
export function engineOfImage(image: string): Engine | null {
  const name = (image.split('@')[0] ?? '').split(':')[0]?.split('/').pop()?.toLowerCase() ?? '';
  for (const [regex, engine] of IMAGE_ENGINES) if (regex.test(name)) return engine;
  return null;
}

const TOOLING = /(?:^|[-_])(?:devcontainer|test|tests|e2e|mock|mocks|storybook|docs|seed|init|migrate|migrations|adminer|pgadmin|mailhog|mailpit)(?:$|[-_])/i;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Container side of a compose port: `"8080:80"` → 80, `"127.0.0.1:5432:5432/tcp"` → 5432, `{target: 80}` → 80. */
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

export async function readCompose(ctx: DetectContext): Promise<ComposeInfo | null> {
  const rel = COMPOSE_NAMES.map((name) => inDir(ctx.dir, name)).find((name) => ctx.fs.has(name));
  if (!rel) return null;
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    ctx.warnings.add(`${rel} is not valid YAML (${detail}); it was ignored`);
    return null;
  }
  const services = asRecord(asRecord(doc)?.services);
  if (!services) return null;

  const info: ComposeInfo = { path: rel, appService: null, ports: [], envNames: [], engines: [] };
  const built: string[] = [];
  const sidecars: string[] = [];
  for (const [name, value] of Object.entries(services)) {
    const service = asRecord(value);
    if (!service) continue;
    const image = typeof service.image === 'string' ? service.image : '';
    const engine = image ? engineOfImage(image) : null;
    if (engine) {
      info.engines.push({ engine, evidence: `${rel}: services.${name}.image ${image}` });
      continue;
    }
    if (TOOLING.test(name)) continue;
    if (service.build !== undefined) {
      built.push(name);
      continue;
    }
    if (image) sidecars.push(`${name} (${image})`);
  }

  const contextOf = (name: string): string => {
    const build = services[name];
    const spec = asRecord(build)?.build;
    const context = typeof spec === 'string' ? spec : typeof asRecord(spec)?.context === 'string' ? (asRecord(spec)?.context as string) : '.';
    return context.replace(/^\.\/?/, '').replace(/\/$/, '');
  };
  const app = built.find((name) => contextOf(name) === '') ?? (built.length === 1 ? (built[0] as string) : null);
  info.appService = app;
  if (built.length > 1) {
    ctx.warnings.add(
      `${rel} defines ${built.length} services built from this repository (${built.join(', ')}); this version analyses the folder as one service${app ? ` (${app})` : ''}`,
    );
  }
  if (sidecars.length > 0) {
    ctx.warnings.add(`${rel}: prebuilt image sidecars are not deployed by opendeploy: ${sidecars.join(', ')}`);
  }
  if (app) {
    const service = asRecord(services[app]) ?? {};
    const ports = Array.isArray(service.ports) ? service.ports : [];
    ports.forEach((entry, index) => {
      const port = containerPort(entry);
      if (port !== null) info.ports.push({ port, evidence: `${rel}: services.${app}.ports[${index}] ${JSON.stringify(entry)}` });
    });
    const environment = service.environment;
    if (Array.isArray(environment)) {
      environment.forEach((entry, index) => {
        const name = typeof entry === 'string' ? /^([A-Za-z_]\w*)/.exec(entry)?.[1] : undefined;
        if (name) info.envNames.push({ name, evidence: `${rel}: services.${app}.environment[${index}]` });
      });
    } else if (asRecord(environment)) {
      for (const name of Object.keys(asRecord(environment) ?? {})) {
        if (/^[A-Za-z_]\w*$/.test(name)) info.envNames.push({ name, evidence: `${rel}: services.${app}.environment.${name}` });
      }
    }
  }
  return info;
}
