/**
 * `opendeploy logs [deployment]`. With no deployment named (and no `--build`), the service's
 * runtime logs: what its running app prints; `--follow` streams them until Ctrl-C, across
 * redeploys. With a deployment named, or `--build`, a deployment's logs: the last N lines
 * (one-shot), or the live stream until that deployment is over (`--follow`). A service with no
 * running release gets its latest deployment's logs, and says so.
 *
 * Lines keep their timestamps. A broken stream is reconnected at most once, after catching up from
 * the last timestamp seen; a second break in a row stops the command.
 */
import { OdError } from '../core/errors.js';
import { commandWriter } from '../core/target-flags.js';
import type { ExecutionContext } from '../core/session.js';
import type { LogEvent, Reporter } from '../core/reporter.js';
import type { Deployment, LogLine } from '../gateway/index.js';
import type { OpsTarget } from './target.js';
import { field, getDeploymentById, isTerminal, serviceDeployments } from './status.js';
import { registerServiceValues } from '../gateway/service-secrets.js';

export const DEFAULT_TAIL = 100;
export const MAX_TAIL = 10_000;

export interface LogsInput {
  target: OpsTarget;
  exec: ExecutionContext;
  reporter: Reporter;
  deploymentId?: string | undefined;
  tail: number;
  /** RFC3339 (already normalised by parseSince). */
  since?: string | undefined;
  /** Only build lines (`source == "buildctl"`). */
  build: boolean;
  follow: boolean;
  /**
   * With no deployment named and no `--build`: read the running app's output (the CLI's default).
   * Without it, the latest deployment's logs are read, as before.
   */
  runtime?: boolean;
  signal: AbortSignal;
}

