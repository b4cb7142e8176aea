import { OdError } from '../../core/errors.js';
import { connectCredential } from '../connect.js';
import type { DeployContext } from '../context.js';
import { LOCAL_GATEWAY_MARKER } from '../state.js';

/**
 * Stage 1: find or mint the credential, then prove it works with `GET /v1/regions/` (the only
 * sanity check that works for pending agents too) and learn whether it is bound.
 */
export async function authStage(ctx: DeployContext): Promise<void> {
  ctx.reporter.stageStart('auth.resolve', 'Resolving credential');
  const { credential, client, regions, bound } = await connectCredential({
    resolve: {
      env: ctx.exec.env,
      flagAuthFile: ctx.inputs.flagAuthFile,
      flagGateway: ctx.inputs.flagGateway,
      projectGateway: ctx.resumed && ctx.state.gateway !== LOCAL_GATEWAY_MARKER ? ctx.state.gateway : undefined,
      home: ctx.inputs.home,
      interactive: ctx.exec.interactive,
      yes: ctx.exec.yes,
      audit: ctx.audit,
      warn: (message: string) => ctx.reporter.warn(message),
    },
    debug: (line) => ctx.reporter.debug(line),
    beforeRequests: (resolved) => {
      ctx.credential = resolved;
      ctx.gatewayUrl = resolved.gateway;
      assertSameGateway(ctx);
    },
  });
  ctx.client = client;
  ctx.bound = bound;
  ctx.reporter.debug(`gateway ${credential.gateway}`);

  const region = pickRegion(regions, ctx.inputs.regionId);
  ctx.region = region;
  ctx.audit.info('region.pick', { region_id: region.id, region: region.name });

  // A real local gateway mints its own od_k key: it is not a dashboard token, so it is not called one.
  const local = ctx.gatewayLabel === LOCAL_GATEWAY_MARKER;
  const who = credential.kind === 'pat' ? (local ? 'local gateway key' : 'dashboard token') : ctx.bound ? 'claimed credential' : 'unclaimed local credential';
  const how = credential.fresh ? 'created a free' : credential.source === 'env' ? 'using OPENDEPLOY_TOKEN,' : 'using saved';
  ctx.reporter.stageDone('auth.resolve', `Credential ready (${how} ${who}), region ${region.name}`, {
    credential_source: credential.source,
    credential_kind: credential.kind,
    bound: ctx.bound,
    region_id: region.id,
  });
}

/** Saved ids only mean something on the gateway that issued them. */
function assertSameGateway(ctx: DeployContext): void {
  const label = ctx.gatewayLabel === LOCAL_GATEWAY_MARKER ? LOCAL_GATEWAY_MARKER : ctx.gatewayUrl;
  ctx.gatewayLabel = label;
  if (ctx.resumed && ctx.state.project_id && ctx.state.gateway !== label) {
    throw new OdError(
      'conflict',
      `This folder is linked to project ${ctx.state.project_id} on ${describeGateway(ctx.state.gateway)}, but this run uses ${describeGateway(label)}.`,
      {
        nextAction:
          ctx.state.gateway === LOCAL_GATEWAY_MARKER
            ? 'Add --local to keep using the local gateway, or move .opendeploy/project.json away to deploy this folder as a new project.'
            : `Pass --gateway ${ctx.state.gateway} to keep using it, or move .opendeploy/project.json away to deploy this folder as a new project.`,
      },
    );
  }
  ctx.state.gateway = label;
}

function describeGateway(label: string): string {
  return label === LOCAL_GATEWAY_MARKER ? 'the local gateway' : label;
}

export function pickRegion<T extends { id: string; name?: string | null; status?: string | null }>(
  regions: T[],
  wanted: string | undefined,
): T & { name: string } {
  if (wanted) {
    const match = regions.find((region) => region.id === wanted || region.name === wanted);
    if (!match) {
      throw new OdError('invalid_input', `Region ${wanted} (from OD_REGION_ID) is not offered by this gateway.`, {
        nextAction: `Unset OD_REGION_ID, or set it to one of: ${regions.map((r) => r.name ?? r.id).join(', ')}.`,
      });
    }
    return { ...match, name: match.name ?? match.id };
  }
  const active = regions.find((region) => region.status === 'active');
  if (!active) {
    throw new OdError('server_error', 'The gateway reports no active region, so there is nowhere to deploy right now.', {
      nextAction: 'Try again later; if it persists, contact hi@opendeploy.dev.',
    });
  }
  return { ...active, name: active.name ?? active.id };
}

