import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OdError } from '../../src/core/errors.js';
import type { GatewayClient } from '../../src/gateway/index.js';
import { CANARY, OD_TOKEN, clientFor, failure, json, startServer, type TestServer } from './helpers.js';

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

let server: TestServer;
let reply: Reply;
let client: GatewayClient;

beforeAll(async () => {
  server = await startServer((_req, res) => json(res, reply.status, reply.body, reply.headers));
  client = clientFor(server);
});
afterAll(async () => {
  await client.close();
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const serviceBody = { name: 'web', type: 'web', cpu_limit: '2' } as const;

interface Case {
  name: string;
  reply: Reply;
  call: (c: GatewayClient) => Promise<unknown>;
  code: OdError['code'];
  exit: number;
  retryable: boolean;
  message?: string | RegExp;
  details?: Record<string, unknown>;
  requests?: number;
  nextAction?: RegExp;
}

const cases: Case[] = [
  {
    name: '401 → auth_invalid',
    reply: { status: 401, body: { error: 'invalid api key' } },
    call: (c) => c.listRegions(),
    code: 'auth_invalid',
    exit: 3,
    retryable: false,
    message: 'The gateway rejected the credential (401) on GET /v1/regions/: invalid api key.',
    nextAction: /never deletes auth\.json/,
  },
  {
    name: '403 bind_required (legacy error key) → bind_required',
    reply: { status: 403, body: { error: 'bind_required' } },
    call: (c) => c.getBilling(),
    code: 'bind_required',
    exit: 4,
    retryable: false,
    message: 'This credential is not bound to an account yet, so the gateway refused GET /v1/billing/subscription.',
    nextAction: /claim URL/,
  },
  {
    name: '403 bind_required (unified envelope error_code) → bind_required',
    reply: { status: 403, body: { error: 'forbidden', error_code: 'bind_required', message: 'bind first', retryable: false } },
    call: (c) => c.getBilling(),
    code: 'bind_required',
    exit: 4,
    retryable: false,
  },
  {
    name: '403 agent_quota_exceeded → quota_exceeded naming field, requested and limit',
    reply: { status: 403, body: { error: 'agent_quota_exceeded', field: 'cpu_limit', requested: '2', limit: '1' } },
    call: (c) => c.createService('p1', serviceBody),
    code: 'quota_exceeded',
    exit: 4,
    retryable: false,
    message: 'The gateway refused cpu_limit=2: the limit for an unclaimed credential is 1.',
    details: { field: 'cpu_limit', requested: '2', limit: '1' },
    requests: 1,
    nextAction: /lower cpu_limit to 1 or less/,
  },
  {
    name: '403 guest_quota_exceeded (newer name) → quota_exceeded',
    reply: { status: 403, body: { error: 'guest_quota_exceeded', field: 'replicas', requested: 3, limit: 1 } },
    call: (c) => c.createService('p1', { ...serviceBody, replicas: 3 }),
    code: 'quota_exceeded',
    exit: 4,
    retryable: false,
    message: 'The gateway refused replicas=3: the limit for an unclaimed credential is 1.',
    details: { field: 'replicas', requested: 3, limit: 1 },
  },
  {
    name: '403 with exceeded_resources → quota_exceeded listing them',
    reply: {
      status: 403,
      body: {
        error: 'Quota exceeded',
        exceeded_resources: [
          { resource_type: 'projects', current: 3, requested: 1, limit: 3, unit: '' },
          { resource_type: 'memory', current: 4, requested: 2, limit: 4, unit: 'GiB' },
        ],
        available_addons: [{ display_name: 'Extra project', resource_type: 'projects', quantity: 1, price: 5, currency: 'USD' }],
      },
    },
    call: (c) => c.createProject({ name: 'demo', repo_url: 'file://upload' }),
    code: 'quota_exceeded',
    exit: 4,
    retryable: false,
    message:
      'The gateway refused POST /v1/projects/: the plan quota is exhausted for projects (current 3, requested 1, limit 3); memory (current 4 GiB, requested 2 GiB, limit 4 GiB).',
    nextAction: /\/settings/,
  },
  {
    name: '403 agent_delete_forbidden → invalid_input with a dashboard hint',
    reply: { status: 403, body: { error: 'agent_delete_forbidden', message: 'deletes are dashboard-only', method: 'DELETE' } },
    call: (c) => c.getProject('p1'),
    code: 'invalid_input',
    exit: 2,
    retryable: false,
    nextAction: /dashboard at http:\/\/127\.0\.0\.1:\d+ /,
  },
  {
    name: '403 consent_required → consent_required',
    reply: { status: 403, body: { error: 'consent_required', error_code: 'consent_required', message: 'missing X-OpenDeploy-Consent' } },
    call: (c) => c.rollbackDeployment('d1'),
    code: 'consent_required',
    exit: 7,
    retryable: false,
    requests: 1,
  },
  {
    name: 'plain 403 → auth_invalid (the credential may not touch that resource)',
    reply: { status: 403, body: { error: 'forbidden' } },
    call: (c) => c.getProject('someone-elses'),
    code: 'auth_invalid',
    exit: 3,
    retryable: false,
    message: 'The gateway refused GET /v1/projects/someone-elses for this credential (403): forbidden.',
  },
  {
    name: '404 → not_found',
    reply: { status: 404, body: { error: 'project not found' } },
    call: (c) => c.getProject('nope'),
    code: 'not_found',
    exit: 1,
    retryable: false,
    message: 'The gateway has no GET /v1/projects/nope (404): project not found.',
    requests: 1,
  },
  {
    name: '404 with an empty body → not_found without a dangling quote',
    reply: { status: 404, body: '' },
    call: (c) => c.getService('gone'),
    code: 'not_found',
    exit: 1,
    retryable: false,
    message: 'The gateway has no GET /v1/services/gone (404).',
  },
  {
    name: '409 on project create for a pending agent → conflict carrying project_id',
    reply: { status: 409, body: { error: 'agent already owns a live project', project_id: 'proj-existing' } },
    call: (c) => c.createProject({ name: 'demo', repo_url: 'file://upload', skip_validation: true }),
    code: 'conflict',
    exit: 1,
    retryable: false,
    details: { project_id: 'proj-existing' },
    nextAction: /Reuse the existing project proj-existing/,
    requests: 1,
  },
  {
    name: '409 + Retry-After while extracting → conflict carrying retry_after',
    reply: { status: 409, body: { error: 'source is extracting', source_status: 'extracting' }, headers: { 'retry-after': '5' } },
    call: (c) => c.createDeployment({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/tmp/x.zip' }),
    code: 'conflict',
    exit: 1,
    retryable: true,
    details: { retry_after: 5, source_status: 'extracting' },
    requests: 1,
  },
  {
    name: '400 → invalid_input with the server text',
    reply: { status: 400, body: { error: 'CreateServiceRequest.Type: Type required' } },
    call: (c) => c.createService('p1', { name: 'web', type: '' }),
    code: 'invalid_input',
    exit: 2,
    retryable: false,
    message: 'The gateway rejected POST /v1/projects/p1/services/ (400): CreateServiceRequest.Type: Type required.',
  },
  {
    name: '400 git validation keeps available_branches/default_branch',
    reply: {
      status: 400,
      body: { error: 'Git validation failed', error_code: 'branch_not_found', error_message: 'branch dev not found', available_branches: ['main'], default_branch: 'main' },
    },
    call: (c) => c.createProject({ name: 'demo', repo_url: 'https://github.com/a/b', branch: 'dev' }),
    code: 'invalid_input',
    exit: 2,
    retryable: false,
    details: { available_branches: ['main'], default_branch: 'main', error_code: 'branch_not_found' },
  },
  {
    name: '422 → invalid_input with extraction_error',
    reply: { status: 422, body: { error: 'source extraction failed', extraction_error: 'zip: not a valid zip file' } },
    call: (c) => c.createDeployment({ project_id: 'p', service_id: 's', source: 'zip', temp_file_path: '/tmp/x.zip' }),
    code: 'invalid_input',
    exit: 2,
    retryable: false,
    details: { extraction_error: 'zip: not a valid zip file' },
  },
  {
    name: 'update-source 400 "Uploaded file not found or expired" → server_error (retryable: re-upload)',
    reply: { status: 400, body: { error: 'Uploaded file not found or expired, please upload again' } },
    call: (c) => c.updateSource({ project_id: 'p', temp_file_path: '/tmp/gone.zip' }),
    code: 'server_error',
    exit: 1,
    retryable: true,
    details: { reason: 'temp_file_expired' },
    requests: 1,
  },
  {
    name: '429 on register → rate_limited with the wait, never retried',
    reply: { status: 429, body: { error: 'rate limited' }, headers: { 'retry-after': '3540' } },
    call: (c) => c.register({ source_hint: 'opendeploy/test' }),
    code: 'rate_limited',
    exit: 4,
    retryable: true,
    message: 'The gateway is rate-limiting new credentials from this network: try again in 59 minutes.',
    details: { retry_after_seconds: 3540 },
    requests: 1,
    nextAction: /dashboard token/,
  },
  {
    name: '429 register cooldown body (retry_after_seconds, no header) → rate_limited',
    reply: { status: 429, body: { error: 'rate_limited', reason: 'ip_over_quota_retry', retry_after_seconds: 3600 } },
    call: (c) => c.register({ source_hint: 'opendeploy/test' }),
    code: 'rate_limited',
    exit: 4,
    retryable: true,
    message: 'The gateway is rate-limiting new credentials from this network: try again in 60 minutes.',
    requests: 1,
  },
  {
    name: '429 on a GET with a Retry-After beyond the cap → surfaced at once',
    reply: { status: 429, body: { error: 'slow down' }, headers: { 'retry-after': '7200' } },
    call: (c) => c.listRegions(),
    code: 'rate_limited',
    exit: 4,
    retryable: true,
    message: 'The gateway is rate-limiting GET /v1/regions/: try again in 2 hours.',
    requests: 1,
  },
  {
    name: '500 on a POST → server_error, retryable, one request',
    reply: { status: 500, body: { error: 'internal error' } },
    call: (c) => c.createProject({ name: 'demo', repo_url: 'file://upload' }),
    code: 'server_error',
    exit: 1,
    retryable: true,
    message: 'The gateway returned 500 for POST /v1/projects/: internal error.',
    details: { ambiguous: true },
    requests: 1,
  },
  {
    name: '503 on a GET → server_error after 3 attempts',
    reply: { status: 503, body: 'upstream unavailable' },
    call: (c) => c.getDeployment('d1'),
    code: 'server_error',
    exit: 1,
    retryable: true,
    message: 'The gateway returned 503 for GET /v1/deployments/d1: upstream unavailable.',
    requests: 3,
  },
  {
    name: 'other 4xx (418) → invalid_input',
    reply: { status: 418, body: { error: 'teapot' } },
    call: (c) => c.getProject('p'),
    code: 'invalid_input',
    exit: 2,
    retryable: false,
  },
];

describe('gateway error mapping', () => {
  for (const tc of cases) {
    it(tc.name, async () => {
      reply = tc.reply;
      const err = await failure(tc.call(client));
      expect(err).toBeInstanceOf(OdError);
      expect(err.code).toBe(tc.code);
      expect(err.exitCode).toBe(tc.exit);
      expect(err.retryable).toBe(tc.retryable);
      expect(err.status).toBe(tc.reply.status);
      if (typeof tc.message === 'string') expect(err.message).toBe(tc.message);
      else if (tc.message) expect(err.message).toMatch(tc.message);
      if (tc.details) expect(err.details).toMatchObject(tc.details);
      if (tc.nextAction) expect(err.nextAction).toMatch(tc.nextAction);
      expect(err.nextAction.length).toBeGreaterThan(10);
      if (tc.requests !== undefined) expect(server.requests).toHaveLength(tc.requests);
      expect(err.message).not.toMatch(/\n|at .*\.ts:\d+/);
    });
  }

  it('register is anonymous: no Authorization header even when the client holds a token', async () => {
    reply = { status: 200, body: { api_key: OD_TOKEN, agent_id: 'a1', bind_sig: 'sig123456' } };
    await client.register({ source_hint: 'opendeploy/test' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ source_hint: 'opendeploy/test' });
  });

  it('every authenticated call carries the bearer token and a User-Agent', async () => {
    reply = { status: 200, body: [] };
    await client.listRegions();
    const req = server.requests[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(req.headers['user-agent']).toMatch(/^opendeploy\/\d+\.\d+\.\d+ \(\w+; node \d+\.\d+\.\d+\)$/);
    expect(req.url).toBe('/api/v1/regions/');
  });

  it('server text in errors is scrubbed of tokens and registered secrets', async () => {
    reply = { status: 400, body: { error: `bad header Authorization: Bearer ${CANARY} and ${OD_TOKEN}` } };
    const err = await failure(client.listProjects());
    expect(err.code).toBe('invalid_input');
    expect(err.message).not.toContain(CANARY);
    expect(err.message).not.toContain(OD_TOKEN);
    expect(err.message).toContain('od_a***');
    expect(JSON.stringify(err.details)).not.toContain(CANARY);
  });

  it('a 5xx body naming an api_key is never quoted', async () => {
    reply = { status: 502, body: { error: 'proxy failed', api_key: 'plaintext-key-value' } };
    const err = await failure(client.createProject({ name: 'x', repo_url: 'file://upload' }));
    expect(err.code).toBe('server_error');
    expect(err.message).not.toContain('plaintext-key-value');
  });
});
