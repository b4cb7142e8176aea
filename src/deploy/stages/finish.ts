import { claimUrl, dashboardUrl } from '../../auth/index.js';
import { shellQuote } from '../../core/text.js';
import { requireClient, type DeployContext } from '../context.js';
import { saveState } from '../persist.js';
import { renameAutoDomain, urlOf, waitForAutoDomain } from '../subdomain.js';
import { allMissingRequired } from './required.js';

/** Stage 13: claim the requested subdomain (production only) — after success, never after a failure. */
export async function subdomainStage(ctx: DeployContext): Promise<void> {
  const prefix = ctx.inputs.subdomain;
  const link = ctx.state.services[0];
  if (!prefix || !link) return;
  if (ctx.inputs.environment === 'staging') {
    ctx.reporter.warn(`Subdomain renames are production-only on OpenDeploy, so the staging deploy keeps its generated domain (asked for "${prefix}").`);
    return;
  }
  const client = requireClient(ctx);
  ctx.reporter.stageStart('domain.rename', `Claiming ${prefix}`);
  const domain = await waitForAutoDomain(client, link.service_id, ctx.inputs.environment, ctx.inputs.domainWaitMs, ctx.signal);
  if (!domain) {
    ctx.reporter.warn(`The generated domain did not appear within 30 s, so the subdomain was not renamed; run \`opendeploy domain rename ${prefix}\` later.`);
    return;
  }
  const renamed = await renameAutoDomain(client, domain, prefix);
  ctx.url = urlOf(renamed.domain);
  ctx.audit.info('domain.rename', { service_id: link.service_id, domain_id: domain.id, subdomain: renamed.prefix, suffixed: renamed.suffixed });
  ctx.reporter.stageDone(
    'domain.rename',
    renamed.suffixed ? `"${prefix}" was taken; claimed ${ctx.url} instead` : `Claimed ${ctx.url}`,
    { subdomain: renamed.prefix, url: ctx.url },
  );
}

export interface DeployResult {
  status: 'success';
  project_id: string;
  service_id: string;
  deployment_id: string;
  url: string | null;
  claim_url: string | null;
  dashboard_url: string;
  /** Required variables (names) the services do not have; the deploy warned about them before the build. */
  missing_required_vars: string[];
  /** With a background local gateway: the command that stops it (and the app). */
  stop_command?: string;
  /** True when a `--local --json` run with no terminal attached detached on its own. */
  detached?: boolean;
  [key: string]: unknown;
}

/** Stage 14: the live URL, the dashboard, and — only for an unclaimed credential — the claim URL. */
export async function reportStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const link = ctx.state.services[0]!;
  if (!ctx.url) {
    // The deployment already succeeded: a failed domain read is a warning, never a failed deploy
    // (a re-run would otherwise start another deployment just to read the URL).
    const domain = await waitForAutoDomain(client, link.service_id, ctx.inputs.environment, ctx.inputs.domainWaitMs, ctx.signal).catch((error: unknown) => {
      if (ctx.signal.aborted) throw error;
      ctx.reporter.warn(`Deployment succeeded, but its generated domain could not be read (${error instanceof Error ? error.message.replace(/\.$/, '') : String(error)}); \`opendeploy status\` shows it.`);
      return undefined;
    });
    if (domain) ctx.url = urlOf(domain);
  }
  const projectId = ctx.state.project_id!;
  const deploymentId = ctx.state.last_deployment?.id ?? '';
  const { dashboard, claim, missing, background } = reportFacts(ctx, projectId, ctx.url);
  if (ctx.url) ctx.state.url = ctx.url;
  await saveState(ctx);
  ctx.audit.info('report', { project_id: projectId, service_id: link.service_id, deployment_id: deploymentId, url: ctx.url ?? null, bound: ctx.bound ?? null });

  const result: DeployResult = {
    status: 'success',
    project_id: projectId,
    service_id: link.service_id,
    deployment_id: deploymentId,
    url: ctx.url ?? null,
    claim_url: claim,
    dashboard_url: dashboard,
    missing_required_vars: missing,
    ...background,
  };
  const lines = [
    '',
    `Deployed ${ctx.state.project_name ?? ''} → ${ctx.url ?? '(the generated domain is not ready yet; run `opendeploy status` shortly)'}`,
    `  project     ${projectId}`,
    `  service     ${link.name}  ${link.service_id}`,
    `  deployment  ${deploymentId}  success`,
  ];
  for (const dep of ctx.state.dependencies) lines.push(`  database    ${dep.engine}  ${dep.dependency_id}`);
  lines.push(`  dashboard   ${dashboard}`);
  if (missing.length > 0) lines.push(`  not set     ${missing.join(', ')} (required by the analysis; see the warning above)`);
  if (ctx.inputs.stopCommand) lines.push(`  stop        ${ctx.inputs.stopCommand}  (the app keeps running in the background local gateway until then)`);
  if (claim) {
    lines.push(
      '',
      `  claim       ${claim}`,
      '  This project runs on an unclaimed credential: open the claim URL and sign in within 6 hours,',
      '  or it is removed after 6 idle hours (your local credential is kept).',
    );
  }
  ctx.reporter.result(result, lines, claim ? [claim] : []);
}

