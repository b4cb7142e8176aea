import type { Command } from 'commander';
import { dataDirOption, globalOptionsHelp, TARGET_GLOBALS } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerMcp(program: Command, wiring: Wiring): void {
  program
    .command('mcp')
    .description('serve the operations as Model Context Protocol tools on stdio (for AI agents)')
    .addOption(dataDirOption())
    .addHelpText('after', globalOptionsHelp(TARGET_GLOBALS))
    .addHelpText(
      'after',
      [
        '',
        'Tools: analyze, plan, deploy, status, deployments, logs, env_list, env_set, env_unset, redeploy,',
        'rollback, triage, domain_check, domain_rename. Destructive ones (env_unset, rollback, domain_rename)',
        'change nothing until called with confirm: true; results name variables, never their values.',
        '--gateway, --auth-file, --env, --project, --service, --local and --data-dir given here are the',
        "defaults of every call (a call's own arguments win).",
        '',
        'Examples:',
        '  $ claude mcp add opendeploy -- npx opendeploy mcp',
        '  $ opendeploy mcp --local          every call uses the embedded local gateway',
        '',
      ].join('\n'),
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/mcp.js')).default));
}
