/**
 * `opendeploy mcp`: the library's operations as Model Context Protocol tools over stdio.
 *
 * stdout carries only protocol messages; human lines go to stderr. A call never prompts (an MCP
 * client cannot answer mid-call): destructive tools answer with what would change until they are
 * called with `confirm: true`. Results carry names, never variable values.
 *
 * A local gateway (`local: true`) is started once per data folder and kept for the server's life, so
 * an app deployed through one call still runs for the next (status, logs, rollback); it stops with
 * the server. The server never leaves a background gateway behind: a call cannot block on the app
 * anyway (the server, not the call, keeps it), so a local deploy does not detach as the CLI's
 * `deploy --local --json` does without a terminal. Only a background gateway that was already
 * running for the data folder (`deploy --local --detach`) outlives the server: it is used, and a
 * deploy's result names its `stop_command`.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { LocalGatewayLease, StartLocalGateway } from '../core/session.js';
import { VERSION } from '../core/version.js';
import * as schemas from './schemas.js';
import {
  analyzeTool,
  deployTool,
  deploymentsTool,
  domainCheckTool,
  portTool,
  domainRenameTool,
  envListTool,
  envSetTool,
  envUnsetTool,
  logsTool,
  openCall,
  planTool,
  redeployTool,
  rollbackConfirmArguments,
  rollbackTool,
  runTool,
  statusTool,
  triageTool,
  type Call,
  type TargetArgs,
  type ToolDeps,
  type ToolOutput,
  type ToolResult,
} from './tools.js';

/** The tool names, in the order they are listed. */
export const TOOL_NAMES = [
  'analyze',
  'plan',
  'deploy',
  'status',
  'deployments',
  'logs',
  'env_list',
  'env_set',
  'env_unset',
  'redeploy',
  'rollback',
  'triage',
  'domain_check',
  'domain_rename',
  'port',
] as const;

export interface McpServerDeps extends ToolDeps {
  /** Closes what the server keeps open (local gateways it started). */
  shutdown?: () => Promise<void>;
}

/**
 * Local gateways shared across calls: one lease per data folder and mode, released only when the
 * server stops. A tool's own `close()` of the lease is a no-op.
 */
export function sharedLocalGateways(start: StartLocalGateway): { start: StartLocalGateway; closeAll: () => Promise<void> } {
  const leases = new Map<string, Promise<LocalGatewayLease>>();
  return {
    start: async (request, env) => {
      const key = JSON.stringify([request.dataDir ?? null, request.simulate === true, request.detach === true]);
      let lease = leases.get(key);
      if (!lease) {
        lease = start(request, env);
        leases.set(key, lease);
        lease.catch(() => leases.delete(key));
      }
      const shared = await lease;
      return { url: shared.url, authFile: shared.authFile, close: async () => undefined, ...(shared.background ? { background: true } : {}) };
    },
    closeAll: async () => {
      const all = [...leases.values()];
      leases.clear();
      await Promise.all(all.map(async (lease) => (await lease.catch(() => undefined))?.close()));
    },
  };
}

type Body<A> = (call: Call & { args: A }) => Promise<ToolOutput>;

interface ToolSpec<A> {
  title: string;
  description: string;
  input: Record<string, import('zod').ZodType>;
  output: import('zod').ZodObject;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
  body: Body<A>;
  gate?: { confirmArguments?: (details: Record<string, unknown>) => Record<string, unknown> };
}

const TARGET_NOTE = 'Works on the project folder `path` (default: the server\'s working directory) and its linked project; `project`/`service`/`env`/`gateway`/`local` select another target as the CLI flags do.';

