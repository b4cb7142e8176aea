/**
 * Ports set in the app's own configuration (port rules, between the framework's stated ports and
 * the server's default):
 * - a settings class or config struct with a default port: pydantic `BaseSettings` with
 *   `port: int = 8080`, a Go struct field tagged `envDefault:"8080"` / `default:"8080"`, Go
 *   `flag.Int("port", 8080, ...)` / `flag.String("addr", ":8080", ...)`, viper `SetDefault("port", 8080)`,
 *   node-config `config/default.json` `port`;
 * - an app-prefixed port variable (`APP_PORT`, `SERVER_PORT`, `<NAME>_PORT`) read by the code with a
 *   literal fallback, or set in the env example when the code reads it (the usual names count
 *   from the example alone);
 * - a Dockerfile outside the root (`docker/Dockerfile`) whose EXPOSE resolves through an `ARG` or
 *   `ENV` default (`ARG PORT=8080` / `EXPOSE ${PORT}`), when the service has no Dockerfile of its own.
 * A plain `PORT=` in the env example is weaker than the code and only fills in after the code hints.
 */
import { dockerfileProblem, parseDockerfile } from './dockerfile.js';
import { readExamples } from './env-vars.js';
import { pickHttpPort } from './port.js';
import { isTestPath } from './scan-model.js';
import { inDir, type Conclusion, type DetectContext } from './types.js';

export interface AppConfigPorts {
  /** Ports the app's configuration states: ranked with the framework's configuration. */
  config: Conclusion<number>[];
  /** `PORT=` in the env example: used only when the code shows no port. */
  example: Conclusion<number> | null;
}

/** Port variables that belong to another server (databases, mail, brokers, dev tools), never the app's HTTP port. */
const FOREIGN_PORT = /^(?:DB|DATABASE|POSTGRES(?:QL)?|PG|MYSQL|MARIADB|MONGO(?:DB)?|REDIS|VALKEY|MEMCACHED?|SMTP|MAIL|EMAIL|IMAP|POP3?|RABBITMQ|AMQP|KAFKA|NATS|ELASTIC(?:SEARCH)?|OPENSEARCH|MEILI(?:SEARCH)?|TYPESENSE|CLICKHOUSE|MINIO|S3|LDAP|FTP|SFTP|SSH|DEBUG|DEBUGGER|INSPECT|VITE|HMR|DEV|DEVSERVER|LIVERELOAD|METRICS|PROMETHEUS|GRPC|WS|SOCKET|STATSD|JAEGER|OTEL|ZIPKIN|SENTRY|FORWARD|EXTERNAL|PUBLIC|PROXY|NGINX|ADMINER|PGADMIN|MAILHOG|MAILPIT|CACHE|QUEUE|BROKER|TEST|E2E|CYPRESS|PLAYWRIGHT|STORYBOOK|FRONTEND|CLIENT|UI|HEALTH|ADMIN|MANAGEMENT|INTERNAL|PPROF|PROFILER|MONITORING)_PORT$/;
/** The usual names of an app's own listen-port variable: they count from the env example alone. */
const USUAL_APP_PORT = /^(?:APP|SERVER|HTTP|WEB|API|LISTEN|SERVICE|BACKEND|APPLICATION)_PORT$/;