export interface StartedResult {
  status: 'started';
  project_id: string;
  service_id: string;
  deployment_id: string;
  /** The deployment's own status when this run left it (queued, building, …). */
  deployment_status: string;
  /** Streams the deployment's logs until it ends; carries this run's target flags. */
  follow_command: string;
  claim_url: string | null;
  dashboard_url: string;
  missing_required_vars: string[];
  stop_command?: string;
  /** True when a `--local --json` run with no terminal attached detached on its own. */
  detached?: boolean;
  [key: string]: unknown;
}

/** `--no-wait`: the deployment exists and is saved in the link; say how to follow it, and stop. */
export async function startedReportStage(ctx: DeployContext): Promise<void> {
  const started = ctx.started!;
  const projectId = ctx.state.project_id!;
  const link = ctx.state.services.find((s) => s.service_id === started.serviceId) ?? ctx.state.services[0]!;
  const follow = shellQuote(['opendeploy', 'logs', started.deploymentId, '--follow', ...(ctx.inputs.targetFlags ?? [])]);
  const { dashboard, claim, missing, background } = reportFacts(ctx, projectId, undefined);
  ctx.audit.info('report', { project_id: projectId, service_id: started.serviceId, deployment_id: started.deploymentId, status: 'started' });
  const result: StartedResult = {
    status: 'started',
    project_id: projectId,
    service_id: started.serviceId,
    deployment_id: started.deploymentId,
    deployment_status: started.status,
    follow_command: follow,
    claim_url: claim,
    dashboard_url: dashboard,
    missing_required_vars: missing,
    ...background,
  };
  const lines = [
    '',
    `Started deployment ${started.deploymentId} of ${ctx.state.project_name ?? ''} (not waiting for it)`,
    `  project     ${projectId}`,
    `  service     ${link.name}  ${started.serviceId}`,
    `  deployment  ${started.deploymentId}  ${started.status}`,
    `  dashboard   ${dashboard}`,
  ];
  if (missing.length > 0) lines.push(`  not set     ${missing.join(', ')} (required by the analysis; see the warning above)`);
  if (ctx.inputs.stopCommand) lines.push(`  stop        ${ctx.inputs.stopCommand}  (the app keeps running in the background local gateway until then)`);
  lines.push(`  follow      ${follow}`, '  Running `opendeploy` again on the unchanged folder also follows it instead of starting another deployment.');
  if (claim) lines.push('', `  claim       ${claim}`, '  This project runs on an unclaimed credential: open the claim URL and sign in within 6 hours.');
  ctx.reporter.result(result, lines, claim ? [claim] : []);
}

/** What both reports carry: the dashboard and claim links, unset required variables, the background gateway. */
function reportFacts(
  ctx: DeployContext,
  projectId: string,
  url: string | undefined,
): { dashboard: string; claim: string | null; missing: string[]; background: { stop_command?: string; detached?: true } } {
  const credential = ctx.credential!;
  return {
    dashboard: dashboardUrl(credential.gateway, projectId),
    claim: ctx.bound === false && credential.agentId && credential.bindSig ? claimUrl(credential.gateway, credential.agentId, credential.bindSig, url) : null,
    missing: allMissingRequired(ctx),
    background: {
      ...(ctx.inputs.stopCommand ? { stop_command: ctx.inputs.stopCommand } : {}),
      ...(ctx.inputs.detached ? { detached: true as const } : {}),
    },
  };
}
