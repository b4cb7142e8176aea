import { envSetCommand, listNames } from '../../diagnose/playbook.js';
import { commandWriter } from '../../core/target-flags.js';
import { missingRequiredVars, requiredVarNames } from '../../diagnose/required-vars.js';
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
    ctx.audit.warn('plan.required_vars', { service_id: link.service_id, missing });
    ctx.reporter.warning(
      'missing_required_vars',
      missingVarsWarning(link.name, missing, several, ctx.inputs.targetFlags),
      { service: link.name, service_id: link.service_id, missing_required_vars: missing },
    );
  }
}

/** Every missing name across the services, once, sorted: the `missing_required_vars` of the result. */
export function allMissingRequired(ctx: DeployContext): string[] {
  return [...new Set(Object.values(ctx.missingRequired).flat())].sort();
}

/** The warning: names only, and the two ways to pass them (both commands parse, see test/ops/fix-commands.test.ts). */
export function missingVarsWarning(serviceName: string, missing: readonly string[], severalServices: boolean, targetFlags: readonly string[] = []): string {
  const one = missing.length === 1;
  const them = one ? 'it' : 'them';
  // The day-2 commands act on the same target as this deploy: its flags, plus the service's name
  // when the project has several and the run did not name one.
  const flags = severalServices && !targetFlags.includes('--service') ? [...targetFlags, '--service', serviceName] : [...targetFlags];
  const od = commandWriter(flags);
  return (
    `${serviceName} will start without ${one ? 'a required variable' : `${missing.length} required variables`}: ${listNames(missing)} ` +
    `(the analysis marks ${them} required; the app will likely fail without ${them}). ` +
    `Pass ${them} in a dotenv file with \`${commandWriter(targetFlags)('--vars-file <file>')}\`, or set ${them} with ` +
    `\`${envSetCommand(missing, od)}\` and then \`${od('redeploy')}\`.`
  );
}
