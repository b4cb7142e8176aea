/**
 * The HTTP port, in this priority order:
 *   1. Dockerfile EXPOSE (the HTTP one when several),
 *   2. compose `ports` (container side),
 *   3. configuration: a port flag in the start command, the framework's stated port (`next start
 *      -p`), the app's own config (settings/struct defaults, `APP_PORT`, a subfolder Dockerfile),
 *      then the default of the server the start command launches (gunicorn 8000, rackup 9292),
 *      then the code's own listen call (`PORT || 8080`, `app.listen(3000)`), then `PORT=` in the
 *      env example,
 *   4. the framework's default,
 *   5. otherwise null with a warning (never a guess).
 * Static sites and workers listen on nothing: null, no warning.
 */
import type { ComposeInfo } from './compose.js';
import type { DockerfileInfo } from './dockerfile.js';
import type { EnvRef, PortHint } from './scan-model.js';
import { inDir, type Conclusion, type DetectContext } from './types.js';
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
  /**
   * The port of the server the final start command launches (`serverPortOf`): an explicit flag
   * counts as configuration (priority 3, first); a server's own default comes before the code's
   * hints, because that server imports the app and never runs its `__main__` block.
   */
  server?: ServerPort | null;
  /** From the framework configuration (start script flags, Procfile). */
  configHints: Conclusion<number>[];
  /** From the app's own configuration (config-port.ts): settings defaults, `APP_PORT`, a subfolder Dockerfile. */
  appConfig?: { config: Conclusion<number>[]; example: Conclusion<number> | null };
  /** From the source scan. */
  codeHints: PortHint[];
  /** Env references, for `PORT` read with a numeric fallback. */
  envRefs: EnvRef[];
  /** Entry file relative to the root: its hints come first. */
  entry: string;
  frameworkDefault: Conclusion<number> | undefined;
  /** Static site or worker: no port is expected. */
  listens: boolean;
  /**
   * A worker (or cron job): only its own process's evidence counts (its Dockerfile, compose ports,
   * the server its start launches, a listen call in its entry file); a listen call elsewhere in the
   * folder (`tools/preview.js`), an env example or a framework default is not the worker's port.
   */
  worker?: boolean;
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

  if (input.server?.explicit) return { value: input.server.value, evidence: input.server.evidence };
  if (input.worker) {
    if (input.server) return { value: input.server.value, evidence: input.server.evidence };
    const own = input.codeHints.find((hint) => hint.file === input.entry);
    const ownPort = input.envRefs.find((ref) => ref.file === input.entry && ref.name === 'PORT' && ref.fallback === 'default' && /^\d{2,5}$/.test(ref.default));
    if (own) return { value: own.port, evidence: `${own.file}:${own.line} ${own.snippet}` };
    if (ownPort) return { value: Number(ownPort.default), evidence: `${ownPort.file}:${ownPort.line} PORT with fallback ${ownPort.default}` };
    return null;
  }
  if (input.configHints.length > 0) return input.configHints[0] as Conclusion<number>;
  const configured = input.appConfig?.config[0];
  if (configured) return configured;
  if (input.server) return { value: input.server.value, evidence: input.server.evidence };

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

  if (input.appConfig?.example) return input.appConfig.example;
  if (input.frameworkDefault) return input.frameworkDefault;
  if (input.listens) {
    warnings.add('no port found (no Dockerfile EXPOSE, compose port, listen call or framework default); set one before deploying');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The server a start command launches (convention: the port comes from that server, not from the
// framework's default): gunicorn, uvicorn, hypercorn and daphne listen on 8000, `flask run` on
// 5000, `manage.py runserver` on 8000, rackup and plain puma on 9292, `rails server` on 3000,
// waitress on 8080; an explicit --bind/--port/-p (or the server's own config file) wins.
// PHP servers are decided by the PHP detectors.

export interface ServerPort extends Conclusion<number> {
  /** The command states the port (`--port 8080`, `-b 0.0.0.0:8080`); false for the server's default. */
  explicit: boolean;
}

interface ServerRule {
  name: string;
  /** Matches the server invocation in one command segment. */
  match: RegExp;
  /** Port flags: the first capture group is the port. */
  flags: RegExp[];
  default: number;
  /** Config file the server loads by default (`gunicorn.conf.py`, `config/puma.rb`), read for its port. */
  config?: { flag: RegExp; file: string; port: RegExp[] };
}

/** `${PORT:-8000}` / `${PORT-8000}` in a shell command. */
const PORT_FALLBACK = /\$\{PORT:?-(\d{2,5})\}/;
const PORT_VALUE = '(\\d{2,5})\\b';
const SERVERS: readonly ServerRule[] = [
  {
    name: 'gunicorn',
    match: /(?:^|[\s/"'])gunicorn(?:\s|$)/,
    flags: [new RegExp(`(?:--bind|-b)[=\\s]+['"]?[^\\s'"]*:${PORT_VALUE}`)],
    default: 8000,
    config: { flag: /(?:--config|-c)[=\s]+(?:python:)?(\S+\.py)\b/, file: 'gunicorn.conf.py', port: [/^\s*bind\s*=\s*\[?\s*f?['"][^'"\n]*:(\d{2,5})['"]/m, /^\s*bind\s*=.*?['"]?PORT['"]?\s*,\s*['"]?(\d{2,5})/m] },
  },
  { name: 'uvicorn', match: /(?:^|[\s/"'])uvicorn\s/, flags: [new RegExp(`--port[=\\s]+${PORT_VALUE}`)], default: 8000 },
  { name: 'hypercorn', match: /(?:^|[\s/"'])hypercorn\s/, flags: [new RegExp(`(?:--bind|-b)[=\\s]+['"]?[^\\s'"]*:${PORT_VALUE}`)], default: 8000 },
  { name: 'daphne', match: /(?:^|[\s/"'])daphne\s/, flags: [new RegExp(`(?:--port|-p)[=\\s]+${PORT_VALUE}`)], default: 8000 },
  { name: 'granian', match: /(?:^|[\s/"'])granian\s/, flags: [new RegExp(`--port[=\\s]+${PORT_VALUE}`)], default: 8000 },
  { name: 'waitress-serve', match: /(?:^|[\s/"'])waitress-serve\s/, flags: [new RegExp(`--port[=\\s]+${PORT_VALUE}`), new RegExp(`--listen[=\\s]+[^\\s:]*:${PORT_VALUE}`)], default: 8080 },
  { name: 'fastapi run', match: /(?:^|[\s/"'])fastapi\s+run\b/, flags: [new RegExp(`--port[=\\s]+${PORT_VALUE}`)], default: 8000 },
  { name: 'streamlit', match: /(?:^|[\s/"'])streamlit\s+run\b/, flags: [new RegExp(`--server\\.port[=\\s]+${PORT_VALUE}`)], default: 8501 },
  { name: 'sanic', match: /(?:^|[\s/"'])sanic\s/, flags: [new RegExp(`(?:--port|-p)[=\\s]+${PORT_VALUE}`)], default: 8000 },
  { name: 'python -m http.server', match: /\bpython3?\s+-m\s+http\.server\b/, flags: [new RegExp(`http\\.server\\s+(?:--bind\\s+\\S+\\s+)?${PORT_VALUE}`)], default: 8000 },
  { name: 'flask run', match: /(?:^|[\s/"'])flask\s(?:.*\s)?run\b/, flags: [new RegExp(`(?:--port|-p)[=\\s]+${PORT_VALUE}`)], default: 5000 },
  { name: 'manage.py runserver', match: /manage\.py\s+runserver\b/, flags: [new RegExp(`runserver\\s+(?:\\S*:)?${PORT_VALUE}`)], default: 8000 },
  {
    name: 'rails server',
    match: /(?:^|[\s/"'])rails\s+(?:server|s)\b/,
    flags: [new RegExp(`(?:--port|-p)[=\\s]+${PORT_VALUE}`)],
    default: 3000,
    config: { flag: /(?:--config|-C)[=\s]+(\S+\.rb)\b/, file: 'config/puma.rb', port: [/^\s*port\s+(?:ENV\.fetch\(\s*['"]PORT['"]\s*(?:,\s*|\)\s*\{\s*))?(\d{2,5})/m] },
  },
  {
    name: 'puma',
    match: /(?:^|[\s/"'])puma(?:\s|$)/,
    flags: [new RegExp(`(?:--port|-p)[=\\s]+${PORT_VALUE}`), new RegExp(`(?:--bind|-b)[=\\s]+['"]?tcp://[^\\s:'"]*:${PORT_VALUE}`)],
    default: 9292,
    config: { flag: /(?:--config|-C)[=\s]+(\S+\.rb)\b/, file: 'config/puma.rb', port: [/^\s*port\s+(?:ENV\.fetch\(\s*['"]PORT['"]\s*(?:,\s*|\)\s*\{\s*))?(\d{2,5})/m] },
  },
  { name: 'rackup', match: /(?:^|[\s/"'])rackup(?:\s|$)/, flags: [new RegExp(`(?:--port|-p)[=\\s]+${PORT_VALUE}`)], default: 9292 },
];

/** The text of the script a command runs (`./start.sh`, `bash bin/start.sh`, `npm start`), with where it is. */
async function scriptBody(ctx: DetectContext, segment: string): Promise<{ text: string; source: string } | null> {
  const shell = /^(?:(?:ba|da)?sh\s+)?(\.\/)?([\w./-]+\.sh)$/.exec(segment);
  if (shell) {
    const rel = inDir(ctx.dir, shell[2] as string);
    const text = (await ctx.fs.read(rel))?.text;
    return text === undefined ? null : { text, source: rel };
  }
  const run = /^(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?([\w:-]+)$/.exec(segment);
  if (run) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const body = pkg?.scripts[run[1] as string];
    return body === undefined ? null : { text: body, source: `${pkg?.path}: scripts.${run[1]}` };
  }
  return null;
}

/** The long-running part of a start command: the last `&&` / `;` segment (`migrate && gunicorn ...`). */
function serverSegment(command: string): string {
  const parts = command.split(/&&|;|\|\|/).map((part) => part.trim()).filter((part) => part !== '');
  return parts[parts.length - 1] ?? '';
}

/**
 * The port of the server `command` launches, or null when it launches no server known here
 * (`node server.js`, `python app.py`: the code and the framework decide then). `source` is the
 * evidence of the command (`Procfile:1 web`, `package.json: scripts.start`). With `ctx`, the
 * config file the server loads by default is read for its port (gunicorn.conf.py, config/puma.rb).
 */
export async function serverPortOf(command: string, source: string, ctx?: DetectContext, depth = 0): Promise<ServerPort | null> {
  const segment = serverSegment(command);
  if (segment === '') return null;
  // A start that runs a script (`./start.sh`, `npm start`): the server is the one that script launches.
  if (ctx && depth < 2) {
    const script = await scriptBody(ctx, segment);
    if (script) {
      const lines = script.text.split(/\r?\n/).map((line) => line.replace(/^\s*exec\s+/, '').trim()).filter((line) => line !== '' && !line.startsWith('#'));
      for (const line of lines.reverse()) {
        // `${PORT:-8000}` in the script: the scan reads that fallback with its line (a code hint).
        if (PORT_FALLBACK.test(line)) return null;
        const found = await serverPortOf(line, script.source, ctx, depth + 1);
        if (found) return found;
      }
      return null;
    }
  }
  // A Sinatra file run directly (`ruby app.rb`) serves on Sinatra's own default, 4567, unless -p says otherwise.
  const rubyFile = ctx ? /(?:^|\s)ruby\s+(?:-\S+\s+)*([\w./-]+\.rb)\b/.exec(segment)?.[1] : undefined;
  if (ctx && rubyFile) {
    const text = (await ctx.fs.read(inDir(ctx.dir, rubyFile.replace(/^\.\//, ''))))?.text ?? '';
    if (/^\s*require\s+['"]sinatra(?:\/base)?['"]/m.test(text)) {
      const flag = /(?:--port|-p)[=\s]+(\d{2,5})\b/.exec(segment);
      if (flag) return { value: Number(flag[1]), evidence: `${source}: sinatra ${flag[0]}`, explicit: true };
      return { value: 4567, evidence: `${rubyFile} runs Sinatra, which listens on 4567 by default`, explicit: false };
    }
  }
  // A file location (`Procfile:1 web`) names where the command came from; derived commands are quoted.
  const where = /^[\w./-]+:\d+(?: [\w-]+)?$/.test(source) ? `${source}:` : `start command "${segment.length > 80 ? `${segment.slice(0, 77)}...` : segment}":`;
  for (const rule of SERVERS) {
    if (!rule.match.test(segment)) continue;
    // `--bind 0.0.0.0:${PORT:-5000}`: the command states its own fallback.
    const fallback = PORT_FALLBACK.exec(segment);
    if (fallback) return { value: Number(fallback[1]), evidence: `${where} ${rule.name} on PORT with fallback ${fallback[1]}`, explicit: false };
    for (const flag of rule.flags) {
      const m = flag.exec(segment);
      const port = m ? Number(m[1]) : NaN;
      if (port >= 1 && port <= 65535) return { value: port, evidence: `${where} ${rule.name} ${m?.[0].trim()}`, explicit: true };
    }
    if (ctx && rule.config) {
      const file = inDir(ctx.dir, rule.config.flag.exec(segment)?.[1]?.replace(/^\.\//, '') ?? rule.config.file);
      const text = (await ctx.fs.read(file))?.text;
      for (const regex of text === undefined ? [] : rule.config.port) {
        const m = regex.exec(text as string);
        if (m) return { value: Number(m[1]), evidence: `${file}:${(text as string).slice(0, m.index).split('\n').length} port ${m[1]} (read by ${rule.name})`, explicit: true };
      }
    }
    return { value: rule.default, evidence: `${where} ${rule.name} listens on ${rule.default} by default`, explicit: false };
  }
  return null;
}
