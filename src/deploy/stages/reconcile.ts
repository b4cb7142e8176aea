import { OdError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import type { AnalyzedService } from '../../analyze/index.js';
import type { Service } from '../../gateway/index.js';
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
    ctx.reporter.warning(
      'port_locked',
      `The analysis finds port ${wanted} for ${link.name}, but its service is locked to port ${had} in the dashboard; leaving it at ${had}.`,
      { service: link.name, service_id: link.service_id, port: had, analysed_port: wanted },
    );
    return undefined;
  }
  const client = requireClient(ctx);
  ctx.reporter.stageStart('service.port', `Changing the port of ${link.name} to ${wanted}`);
  await client.updateService(link.service_id, { port: wanted });
  ctx.configChanged = true;
  const stored = (await client.getService(link.service_id)).port ?? null;
  if (stored !== wanted) {
    throw new OdError('server_error', `The port of service ${link.name} was changed to ${wanted}, but the gateway reads back ${stored ?? 'no port'}.`, {
      nextAction: 'Re-run the deploy; if it happens again, report it with the audit log.',
      details: { service_id: link.service_id, port: wanted, stored_port: stored },
    });
  }
  ctx.audit.info('service.port', { service_id: link.service_id, port: wanted, previous_port: had });
  ctx.reporter.stageDone(
    'service.port',
    `Service ${link.name} now expects port ${wanted}${had === null ? '' : ` (was ${had})`}, as the analysis found; read back`,
    { service_id: link.service_id, port: wanted, previous_port: had },
  );
  return { from: had, to: wanted };
}

/**
 * `--env-file` values (the user's, highest precedence) and a PORT variable that still names the old
 * port are merged into the service's variables (GET, merge, PUT: the PUT replaces the whole set).
 */
async function applyVariables(ctx: DeployContext, link: ServiceLink, current: Service, portChange: PortChange | undefined): Promise<void> {
  const stored = current.runtime_variables ?? {};
  const changes: Record<string, string> = {};
  // PORT was seeded from the old port: it follows the port, or the app would keep listening there.
  if (portChange && portChange.from !== null && stored.PORT === String(portChange.from)) changes.PORT = String(portChange.to);
  for (const [key, value] of Object.entries(ctx.inputs.userEnv)) {
    registerSecret(value);
    if (stored[key] !== value) changes[key] = value;
  }
  const keys = Object.keys(changes).sort();
  if (keys.length === 0) return;
  const client = requireClient(ctx);
  const projectId = ctx.state.project_id!;
  ctx.reporter.stageStart('service.env', `Updating ${keys.join(', ')} on ${link.name}`);
  const before = await client.getEnv(projectId, link.service_id);
  for (const value of Object.values(before)) registerSecret(value);
  await client.putEnv(projectId, link.service_id, { ...before, ...changes });
  ctx.configChanged = true;
  const after = await client.getEnv(projectId, link.service_id);
  const wrong = keys.filter((key) => after[key] !== changes[key]);
  if (wrong.length > 0) {
    throw new OdError('server_error', `The variables ${wrong.join(', ')} of service ${link.name} did not read back as sent.`, {
      nextAction: 'Re-run the deploy; if it happens again, report it with the audit log.',
      details: { service_id: link.service_id, keys: wrong },
    });
  }
  ctx.audit.info('service.env', { service_id: link.service_id, keys });
  ctx.reporter.stageDone('service.env', `Set ${keys.join(', ')} on service ${link.name}; read back`, { service_id: link.service_id, keys });
}
