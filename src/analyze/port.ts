/**
 * The HTTP port, in the priority order of spec/analysis.md:
 *   1. Dockerfile EXPOSE (the HTTP one when several),
 *   2. compose `ports` (container side),
 *   3. the code's own listen call or config (`PORT || 8080`, `app.listen(3000)`, `next start -p`),
 *   4. the framework's default,
 *   5. otherwise null with a warning (never a guess).
 * Static sites and workers listen on nothing: null, no warning.
 */
import type { ComposeInfo } from './compose.js';
import type { DockerfileInfo } from './dockerfile.js';
import type { EnvRef, PortHint } from './scan.js';
import type { Conclusion } from './types.js';
import type { Warnings } from './warnings.js';

/** Common HTTP ports, preferred in this order when a Dockerfile exposes several. */
const HTTP_PORTS = [80, 8080, 3000, 3001, 4173, 5000, 8000, 8081];
/** SSH, SMTP, database, cache and broker ports: never chosen as the HTTP port. */
const NEVER_HTTP: ReadonlyMap<number, string> = new Map([
  [22, 'SSH'],
  [2222, 'SSH'],
  [25, 'SMTP'],
  [465, 'SMTPS'],
  [587, 'SMTP submission'],
  [5432, 'PostgreSQL'],
  [3306, 'MySQL'],
  [33060, 'MySQL X'],
  [27017, 'MongoDB'],
  [6379, 'Redis'],
  [11211, 'Memcached'],
  [5672, 'AMQP'],
  [9300, 'Elasticsearch transport'],
]);
/** Ports that are usually not the app's HTTP port: chosen only when nothing else is exposed. */
const NON_HTTP_PORTS = new Set([...NEVER_HTTP.keys(), 9000, 8123, 15672, 9200]);

function describePort(port: number): string {
  const what = NEVER_HTTP.get(port);
  return what ? `${port} (${what})` : String(port);
}

export interface PortInput {
  dockerfile: DockerfileInfo | null;
  compose: ComposeInfo | null;
  /** From the framework configuration (start script flags, Procfile). */
  configHints: Conclusion<number>[];
  /** From the source scan. */
  codeHints: PortHint[];
  /** Env references, for `PORT` read with a numeric fallback. */
  envRefs: EnvRef[];
  /** Entry file relative to the root: its hints come first. */
  entry: string;
  frameworkDefault: Conclusion<number> | undefined;
  /** Static site or worker: no port is expected. */
  listens: boolean;
  warnings: Warnings;
}

/** Picks the HTTP port among several: a preferred HTTP port, else the only non-infrastructure one. */
export function pickHttpPort(ports: number[]): { port: number | null; ambiguous: boolean } {
  const unique = [...new Set(ports)].filter((port) => !NEVER_HTTP.has(port));
  if (unique.length === 0) return { port: null, ambiguous: false };
  if (unique.length === 1) return { port: unique[0] as number, ambiguous: false };
  for (const preferred of HTTP_PORTS) if (unique.includes(preferred)) return { port: preferred, ambiguous: false };
  const others = unique.filter((port) => !NON_HTTP_PORTS.has(port));
  if (others.length === 1) return { port: others[0] as number, ambiguous: false };
  return { port: null, ambiguous: unique.length > 1 };
}

export function decidePort(input: PortInput): Conclusion<number> | null {
  const { dockerfile, compose, warnings } = input;

  if (dockerfile && dockerfile.exposes.length > 0) {
    const exposed = [...new Set(dockerfile.exposes.map((e) => e.port))];
    const picked = pickHttpPort(exposed);
    if (picked.port !== null) {
      const line = dockerfile.exposes.find((e) => e.port === picked.port)?.line ?? 0;
      const others = exposed.filter((port) => port !== picked.port);
      if (others.length > 0) {
        warnings.add(
          `${dockerfile.path} exposes ${exposed.join(', ')}; ${picked.port} was chosen as the HTTP port and ${others.map(describePort).join(', ')} ${others.length === 1 ? 'is' : 'are'} not exposed (only one HTTP port is routed)`,
        );
      }
      return { value: picked.port, evidence: `${dockerfile.path}:${line} EXPOSE ${picked.port}` };
    }
    warnings.add(
      exposed.length === 1
        ? `${dockerfile.path} exposes only ${describePort(exposed[0] as number)}, which is not an HTTP port; the port was taken from later evidence`
        : `${dockerfile.path} exposes several ports (${exposed.map(describePort).join(', ')}) and none is a usual HTTP port; the port was taken from later evidence`,
    );
  }

  if (compose && compose.ports.length > 0) {
    const picked = pickHttpPort(compose.ports.map((p) => p.port));
    if (picked.port !== null) {
      const hit = compose.ports.find((p) => p.port === picked.port);
      return { value: picked.port, evidence: hit?.evidence ?? compose.path };
    }
    warnings.add(`${compose.path} maps several container ports and none is a usual HTTP port; the port was taken from later evidence`);
  }

  if (input.configHints.length > 0) return input.configHints[0] as Conclusion<number>;

  const hints: PortHint[] = [...input.codeHints];
  for (const ref of input.envRefs) {
    if (ref.name !== 'PORT' || ref.fallback !== 'default' || !/^\d{2,5}$/.test(ref.default)) continue;
    const port = Number(ref.default);
    if (port >= 1 && port <= 65535) hints.push({ file: ref.file, line: ref.line, port, snippet: `PORT with fallback ${ref.default}` });
  }
  if (hints.length > 0) {
    hints.sort((a, b) => {
      const ea = a.file === input.entry ? 0 : 1;
      const eb = b.file === input.entry ? 0 : 1;
      if (ea !== eb) return ea - eb;
      if (a.file !== b.file) return a.file < b.file ? -1 : 1;
      return a.line - b.line;
    });
    const first = hints[0] as PortHint;
    const distinct = [...new Set(hints.map((h) => h.port))];
    if (distinct.length > 1) {
      const listed = distinct
        .map((port) => {
          const h = hints.find((x) => x.port === port) as PortHint;
          return `${port} at ${h.file}:${h.line}`;
        })
        .join(', ');
      warnings.add(`the code mentions several ports (${listed}); ${first.port} was used`);
    }
    return { value: first.port, evidence: `${first.file}:${first.line} ${first.snippet}` };
  }

  if (input.frameworkDefault) return input.frameworkDefault;
  if (input.listens) {
    warnings.add('no port found (no Dockerfile EXPOSE, compose port, listen call or framework default); set one before deploying');
  }
  return null;
}
