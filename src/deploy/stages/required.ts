import { envSetCommand, listNames } from '../../ops/playbook.js';
import { missingRequiredVars, requiredVarNames } from '../required-vars.js';
import { requireClient, type DeployContext } from '../context.js';
import { dnsSafeName } from './project.js';

/**
 * Before the build starts: the variables the analysis marks required that each service will not
 * have (not from analysis defaults, databases, --env-file, nor already on a linked service), read
 * from the service itself. One warning per service naming them (names only) and how to pass them;
 * the names are kept for the failure summary and the result.
 */
export async function requiredVarsStage(ctx: DeployContext): Promise<void> {
  const client = requireClient(ctx);
  const several = ctx.state.services.length > 1;
  for (const service of ctx.analysis?.services ?? []) {
    const required = requiredVarNames(service);
    if (required.length === 0) continue;
    const link = ctx.state.services.find((candidate) => candidate.name === dnsSafeName(service.name));
    if (!link) continue;
    const stored = (await client.getService(link.service_id)).runtime_variables ?? {};
    const missing = missingRequiredVars(required, stored);
    ctx.requiredVars[link.service_id] = required;
    if (missing.length === 0) continue;
    ctx.missingRequired[link.service_id] = missing;
    const one = missing.length === 1;
    const serviceFlag = several ? ` --service ${link.name}` : '';
    ctx.audit.warn('plan.required_vars', { service_id: link.service_id, missing });
    ctx.reporter.warning(
      'missing_required_vars',
      `${link.name} will start without ${one ? 'a required variable' : `${missing.length} required variables`}: ${listNames(missing)} ` +
        `(the analysis marks ${one ? 'it' : 'them'} required; the app will likely fail without ${one ? 'it' : 'them'}). ` +
        `Pass ${one ? 'it' : 'them'} in a dotenv file with \`opendeploy --env-file <file>\`, or set ${one ? 'it' : 'them'} with ` +
        `\`${envSetCommand(missing)}${serviceFlag}\` and then \`opendeploy redeploy${serviceFlag}\`.`,
      { service: link.name, service_id: link.service_id, missing_required_vars: missing },
    );
  }
}

/** Every missing name across the services, once, sorted: the `missing_required_vars` of the result. */
export function allMissingRequired(ctx: DeployContext): string[] {
  return [...new Set(Object.values(ctx.missingRequired).flat())].sort();
}