export interface LogsResult {
  /** Set for a deployment's logs. */
  deployment_id?: string;
  /** Set for a service's runtime logs. */
  service_id?: string;
  /** `runtime` for the running app's output (absent for a deployment's logs). */
  source?: 'runtime';
  count: number;
  /** With --follow on a deployment: the status the deployment ended with. */
  status?: string;
  [key: string]: unknown;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an RFC3339 time, or a duration back from now (`90s`, `10m`, `1h30m`, `2d`). Returns RFC3339. */
export function parseSince(value: string, now: number = Date.now()): string {
  const text = value.trim();
  if (/^(?:\d+(?:ms|s|m|h|d))+$/.test(text)) {
    let ms = 0;
    for (const match of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(match[1]) * (UNIT_MS[match[2]!] ?? 0);
    return new Date(now - ms).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/.test(text)) {
    const t = Date.parse(text.replace(' ', 'T'));
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw new OdError('invalid_input', `--since "${value}" is neither an RFC3339 time nor a duration.`, {
    nextAction: 'Use a time like 2026-01-02T15:04:05Z, or a duration like 30s, 10m, 1h or 1h30m.',
  });
}

/** `--tail`: a whole number from 1 to 10000. */
export function parseTail(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TAIL;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_TAIL) {
    throw new OdError('invalid_input', `--tail must be a whole number from 1 to ${MAX_TAIL}, not "${value}".`, { nextAction: 'For example: --tail 100.' });
  }
  return n;
}

/** `timestamp  message`, the human form of a line. */
function formatLine(line: { timestamp?: string | undefined; message?: string | undefined }): string {
  return line.timestamp ? `${line.timestamp}  ${line.message ?? ''}` : (line.message ?? '');
}

function toEvent(raw: LogLine | { message?: string; timestamp?: string; level?: string; source?: string }): LogEvent {
  const line = raw as { message?: string; timestamp?: string; level?: string; source?: string };
  return {
    ...(line.timestamp ? { timestamp: line.timestamp } : {}),
    ...(line.level ? { level: line.level } : {}),
    message: line.message ?? '',
    ...(line.source ? { source: line.source } : {}),
  };
}

function fromSse(data: unknown): LogEvent | undefined {
  if (typeof data === 'string') return { message: data };
  if (data && typeof data === 'object') {
    const obj = data as Record<string, unknown>;
    const message = [obj.message, obj.line, obj.msg, obj.text].find((v): v is string => typeof v === 'string');
    if (message === undefined) return undefined;
    return toEvent({
      message,
      ...(typeof obj.timestamp === 'string' ? { timestamp: obj.timestamp } : {}),
      ...(typeof obj.level === 'string' ? { level: obj.level } : {}),
      ...(typeof obj.source === 'string' ? { source: obj.source } : {}),
    });
  }
  return undefined;
}

async function resolveDeployment(target: OpsTarget, id: string | undefined): Promise<Deployment> {
  if (id) return getDeploymentById(target, id);
  const service = target.service!;
  const latest = (await serviceDeployments(target, service.id))[0];
  if (!latest) {
    throw new OdError('not_found', `${service.name} has no deployments yet, so there are no logs.`, {
      nextAction: 'Run `opendeploy` to deploy it first.',
      details: { service_id: service.id },
    });
  }
  return latest;
}

/** Keeps printed lines unique across the catch-up read, the stream replay and a reconnect. */
class LinePrinter {
  count = 0;
  lastTimestamp: string | undefined;
  private lastMs = Number.NEGATIVE_INFINITY;
  private readonly seen = new Set<string>();
  private readonly seenIds = new Set<string>();
  private readonly sinceMs: number;

  constructor(
    private readonly input: LogsInput,
  ) {
    this.sinceMs = input.since ? Date.parse(input.since) : Number.NEGATIVE_INFINITY;
  }

  /**
   * Prints the line unless it was printed already, is older than what was printed, or is filtered
   * out. `id` (a stream's event id) identifies the line exactly: an app may print the same text twice
   * in one millisecond, so lines that carry one are told apart by it rather than by their text.
   */
  print(line: LogEvent, id?: string): void {
    if (this.input.build && line.source !== 'buildctl') return;
    const key = `${line.timestamp ?? ''}\u0000${line.message}`;
    const ms = line.timestamp ? Date.parse(line.timestamp) : Number.NaN;
    if (!Number.isNaN(ms)) {
      if (ms < this.sinceMs || ms < this.lastMs) return;
      // Older lines are refused above, so only those of the newest millisecond need remembering:
      // a follow that runs for days keeps a few keys, not every line it printed.
      if (ms > this.lastMs) {
        this.seen.clear();
        this.seenIds.clear();
      }
    }
    if (id !== undefined) {
      if (this.seenIds.has(id)) return;
      this.seenIds.add(id);
    } else if (this.seen.has(key)) {
      return;
    }
    this.seen.add(key);
    if (!Number.isNaN(ms)) {
      this.lastMs = ms;
      this.lastTimestamp = line.timestamp;
    }
    this.count += 1;
    const { exec, reporter } = this.input;
    if (exec.json) reporter.log(line);
    else reporter.result({}, [formatLine(line)]);
  }
}

/** The last lines, filtered: with --build the tail applies to build lines only. */
async function readTail(input: LogsInput, id: string): Promise<LogEvent[]> {
  const response = await input.target.client.getDeploymentLogs(id, {
    tail: input.build ? MAX_TAIL : input.tail,
    ...(input.since ? { since: input.since } : {}),
  });
  const lines = response.logs.map(toEvent).filter((line) => !input.build || line.source === 'buildctl');
  return lines.slice(-input.tail);
}

/** Errors that mean the stream itself broke (worth one reconnect), not that the request is wrong. */
function isBroken(error: unknown): boolean {
  return error instanceof OdError ? error.code === 'gateway_unreachable' || error.code === 'server_error' : true;
}

/**
 * Ctrl-C while following. Reading logs changes nothing, and the message says so: people see it as a
 * plain line (the handler prints it so), programs get the `interrupted` error (exit 130).
 */
export class StoppedFollowing extends OdError {
  constructor(what: string, again: string) {
    super('interrupted', `Stopped following the logs of ${what}; nothing was changed.`, {
      retryable: true,
      nextAction: `Run \`${again}\` to follow again.`,
    });
  }
}

function interrupted(id: string, flags: readonly string[] = []): OdError {
  return new StoppedFollowing(`deployment ${id}`, commandWriter(flags)(`logs ${id} --follow`));
}

/** Statuses of a service that nothing serves (the app stopped, crashed or was never started). */
const NOT_SERVING = new Set(['stopped', 'failed', 'crashed', 'error', 'suspended', 'paused', 'pending']);

/**
 * Whether the service has a running release: its status says `running`, or — while a redeploy is
 * under way, when the status says `deploying` — a successful release is still the current one.
 */
async function hasRunningRelease(target: OpsTarget, serviceId: string): Promise<{ running: boolean; status: string | undefined }> {
  const service = await target.client.getService(serviceId);
  const status = typeof service.status === 'string' && service.status !== '' ? service.status : undefined;
  if (status === 'running') return { running: true, status };
  if (status !== undefined && NOT_SERVING.has(status)) return { running: false, status };
  const deployments = await serviceDeployments(target, serviceId);
  const marked = deployments.some((d) => field(d, 'is_current') !== undefined);
  const live = marked ? deployments.find((d) => field(d, 'is_current') === true && d.status === 'success') : deployments.find((d) => d.status === 'success');
  return { running: live !== undefined, status };
}

export async function runLogs(input: LogsInput): Promise<LogsResult> {
  const { target, reporter } = input;
  if (input.runtime !== true || input.deploymentId !== undefined || input.build) return runDeploymentLogs(input);
  const service = target.service!;
  const { running, status } = await hasRunningRelease(target, service.id);
  if (running) {
    const result = await runServiceLogs(input, service);
    if (result !== UNSERVED) return result;
    reporter.warn("This gateway does not serve the running app's output (404); showing the logs of the latest deployment instead.");
    return runDeploymentLogs(input);
  }
  reporter.info(`${service.name} has no running release${status ? ` (its status is ${status})` : ''}, so there is no app output to show; showing the logs of its latest deployment instead.`);
  const deployment = await runDeploymentLogs(input);
  if (!input.follow || deployment.status !== 'success' || deployment.deployment_id === undefined) return deployment;
  // Followed a deployment to its success: the app runs now, so keep following its output from
  // the moment the release went live (what it printed before is in the deployment's log above).
  const live = await target.client.getDeployment(deployment.deployment_id);
  reporter.info(`${service.name} is running now; following its output (Ctrl-C stops).`);
  const since = typeof live.completed_at === 'string' && !Number.isNaN(Date.parse(live.completed_at)) ? new Date(Date.parse(live.completed_at)).toISOString() : undefined;
  const result = await runServiceLogs({ ...input, ...(since ? { since } : {}) }, service);
  return result === UNSERVED ? deployment : { ...result, count: result.count + deployment.count };
}

/** The gateway has no service-logs route (404 before any line): the caller falls back to deployment logs. */
const UNSERVED = Symbol('unserved');

function isMissingRoute(error: unknown): boolean {
  return error instanceof OdError && error.code === 'not_found';
}

/** The running app's output: the last lines, or (`--follow`) a stream that only Ctrl-C ends. */
async function runServiceLogs(input: LogsInput, service: { id: string; name: string }): Promise<LogsResult | typeof UNSERVED> {
  const { target, reporter, signal } = input;
  const projectId = target.projectId;
  if (!(await registerServiceValues(target.client, projectId, service.id))) {
    reporter.warn("Could not read the service's variables to hide them; log lines may show their values.");
  }
  const printer = new LinePrinter(input);
  const stopped = (): OdError => new StoppedFollowing(service.name, commandWriter(target.targetFlags)('logs --follow'));
  const result = (): LogsResult => ({ service_id: service.id, source: 'runtime', count: printer.count });
  if (!input.follow) {
    let response;
    try {
      response = await target.client.getServiceLogs(projectId, service.id, { tail: input.tail, ...(input.since ? { since: input.since } : {}) });
    } catch (error) {
      if (isMissingRoute(error)) return UNSERVED;
      throw error;
    }
    // One read: every line is its own, even two equal ones in the same millisecond.
    response.logs.slice(-input.tail).forEach((line, index) => printer.print(toEvent(line), `read:${index}`));
    if (signal.aborted) throw stopped();
    if (printer.count === 0) reporter.info(`No output from ${service.name}${input.since ? ` since ${input.since}` : ''} yet.`);
    return result();
  }

  // The stream sends the tail/since lines first, then new ones, and has no end of its own. A break
  // is reconnected once, from the last timestamp printed; a second break with no line between stops.
  let broken: unknown;
  let reconnects = 0;
  let connections = 0;
  for (;;) {
    const since = printer.lastTimestamp ?? input.since;
    if (reconnects > 0) {
      reporter.warn(`The log stream broke (${(broken as Error | undefined)?.message ?? 'closed early'}); reconnecting once from ${printer.lastTimestamp ?? 'the start'}.`);
      const missed = await target.client.getServiceLogs(projectId, service.id, since ? { since } : { tail: input.tail });
      for (const line of missed.logs) printer.print(toEvent(line));
    }
    const countBefore = printer.count;
    try {
      const query = reconnects > 0 && since ? { since } : { tail: input.tail, ...(input.since ? { since: input.since } : {}) };
      for await (const event of target.client.streamServiceLogs(projectId, service.id, { ...query, signal })) {
        if (event.event !== 'log' && event.event !== 'message') continue;
        const line = fromSse(event.data);
        if (line) printer.print({ ...line, source: line.source ?? 'runtime' }, event.id !== undefined ? `event:${event.id}` : undefined);
      }
      if (signal.aborted) throw stopped();
      broken = new Error('the stream closed');
    } catch (error) {
      if (signal.aborted) throw stopped();
      if (connections === 0 && printer.count === 0 && isMissingRoute(error)) return UNSERVED;
      if (!isBroken(error)) throw error;
      broken = error;
    }
    connections += 1;
    // A connection that delivered new lines earns a fresh reconnect; two breaks in a row stop.
    if (printer.count > countBefore) reconnects = 0;
    reconnects += 1;
    if (reconnects > 1) {
      const reason = broken instanceof Error ? broken.message : 'it closed early';
      throw new OdError('gateway_unreachable', `The log stream of ${service.name} broke twice (${reason}); stopped following.`, {
        nextAction: 'Run `opendeploy logs` for what was written so far, or `opendeploy logs --follow` to try again.',
        details: { service_id: service.id, last_timestamp: printer.lastTimestamp ?? null, lines: printer.count },
      });
    }
  }
}

async function runDeploymentLogs(input: LogsInput): Promise<LogsResult> {
  const { target, reporter, signal } = input;
  const deployment = await resolveDeployment(target, input.deploymentId);
  const id = deployment.id;
  // Every env value of the service is scrubbed from the lines, whoever set it and when.
  const serviceId = deployment.service_id ?? target.service?.id;
  if (serviceId !== undefined && !(await registerServiceValues(target.client, deployment.project_id ?? target.projectId, serviceId))) {
    reporter.warn("Could not read the service's variables to hide them; log lines may show their values.");
  }
  const printer = new LinePrinter(input);
  for (const line of await readTail(input, id)) printer.print(line);
  if (signal.aborted) throw interrupted(id, input.target.targetFlags);
  if (!input.follow) {
    if (printer.count === 0) reporter.info(`No${input.build ? ' build' : ''} log lines for deployment ${id}${input.since ? ` since ${input.since}` : ''}.`);
    return { deployment_id: id, count: printer.count };
  }

  let finalStatus: string | undefined;
  let broken: unknown;
  for (let attempt = 0; attempt < 2 && finalStatus === undefined; attempt++) {
    if (attempt === 1) {
      reporter.warn(`The log stream broke (${(broken as Error | undefined)?.message ?? 'closed early'}); reconnecting once from ${printer.lastTimestamp ?? 'the start'}.`);
      const since = printer.lastTimestamp ?? input.since;
      const missed = await target.client.getDeploymentLogs(id, since ? { since } : { tail: input.tail });
      for (const line of missed.logs) printer.print(toEvent(line));
    }
    try {
      for await (const event of target.client.streamDeploymentLogs(id, { signal })) {
        if (event.event === 'log' || event.event === 'message') {
          const line = fromSse(event.data);
          if (line) printer.print(line);
        } else if (event.event === 'status') {
          const data = (event.data ?? {}) as { status?: unknown; progress?: unknown };
          if (typeof data.status === 'string') {
            const progress = typeof data.progress === 'number' ? data.progress : null;
            reporter.progress('logs.follow', `Deployment ${data.status}${progress !== null ? ` ${progress}%` : ''}`, { deployment_id: id, status: data.status, progress });
          }
        } else if (event.event === 'end') {
          const data = (event.data ?? {}) as { status?: unknown };
          finalStatus = typeof data.status === 'string' ? data.status : 'ended';
          break;
        }
      }
      if (signal.aborted) throw interrupted(id, input.target.targetFlags);
      if (finalStatus === undefined) {
        // Closed without an end event: over, or broken?
        const now = await target.client.getDeployment(id);
        if (isTerminal(now.status)) {
          const rest = await target.client.getDeploymentLogs(id, printer.lastTimestamp ? { since: printer.lastTimestamp } : { tail: input.tail });
          for (const line of rest.logs) printer.print(toEvent(line));
          finalStatus = now.status;
        } else {
          broken = new Error('the stream closed before the deployment finished');
        }
      }
    } catch (error) {
      if (signal.aborted) throw interrupted(id, input.target.targetFlags);
      if (!isBroken(error)) throw error;
      broken = error;
    }
  }
  // Ctrl-C that raced with the end of the stream still means "interrupted".
  if (signal.aborted) throw interrupted(id, input.target.targetFlags);
  if (finalStatus === undefined) {
    const reason = broken instanceof Error ? broken.message : 'it closed early';
    throw new OdError('gateway_unreachable', `The log stream of deployment ${id} broke twice (${reason}); stopped following.`, {
      nextAction: `Run \`opendeploy logs ${id}\` for what was written so far, or \`opendeploy logs ${id} --follow\` to try again.`,
      details: { deployment_id: id, last_timestamp: printer.lastTimestamp ?? null, lines: printer.count },
    });
  }
  reporter.info(`Deployment ${id} is ${finalStatus}.`);
  return { deployment_id: id, count: printer.count, status: finalStatus };
}
