/**
 * The local stand-in for the dashboard's project page: the CLI prints `<gateway origin>/projects/<id>`
 * as the project's "dashboard" link, so the local gateway answers it with a small read-only page —
 * the project, its services with their URLs, its databases and the latest deployments.
 *
 * Like the claim page it needs no credential (a browser opening a printed link has none): the
 * project id is a random UUID, and only loopback host names reach this server (guard.ts). So the
 * page shows nothing a credential would protect: no variable values, no database connection
 * details, no tokens or bind signatures, no build output. Every stored string is HTML-escaped.
 */

import type { RequestContext, Router } from '../http.js';
import { TERMINAL_STATUSES, type DeploymentRow, type ProjectRow, type ServiceRow, type State } from '../store.js';
import { escapeHtml } from '../html.js';

/** How many deployments the page lists, newest first. */
const LATEST_DEPLOYMENTS = 10;

/** Nothing on the page loads or runs anything; the inline style is the only exception. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const STYLE =
  'body{font:14px/1.5 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}' +
  'th,td{border-bottom:1px solid #ddd;padding:.25rem .75rem;text-align:left}th{font-weight:600}code{font-size:13px}.muted{color:#777}';

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · opendeploy local gateway</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function table(head: string[], rows: string[][]): string {
  const header = `<tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr>`;
  // Cells arrive escaped (some carry a link), so they are inserted as they are.
  return `<table>${header}${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</table>`;
}

/** The service's generated address in each environment, as the CLI prints it (http for `*.localhost`). */
function serviceUrls(state: State, service: ServiceRow): { environment: string; url: string }[] {
  return state.domains
    .filter((d) => d.service_id === service.id && d.type === 'auto' && d.status !== 'failed' && d.domain !== '')
    .sort((a, b) => a.environment.localeCompare(b.environment))
    .map((d) => ({ environment: d.environment, url: `${/^(?:[^/:]+\.)?localhost(?::\d+)?$/i.test(d.domain) ? 'http' : 'https'}://${d.domain}` }));
}

function linkCell(urls: { environment: string; url: string }[]): string {
  if (urls.length === 0) return '<span class="muted">no URL yet</span>';
  return urls
    .map(({ environment, url }) => `<a href="${escapeHtml(url)}" rel="noreferrer">${escapeHtml(url)}</a>${environment === 'production' ? '' : ` <span class="muted">(${escapeHtml(environment)})</span>`}`)
    .join('<br>');
}

function deploymentRows(state: State, project: ProjectRow): string[][] {
  const names = new Map(state.services.filter((s) => s.project_id === project.id).map((s) => [s.id, s.name]));
  const newest = state.deployments
    .filter((d) => d.project_id === project.id)
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, LATEST_DEPLOYMENTS);
  return newest.map((d: DeploymentRow) => [
    `<code>${escapeHtml(d.id)}</code>`,
    escapeHtml(names.get(d.service_id) ?? d.service_id),
    escapeHtml(d.environment),
    `${escapeHtml(d.status)}${TERMINAL_STATUSES.has(d.status) ? '' : ` ${d.progress}%`}`,
    escapeHtml(d.created_at),
    escapeHtml(d.completed_at ?? '—'),
    d.is_current ? 'live' : '',
  ]);
}

function projectPage(ctx: RequestContext): void {
  const state = ctx.app.store.state;
  const id = ctx.param('project_id');
  const project = state.projects.find((p) => p.id === id);
  if (!project) {
    ctx.write(
      404,
      page('Project not found', `<p>This local gateway has no project <code>${escapeHtml(id)}</code>. It may belong to another local gateway data folder, or to the hosted service.</p>`),
      PAGE_HEADERS,
    );
    return;
  }
  const services = state.services.filter((s) => s.project_id === project.id);
  const databases = state.dependencies.filter((d) => d.project_id === project.id);
  const deployments = deploymentRows(state, project);
  const body = [
    `<p>Project <code>${escapeHtml(project.id)}</code> on the local gateway (this machine), created ${escapeHtml(project.created_at)}.</p>`,
    '<h2>Services</h2>',
    services.length === 0
      ? '<p class="muted">No services yet.</p>'
      : table(
          ['Service', 'Status', 'Port', 'URL'],
          services.map((s) => [escapeHtml(s.name), escapeHtml(s.status), escapeHtml(String(s.port)), linkCell(serviceUrls(state, s))]),
        ),
    ...(databases.length === 0
      ? []
      : ['<h2>Databases</h2>', table(['Database', 'Engine', 'Status'], databases.map((d) => [escapeHtml(d.display_name || d.name), escapeHtml(d.dependency_id || d.type), escapeHtml(d.status)]))]),
    '<h2>Latest deployments</h2>',
    deployments.length === 0 ? '<p class="muted">No deployments yet.</p>' : table(['Deployment', 'Service', 'Environment', 'Status', 'Created', 'Finished', ''], deployments),
    '<p class="muted">Read-only. Variables, logs and changes: <code>opendeploy env list</code>, <code>opendeploy logs</code>, <code>opendeploy status</code> in the app folder.</p>',
  ].join('');
  ctx.write(200, page(project.name, body), PAGE_HEADERS);
}

export function registerDashboardRoutes(pages: Router): void {
  pages.add('GET', '/projects/:project_id', projectPage, { anonymous: true });
}
