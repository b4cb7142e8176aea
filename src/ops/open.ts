/**
 * `opendeploy open`: which URL to open — the linked service's live URL, or with `dashboard` the
 * project's page in the dashboard. Read-only; opening a browser is the CLI's business.
 */
import { OdError } from '../core/errors.js';
import { commandWriter } from '../core/target-flags.js';
import { dashboardUrl } from '../auth/index.js';
import { serviceUrl } from './status.js';
import { localGatewayStartCommand, type OpsTarget } from './target.js';

export interface OpenTarget {
  url: string;
  kind: 'app' | 'dashboard';
  project_id: string;
  service_id: string | null;
}

export async function urlToOpen(target: OpsTarget, dashboard: boolean): Promise<OpenTarget> {
  if (dashboard) {
    return { url: dashboardUrl(target.credential.gateway, target.projectId), kind: 'dashboard', project_id: target.projectId, service_id: target.service?.id ?? null };
  }
  const service = target.service;
  if (!service) throw new OdError('internal', 'urlToOpen needs a service for the app URL.');
  const url = await serviceUrl(target, service.id);
  if (!url) {
    throw new OdError('not_found', `Service ${service.name} (${service.id}) has no URL yet.`, {
      nextAction: 'Deploy it first (`opendeploy`), or open the project page with `opendeploy open --dashboard`.',
      details: { project_id: target.projectId, service_id: service.id },
    });
  }
  return { url, kind: 'app', project_id: target.projectId, service_id: service.id };
}

/**
 * A project on the local gateway that no gateway serves: the command reached it through a gateway
 * started for itself, which stops when it returns, so the URL (`*.localhost:<port>` or its
 * dashboard page) would name a port nothing listens on. Undefined when the URL is served.
 */
export function unservedLocalUrl(target: OpsTarget, dashboard: boolean, dataDirFlag: string | undefined): OdError | undefined {
  if (!target.embedded || target.embedded.background === true) return undefined;
  const start = localGatewayStartCommand(target, dataDirFlag);
  const again = commandWriter(target.targetFlags)(dashboard ? 'open --dashboard' : 'open');
  const what = dashboard ? "the project's dashboard page" : "the project's apps";
  return new OdError('gateway_unreachable', `No local gateway is running for project ${target.projectId}, so nothing serves ${what}; nothing was opened.`, {
    retryable: false,
    nextAction: `Start it with \`${start}\` (it restarts the current releases and prints their URLs; Ctrl-C stops it), then run \`${again}\` again.`,
    details: { project_id: target.projectId, service_id: target.service?.id ?? null, local_gateway: { running: false, start_command: start } },
  });
}
