/**
 * The failure playbook as one ordered table of log signatures. It is the
 * only place that knows what a failed deployment died of: the deploy pipeline uses it right after a
 * failure (through `diagnoseFailure`), and `opendeploy triage` uses it with more facts (the service's
 * port, env key names and memory limit, the project's databases) to name the exact fix command.
 *
 * Pure: no I/O. Patterns match log lines, never JSON bodies. Evidence lines are quoted verbatim (the
 * reporters scrub them on output).
 */
import type { ErrorCode } from '../core/errors.js';
import { commandWriter, type CommandWriter } from '../core/target-flags.js';

export type FailureCode = Extract<ErrorCode, 'build_failed' | 'runtime_crash' | 'deploy_failed' | 'cancelled'>;

export interface PlaybookFacts {
  status: string;
  progress?: number | null;
  error_msg?: string | null;
  /** The last non-terminal phase (building, deploying, …) the deployment was in. */
  lastPhase?: string;
  /** Seconds between creation and failure, when known. */
  durationSeconds?: number;
  /** The service the deployment belongs to (triage reads it; the deploy path may leave it out). */
  service?: {
    port?: number | null;
    memoryLimit?: string | null;
    buildCommand?: string | null;
    startCommand?: string | null;
    /** Runtime variable names (never values). */
    envKeys?: string[];
    /** The value of the PORT runtime variable (a port number is not a secret). */
    portEnv?: string | null;
  };
  /** The project's managed databases; `undefined` when unknown. */
  dependencies?: { engine: string; id: string; status: string }[];
  /** Whether the credential is claimed (an unclaimed one is capped at 1 CPU / 1Gi / 1 replica). */
  bound?: boolean;
  /**
   * Variables the analysis marks required that the service does not have (names only, sorted);
   * `undefined` when unknown. A crash with these missing is most likely caused by them.
   */
  missingRequired?: string[];
}

export interface PlaybookMatch {
  /** The playbook row (`F1`, `D1`, `G17`, …); `null` when no row matched. */
  id: string | null;
  code: FailureCode;
  /** The row's cause, one short clause (`the build command failed`). */
  cause: string;
  /** What the evidence adds (`it listens on 3000, the service expects 8080`), when anything. */
  detail?: string;
  /** The log lines (or facts) that show it, verbatim. */
  evidence: string[];
  /** The exact command that fixes it, or null when there is no such command. */
  fixCommand: string | null;
  /** One or two sentences: what to do, ending with the fix command when there is one. */
  nextAction: string;
  /** True when the source must be uploaded and bound again before a retry can work. */
  rebindSource: boolean;
  /** The variable a G17/F13 cause names, when the logs name one. */
  variable?: string;
}

export interface MatchOptions {
  /** How many trailing log lines an unknown cause quotes (deploy: 5, triage: 20). */
  unknownTail?: number;
  /**
   * The flags that reached the diagnosed service (`--project`, `--service`, `--local`, …, see
   * core/target-flags): every command of the diagnosis is written with them, so it acts on that
   * same service when pasted.
   */
  targetFlags?: readonly string[];
}

/** What a rule decides once its pattern matched. */
interface Resolution {
  id?: string;
  code?: FailureCode;
  detail?: string;
  evidence?: string[];
  fixCommand: string | null;
  nextAction: string;
  variable?: string;
}

interface Rule {
  id: string;
  code: FailureCode;
  /** Signatures of a log line (any of them). */
  pattern: RegExp | RegExp[];
  cause: string;
  /** Only counts while the deployment was building (a build error seen later is not the cause). */
  buildOnly?: boolean;
  /** `od` writes each `opendeploy …` command with the target flags of the run being diagnosed. */
  resolve(evidence: string[], facts: PlaybookFacts, lines: string[], od: CommandWriter): Resolution;
}


const DB_PORTS: Record<string, string> = { '5432': 'postgres', '3306': 'mysql', '27017': 'mongodb', '6379': 'redis' };

// ----------------------------------------------------------------------------- helpers

/** `A`, `A and B`, `A, B and C`. */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * The exact `env set` command for these names; `...` is the placeholder the user replaces. With a
 * writer, it carries that writer's target flags.
 */
