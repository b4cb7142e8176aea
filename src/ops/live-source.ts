/**
 * Which source the next `opendeploy redeploy` builds, once the live release is a rollback.
 *
 * A new deployment always builds the project's bound source (the last upload bound by
 * update-source); the archive path a deployment carries is only a hint. After a rollback to an
 * older upload, the live release therefore runs a source that a plain redeploy cannot rebuild:
 * binding the older archive again needs its parked upload (collected after a few hours, and an
 * expired one can be answered "already up to date" while the newer source stays bound) and would
 * change the bound source of every service of the project. So a plain redeploy refuses in that
 * case, and both commands say how to deploy the newer source on purpose.
 */
import { OdError } from '../core/errors.js';
import { shellQuote } from '../core/text.js';
import type { Deployment } from '../gateway/index.js';
import type { OpsTarget } from './target.js';

export interface NextRedeploySource {
  /**
   * `live_release`: a plain redeploy rebuilds the source the live release runs.
   * `newer_source`: the bound source is newer than the live release's; a plain redeploy refuses and
   * `command` deploys the newer source.
   */
  source: 'live_release' | 'newer_source';
  /** The deployment whose source the next redeploy builds (null when no deployment shows it). */
  deployment_id: string | null;
  /** The command that redeploys it. */
  command: string;
}

/** What the live release (a rollback) runs against what a plain redeploy would build. */
export interface LiveSourceCheck {
  next: NextRedeploySource;
  /** The live rollback deployment and the release whose build it runs. */
  live: { deployment_id: string; runs: string };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * `undefined` when the live release is not a rollback (then the bound source is the one to
 * rebuild, e.g. after a failed deploy of a newer source). `flags` are the run's target flags.
 */
export async function checkLiveSource(target: OpsTarget, deployments: Deployment[], live: Deployment | undefined, flags: string[]): Promise<LiveSourceCheck | undefined> {
  const runs = live ? str((live as Record<string, unknown>)['rollback_from']) : undefined;
  if (!live || !runs) return undefined;
  const fieldOf = (d: Deployment, name: string): string | undefined => str((d as Record<string, unknown>)[name]);
  const linked = target.state?.project_id === target.projectId ? target.state : undefined;

  // The bound source path is the exact signal; the archive path is the fallback when the gateway
  // shows no source path on its rows.
  const liveSourcePath = fieldOf(live, 'source_path');
  const boundSourcePath = liveSourcePath ? str((await target.client.getProject(target.projectId)).source_path) : undefined;
  // Rows built from an upload (not rollbacks), newest first.
  const built = deployments.filter((d) => !str((d as Record<string, unknown>)['rollback_from']));
  let same: boolean;
  let newest: Deployment | undefined;
  if (liveSourcePath && boundSourcePath) {
    same = liveSourcePath === boundSourcePath;
    newest = built.find((d) => fieldOf(d, 'source_path') === boundSourcePath);
  } else {
    const nextArchive = linked?.last_temp_file_path ?? (built[0] ? fieldOf(built[0], 'temp_file_path') : undefined);
    const liveArchive = fieldOf(live, 'temp_file_path');
    same = !nextArchive || !liveArchive || nextArchive === liveArchive;
    newest = nextArchive ? built.find((d) => fieldOf(d, 'temp_file_path') === nextArchive) : undefined;
  }
  if (same) {
    return { live: { deployment_id: live.id, runs }, next: { source: 'live_release', deployment_id: live.id, command: shellQuote(['opendeploy', 'redeploy', ...flags]) } };
  }
  // Without a linked folder the newer source's folder is not known here: a placeholder names it.
  const sourceArg = linked ? target.root : '<folder of the newer source>';
  return {
    live: { deployment_id: live.id, runs },
    next: { source: 'newer_source', deployment_id: newest?.id ?? null, command: shellQuote(['opendeploy', 'redeploy', '--source', sourceArg, ...flags]) },
  };
}

/**
 * The refusal of a command whose change is followed by a redeploy (`db add`, `env rotate`) when
 * that redeploy would build the newer bound source and undo the rollback. It is raised before the
 * change is made, so nothing is left half-done; it names the command that makes the change without
 * the redeploy and the one that deploys the newer source on purpose.
 */
export function refuseChangeAfterRollback(check: LiveSourceCheck, args: { serviceName: string; change: string; withoutRedeploy: string }): OdError {
  const newer = check.next.deployment_id ? ` (deployment ${check.next.deployment_id})` : '';
  return new OdError(
    'conflict',
    `The live release of ${args.serviceName} is rollback deployment ${check.live.deployment_id}, which runs the source of deployment ${check.live.runs}; the project's current source is newer${newer}. The redeploy after ${args.change} could only build the current source, so it would undo the rollback; nothing was changed or deployed.`,
    {
      nextAction: `To make the change without the redeploy, run \`${args.withoutRedeploy}\` (the rolled-back release keeps running with its current values); to deploy the newer source with it, then run \`${check.next.command}\`.`,
      details: {
        live_deployment: check.live.deployment_id,
        live_runs: check.live.runs,
        newer_deployment: check.next.deployment_id,
        command: check.next.command,
        change_command: args.withoutRedeploy,
      },
    },
  );
}
