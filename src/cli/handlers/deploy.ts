import path from 'node:path';
import { stat } from 'node:fs/promises';
import { OdError } from '../../core/errors.js';
import { shellQuote } from '../../core/text.js';
import { targetFlags } from '../../core/target-flags.js';
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
import { embeddedOptionsFromEnv } from '../local.js';
import { createReporter } from '../output/index.js';

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
  foreground?: boolean;
  /** Commander's `--no-wait`: false when given. */
  wait?: boolean;
  output?: string;
  dryRun?: boolean;
}

export default async function deployHandler({ args, options, io }: Invocation<DeployOptions>): Promise<number> {
  const misuse = outputMisuse(options);
  if (misuse) return runHandler(options, io, () => Promise.reject(misuse));
  if (options.dryRun) {
    // The plan alone: it reads the folder and nothing else (no credential, gateway or local gateway).
    if (options.git) return runHandler(options, io, () => Promise.reject(new OdError('invalid_input', '--dry-run plans an upload of the folder; a --git deploy is not planned.', { nextAction: 'Drop --git to see the plan of the folder.' })));
    const { planCommand } = await import('./plan.js');
    return runHandler(options, io, (env) => planCommand(args[0] as string | undefined, options, env));
  }
  return runHandler(options, io, (env) => deployCommand(args[0] as string | undefined, options, env));
}

/**
 * `--output url` makes stdout the URL alone. A `--json` stream already carries the URL in its
 * result, and mixing the two would break one of them: refused, like a run that has no URL to print.
 */
function outputMisuse(options: DeployOptions): OdError | undefined {
  if (options.output === undefined) return undefined;
  const refuse = (message: string, nextAction: string): OdError => new OdError('invalid_input', message, { nextAction });
  if (options.output !== 'url') return refuse(`--output accepts "url", not "${options.output}".`, 'Pass --output url, or drop --output.');
  if (options.json) return refuse('--output url and --json both claim stdout.', 'Drop --output url: the JSON result carries the URL in its "url" field.');
  if (options.wait === false) return refuse('--output url prints the live URL, which --no-wait does not wait for.', 'Drop --no-wait, or drop --output url.');
  if (options.dryRun) return refuse('--output url prints the live URL, and --dry-run deploys nothing.', 'Drop --output url to see the plan.');
  return undefined;
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

async function deployCommand(target: string | undefined, options: DeployOptions, { exec, reporter: runReporter, streams, session, interruptible }: CommandEnv): Promise<number> {
  // `--output url`: the whole human report goes to stderr, and stdout gets the URL line alone.
  const urlOnly = options.output === 'url';
  const reporter = urlOnly ? createReporter(exec, { stdout: streams.stderr, stderr: streams.stderr }) : runReporter;
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

  // A `--local --json` run with nobody at a terminal (an agent, CI) would serve the app in the
  // foreground until killed: it detaches instead. A simulated build ends with the run anyway.
  const simulated = options.simulate === true || embeddedOptionsFromEnv(exec.env).simulate === true;
  const autoDetach = options.local === true && exec.json && !exec.interactive && !options.detach && !options.foreground && !simulated;
  const gatewayOptions = autoDetach ? { ...options, detach: true } : options;
  const { useLocal, embedded, env: runEnv, flagGateway, flagAuthFile } = await selectGateway(gatewayOptions, exec.env, linked);
  if (options.wait === false && embedded && !embedded.attached) {
    await embedded.gateway.close();
    throw new OdError('invalid_input', '--no-wait returns before the deployment ends, but this local gateway stops when the command does.', {
      nextAction: 'Add --detach to run the app in a background local gateway.',
    });
  }
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
      ...(autoDetach ? { detached: true } : {}),
      ...(options.wait === false ? { noWait: true } : {}),
      targetFlags: targetFlags(options),
    };
    const audit = session.audit;
    session.failureAudit = { step: 'deploy', fields: {}, include: ['message', 'status'] };
    let liveUrl: string | undefined;
    try {
      await interruptible(async (signal) => {
        const ctx = await createDeployContext(inputs, {
          exec: { ...exec, env: runEnv, yes: exec.yes || useLocal },
          reporter,
          audit,
          signal,
          ...(useLocal ? { gatewayLabel: LOCAL_GATEWAY_MARKER } : {}),
        });
        // Remembered in local.json, so later commands in this folder reach the same local gateway.
        if (embedded && options.dataDir !== undefined) ctx.state.data_dir = embedded.gateway.dataDir;
        await runDeployPipeline(ctx);
        liveUrl = ctx.url;
      });
      session.failureAudit = undefined;
    } finally {
      if (urlOnly) reporter.close();
      await audit.flush();
    }
    if (urlOnly) {
      if (liveUrl) streams.stdout.write(`${liveUrl}\n`);
      else reporter.warn('The deployment succeeded, but its URL is not known yet, so stdout stays empty; `opendeploy status` shows it shortly.');
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
