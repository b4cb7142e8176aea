/**
 * `opendeploy port [<n>]`: the port the linked service expects its app to listen on. Without a
 * number it reads the service (and, for a linked folder, what the analysis finds there); with one it
 * writes the port through the same PUT and read-back as a deploy's reconcile. The running release
 * keeps its port: the change takes effect with the next deployment.
 */
import { OdError } from '../core/errors.js';
import { commandWriter } from '../core/target-flags.js';
import { shellQuote } from '../core/text.js';
import type { ExecutionContext } from '../core/session.js';
import type { Reporter } from '../core/reporter.js';
import { analyzeFolder } from '../analyze/folder.js';
import { dnsSafeName } from '../deploy/stages/project.js';
import { mergeServiceVariables, portVariableChange, writeServicePort } from '../deploy/stages/reconcile.js';
import { refuseChangeAfterRollback } from './live-source.js';
import { newerSourceAfterRollback, redeploy } from './redeploy.js';
import type { OpsTarget } from './target.js';

export interface PortResult {
  status: 'success';
  project_id: string;
  service_id: string;
  service: string;
  /** `show` without a number; `set` with one. */
  action: 'show' | 'set';
  /** The service's port, as read back after a change. */
  port: number | null;
  /** Whether the port is locked in the dashboard (a deploy then leaves it alone). */
  locked: boolean;
  /** `show` of a linked folder: the port its analysis finds (null when it finds none or the folder is not linked). */
  analysed_port?: number | null;
  /** `set`: the port before, whether a request changed it, and the variables that followed it. */
  previous_port?: number | null;
  changed?: boolean;
  variables_changed?: string[];
  redeployed?: boolean;
  /**
   * `set` without --redeploy after a rollback to an older upload: a plain redeploy refuses there, so
   * this is the command that deploys the newer source with the new port.
   */
  newer_source_command?: string;
  deployment_id?: string | null;
  url?: string | null;
  [key: string]: unknown;
}

/** `<n>` as a TCP port, checked before anything is resolved or sent. */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OdError('invalid_input', `"${text}" is not a port: give a whole number from 1 to 65535.`, {
      nextAction: 'For example: opendeploy port 8080',
      details: { port: text },
    });
  }
  return port;
}

function serviceOf(target: OpsTarget): { id: string; name: string } {
  if (!target.service) throw new OdError('internal', 'port needs a resolved service.');
  return target.service;
}

/**
 * What the analysis of the linked folder finds for this service: the service a deploy would match
 * (same DNS-safe name). Null when the folder is not linked to this project or no port is found; an
 * analysis that fails leaves it null too, since the service's own port is what was asked.
 */
async function analysedPort(target: OpsTarget, serviceName: string): Promise<number | null> {
  if (target.state?.project_id !== target.projectId) return null;
  try {
    const { analysis } = await analyzeFolder(target.root, { cwd: target.root });
    return analysis.services.find((service) => dnsSafeName(service.name) === serviceName)?.port ?? null;
  } catch (error) {
    if (error instanceof OdError) return null;
    throw error;
  }
}

export async function showPort(target: OpsTarget): Promise<PortResult> {
  const service = serviceOf(target);
  const row = await target.client.getService(service.id);
  return {
    status: 'success',
    project_id: target.projectId,
    service_id: service.id,
    service: service.name,
    action: 'show',
    port: row.port ?? null,
    locked: row.port_locked === true,
    analysed_port: await analysedPort(target, service.name),
  };
}

export interface SetPortOptions {
  /** Start a deployment of the current source after the change. */
  redeploy?: { exec: ExecutionContext; reporter: Reporter; signal: AbortSignal };
}

const RETRY = 'Run the same command again; if it happens again, report it with the audit log.';

