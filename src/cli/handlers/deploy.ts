import path from 'node:path';
import { stat } from 'node:fs/promises';
import { OdError } from '../../core/errors.js';
import { shellQuote } from '../../core/text.js';
import { createDeployContext, runDeployPipeline } from '../../deploy/pipeline.js';
import { LOCAL_GATEWAY_MARKER, readProjectState } from '../../deploy/state.js';
import type { DeployInputs } from '../../deploy/context.js';
import type { GlobalOptions } from '../../core/session.js';
import { runHandler, type CommandEnv } from '../run.js';
import type { Invocation } from '../lazy.js';
import { readEnvFile } from '../options.js';
import { pollIntervalFor, resolveEnvironment } from '../../ops/connect.js';
import { resolveHome } from '../../auth/index.js';
import { selectGateway } from '../gateway-selection.js';
import { validateSubdomain } from '../../deploy/subdomain.js';
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
  dryRun?: boolean;
}

export default async function deployHandler({ args, options, io }: Invocation<DeployOptions>): Promise<number> {
  if (options.dryRun) {
    // The plan alone: it reads the folder and nothing else (no credential, gateway or local gateway).
    if (options.git) return runHandler(options, io, () => Promise.reject(new OdError('invalid_input', '--dry-run plans an upload of the folder; a --git deploy is not planned.', { nextAction: 'Drop --git to see the plan of the folder.' })));
    const { planCommand } = await import('./plan.js');
    return runHandler(options, io, (env) => planCommand(args[0] as string | undefined, options, env));
  }
  return runHandler(options, io, (env) => deployCommand(args[0] as string | undefined, options, env));
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

async function deployCommand(target: string | undefined, options: DeployOptions, { exec, reporter, session, interruptible }: CommandEnv): Promise<number> {
  const root = path.resolve(exec.cwd, target ?? '.');
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new OdError('invalid_input', `${root} is not a folder.`, { nextAction: 'Pass the path of the project folder to deploy.' });
  }
  if (options.branch && !options.git) {
    throw new OdError('invalid_input', '--branch only applies to --git deploys.', { nextAction: 'Add --git <url>, or drop --branch.' });
  }
  if (options.project) {
    // A fresh checkout of an existing project: link it first, so the deploy updates that project.
    const linkedNow = await (await import('../../ops/link.js')).linkBeforeDeploy({ session, options, root });
    if (linkedNow) reporter.info(`Linked ${root} to project ${linkedNow.project.name} (${linkedNow.project.id})`);
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
      ...(embedded?.attached ? { stopCommand: stopCommand(embedded.gateway.dataDir, options.dataDir !== undefined) } : {}),
    };
    const audit = session.audit;
    session.failureAudit = { step: 'deploy', fields: {}, include: ['message', 'status'] };
    try {
      await interruptible(async (signal) => {
        const ctx = await createDeployContext(inputs, {
          exec: { ...exec, env: runEnv, yes: exec.yes || useLocal },
          reporter,
          audit,
          signal,
          ...(useLocal ? { gatewayLabel: LOCAL_GATEWAY_MARKER } : {}),
        });
        await runDeployPipeline(ctx);
      });
      session.failureAudit = undefined;
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

/** How to stop a background local gateway; the data folder is named when the run named one. */
function stopCommand(dataDir: string, named: boolean): string {
  return shellQuote(['opendeploy', 'local-gateway', '--stop', ...(named ? ['--data-dir', dataDir] : [])]);
}
