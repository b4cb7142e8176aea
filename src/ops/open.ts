/**
 * `opendeploy open`: which URL to open — the linked service's live URL, or with `dashboard` the
 * project's page in the dashboard. Read-only; opening a browser is the CLI's business.
 */
import { OdError } from '../core/errors.js';
import { dashboardUrl } from '../auth/index.js';
import { serviceUrl } from './status.js';
import type { OpsTarget } from './target.js';

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
