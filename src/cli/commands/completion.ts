import type { Command } from 'commander';
import { Argument } from '../commander.js';
import { globalOptionsHelp } from '../flags.js';
import { lazyAction, type Wiring } from '../lazy.js';

export function registerCompletion(program: Command, wiring: Wiring): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, subcommands and options) for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', globalOptionsHelp([]))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ source <(opendeploy completion bash)                          this shell only\n' +
        '  $ opendeploy completion bash > ~/.local/share/bash-completion/completions/opendeploy\n' +
        '  $ opendeploy completion zsh > "${fpath[1]}/_opendeploy"\n' +
        '  $ opendeploy completion fish > ~/.config/fish/completions/opendeploy.fish\n',
    )
    .action(lazyAction(wiring, async () => (await import('../handlers/completion.js')).default));
}
