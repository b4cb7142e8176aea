import type { Command } from 'commander';
import { OdError } from '../../core/errors.js';
import { resolveOpsTarget, type OpsOptions } from '../../ops/target.js';
import { addDatabase, DB_ENGINES, humanDbAdd, parseEngine } from '../../ops/db.js';
import { runHandler, type RunIo } from '../run.js';
import { withInterrupt } from '../interrupt.js';

interface DbAddOptions extends OpsOptions {
  overwrite?: boolean;
  /** commander's --no-redeploy sets this to false. */
  redeploy?: boolean;
}

export function registerDb(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  const db = program.command('db').description('managed databases of the linked project');
  db.command('add <engine>')
    .description(`add a managed database (${DB_ENGINES.join(', ')}), merge its variables into the service env, and redeploy`)
    .option('--overwrite', 'replace service variables that already exist with the database values (default: keep them)')
    .option('--no-redeploy', 'only merge the variables; they reach the app with the next deployment')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .addHelpText('after', '\nExamples:\n  $ opendeploy db add postgres\n  $ opendeploy db add redis --no-redeploy --json\n')
    .action(async (engineName: string, _options: DbAddOptions, command: Command) => {
      const options = command.optsWithGlobals<DbAddOptions>();
      setExit(
        await runHandler(options, io(), async ({ exec, reporter }) => {
          const engine = parseEngine(engineName);
          const target = await resolveOpsTarget({ exec, reporter, options, needService: true });
          try {
            const result = await withInterrupt((signal) =>
              addDatabase(target, engine, {
                exec,
                reporter,
                signal,
                overwrite: options.overwrite === true,
                redeploy: options.redeploy !== false,
              }),
            );
            reporter.result(result, humanDbAdd(result, target.service!.name));
            return 0;
          } catch (error) {
            if (error instanceof OdError) target.audit.error('db.add', { project_id: target.projectId, service_id: target.service?.id ?? null, engine, error_code: error.code });
            throw error;
          } finally {
            await target.close();
          }
        }),
      );
    });
}
