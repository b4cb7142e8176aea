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
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      const json = argv.includes('--json');
      const message = error.message.replace(/^error:\s*/i, '');
      const [{ runHandler }, { OdError }] = await Promise.all([import('./run.js'), import('../core/errors.js')]);
      return runHandler({ json }, io, async () => {
        throw new OdError('invalid_input', `${capitalise(message)}${message.endsWith('.') ? '' : '.'}`, {
          nextAction: 'Run `opendeploy --help` for usage.',
        });
      });
    }
    throw error;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `--version` / `-v`, alone or with `--json`: answered before commander is even loaded. */
function versionOnly(argv: string[]): 'text' | 'json' | undefined {
  const rest = argv.filter((arg) => arg !== '--json');
  if (rest.length !== 1 || (rest[0] !== '--version' && rest[0] !== '-v')) return undefined;
  return rest.length === argv.length ? 'text' : 'json';
}
