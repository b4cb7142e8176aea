import { startLocalGateway, type LocalGateway } from '../../src/local-gateway/index.js';
import { tempDir } from './tmp.js';

export interface TestGateway {
  gateway: LocalGateway;
  /** http://127.0.0.1:<port> (no /api): where the test-only control endpoints live. */
  origin: string;
  url: string;
  fault(spec: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  requests(): Promise<RecordedRequest[]>;
  clearRequests(): Promise<void>;
  nextDeployment(spec: Record<string, unknown>): Promise<void>;
  /** Binds a pending agent; like the claim page, it needs the agent's bind_sig. */
  bindAgent(agentId: string, bindSig: string): Promise<void>;
  state(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query?: Record<string, string> | string;
  status: number;
  has_auth: boolean;
  user_agent?: string;
  consent?: string;
  json?: Record<string, unknown>;
  form_fields?: string[];
}

/** A control call: every POST is JSON (the gateway refuses anything else), GETs have no body. */
async function control(origin: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const post = method === 'POST';
  const response = await fetch(`${origin}${route}`, {
    method,
    headers: post ? { 'content-type': 'application/json' } : {},
    ...(post ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  if (!response.ok) throw new Error(`control ${method} ${route} → ${response.status}: ${await response.text()}`);
  const text = await response.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** A real local gateway on 127.0.0.1:0 with its own temp data folder and fast simulated builds (`simulate: true`). */
export async function startTestGateway(options: { buildDurationMs?: number; dependencyProvisionMs?: number; registerLimitPerHour?: number } = {}): Promise<TestGateway> {
  const dataDir = await tempDir('od-gw-');
  const gateway = await startLocalGateway({
    port: 0,
    dataDir,
    simulate: true,
    buildDurationMs: options.buildDurationMs ?? 300,
    ...(options.dependencyProvisionMs !== undefined ? { dependencyProvisionMs: options.dependencyProvisionMs } : {}),
    ...(options.registerLimitPerHour !== undefined ? { registerLimitPerHour: options.registerLimitPerHour } : {}),
  });
  const origin = gateway.url.replace(/\/api$/, '');
  return {
    gateway,
    origin,
    url: gateway.url,
    fault: async (spec) => {
      await control(origin, 'POST', '/__local/faults', spec);
    },
    clearFaults: async () => {
      await control(origin, 'POST', '/__local/faults/clear');
    },
    requests: async () => gateway.inspect().requests as unknown as RecordedRequest[],
    clearRequests: async () => {
      await control(origin, 'POST', '/__local/requests/clear');
    },
    nextDeployment: async (spec) => {
      await control(origin, 'POST', '/__local/next-deployment', spec);
    },
    bindAgent: async (agentId, bindSig) => {
      await control(origin, 'POST', `/__local/agents/${agentId}/bind`, { bind_sig: bindSig });
    },
    // In-process: the HTTP dump redacts values and signatures, these assertions need them.
    state: async () => gateway.inspect().state,
    close: () => gateway.close(),
  };
}
