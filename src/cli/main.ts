import { VERSION } from '../core/version.js';
import { defaultIo, type RunIo } from './io.js';

/** Entry point used by bin/opendeploy.js. Returns the exit code; never calls process.exit itself. */
export async function main(argv: string[], io: RunIo = defaultIo()): Promise<number> {
  // The one answer that needs no command table: agents and scripts ask for it often.
  const version = versionOnly(argv);
  if (version !== undefined) {
    io.streams.stdout.write(version === 'json' ? `${JSON.stringify({ type: 'result', name: 'opendeploy', version: VERSION })}\n` : `${VERSION}\n`);
    return 0;
  }
  const { buildProgram, CommanderError } = await import('./program.js');
  const json = argv.includes('--json');
  let exitCode = 0;
  const program = await buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    { json },
    argv,
  );
  const { unknownCommand, unknownSubcommand } = await import('./suggest.js');
  const unknown = unknownCommand(argv, program, io.cwd);
  if (unknown) {
    return usageError(io, json, `"${unknown.operand}" is neither a command nor a folder here.`, [
      unknown.suggestion ? `Did you mean \`opendeploy ${unknown.suggestion}\`?` : 'Run `opendeploy --help` for the commands.',
      `To deploy a folder, pass its path (./${unknown.operand}).`,
    ]);
  }
  const unknownSub = unknownSubcommand(argv, program);
  if (unknownSub) {
    const { group, operand, suggestion, subcommands } = unknownSub;
    return usageError(io, json, `Unknown command \`${group} ${operand}\`.`, [
      suggestion
        ? `Did you mean \`opendeploy ${group} ${suggestion}\`?`
        : `\`opendeploy ${group}\` has the subcommands ${subcommands.join(', ')}; run \`opendeploy ${group} --help\` for usage.`,
    ]);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') {
        // A command group without its subcommand: its help went to stderr (human mode); it is still a usage error.
        const group = program.commands.find((command) => argv.includes(command.name()));
        const subcommands = group?.commands.map((command) => command.name()) ?? [];
        return usageError(io, json, `\`opendeploy ${group?.name() ?? ''}\` needs a subcommand${subcommands.length ? `: ${subcommands.join(', ')}` : ''}.`, [
          `Run \`opendeploy ${group?.name() ?? ''} --help\` for usage.`,
        ]);
      }
      // commander appends "\n(Did you mean x?)" to unknown subcommands and options: one sentence each.
      const [, text = error.message, suggestion] = /^(?:error:\s*)?([\s\S]*?)(?:\s*\(Did you mean (.+)\?\))?$/i.exec(error.message) ?? [];
      const message = text.replace(/^error:\s*/i, '').trim();
      const { capitalise } = await import('../core/text.js');
      return usageError(io, json, `${capitalise(message)}${message.endsWith('.') ? '' : '.'}`, [
        suggestion ? `Did you mean ${suggestion}?` : 'Run `opendeploy --help` for usage.',
      ]);
    }
    throw error;
  }
}

/** Usage errors go through the same JSON-aware error path as every command's errors (exit code 2). */
async function usageError(io: RunIo, json: boolean, message: string, next: string[]): Promise<number> {
  const [{ runHandler }, { OdError }] = await Promise.all([import('./run.js'), import('../core/errors.js')]);
  return runHandler({ json }, io, async () => {
    throw new OdError('invalid_input', message, { nextAction: next.join(' ') });
  });
}

/** `--version` / `-v`, alone or with `--json`: answered before commander is even loaded. */
function versionOnly(argv: string[]): 'text' | 'json' | undefined {
  const rest = argv.filter((arg) => arg !== '--json');
  if (rest.length !== 1 || (rest[0] !== '--version' && rest[0] !== '-v')) return undefined;
  return rest.length === argv.length ? 'text' : 'json';
}