export function envSetCommand(names: readonly string[], od: CommandWriter = commandWriter()): string {
  return od(`env set ${names.map((name) => `${name}=...`).join(' ')}`);
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

/** Memory quantities: `512Mi`, `1Gi`, `2G`, `1024M`; returns MiB. */
function parseMemoryMi(value: string | null | undefined): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?\s*$/.exec(value ?? '');
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2] ?? '';
  const factor: Record<string, number> = { '': 1 / (1024 * 1024), Ki: 1 / 1024, K: 1 / 1024, Mi: 1, M: 1, Gi: 1024, G: 1024, Ti: 1024 * 1024, T: 1024 * 1024 };
  return n * (factor[unit] ?? 1);
}

/** Twice the current memory limit (`512Mi` → `1Gi`, `4Gi` → `8Gi`); `2Gi` when it is unknown. */
export function nextMemoryLimit(current: string | null | undefined): string {
  const mi = parseMemoryMi(current);
  if (mi === undefined || mi <= 0) return '2Gi';
  const doubled = Math.max(256, Math.round(mi * 2));
  return doubled % 1024 === 0 ? `${doubled / 1024}Gi` : `${doubled}Mi`;
}

/** Extracts an environment variable name from a line that says one is missing or invalid. */
export function envKeyFrom(line: string): string | undefined {
  const direct = [
    /KeyError: ['"]([A-Za-z_][A-Za-z0-9_]*)['"]/,
    /environ\[['"]([A-Za-z_][A-Za-z0-9_]*)['"]\]/,
    /process\.env\.([A-Z_][A-Z0-9_]*)/,
    /ENV\[['"]([A-Z_][A-Z0-9_]*)['"]\]/,
    /\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s*:\s*\[/,
    /["'`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)["'`]/,
    /\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/,
    /["'`]([A-Z][A-Z0-9]{2,})["'`]/,
  ];
  for (const pattern of direct) {
    const match = pattern.exec(line);
    if (match?.[1] && !ENV_STOPWORDS.has(match[1])) return match[1];
  }
  // A bare upper-case word next to the complaint ("PORT is not set").
  const bare = /\b([A-Z][A-Z0-9]{2,})\b\s+(?:is\s+)?(?:not set|missing|undefined|required|must be set|not defined|empty)/.exec(line);
  if (bare?.[1] && !ENV_STOPWORDS.has(bare[1])) return bare[1];
  return undefined;
}

const ENV_STOPWORDS = new Set(['ERROR', 'FATAL', 'WARN', 'WARNING', 'INFO', 'DEBUG', 'ERR', 'ENV', 'KEY', 'URL', 'HTTP', 'HTTPS', 'JSON', 'NOTE', 'TODO']);

/** The port an app says it listens on, from lines like "listening on port 3000" or "running at http://0.0.0.0:8000". */
export function listeningPort(line: string): number | undefined {
  if (/EADDRINUSE|EACCES|probe|refused/i.test(line)) return undefined;
  const match =
    /\b(?:listening|listens|listen|running|started|serving|server|bound|available)\b[^\n]{0,60}?(?:\bport\b\s*[:=]?\s*|https?:\/\/[^\s/:]+:|(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|::):)(\d{2,5})\b/i.exec(line);
  if (!match?.[1]) return undefined;
  const port = Number(match[1]);
  return port > 0 && port < 65536 ? port : undefined;
}

function engineOf(line: string): string | undefined {
  const port = /:(5432|3306|27017|6379)\b|port (5432|3306|27017|6379)\b/.exec(line);
  const fromPort = port ? DB_PORTS[port[1] ?? port[2] ?? ''] : undefined;
  if (fromPort) return fromPort;
  if (/postgres|psql|\bpg\b|P1001/i.test(line)) return 'postgres';
  if (/mysql|mariadb/i.test(line)) return 'mysql';
  if (/mongo/i.test(line)) return 'mongodb';
  if (/redis/i.test(line)) return 'redis';
  return undefined;
}

function moduleName(line: string): string | undefined {
  const patterns = [
    /Cannot find (?:module|package) ['"]([^'"]+)['"]/i,
    /No module named ['"]?([\w.-]+)['"]?/i,
    /cannot load such file -- (\S+)/i,
    /Can't resolve ['"]([^'"]+)['"]/i,
    /(?:sh|bash|\/bin\/sh)(?:: \d+)?: ([\w.@/-]+): (?:not found|command not found)/i,
    /^([\w.@/-]+): command not found/i,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(line);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** The fix is in the source: change it as `action` says, then upload it and deploy again. */
function redeployAfter(od: CommandWriter, action: string, alternative?: string): Resolution {
  const command = od('redeploy --source .');
  return { fixCommand: command, nextAction: `${action}, then run \`${command}\`${alternative ? `; ${alternative}` : ''}.` };
}

/** The other way out of a port mismatch: point the service at the port the app really uses. */
function keepAppPort(od: CommandWriter, actual: number): string {
  return `or, to keep ${actual}, run \`${od(`port ${actual} --redeploy`)}\``;
}

// ----------------------------------------------------------------------------- the table

/** Ordered: the most specific signatures first. */
export const PLAYBOOK: Rule[] = [
  {
    id: 'B1',
    code: 'deploy_failed',
    pattern: /agent_quota_exceeded|guest_quota_exceeded|exceeded quota|quota exceeded|insufficient (?:cpu|memory)/i,
    cause: 'the deployment asked for more than the account allows',
    resolve(evidence, facts, _lines, od) {
      const text = evidence.join('\n');
      const field = /(?:field["']?\s*[:=]\s*["']?|limits\.|requests\.)(cpu_limit|memory_limit|replicas|memory|cpu)\b/i.exec(text)?.[1]?.toLowerCase();
      // Every unit `resize` accepts (2G as much as 2Gi): a truncated "2" would be 2 bytes of memory.
      const limit = /\b[Ll]imit(?:ed)?["']?\s*[:=]\s*["']?(?:limits\.(?:memory|cpu)=)?([0-9][0-9.]*(?:Ki|Mi|Gi|Ti|K|M|G|T|m)?)(?![A-Za-z])/.exec(text)?.[1];
      const flag = field?.startsWith('memory') ? '--memory' : field?.startsWith('cpu') ? '--cpu' : field === 'replicas' ? '--replicas' : undefined;
      // A memory limit without a unit is bytes, which `resize --memory` refuses: no exact command then.
      const usable = flag === '--memory' ? /(?:Ki|Mi|Gi|Ti|K|M|G|T)$/.test(limit ?? '') : true;
      const claim = facts.bound === false ? ` An unclaimed credential is capped at 1 CPU, 1Gi and one replica; claiming it (\`${od('auth status')}\` prints the claim URL) lifts the cap.` : '';
      if (flag && limit && usable) {
        const command = od(`resize ${flag} ${limit}`);
        return {
          detail: `${field} is over its limit of ${limit}`,
          fixCommand: command,
          nextAction: `Stay within the limit with \`${command}\`, then run \`${od('redeploy')}\`.${claim}`,
        };
      }
      return {
        fixCommand: od('auth status'),
        nextAction: `The gateway did not name the resource. Upgrade or claim the account (\`${od('auth status')}\` shows the claim URL), or lower cpu/memory/replicas, e.g. to the unclaimed cap with \`${od('resize --cpu 1 --memory 1Gi --replicas 1')}\`.${claim}`,
      };
    },
  },
  {
    id: 'OOM',
    code: 'runtime_crash',
    pattern: /OOMKilled|JavaScript heap out of memory|out of memory|MemoryError|Killed\s*$|exit code:? 137\b/i,
    cause: 'the app ran out of memory',
    resolve(_evidence, facts, _lines, od) {
      const current = facts.service?.memoryLimit ?? undefined;
      const next = nextMemoryLimit(current);
      const command = od(`resize --memory ${next}`);
      const capped = facts.bound === false && (parseMemoryMi(next) ?? 0) > 1024
        ? ` An unclaimed credential is capped at 1Gi: claim it first (\`${od('auth status')}\` prints the claim URL), or reduce the app's memory use.`
        : '';
      return {
        ...(current ? { detail: `the memory limit is ${current}` } : {}),
        fixCommand: command,
        nextAction: `Give it more memory with \`${command}\` (or reduce its memory use), then run \`${od('redeploy')}\` if it does not recover by itself.${capped}`,
      };
    },
  },
  {
    id: 'F15',
    code: 'runtime_crash',
    pattern: /relation "[^"]+" does not exist|no such table|\bP2021\b|TableDoesNotExist|UndefinedTable|ER_NO_SUCH_TABLE|Table '[^']+' doesn't exist|table `[^`]+` does not exist/i,
    cause: 'the database schema was never migrated',
    resolve(evidence, _facts, _lines, od) {
      const text = evidence.join('\n');
      const table = /relation "([^"]+)"|no such table:?\s*([\w.]+)|Table '([^']+)'|table `([^`]+)`/i.exec(text);
      const name = table ? (table[1] ?? table[2] ?? table[3] ?? table[4]) : undefined;
      return {
        ...(name ? { detail: `table ${name} does not exist` } : {}),
        ...redeployAfter(od, 'Run the migrations in the command the image really starts with (e.g. `prisma migrate deploy && node server.js` in the start script or Dockerfile CMD)'),
      };
    },
  },
  {
    id: 'G17',
    code: 'runtime_crash',
    pattern: [
      /(?:missing|required|undefined|not set|unset|not defined|empty)\b.{0,60}\b(?:env\b|environment variables?|env vars?)|\b(?:env(?:ironment)? var(?:iable)?s?)\b.{0,60}\b(?:missing|required|undefined|not set|unset|not defined|must be set|empty)|Invalid environment variables/i,
      // Case-sensitive on purpose: an UPPER_SNAKE name followed by the complaint.
      /KeyError: ['"][A-Z][A-Z0-9_]*['"]|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b\s+(?:is\s+)?(?:not set|missing|undefined|required|must be set|not defined)/,
    ],
    cause: 'a required environment variable is missing',
    resolve(evidence, facts, _lines, od) {
      const key = evidence.map(envKeyFrom).find((k): k is string => k !== undefined);
      if (!key) {
        return {
          fixCommand: null,
          nextAction: `Set the variable named above with \`${od('env set KEY=...')}\`, then run \`${od('redeploy')}\`.`,
        };
      }
      const command = envSetCommand([key], od);
      // Set but rejected (empty or invalid) is F13; not set at all is G17.
      const present = facts.service?.envKeys?.includes(key) === true;
      const dbHint = /^(DATABASE|POSTGRES|PG|MYSQL|MONGO|MONGODB|REDIS)_?(URL|URI|HOST)$/.test(key) && facts.dependencies && facts.dependencies.length === 0
        ? ` Or let OpenDeploy provide it: \`${od(`db add ${key.startsWith('MYSQL') ? 'mysql' : key.startsWith('MONGO') ? 'mongodb' : key.startsWith('REDIS') ? 'redis' : 'postgres'}`)}\`.`
        : '';
      return {
        id: present ? 'F13' : 'G17',
        variable: key,
        detail: present ? `${key} is set on the service but the app rejects its value` : `${key} is not set`,
        fixCommand: command,
        nextAction: `Set ${key} (replace ... with the real value) with \`${command}\`, then run \`${od('redeploy')}\` so the new value reaches the app.${dbHint}`,
      };
    },
  },
  {
    id: 'G2',
    code: 'runtime_crash',
    pattern: /ECONNREFUSED\s+\S*:(?:5432|3306|27017|6379)\b|:(?:5432|3306|27017|6379)\b.{0,60}(?:refused|failed|timed? ?out)|port (?:5432|3306|27017|6379) failed|could not connect to (?:server|database|postgres|mysql)|Can't connect to MySQL server|Can't reach database server|\bP1001\b|MongoServerSelectionError|MongoNetworkError|Redis connection to \S+ failed|getaddrinfo (?:ENOTFOUND|EAI_AGAIN) \S*(?:postgres|mysql|mongo|redis|db|database)|the database system is starting up|waiting for (?:the )?(?:database|db|postgres|mysql|mongo|redis)|dependency \S+ (?:is )?not ready/i,
    cause: 'the app could not reach its database',
    resolve(evidence, facts, _lines, od) {
      const engine = evidence.map(engineOf).find((e): e is string => e !== undefined);
      const deps = facts.dependencies;
      const notReady = deps?.find((d) => d.status !== 'running' && (!engine || d.engine === engine));
      if (notReady) {
        return {
          id: 'G2',
          detail: `the ${notReady.engine} database ${notReady.id} is ${notReady.status}, not running`,
          evidence: [...evidence, `dependency ${notReady.engine} ${notReady.id}: status ${notReady.status}`],
          fixCommand: od('redeploy'),
          nextAction: `Wait until the database is running (\`${od('status')}\` shows it), then run \`${od('redeploy')}\`.`,
        };
      }
      if (engine && deps && !deps.some((d) => d.engine === engine)) {
        const command = od(`db add ${engine}`);
        return {
          id: 'G3',
          detail: `the app expects a ${engine} database, and the project has none`,
          fixCommand: command,
          nextAction: `Add a managed ${engine} database (its connection variables are merged into the service and it is redeployed) with \`${command}\`.`,
        };
      }
      if (evidence.some((line) => /starting up|not ready|waiting for/i.test(line))) {
        return {
          id: 'G2',
          detail: 'the database was not ready when the app started',
          fixCommand: od('redeploy'),
          nextAction: `The database is running now; run \`${od('redeploy')}\`.`,
        };
      }
      return {
        id: 'G4',
        detail: engine ? `the ${engine} database refused the connection at start` : 'the database refused the connection at start',
        fixCommand: od('redeploy'),
        nextAction: `Run \`${od('redeploy')}\`; if it happens again, make the start command wait for the database port before starting the app, then run \`${od('redeploy --source .')}\`.`,
      };
    },
  },
  {
    id: 'F1',
    code: 'runtime_crash',
    pattern: /EADDRINUSE|readiness probe failed|liveness probe failed|startup probe failed|connection refused|no process listening|port mismatch|did not (?:start )?listen|upstream connect error/i,
    cause: 'the app did not answer on the port the service expects',
    resolve(evidence, facts, lines, od) {
      const expected = facts.service?.port ?? undefined;
      const portEnv = facts.service?.portEnv ?? undefined;
      let actual: number | undefined;
      let listenLine: string | undefined;
      for (const line of expected === undefined ? [] : lines) {
        const port = listeningPort(line);
        if (port !== undefined && port !== expected) {
          actual = port;
          listenLine = line;
        }
      }
      const shown = unique(listenLine ? [listenLine, ...evidence] : evidence);
      if (expected !== undefined && actual !== undefined) {
        const detail = `it listens on ${actual}, the service expects ${expected}`;
        if (actual === 80 && expected !== 80) {
          return {
            id: 'F2', detail, evidence: shown,
            ...redeployAfter(od, `A web server (nginx or another static server) listens on 80: make it listen on $PORT (${expected}), e.g. \`listen \${PORT}\` through an envsubst template`),
          };
        }
        if (expected === 80) {
          return {
            id: 'F3', detail, evidence: shown,
            ...redeployAfter(od, `Make the app listen on 0.0.0.0 and the PORT variable (${expected}) instead of ${actual}`, keepAppPort(od, actual)),
          };
        }
        // PORT is set and the app listens on something else: it does not read PORT, so setting
        // PORT again cannot fix it — the code must read it.
        if (portEnv !== undefined && portEnv !== String(actual)) {
          return {
            id: 'F4', detail: `${detail}; it ignores PORT=${portEnv}`, evidence: shown,
            ...redeployAfter(od, `Make the app listen on 0.0.0.0 and process.env.PORT (${expected}) instead of a hard-coded ${actual}`, keepAppPort(od, actual)),
          };
        }
        const command = od(`env set PORT=${expected}`);
        return {
          id: 'F1', detail: `${detail}; PORT is ${portEnv ? `set to ${portEnv}` : 'not set'}`, evidence: shown,
          fixCommand: command,
          nextAction: portEnv
            ? `The app reads PORT, which says ${portEnv}: set it to the service port with \`${command}\`, then run \`${od('redeploy')}\`.`
            : `Tell the app which port to use with \`${command}\`, then run \`${od('redeploy')}\` (if the app hard-codes ${actual} instead of reading PORT, make it read PORT, then run \`${od('redeploy --source .')}\`).`,
        };
      }
      if (expected !== undefined && portEnv !== undefined && portEnv !== String(expected)) {
        const command = od(`env set PORT=${expected}`);
        return {
          id: 'F1', detail: `PORT is set to ${portEnv}, the service expects ${expected}`, evidence: shown,
          fixCommand: command,
          nextAction: `Make PORT match the service with \`${command}\`, then run \`${od('redeploy')}\`.`,
        };
      }
      return {
        id: 'F1',
        ...(expected !== undefined ? { detail: `nothing answered on port ${expected}` } : {}),
        evidence: shown,
        ...redeployAfter(od, `Make the app listen on 0.0.0.0 and process.env.PORT${expected !== undefined ? ` (${expected})` : ' (the service port)'}`),
      };
    },
  },
  {
    // The local gateway provides pnpm, Yarn and Bun from the npm registry (runtime/toolcache.ts).
    id: 'PM1',
    code: 'build_failed',
    buildOnly: true,
    pattern: /^Could not install (?:pnpm|yarn|bun) \S+ \(/,
    cause: 'the package manager could not be installed',
    resolve(evidence, _facts, _lines, od) {
      const match = /^Could not install (pnpm|yarn|bun) (\S+) \(([^)]*)\) from the npm registry: (.*)$/.exec(evidence.at(-1) ?? '');
      const tool = match?.[1] ?? 'the package manager';
      const pkg = tool === 'yarn' && /^[2-9]|^\d{2,}/.test(match?.[2] ?? '') ? '@yarnpkg/cli-dist' : tool;
      return {
        ...(match ? { detail: `${tool} ${match[2]} (${match[3]}): ${(match[4] ?? '').replace(/\.$/, '')}` } : {}),
        ...redeployAfter(od, `Ask for a version the npm registry has (\`npm view ${pkg} versions\` lists them) in package.json "packageManager", or make the registry reachable from this machine`),
      };
    },
  },
  {
    id: 'E1',
    code: 'build_failed',
    buildOnly: true,
    pattern: /npm ERR!|ERR_PNPM|yarn error|error TS\d+|Build failed|build command failed|failed to solve|Could not find a version that satisfies|No matching distribution|error\[E\d+\]|compilation failed|exit code: [1-9]|Module not found: (?:Error: )?Can't resolve|ERROR: failed to build/i,
    cause: 'the build command failed',
    resolve(_evidence, facts, _lines, od) {
      const build = facts.service?.buildCommand;
      return redeployAfter(od, `Run the build locally${build ? ` (\`${build}\`)` : ''}, fix the error quoted above`);
    },
  },
  {
    id: 'F9',
    code: 'runtime_crash',
    pattern: /Cannot find (?:module|package) ['"]|ERR_MODULE_NOT_FOUND|ModuleNotFoundError|No module named|cannot load such file|: (?:command )?not found\s*$/i,
    cause: 'the app crashed while starting',
    resolve(evidence, _facts, _lines, od) {
      const name = evidence.map(moduleName).find((n): n is string => n !== undefined);
      if (name && /^[./]/.test(name)) {
        return {
          detail: `the start command runs ${name}, which is not in the image`,
          ...redeployAfter(od, 'Check the start command and that the file is uploaded (not ignored or built elsewhere)'),
        };
      }
      return {
        detail: name ? `the module ${name} is missing from the image` : 'a module it imports is missing from the image',
        ...redeployAfter(od, `Add ${name ?? 'the module'} to the runtime dependencies (package.json "dependencies", requirements.txt, …)`),
      };
    },
  },
  {
    id: 'E6',
    code: 'deploy_failed',
    pattern: /ImagePullBackOff|ErrImagePull|Failed to pull image|manifest unknown|invalid reference format/i,
    cause: 'the platform could not pull the built image',
    resolve(_evidence, _facts, _lines, od) {
      return { fixCommand: od('redeploy'), nextAction: `Run \`${od('redeploy')}\` once; if it fails the same way, contact hi@opendeploy.dev with the deployment id.` };
    },
  },
  {
    id: 'F6',
    code: 'runtime_crash',
    pattern: /Traceback \(most recent call last\)|Unhandled(?:Promise)?Rejection|uncaught exception|CrashLoopBackOff|Back-off restarting failed container|exited with code [1-9]|panic:|Segmentation fault|Container crashed/i,
    cause: 'the app crashed while starting',
    resolve(evidence, facts, lines, od) {
      // The exception itself usually sits right before the crash marker: quote it too.
      const error = [...lines].reverse().find((line) => /^\s*(?:[\w.]*(?:Error|Exception)\b|Error:|FATAL|fatal:)/.test(line) && !evidence.includes(line));
      const start = facts.service?.startCommand;
      return {
        evidence: error ? unique([error, ...evidence]) : evidence,
        ...redeployAfter(od, `Start it locally${start ? ` with \`${start}\`` : ' with the same start command'} and the same variables, fix the error quoted above`),
      };
    },
  },
];

// ----------------------------------------------------------------------------- matching

function matches(rule: Rule, line: string): boolean {
  return Array.isArray(rule.pattern) ? rule.pattern.some((p) => p.test(line)) : rule.pattern.test(line);
}

const SOURCE_NOT_BOUND = /Service failed(?: to deploy)?/i;

function fallback(facts: PlaybookFacts, lines: string[], tail: number, od: CommandWriter): PlaybookMatch {
  const deps = facts.dependencies ?? [];
  const notReady = deps.find((d) => d.status !== 'running');
  if (notReady) {
    return {
      id: 'G2',
      code: 'runtime_crash',
      cause: 'the app could not reach its database',
      detail: `the ${notReady.engine} database ${notReady.id} is ${notReady.status}, not running`,
      evidence: [`dependency ${notReady.engine} ${notReady.id}: status ${notReady.status}`, ...lines.slice(-tail)],
      fixCommand: od('redeploy'),
      nextAction: `Wait until the database is running (\`${od('status')}\` shows it), then run \`${od('redeploy')}\`.`,
      rebindSource: false,
    };
  }
  const inBuild = facts.lastPhase === 'building' || facts.lastPhase === 'pending' || facts.lastPhase === 'analyzing';
  return {
    id: null,
    code: inBuild ? 'build_failed' : 'deploy_failed',
    cause: inBuild ? 'the build failed for a reason the logs do not name' : 'the deployment failed for a reason the logs do not name',
    evidence: lines.slice(-tail),
    fixCommand: null,
    nextAction: `Read the last log lines above; \`${od('logs --tail 300')}\` shows more.`,
    rebindSource: false,
  };
}

/** Causes that a missing required variable explains better than the log line does. */
const EXPLAINED_BY_MISSING_VARS = new Set<string | null>([null, 'F6', 'G17', 'F13']);

/**
 * Required variables the service lacks come first. A generic crash (or an unknown failure, or a
 * complaint about one variable) with them missing is most likely caused by them: the cause becomes
 * G17 naming every one. Any other cause stays, and its next action starts by naming them.
 */
function withMissingRequired(match: PlaybookMatch, facts: PlaybookFacts, od: CommandWriter): PlaybookMatch {
  const missing = facts.missingRequired ?? [];
  if (missing.length === 0 || match.code === 'cancelled' || match.id === 'D1') return match;
  const logged = match.id === 'G17' ? match.variable : undefined;
  const names = unique([...missing, ...(logged ? [logged] : [])]).sort();
  const command = envSetCommand(names, od);
  const one = names.length === 1;
  const how =
    `\`${command}\` (replace ${one ? '...' : 'each ...'} with the real value) and then \`${od('redeploy')}\`, ` +
    `or put ${one ? 'it' : 'them'} in a dotenv file and deploy again with \`${od('--vars-file <file>')}\``;
  const note = `required by the analysis, not set on the service: ${names.join(', ')}`;
  const rejected = match.id === 'F13' && !names.some((name) => match.variable === name);
  if (match.code !== 'build_failed' && EXPLAINED_BY_MISSING_VARS.has(match.id) && !rejected) {
    return {
      id: 'G17',
      code: 'runtime_crash',
      cause: 'a required environment variable is missing',
      detail: `${listNames(names)} ${one ? 'is' : 'are'} not set (the analysis lists ${one ? 'it' : 'them'} as required)`,
      evidence: unique([note, ...match.evidence]),
      fixCommand: command,
      nextAction: `Set ${listNames(names)} with ${how}.`,
      rebindSource: false,
    };
  }
  return {
    ...match,
    nextAction: `First set ${listNames(names)}, which the analysis lists as required and the service does not have: ${how}. Then: ${match.nextAction}`,
  };
}

/** Matches a failed deployment against the playbook. Lines are log messages, oldest first. */
export function matchPlaybook(facts: PlaybookFacts, logLines: string[], options: MatchOptions = {}): PlaybookMatch {
  const od = commandWriter(options.targetFlags);
  return withMissingRequired(matchSignatures(facts, logLines, options, od), facts, od);
}

function matchSignatures(facts: PlaybookFacts, logLines: string[], options: MatchOptions, od: CommandWriter): PlaybookMatch {
  const tail = options.unknownTail ?? 5;
  if (facts.status === 'cancelled') {
    return { id: null, code: 'cancelled', cause: 'the deployment was cancelled', evidence: [], fixCommand: od('redeploy'), nextAction: `Run \`${od('redeploy')}\` to deploy again.`, rebindSource: false };
  }
  // D1, the progress-10 signature: the workflow started with no bound source and logged nothing.
  if ((facts.progress ?? 0) <= 10 && logLines.length === 0 && SOURCE_NOT_BOUND.test(facts.error_msg ?? '')) {
    return {
      id: 'D1',
      code: 'deploy_failed',
      cause: 'the source was never bound to the project (update-source was skipped, failed, or its upload expired)',
      evidence: [`progress=${facts.progress ?? 0}, error_msg="${facts.error_msg ?? ''}", no log lines`],
      fixCommand: od('redeploy --source .'),
      nextAction: `Upload and bind the source again, then deploy: \`${od('redeploy --source .')}\` (or run \`${od()}\` in the folder).`,
      rebindSource: true,
    };
  }
  // Log lines are the evidence; the gateway's own error_msg is only consulted when they name nothing.
  const errorMessage = facts.error_msg ? [facts.error_msg] : [];
  const buildOver = facts.lastPhase !== undefined && facts.lastPhase !== 'building' && facts.lastPhase !== 'pending';
  for (const haystack of [logLines, errorMessage]) {
    for (const rule of PLAYBOOK) {
      const matched = haystack.filter((line) => matches(rule, line)).slice(-5);
      if (matched.length === 0) continue;
      // A build error pattern seen after the build finished is not a build failure.
      if (rule.buildOnly && buildOver) continue;
      const resolved = rule.resolve(matched, facts, logLines, od);
      return {
        id: resolved.id ?? rule.id,
        code: resolved.code ?? rule.code,
        cause: rule.cause,
        ...(resolved.detail ? { detail: resolved.detail } : {}),
        evidence: resolved.evidence ?? matched,
        fixCommand: resolved.fixCommand,
        nextAction: resolved.nextAction,
        rebindSource: false,
        ...(resolved.variable ? { variable: resolved.variable } : {}),
      };
    }
  }
  return fallback(facts, logLines, tail, od);
}

/**
 * Signatures that make even a *successful* deployment unhealthy (F15: live, but the schema was
 * never migrated). Returns the match or undefined.
 */
export function matchHealthyDeployment(facts: PlaybookFacts, logLines: string[], options: Pick<MatchOptions, 'targetFlags'> = {}): PlaybookMatch | undefined {
  const rule = PLAYBOOK.find((r) => r.id === 'F15')!;
  const matched = logLines.filter((line) => matches(rule, line)).slice(-5);
  if (matched.length === 0) return undefined;
  const resolved = rule.resolve(matched, facts, logLines, commandWriter(options.targetFlags));
  return {
    id: rule.id,
    code: rule.code,
    cause: rule.cause,
    ...(resolved.detail ? { detail: resolved.detail } : {}),
    evidence: resolved.evidence ?? matched,
    fixCommand: resolved.fixCommand,
    nextAction: resolved.nextAction,
    rebindSource: false,
  };
}

/** `cause` plus what the evidence adds: "the app ran out of memory (the memory limit is 1Gi)". */
export function describeMatch(match: Pick<PlaybookMatch, 'cause' | 'detail'>): string {
  return match.detail ? `${match.cause}: ${match.detail}` : match.cause;
}