export async function setPort(target: OpsTarget, port: number, options: SetPortOptions = {}): Promise<PortResult> {
  const service = serviceOf(target);
  const flags = target.targetFlags ?? [];
  // Refused before anything changes: a redeploy after a rollback would build the newer source.
  if (options.redeploy) {
    const check = await newerSourceAfterRollback(target, flags);
    if (check) {
      throw refuseChangeAfterRollback(check, {
        serviceName: service.name,
        change: `setting the port to ${port}`,
        withoutRedeploy: shellQuote(['opendeploy', 'port', String(port), ...flags]),
      });
    }
  }
  const row = await target.client.getService(service.id);
  const previous = row.port ?? null;
  const base = { status: 'success' as const, project_id: target.projectId, service_id: service.id, service: service.name, action: 'set' as const, locked: row.port_locked === true };
  let changed = false;
  let variables: string[] = [];
  if (previous !== port) {
    await writeServicePort(target.client, target.audit, service, port, previous, RETRY, { project_id: target.projectId, by: 'hand' });
    changed = true;
    const follow = portVariableChange(row.runtime_variables ?? {}, previous, port);
    variables = Object.keys(follow);
    if (variables.length > 0) {
      await mergeServiceVariables(target.client, target.projectId, service, follow, RETRY);
      target.audit.info('service.env', { project_id: target.projectId, service_id: service.id, keys: variables });
    }
  }
  if (!options.redeploy) {
    const newer = changed ? await newerSourceAfterRollback(target, flags).catch(() => undefined) : undefined;
    return {
      ...base,
      port,
      previous_port: previous,
      changed,
      variables_changed: variables,
      redeployed: false,
      ...(newer ? { newer_source_command: newer.next.command } : {}),
      deployment_id: null,
      url: null,
    };
  }
  const deployed = await redeploy(target, { ...options.redeploy, resume: false });
  return { ...base, port, previous_port: previous, changed, variables_changed: variables, redeployed: true, deployment_id: deployed.deployment_id, url: deployed.url };
}

export function humanPort(result: PortResult, flags: readonly string[] = []): string[] {
  const od = commandWriter(flags);
  const who = `Service ${result.service} (${result.service_id})`;
  const locked = result.locked ? ' (locked in the dashboard)' : '';
  if (result.action === 'show') {
    const lines = [`${who} expects port ${result.port ?? '(none set)'}${locked}.`];
    const analysed = result.analysed_port ?? null;
    if (analysed !== null && analysed !== result.port) {
      lines.push(`  The analysis of this folder finds port ${analysed}.`);
      lines.push(
        result.locked
          ? `  A deploy leaves a locked port alone; to use ${analysed}, run \`${od(`port ${analysed}`)}\`.`
          : `  The next deploy of this folder (\`${od()}\`) sets it to ${analysed}; to set it now, run \`${od(`port ${analysed}`)}\`.`,
      );
    }
    return lines;
  }
  const lines: string[] = [];
  if (!result.changed) lines.push(`${who} already expects port ${result.port}${locked}; nothing changed.`);
  else lines.push(`${who} now expects port ${result.port}${result.previous_port === null || result.previous_port === undefined ? '' : ` (was ${result.previous_port})`}; read back.`);
  if (result.variables_changed && result.variables_changed.length > 0) {
    lines.push(`  PORT named the old port: it is ${result.port} now as well; read back.`);
  }
  if (result.redeployed) {
    lines.push(`  Redeployed: deployment ${result.deployment_id} → ${result.url ?? '(the generated domain is not ready yet; run `opendeploy status` shortly)'}`);
  } else if (result.changed && result.newer_source_command) {
    lines.push(
      `  The running release is a rollback and keeps its port; \`opendeploy redeploy\` refuses after that rollback (the project's current source is newer): to deploy the newer source with this port, run \`${result.newer_source_command}\`.`,
    );
  } else if (result.changed) {
    lines.push(`  The running release keeps its port until the next deployment: run \`${od('redeploy')}\` to apply it now.`);
  }
  return lines;
}
