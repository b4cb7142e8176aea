import path from 'node:path';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { OdError } from '../../core/errors.js';
import { createAuditLogger } from '../../audit/index.js';
import { createDeployContext, runDeployPipeline } from '../../deploy/pipeline.js';
import { LOCAL_GATEWAY_MARKER, readProjectState } from '../../deploy/state.js';
import type { DeployInputs } from '../../deploy/context.js';
import type { GlobalOptions } from '../../core/session.js';
import { runHandler, type RunIo } from '../run.js';
import { pollIntervalFor, readEnvFile, resolveEnvironment } from '../options.js';
import { resolveHome } from '../../auth/index.js';
import { selectGateway } from '../gateway-selection.js';
import { validateSubdomain } from '../../deploy/subdomain.js';
import { withInterrupt } from '../interrupt.js';
import { serveInForeground } from '../local-foreground.js';

export interface DeployOptions extends GlobalOptions {
  name?: string;
  subdomain?: string;
  git?: string;
  branch?: string;
  varsFile?: string;
  /** `--env-file`, the old name of `--vars-file` (Node 20 itself claims that flag: see bin/opendeploy.js). */
  envFile?: string;
  force?: boolean;
  dataDir?: string;
  simulate?: boolean;
  detach?: boolean;
}

export function registerDeploy(program: Command, io: () => RunIo, setExit: (code: number) => void): void {
  program
    .command('deploy [path]', { isDefault: true })
    .description('deploy a folder (first deploy, or a new-source redeploy of a linked folder)')
    .option('--name <name>', 'project name (default: from the package manifest or folder name)')
    .option('--subdomain <prefix>', 'claim <prefix>.opendeploy.run after a successful deploy (production only)')
    .option('--git <url>', 'deploy a Git repository instead of uploading the folder')
    .option('--branch <branch>', 'branch for --git (default: main)')
    .option('--vars-file <file>', 'runtime variables for the service, in dotenv format (highest precedence)')
    .option('--env-file <file>', 'the same as --vars-file (older name)')
    .option('--force', 're-upload the source even when it is unchanged since the last upload')
    .option('--data-dir <dir>', 'with --local: where the embedded gateway keeps its state')
    .option('--simulate', 'with --local: simulate the build instead of running the app on this machine')
    .option('--detach', 'with --local: run the app in a background local gateway and return once it is live')
    .addHelpText(
      'after',
      '\nExamples:\n  $ opendeploy                      deploy the current folder\n  $ opendeploy ./api --subdomain my-api\n  $ opendeploy --local              run it on this machine at http://<name>.localhost:<port>/ until Ctrl-C\n  $ opendeploy --local --detach     the same, in a background local gateway\n',
    )
    .action(async (target: string | undefined, _options: DeployOptions, command: Command) => {
      const options = command.optsWithGlobals<DeployOptions>();
      setExit(await runHandler(options, io(), (env) => deployCommand(target, options, env)));
    });
}

/** `--vars-file`, or its older name `--env-file`; naming two different files is a usage error. */
function chooseVarsFile(options: DeployOptions): string | undefined {
  if (options.varsFile !== undefined && options.envFile !== undefined && options.varsFile !== options.envFile) {
    throw new OdError('invalid_input', '--vars-file and --env-file name the same option, but two different files were given.', {
      nextAction: 'Pass one file with --vars-file.',
    });
  }
  return options.varsFile ?? options.envFile;
}

async function deployCommand(target: string | undefined, options: DeployOptions, { exec, reporter }: Parameters<Parameters<typeof runHandler>[2]>[0]): Promise<number> {
  const root = path.resolve(exec.cwd, target ?? '.');
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new OdError('invalid_input', `${root} is not a folder.`, { nextAction: 'Pass the path of the project folder to deploy.' });
  }
  if (options.branch && !options.git) {
    throw new OdError('invalid_input', '--branch only applies to --git deploys.', { nextAction: 'Add --git <url>, or drop --branch.' });
  }
  const linked = await readProjectState(root);
  const environment = resolveEnvironment(options.env, exec.env, linked?.environment);
  const home = resolveHome(exec.env);
  const varsFile = chooseVarsFile(options);
  const userEnv = varsFile ? await readEnvFile(path.resolve(exec.cwd, varsFile)) : {};
  if (options.subdomain) validateSubdomain(options.subdomain);

  const { useLocal, embedded, env: runEnv, flagGateway, flagAuthFile } = await selectGateway(options, exec.env, linked);
  try {
    if (embedded) {
      const how = embedded.attached ? 'Using the running local gateway' : embedded.gateway.simulate ? 'Using a simulating local gateway' : 'Using the local gateway';
      reporter.info(`${how} at ${embedded.gateway.url} (data in ${embedded.gateway.dataDir})`);
    }
    const inputs: DeployInputs = {
      root,
      environment,
      userEnv,
      ...(varsFile ? { envFilePath: path.resolve(exec.cwd, varsFile) } : {}),
      force: options.force === true,
      home,
      pollIntervalMs: pollIntervalFor(flagGateway ?? runEnv.OD_GATEWAY ?? (linked?.gateway !== LOCAL_GATEWAY_MARKER ? linked?.gateway : undefined)),
      domainWaitMs: 30_000,
      ...(options.name ? { name: options.name } : {}),
      ...(options.subdomain ? { subdomain: options.subdomain } : {}),
      ...(options.git ? { git: { url: options.git, ...(options.branch ? { branch: options.branch } : {}) } } : {}),
      ...(runEnv.OD_REGION_ID ? { regionId: runEnv.OD_REGION_ID } : {}),
      ...(flagAuthFile ? { flagAuthFile } : {}),
      ...(flagGateway ? { flagGateway } : {}),
    };
    const audit = createAuditLogger({ home });
    try {
      await withInterrupt(async (signal) => {
        const ctx = await createDeployContext(inputs, {
          exec: { ...exec, env: runEnv, yes: exec.yes || useLocal },
          reporter,
          audit,
          signal,
          ...(useLocal ? { gatewayLabel: LOCAL_GATEWAY_MARKER } : {}),
        });
        await runDeployPipeline(ctx);
      });
    } catch (error) {
      if (error instanceof OdError) audit.error('deploy', { error_code: error.code, message: error.message, status: error.status ?? null });
      throw error;
    } finally {
      await audit.flush();
    }
    // The app lives as long as the in-process gateway: stay in the foreground serving it until Ctrl-C.
    if (embedded && !embedded.attached && !embedded.gateway.simulate) await serveInForeground(embedded.gateway, reporter);
    return 0;
  } finally {
    await embedded?.gateway.close();
  }
}
