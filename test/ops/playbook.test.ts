import { describe, expect, it } from 'vitest';
import {
  envKeyFrom,
  listeningPort,
  matchHealthyDeployment,
  matchPlaybook,
  nextMemoryLimit,
  PLAYBOOK,
  type PlaybookFacts,
} from '../../src/diagnose/playbook.js';
import { diagnoseFailure } from '../../src/diagnose/failure.js';

/** A failed runtime deployment of a claimed service on port 3000 with PORT=3000 and no databases. */
function runtime(extra: Partial<PlaybookFacts> = {}): PlaybookFacts {
  return {
    status: 'failed',
    progress: 90,
    lastPhase: 'deploying',
    bound: true,
    service: { port: 3000, memoryLimit: '1Gi', envKeys: ['PORT', 'NODE_ENV'], portEnv: '3000', startCommand: 'node server.js', buildCommand: 'npm run build' },
    dependencies: [],
    ...extra,
  };
}

interface Row {
  name: string;
  facts: PlaybookFacts;
  lines: string[];
  id: string | null;
  code: string;
  cause: string;
  detail?: string;
  evidence: string[];
  fix: string | null;
}

const ROWS: Row[] = [
  {
    name: 'D1 source never bound (progress 10, no logs)',
    facts: { status: 'failed', progress: 10, error_msg: 'Service failed to deploy', lastPhase: 'pending' },
    lines: [],
    id: 'D1',
    code: 'deploy_failed',
    cause: 'the source was never bound to the project (update-source was skipped, failed, or its upload expired)',
    evidence: ['progress=10, error_msg="Service failed to deploy", no log lines'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'B1 quota with field and limit',
    facts: runtime({ bound: false }),
    lines: ['Error creating pod: 403 agent_quota_exceeded field=memory_limit requested=2Gi limit=1Gi'],
    id: 'B1',
    code: 'deploy_failed',
    cause: 'the deployment asked for more than the account allows',
    detail: 'memory_limit is over its limit of 1Gi',
    evidence: ['Error creating pod: 403 agent_quota_exceeded field=memory_limit requested=2Gi limit=1Gi'],
    fix: 'opendeploy resize --memory 1Gi',
  },
  {
    name: 'B1 Kubernetes resource quota',
    facts: runtime(),
    lines: ['pods "web-1" is forbidden: exceeded quota: guest-claims, requested: limits.cpu=2, used: limits.cpu=0, limited: limits.cpu=1'],
    id: 'B1',
    code: 'deploy_failed',
    cause: 'the deployment asked for more than the account allows',
    detail: 'cpu is over its limit of 1',
    evidence: ['pods "web-1" is forbidden: exceeded quota: guest-claims, requested: limits.cpu=2, used: limits.cpu=0, limited: limits.cpu=1'],
    fix: 'opendeploy resize --cpu 1',
  },
  {
    name: 'OOM doubles the memory limit',
    facts: runtime(),
    lines: ['Container started', 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory', 'Back-off restarting failed container'],
    id: 'OOM',
    code: 'runtime_crash',
    cause: 'the app ran out of memory',
    detail: 'the memory limit is 1Gi',
    evidence: ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'],
    fix: 'opendeploy resize --memory 2Gi',
  },
  {
    name: 'F15 migrations never ran',
    facts: runtime(),
    lines: ['Listening on port 3000', 'PrismaClientKnownRequestError: Invalid `prisma.user.findMany()` invocation: The table `public.User` does not exist in the current database. (P2021)'],
    id: 'F15',
    code: 'runtime_crash',
    cause: 'the database schema was never migrated',
    detail: 'table public.User does not exist',
    evidence: ['PrismaClientKnownRequestError: Invalid `prisma.user.findMany()` invocation: The table `public.User` does not exist in the current database. (P2021)'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'G17 missing env var, key extracted',
    facts: runtime(),
    lines: ['Container started', 'Error: Missing required environment variable: STRIPE_SECRET_KEY', 'Back-off restarting failed container'],
    id: 'G17',
    code: 'runtime_crash',
    cause: 'a required environment variable is missing',
    detail: 'STRIPE_SECRET_KEY is not set',
    evidence: ['Error: Missing required environment variable: STRIPE_SECRET_KEY'],
    fix: 'opendeploy env set STRIPE_SECRET_KEY=...',
  },
  {
    name: 'G17 Python KeyError',
    facts: runtime(),
    lines: ['Traceback (most recent call last):', '  File "/app/app.py", line 4, in <module>', "KeyError: 'SECRET_KEY'"],
    id: 'G17',
    code: 'runtime_crash',
    cause: 'a required environment variable is missing',
    detail: 'SECRET_KEY is not set',
    evidence: ["KeyError: 'SECRET_KEY'"],
    fix: 'opendeploy env set SECRET_KEY=...',
  },
  {
    name: 'F13 the key is set but rejected',
    facts: runtime({ service: { port: 3000, envKeys: ['PORT', 'APP_URL'], portEnv: '3000' } }),
    lines: ['Error: environment variable APP_URL is required and must be a valid URL'],
    id: 'F13',
    code: 'runtime_crash',
    cause: 'a required environment variable is missing',
    detail: 'APP_URL is set on the service but the app rejects its value',
    evidence: ['Error: environment variable APP_URL is required and must be a valid URL'],
    fix: 'opendeploy env set APP_URL=...',
  },
  {
    name: 'G2 database not running yet',
    facts: runtime({ dependencies: [{ engine: 'postgres', id: 'dep-1', status: 'provisioning' }] }),
    lines: ['Error: connect ECONNREFUSED 10.0.3.7:5432'],
    id: 'G2',
    code: 'runtime_crash',
    cause: 'the app could not reach its database',
    detail: 'the postgres database dep-1 is provisioning, not running',
    evidence: ['Error: connect ECONNREFUSED 10.0.3.7:5432', 'dependency postgres dep-1: status provisioning'],
    fix: 'opendeploy redeploy',
  },
  {
    name: 'G2 database still starting up',
    facts: runtime({ dependencies: [{ engine: 'postgres', id: 'dep-1', status: 'running' }] }),
    lines: ['error: the database system is starting up'],
    id: 'G2',
    code: 'runtime_crash',
    cause: 'the app could not reach its database',
    detail: 'the database was not ready when the app started',
    evidence: ['error: the database system is starting up'],
    fix: 'opendeploy redeploy',
  },
  {
    name: 'G3 the project has no such database',
    facts: runtime(),
    lines: ['Error: connect ECONNREFUSED 127.0.0.1:5432'],
    id: 'G3',
    code: 'runtime_crash',
    cause: 'the app could not reach its database',
    detail: 'the app expects a postgres database, and the project has none',
    evidence: ['Error: connect ECONNREFUSED 127.0.0.1:5432'],
    fix: 'opendeploy db add postgres',
  },
  {
    name: 'F1 app listens elsewhere and PORT is not set',
    facts: runtime({ service: { port: 8080, envKeys: [], portEnv: null } }),
    lines: ['Server listening on http://0.0.0.0:3000', 'Readiness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused'],
    id: 'F1',
    code: 'runtime_crash',
    cause: 'the app did not answer on the port the service expects',
    detail: 'it listens on 3000, the service expects 8080; PORT is not set',
    evidence: ['Server listening on http://0.0.0.0:3000', 'Readiness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused'],
    fix: 'opendeploy env set PORT=8080',
  },
  {
    name: 'F2 a static server on 80',
    facts: runtime({ service: { port: 3000, envKeys: ['PORT'], portEnv: '3000' } }),
    lines: ['nginx: listening on port 80', 'Readiness probe failed: connection refused'],
    id: 'F2',
    code: 'runtime_crash',
    cause: 'the app did not answer on the port the service expects',
    detail: 'it listens on 80, the service expects 3000',
    evidence: ['nginx: listening on port 80', 'Readiness probe failed: connection refused'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'F3 the service expects 80',
    facts: runtime({ service: { port: 80, envKeys: ['PORT'], portEnv: '80' } }),
    lines: ['App running at http://localhost:3000/', 'Liveness probe failed: Get "http://10.0.0.9:80/": connection refused'],
    id: 'F3',
    code: 'runtime_crash',
    cause: 'the app did not answer on the port the service expects',
    detail: 'it listens on 3000, the service expects 80',
    evidence: ['App running at http://localhost:3000/', 'Liveness probe failed: Get "http://10.0.0.9:80/": connection refused'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'F4 the app ignores PORT',
    facts: runtime({ service: { port: 8080, envKeys: ['PORT'], portEnv: '8080' } }),
    lines: ['Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)', 'Readiness probe failed: connection refused'],
    id: 'F4',
    code: 'runtime_crash',
    cause: 'the app did not answer on the port the service expects',
    detail: 'it listens on 8000, the service expects 8080; it ignores PORT=8080',
    evidence: ['Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)', 'Readiness probe failed: connection refused'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'E1 build failure quotes the failing line',
    facts: { status: 'failed', progress: 50, lastPhase: 'building', service: { buildCommand: 'npm run build' } },
    lines: ['#6 [3/5] RUN npm ci', '#6 DONE 3.2s', 'npm ERR! missing script: build'],
    id: 'E1',
    code: 'build_failed',
    cause: 'the build command failed',
    evidence: ['npm ERR! missing script: build'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'PM1 the package manager the project asks for cannot be installed',
    facts: { status: 'failed', progress: 30, lastPhase: 'building' },
    lines: ['Installing pnpm 9.1.0', 'Could not install pnpm 9.1.0 (packageManager) from the npm registry: 404 Not Found'],
    id: 'PM1',
    code: 'build_failed',
    cause: 'the package manager could not be installed',
    detail: 'pnpm 9.1.0 (packageManager): 404 Not Found',
    evidence: ['Could not install pnpm 9.1.0 (packageManager) from the npm registry: 404 Not Found'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'F9 missing module',
    facts: runtime(),
    lines: ['node:internal/modules/cjs/loader:1228', "Error: Cannot find module 'express'", 'Back-off restarting failed container'],
    id: 'F9',
    code: 'runtime_crash',
    cause: 'the app crashed while starting',
    detail: 'the module express is missing from the image',
    evidence: ["Error: Cannot find module 'express'"],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'F9 missing Python module',
    facts: runtime(),
    lines: ["ModuleNotFoundError: No module named 'flask'"],
    id: 'F9',
    code: 'runtime_crash',
    cause: 'the app crashed while starting',
    detail: 'the module flask is missing from the image',
    evidence: ["ModuleNotFoundError: No module named 'flask'"],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'F6 crash loop quotes the exception before it',
    facts: runtime(),
    lines: ['Container started: node server.js', 'TypeError: Cannot read properties of undefined (reading \'split\')', '    at Object.<anonymous> (/app/server.js:3:20)', 'Back-off restarting failed container'],
    id: 'F6',
    code: 'runtime_crash',
    cause: 'the app crashed while starting',
    evidence: ["TypeError: Cannot read properties of undefined (reading 'split')", 'Back-off restarting failed container'],
    fix: 'opendeploy redeploy --source .',
  },
  {
    name: 'E6 image pull',
    facts: runtime(),
    lines: ['Failed to pull image: manifest unknown', 'Back-off pulling image'],
    id: 'E6',
    code: 'deploy_failed',
    cause: 'the platform could not pull the built image',
    evidence: ['Failed to pull image: manifest unknown'],
    fix: 'opendeploy redeploy',
  },
];

describe('the playbook table', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const match = matchPlaybook(row.facts, row.lines, { unknownTail: 20 });
      expect({ id: match.id, code: match.code, cause: match.cause, detail: match.detail, evidence: match.evidence, fix: match.fixCommand }).toEqual({
        id: row.id,
        code: row.code,
        cause: row.cause,
        detail: row.detail,
        evidence: row.evidence,
        fix: row.fix,
      });
      if (row.fix) expect(match.nextAction).toContain(row.fix);
      expect(match.rebindSource).toBe(row.id === 'D1');
    });
  }

  it('every row id is unique and every rule is exercised above', () => {
    const ids = PLAYBOOK.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(ROWS.some((row) => row.id === id || (id === 'G17' && row.id === 'F13') || (id === 'G2' && row.id === 'G3') || (id === 'F1' && /^F[234]$/.test(row.id ?? '')))).toBe(true);
  });

  it('a build error seen after the build finished is not a build failure', () => {
    expect(matchPlaybook({ status: 'failed', lastPhase: 'deploying' }, ['npm ERR! code ELIFECYCLE']).id).toBeNull();
  });

  it('unknown: says so and quotes the last lines (20 for triage, 5 for deploy)', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `step ${i}`);
    const triage = matchPlaybook({ status: 'failed', lastPhase: 'deploying', dependencies: [] }, lines, { unknownTail: 20 });
    expect(triage).toMatchObject({ id: null, code: 'deploy_failed', fixCommand: null, cause: 'the deployment failed for a reason the logs do not name' });
    expect(triage.evidence).toEqual(lines.slice(-20));
    expect(matchPlaybook({ status: 'failed', lastPhase: 'deploying' }, lines).evidence).toEqual(lines.slice(-5));
  });

  it('a database that is not running explains an otherwise silent failure (G2)', () => {
    const match = matchPlaybook(runtime({ dependencies: [{ engine: 'redis', id: 'r1', status: 'failed' }] }), ['step 1']);
    expect(match).toMatchObject({ id: 'G2', fixCommand: 'opendeploy redeploy' });
  });

  it('an unclaimed credential hitting the memory cap is told to claim it', () => {
    const match = matchPlaybook(runtime({ bound: false }), ['OOMKilled']);
    expect(match.fixCommand).toBe('opendeploy resize --memory 2Gi');
    expect(match.nextAction).toContain('capped at 1Gi');
  });

  it('cancelled is not a failure to explain', () => {
    expect(matchPlaybook({ status: 'cancelled' }, ['x'])).toMatchObject({ id: null, code: 'cancelled', fixCommand: 'opendeploy redeploy' });
  });

  it('a successful deployment is unhealthy only on the F15 signature', () => {
    expect(matchHealthyDeployment(runtime({ status: 'success' }), ['Listening on port 3000'])).toBeUndefined();
    expect(matchHealthyDeployment(runtime({ status: 'success' }), ['error: relation "users" does not exist'])).toMatchObject({ id: 'F15', detail: 'table users does not exist' });
  });

  it('the deploy pipeline sees the same table through diagnoseFailure', () => {
    const diagnosis = diagnoseFailure({ status: 'failed', lastPhase: 'deploying' }, ['Error: Missing required environment variable: API_TOKEN']);
    expect(diagnosis).toMatchObject({ code: 'runtime_crash', playbookId: 'G17', fixCommand: 'opendeploy env set API_TOKEN=...' });
  });
});

describe('playbook helpers', () => {
  it('nextMemoryLimit doubles', () => {
    expect(['256Mi', '512Mi', '1Gi', '1536Mi', '4Gi', '2G', undefined, 'lots'].map((v) => nextMemoryLimit(v))).toEqual(['512Mi', '1Gi', '2Gi', '3Gi', '8Gi', '4Gi', '2Gi', '2Gi']);
  });

  it('envKeyFrom extracts the variable name', () => {
    expect(envKeyFrom('Error: DATABASE_URL is not set')).toBe('DATABASE_URL');
    expect(envKeyFrom("KeyError: 'SECRET_KEY'")).toBe('SECRET_KEY');
    expect(envKeyFrom("os.environ['REDIS_HOST'] missing")).toBe('REDIS_HOST');
    expect(envKeyFrom('❌ Invalid environment variables: { NEXTAUTH_SECRET: [ \'Required\' ] }')).toBe('NEXTAUTH_SECRET');
    expect(envKeyFrom('ERROR: PORT is not set')).toBe('PORT');
    expect(envKeyFrom('something else entirely')).toBeUndefined();
  });

  it('listeningPort reads the common "listening" lines and ignores probe errors', () => {
    expect(listeningPort('node-http listening on port 3000')).toBe(3000);
    expect(listeningPort('Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)')).toBe(8000);
    expect(listeningPort(' * Running on http://127.0.0.1:5000')).toBe(5000);
    expect(listeningPort('Server started on :4000')).toBeUndefined();
    expect(listeningPort('Error: listen EADDRINUSE: address already in use :::3000')).toBeUndefined();
    expect(listeningPort('Readiness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused')).toBeUndefined();
  });
});