function specs(): Record<(typeof TOOL_NAMES)[number], ToolSpec<never>> {
  const spec = <A>(s: ToolSpec<A>): ToolSpec<never> => s as unknown as ToolSpec<never>;
  return {
    analyze: spec({
      title: 'Analyze a project folder',
      description: 'Detects each service of the folder (language, framework, port, build and start commands, databases, variable names) with the evidence for every field, and the archive that a deploy would upload. Local only: no credential, no network.',
      input: schemas.PathShape,
      output: schemas.AnalysisSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
      body: analyzeTool,
    }),
    plan: spec({
      title: 'Plan a deploy',
      description: 'What a deploy of the folder would do, without a credential or network: each service with language, framework, port, build and start commands and databases; the variable names with where each value would come from (analysis default, a created database, or unset); the archive\'s file count and size; the linked project, if any.',
      input: schemas.PathShape,
      output: schemas.PlanSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
      body: planTool,
    }),
    deploy: spec({
      title: 'Deploy the folder',
      description: `Runs the deploy pipeline (analyze → project → databases → service → upload → build → live URL) and returns the URL and ids. Re-running resumes and never creates a second project. ${TARGET_NOTE} Without a credential (no OPENDEPLOY_TOKEN, no stored one) it fails with auth_missing unless confirm: true allows creating a free one, as the CLI's --yes does. no_wait: true returns as soon as the deployment is created (status "started"). With local: true the app runs in the server's embedded gateway until the server stops (or, when a background local gateway already serves the data folder, until its stop_command). A failure names cause_id and a fix_command that carries the target flags.`,
      input: schemas.DeployShape,
      output: schemas.DeployResultSchema,
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
      body: deployTool,
    }),
    status: spec({
      title: 'Project status',
      description: `The linked project: services (port, resources, URL), databases, the latest deployment and the claim state. Read-only. ${TARGET_NOTE}`,
      input: schemas.TargetShape,
      output: schemas.StatusSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
      body: statusTool,
    }),
    deployments: spec({
      title: 'List deployments',
      description: `The service's deployments in the environment, newest first: status, source, created and finished time, and which one is live. Read-only. ${TARGET_NOTE}`,
      input: schemas.DeploymentsShape,
      output: schemas.DeploymentsSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
      body: deploymentsTool,
    }),
    logs: spec({
      title: 'Logs',
      description: `The last lines of logs, with timestamps; variable values are hidden. With no deployment_id: what the service's running app prints (source "runtime"; when nothing runs, its latest deployment's logs), or with runtime: false the latest deployment's logs; with deployment_id or build: that deployment's logs (source "deployment"). Read-only. ${TARGET_NOTE}`,
      input: schemas.LogsShape,
      output: schemas.LogsSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
      body: logsTool,
    }),
    env_list: spec({
      title: 'List variable names',
      description: `The names of the service's runtime variables (never their values), and how the live deployment's variables compare (same / different / missing per key, keys only it has; values compared, never returned). Read-only. ${TARGET_NOTE}`,
      input: schemas.TargetShape,
      output: schemas.EnvListSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
      body: envListTool,
    }),
    env_set: spec({
      title: 'Set variables',
      description: `Merges the given variables into the service's (other keys are kept), reads them back and verifies; the result names keys only. The running deployment keeps the old values until redeploy. ${TARGET_NOTE}`,
      input: schemas.EnvSetShape,
      output: schemas.EnvSetSchema,
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
      body: envSetTool,
    }),
    env_unset: spec({
      title: 'Remove variables',
      description: `Removes variables from the service. Without confirm: true nothing changes and the result lists what would be removed and the arguments that apply it. ${TARGET_NOTE}`,
      input: schemas.EnvUnsetShape,
      output: schemas.gated(schemas.EnvUnsetResultSchema),
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
      body: envUnsetTool,
      gate: {},
    }),
    redeploy: spec({
      title: 'Redeploy',
      description: `A new deployment of the service's current source (or of the folder \`source\`, uploaded first), watched to the end. ${TARGET_NOTE}`,
      input: schemas.RedeployShape,
      output: schemas.RedeploySchema,
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: true },
      body: redeployTool,
    }),
    rollback: spec({
      title: 'Roll back',
      description: `Rolls the service back to an earlier successful deployment (default: the one before the live release) and watches it. Without confirm: true nothing changes and the result names the current and target deployments and the arguments that apply it. ${TARGET_NOTE}`,
      input: schemas.RollbackShape,
      output: schemas.gated(schemas.RollbackResultSchema),
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
      body: rollbackTool,
      gate: { confirmArguments: rollbackConfirmArguments },
    }),
    triage: spec({
      title: 'Diagnose a deployment',
      description: `Reads a deployment's status and logs (default: the latest failure) and names the cause, the evidence and the exact fix command. Read-only. ${TARGET_NOTE}`,
      input: schemas.TriageShape,
      output: schemas.TriageSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
      body: triageTool,
    }),
    port: spec({
      title: 'Service port',
      description: `Without port: the port the service expects its app to listen on, and for a linked folder the port its analysis finds. With port: sets it (read back; a PORT variable naming the old port follows), effective with the next deployment or at once with redeploy: true. ${TARGET_NOTE}`,
      input: schemas.PortShape,
      output: schemas.PortResultSchema,
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
      body: portTool,
    }),
    domain_check: spec({
      title: 'Check a subdomain',
      description: `Whether <prefix>.opendeploy.run is available. Read-only. ${TARGET_NOTE}`,
      input: schemas.DomainShape,
      output: schemas.DomainCheckSchema,
      annotations: { readOnlyHint: true, openWorldHint: true },
      body: domainCheckTool,
    }),
    domain_rename: spec({
      title: 'Rename the generated domain',
      description: `Renames the service's generated domain to <prefix>.opendeploy.run (production only; the old URL stops answering). Without confirm: true nothing changes and the result shows the old and new name. ${TARGET_NOTE}`,
      input: schemas.DomainRenameShape,
      output: schemas.gated(schemas.DomainRenameResultSchema),
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: true },
      body: domainRenameTool,
      gate: {},
    }),
  };
}

/** The MCP server with every tool registered (not yet connected to a transport). */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer({ name: 'opendeploy', version: VERSION });
  const all = specs();
  for (const name of TOOL_NAMES) {
    const tool = all[name];
    server.registerTool(
      name,
      { title: tool.title, description: tool.description, inputSchema: tool.input, outputSchema: tool.output, annotations: tool.annotations },
      async (args: Record<string, unknown>, extra): Promise<ToolResult> => {
        const token = extra._meta?.progressToken;
        const onProgress =
          token === undefined
            ? undefined
            : (progress: number, message: string): void => {
                void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100, message } }).catch(() => undefined);
              };
        const call = openCall(deps, name, args as TargetArgs, extra.signal, onProgress);
        return runTool(call, tool.body as (call: Call) => Promise<ToolOutput>, tool.gate);
      },
    );
  }
  return server;
}

/** Serves the tools on stdin/stdout until the client closes the stream (or the process is stopped). */
export async function serveStdio(deps: McpServerDeps): Promise<void> {
  const server = createMcpServer(deps);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.connect(transport);
  deps.stderr.write(`opendeploy ${VERSION} MCP server on stdio (${TOOL_NAMES.length} tools)\n`);
  await closed;
  await server.close().catch(() => undefined);
  await deps.shutdown?.();
}