function validPort(value: string): number | null {
  const m = /^:?(\d{2,5})$/.exec(value.trim());
  const port = m ? Number(m[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : null;
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Settings classes (pydantic BaseSettings) and Go config structs, flags and viper defaults. */
async function codeConfigPorts(ctx: DetectContext): Promise<Conclusion<number>[]> {
  const out: Conclusion<number>[] = [];
  const files = ctx.fs.filesUnder(ctx.dir).filter((file) => /\.(?:py|go)$/.test(file) && !isTestPath(file) && !/(?:^|\/)(?:vendor|node_modules|\.venv|venv)\//.test(file));
  // Settings live in config-like modules; every Go file may declare flags or a config struct.
  const likely = files.filter((file) => file.endsWith('.go') || /(?:^|\/)(?:config|settings|conf|core)\/|(?:config|settings|conf|env|main|app)\w*\.py$/.test(file));
  for (const file of likely.slice(0, 300)) {
    const text = (await ctx.fs.read(file))?.text ?? '';
    if (file.endsWith('.py')) {
      if (!/\bBaseSettings\b/.test(text)) continue;
      const m = /^[ \t]+(?:port|PORT|app_port|APP_PORT|server_port|SERVER_PORT|http_port|HTTP_PORT)\s*:\s*(?:int|PositiveInt|conint\([^)]*\))\s*=\s*(?:Field\(\s*(?:default\s*=\s*)?)?(\d{2,5})\b/m.exec(text);
      const port = m ? validPort(m[1] as string) : null;
      if (m && port) out.push({ value: port, evidence: `${file}:${lineAt(text, m.index)} settings default port ${port}` });
      continue;
    }
    // Go: `Port int `env:"PORT" envDefault:"8080"``, `Addr string `default:":8080"``.
    const tag = /^\s*(?:\w*(?:Port|PORT|Addr|ADDR|Address)\w*)\s+[\w.]+\s+`[^`\n]*\b(?:envDefault|default)\s*:\s*"(:?\d{2,5})"/m.exec(text);
    const flag = /\bflag\.(?:Int|String|Uint)(?:Var)?\([^)\n]*?"(?:port|addr|address|listen|http|http-addr|http\.addr|listen-addr|http-port|server-port)"\s*,\s*(?:"(:?\d{2,5})"|(\d{2,5}))/.exec(text);
    const viper = /\bviper\.SetDefault\(\s*"(?:[\w.]*\.)?(?:port|addr|address|listen)"\s*,\s*(?:"(:?\d{2,5})"|(\d{2,5}))/i.exec(text);
    for (const [m, what] of [
      [tag, 'config struct default'],
      [flag, 'command-line flag default'],
      [viper, 'viper default'],
    ] as const) {
      const port = m ? validPort((m[1] ?? m[2]) as string) : null;
      if (m && port) out.push({ value: port, evidence: `${file}:${lineAt(text, m.index)} ${what} port ${port}` });
    }
  }
  // node-config: config/default.json `port` / `server.port` / `http.port` / `app.port`.
  const nodeConfig = inDir(ctx.dir, 'config/default.json');
  const json = (await ctx.fs.read(nodeConfig))?.text;
  if (json !== undefined) {
    try {
      const doc = JSON.parse(json) as Record<string, unknown>;
      for (const path of [['port'], ['server', 'port'], ['http', 'port'], ['app', 'port']]) {
        let node: unknown = doc;
        for (const key of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
        const port = typeof node === 'number' || typeof node === 'string' ? validPort(String(node)) : null;
        if (port) {
          out.push({ value: port, evidence: `${nodeConfig}: ${path.join('.')} ${port}` });
          break;
        }
      }
    } catch {
      // Not JSON: not read (the manifests module reports broken JSON manifests, this is only a hint).
    }
  }
  return out;
}

/** Dockerfiles outside the root, in the usual places; the first one that is usable and exposes an HTTP port. */
const SUBFOLDER_DOCKERFILES = ['docker/Dockerfile', '.docker/Dockerfile', 'deploy/Dockerfile', 'deployment/Dockerfile', 'build/Dockerfile', 'ops/Dockerfile', 'infra/Dockerfile', 'docker/app/Dockerfile', 'docker/web/Dockerfile', 'docker/production/Dockerfile', 'docker/prod/Dockerfile'];

async function subfolderDockerfilePort(ctx: DetectContext): Promise<Conclusion<number> | null> {
  for (const file of SUBFOLDER_DOCKERFILES) {
    const rel = inDir(ctx.dir, file);
    if (!ctx.fs.has(rel)) continue;
    const text = await ctx.manifests.text(rel);
    if (text === null) continue;
    const info = parseDockerfile(rel, text);
    if (dockerfileProblem(info)) continue;
    const picked = pickHttpPort(info.exposes.map((e) => e.port));
    if (picked.port === null) continue;
    const line = info.exposes.find((e) => e.port === picked.port)?.line ?? 0;
    const arg = info.args.find((a) => a.default === String(picked.port));
    return { value: picked.port, evidence: `${rel}:${line} EXPOSE ${picked.port}${arg ? ` (ARG ${arg.name} default, line ${arg.line})` : ''}` };
  }
  return null;
}

export async function appConfigPorts(ctx: DetectContext, options: { hasDockerfile: boolean }): Promise<AppConfigPorts> {
  const config: Conclusion<number>[] = [];
  config.push(...(await codeConfigPorts(ctx)));

  // `<NAME>_PORT` read by the code with a literal fallback: `os.getenv("APP_PORT", "8080")`.
  const reads = ctx.scan.envRefs.filter((ref) => ctx.dir === '' || ref.file.startsWith(`${ctx.dir}/`));
  const readNames = new Set(reads.map((ref) => ref.name));
  for (const ref of reads) {
    if (ref.name === 'PORT' || !/_PORT$/.test(ref.name) || FOREIGN_PORT.test(ref.name) || ref.fallback !== 'default') continue;
    const port = validPort(ref.default);
    if (port) config.push({ value: port, evidence: `${ref.file}:${ref.line} ${ref.name} with fallback ${port}` });
  }

  // The env example: app-prefixed port variables (the code reads them, or a usual name), and PORT.
  let example: Conclusion<number> | null = null;
  for (const entry of await readExamples(ctx)) {
    const port = validPort(entry.value);
    if (!port) continue;
    if (entry.name === 'PORT') {
      example ??= { value: port, evidence: `${entry.file}:${entry.line} PORT=${port}` };
      continue;
    }
    if (!/_PORT$/.test(entry.name) || FOREIGN_PORT.test(entry.name)) continue;
    if (!USUAL_APP_PORT.test(entry.name) && !readNames.has(entry.name)) continue;
    config.push({ value: port, evidence: `${entry.file}:${entry.line} ${entry.name}=${port}${readNames.has(entry.name) ? ' (read by the code)' : ''}` });
  }

  if (!options.hasDockerfile) {
    const docker = await subfolderDockerfilePort(ctx);
    if (docker) config.push(docker);
  }
  return { config, example };
}
