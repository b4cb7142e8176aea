import { linkProject, unlinkProject } from '../../ops/link.js';
import type { OpsOptions } from '../../ops/target.js';
import { displayPath } from '../../auth/index.js';
import { runHandler } from '../run.js';
import type { Invocation } from '../lazy.js';

export async function link({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  return runHandler(options, io, async ({ reporter, session }) => {
    const result = await linkProject({ session, options, ...(args[0] ? { root: args[0] as string } : {}) });
    const human = [
      `Linked ${displayPath(result.file)} to project ${result.project.name} (${result.project.id}), ${result.environment}.`,
      result.service
        ? `Service ${result.service.name} (${result.service.id}): \`opendeploy status\`, \`opendeploy logs\` and \`opendeploy\` (deploy) now act on it.`
        : 'The project has no services yet: the next `opendeploy` (deploy) creates them.',
    ];
    if (result.replaced) human.push(`(It was linked to project ${result.replaced}.)`);
    reporter.result(
      {
        linked: true,
        file: result.file,
        project: result.project,
        service: result.service,
        environment: result.environment,
        gateway: result.gateway,
        replaced: result.replaced,
      },
      human,
    );
    return 0;
  });
}

export async function unlink({ args, options, io }: Invocation<OpsOptions>): Promise<number> {
  return runHandler(options, io, async ({ reporter, session }) => {
    const result = await unlinkProject({ session, ...(args[0] ? { root: args[0] as string } : {}) });
    const human = result.removed
      ? [`Removed ${displayPath(result.file)}${result.project_id ? ` (project ${result.project_id} and its services are unchanged)` : ''}.`]
      : [`${displayPath(result.file)} does not exist: this folder is not linked, nothing to do.`];
    reporter.result({ unlinked: result.removed, file: result.file, project_id: result.project_id }, human);
    return 0;
  });
}
