import { OdError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import type { AnalyzedService } from '../../analyze/index.js';
import type { GatewayClient, Service } from '../../gateway/index.js';
import type { AuditLogger } from '../../audit/index.js';
import { commandWriter } from '../../core/target-flags.js';
import { requireClient, type DeployContext } from '../context.js';
import type { ServiceLink } from '../state.js';

/**
 * A re-deploy of a linked folder reuses its service, so what changed in the folder since must reach
 * that service explicitly: the port the analysis now finds, and the variables of `--env-file`.
 * Each change is written, then read back before it is reported.
 */
export async function reconcileLinkedService(ctx: DeployContext, link: ServiceLink, service: AnalyzedService): Promise<void> {
  const current = await requireClient(ctx).getService(link.service_id);
  const portChange = await reconcilePort(ctx, link, service, current);
  await applyVariables(ctx, link, current, portChange);
}

interface PortChange {
  from: number | null;
  to: number;
}

/** The analysed port wins over the service's, unless the port is locked in the dashboard. */
async function reconcilePort(ctx: DeployContext, link: ServiceLink, service: AnalyzedService, current: Service): Promise<PortChange | undefined> {
  const wanted = service.port;
  const had = current.port ?? null;
  if (wanted === null || had === wanted) return undefined;
  if (current.port_locked === true) {
    // The command that sets it anyway, for this service through the same gateway as this run.
    const flags = [...(ctx.inputs.targetFlags ?? []), ...(ctx.state.services.length > 1 ? ['--service', link.name] : [])];
    ctx.reporter.warning(
      'port_locked',
      `The analysis finds port ${wanted} for ${link.name}, but its service is locked to port ${had} in the dashboard; leaving it at ${had}. To use ${wanted}, run \`${commandWriter(flags)(`port ${wanted}`)}\`.`,
      { service: link.name, service_id: link.service_id, port: had, analysed_port: wanted },
    );
    return undefined;
  }
  ctx.reporter.stageStart('service.port', `Changing the port of ${link.name} to ${wanted}`);
  await writeServicePort(requireClient(ctx), ctx.audit, { id: link.service_id, name: link.name }, wanted, had, RETRY_DEPLOY);
  ctx.configChanged = true;
  ctx.reporter.stageDone(
    'service.port',
    `Service ${link.name} now expects port ${wanted}${had === null ? '' : ` (was ${had})`}, as the analysis found; read back`,
    { service_id: link.service_id, port: wanted, previous_port: had },
  );
  return { from: had, to: wanted };
}

const RETRY_DEPLOY = 'Re-run the deploy; if it happens again, report it with the audit log.';

/**
 * `PUT /v1/services/:id {port}`, then `GET` the service back: the port is reported as changed only
 * once the service row holds it (otherwise `server_error` naming both ports). One audit line
 * `service.port`. Shared by the deploy's reconcile and `opendeploy port`.
 */
export async function writeServicePort(
  client: GatewayClient,
  audit: AuditLogger,
  service: { id: string; name: string },
  port: number,
  previous: number | null,
  retry: string,
  auditFields: Record<string, unknown> = {},
): Promise<void> {
  await client.updateService(service.id, { port });
  const stored = (await client.getService(service.id)).port ?? null;
  if (stored !== port) {
    throw new OdError('server_error', `The port of service ${service.name} was changed to ${port}, but the gateway reads back ${stored ?? 'no port'}.`, {
      nextAction: retry,
      details: { service_id: service.id, port, stored_port: stored },
    });
  }
  audit.info('service.port', { ...auditFields, service_id: service.id, port, previous_port: previous });
}

/** PORT was seeded from the old port: it follows the port, or the app would keep listening there. */
export function portVariableChange(stored: Record<string, string>, from: number | null, to: number): Record<string, string> {
  return from !== null && stored.PORT === String(from) ? { PORT: String(to) } : {};
}

/**
 * Merges `changes` into the service's variables (GET, merge, PUT: the PUT replaces the whole set),
 * then reads them back: `server_error` naming the keys that did not arrive as sent.
 */
export async function mergeServiceVariables(
  client: GatewayClient,
  projectId: string,
  service: { id: string; name: string },
  changes: Record<string, string>,
  retry: string,
): Promise<void> {
  const before = await client.getEnv(projectId, service.id);
  for (const value of Object.values(before)) registerSecret(value);
  await client.putEnv(projectId, service.id, { ...before, ...changes });
  const after = await client.getEnv(projectId, service.id);
  const wrong = Object.keys(changes)
    .sort()
    .filter((key) => after[key] !== changes[key]);
  if (wrong.length > 0) {
    throw new OdError('server_error', `The variables ${wrong.join(', ')} of service ${service.name} did not read back as sent.`, {
      nextAction: retry,
      details: { service_id: service.id, keys: wrong },
    });
  }
}

/**
 * `--env-file` values (the user's, highest precedence) and a PORT variable that still names the old
 * port are merged into the service's variables (GET, merge, PUT: the PUT replaces the whole set).
 */
async function applyVariables(ctx: DeployContext, link: ServiceLink, current: Service, portChange: PortChange | undefined): Promise<void> {
  const stored = current.runtime_variables ?? {};
  const changes: Record<string, string> = portChange ? portVariableChange(stored, portChange.from, portChange.to) : {};
  for (const [key, value] of Object.entries(ctx.inputs.userEnv)) {
    registerSecret(value);
    if (stored[key] !== value) changes[key] = value;
  }
  const keys = Object.keys(changes).sort();
  if (keys.length === 0) return;
  ctx.reporter.stageStart('service.env', `Updating ${keys.join(', ')} on ${link.name}`);
  await mergeServiceVariables(requireClient(ctx), ctx.state.project_id!, { id: link.service_id, name: link.name }, changes, RETRY_DEPLOY);
  ctx.configChanged = true;
  ctx.audit.info('service.env', { service_id: link.service_id, keys });
  ctx.reporter.stageDone('service.env', `Set ${keys.join(', ')} on service ${link.name}; read back`, { service_id: link.service_id, keys });
}
