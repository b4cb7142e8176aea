import { describe, expect, it } from 'vitest';
import { diagnoseFailure } from '../../src/diagnose/failure.js';
import { chooseAutoDomain, validateSubdomain, withSuffix, urlOf } from '../../src/deploy/subdomain.js';
import { enginesFor } from '../../src/deploy/stages/dependencies.js';
import { dnsSafeName } from '../../src/deploy/stages/project.js';
import { mergeRuntimeVariables, buildVariables } from '../../src/deploy/stages/service.js';
import { pickRegion } from '../../src/deploy/stages/auth.js';
import { OdError } from '../../src/core/errors.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof OdError ? error.code : 'not-an-OdError';
  }
  return undefined;
}

describe('failure diagnosis', () => {
  it('recognises the progress-10 signature of a source that was never bound', () => {
    const diagnosis = diagnoseFailure({ status: 'failed', progress: 10, error_msg: 'Service failed to deploy' }, []);
    expect(diagnosis.code).toBe('deploy_failed');
    expect(diagnosis.rebindSource).toBe(true);
    expect(diagnosis.evidence).toEqual(['progress=10, error_msg="Service failed to deploy", no log lines']);
  });

  it('names a build failure from build log lines', () => {
    const diagnosis = diagnoseFailure({ status: 'failed', progress: 40, lastPhase: 'building' }, ['> next build', 'npm ERR! code ELIFECYCLE']);
    expect(diagnosis).toMatchObject({ code: 'build_failed', cause: 'the build command failed', evidence: ['npm ERR! code ELIFECYCLE'] });
  });

  it('names memory exhaustion before anything else', () => {
    expect(diagnoseFailure({ status: 'failed', lastPhase: 'deploying' }, ['FATAL ERROR: JavaScript heap out of memory']).cause).toBe('the app ran out of memory');
  });

  it('names a port problem', () => {
    expect(diagnoseFailure({ status: 'failed', lastPhase: 'deploying' }, ['Readiness probe failed: connection refused']).code).toBe('runtime_crash');
  });

  it('names a crash at start', () => {
    const diagnosis = diagnoseFailure({ status: 'failed', lastPhase: 'deploying' }, ["Error: Cannot find module 'express'"]);
    expect(diagnosis).toMatchObject({ code: 'runtime_crash', cause: 'the app crashed while starting' });
  });

  it('says so when the logs name nothing, and blames the build only if it was building', () => {
    expect(diagnoseFailure({ status: 'failed', lastPhase: 'building' }, ['step 3/9']).code).toBe('build_failed');
    expect(diagnoseFailure({ status: 'failed', lastPhase: 'deploying' }, ['step 3/9']).code).toBe('deploy_failed');
  });

  it('maps cancelled to cancelled', () => {
    expect(diagnoseFailure({ status: 'cancelled' }, []).code).toBe('cancelled');
  });
});

describe('subdomains', () => {
  it('accepts valid prefixes and rejects invalid or reserved ones', () => {
    expect(codeOf(() => validateSubdomain('my-app'))).toBeUndefined();
    expect(codeOf(() => validateSubdomain('ab'))).toBeUndefined();
    for (const bad of ['a', '-app', 'app-', 'My-App', 'my_app', 'x'.repeat(33), 'api', 'www', 'dashboard']) {
      expect(codeOf(() => validateSubdomain(bad)), bad).toBe('invalid_input');
    }
  });

  it('adds a 4-character suffix that still fits in 32 characters', () => {
    expect(withSuffix('my-app', 'k3x9')).toBe('my-app-k3x9');
    const long = withSuffix('a'.repeat(32), 'zzzz');
    expect(long).toBe(`${'a'.repeat(27)}-zzzz`);
    expect(long.length).toBe(32);
  });

  it('prefers active over verified over pending and ignores failed rows', () => {
    const rows = [
      { id: '1', domain: 'a.opendeploy.run', status: 'failed', type: 'auto' },
      { id: '2', domain: 'b.opendeploy.run', status: 'pending', type: 'auto' },
      { id: '3', domain: 'c.opendeploy.run', status: 'active', type: 'auto' },
    ];
    expect(chooseAutoDomain(rows as never)?.id).toBe('3');
    expect(urlOf({ id: 'x', domain: 'c.opendeploy.run' } as never)).toBe('https://c.opendeploy.run');
  });
});

describe('plan helpers', () => {
  it('provisions each engine once, mapping aliases', () => {
    expect(enginesFor([{ database_type: 'postgresql', dependencies: ['postgres', 'valkey'] }, { database_type: '', dependencies: ['mariadb', 'redis'] }])).toEqual([
      'postgres',
      'redis',
      'mysql',
    ]);
    expect(enginesFor([{ database_type: '', dependencies: ['sqlite'] }])).toEqual([]);
  });

  it('makes DNS-safe names', () => {
    expect(dnsSafeName('@acme/Web App!')).toBe('web-app');
    expect(dnsSafeName('---')).toBe('app');
    expect(dnsSafeName('a'.repeat(70))).toHaveLength(63);
  });

  it('merges runtime variables: port < analysis defaults < database < user', () => {
    const merged = mergeRuntimeVariables(
      {
        port: 8000,
        runtime_vars: [
          { name: 'DATABASE_URL', required: true, default: '', kind: 'dependency_provided' },
          { name: 'LOG_LEVEL', required: false, default: 'info', kind: 'feature_optional' },
          { name: 'PORT', required: false, default: '8000', kind: 'startup_critical' },
        ],
      } as never,
      { DATABASE_URL: 'postgres://db', LOG_LEVEL: 'warn' },
      { LOG_LEVEL: 'debug' },
    );
    expect(merged).toEqual({ PORT: '8000', DATABASE_URL: 'postgres://db', LOG_LEVEL: 'debug' });
  });

  it('keeps build variables with a value only', () => {
    expect(
      buildVariables(
        { build_time_vars: [{ name: 'NEXT_PUBLIC_A', required: false, default: 'x', kind: 'feature_optional' }, { name: 'VITE_B', required: true, default: '', kind: 'feature_optional' }] } as never,
        { VITE_B: 'from-user' },
      ),
    ).toEqual({ NEXT_PUBLIC_A: 'x', VITE_B: 'from-user' });
  });

  it('picks OD_REGION_ID, else the first active region, else fails', () => {
    const regions = [
      { id: 'r0', name: 'eu-old', status: 'inactive' },
      { id: 'r1', name: 'us-east-1', status: 'active' },
    ];
    expect(pickRegion(regions, undefined).id).toBe('r1');
    expect(pickRegion(regions, 'eu-old').id).toBe('r0');
    expect(codeOf(() => pickRegion(regions, 'mars-1'))).toBe('invalid_input');
    expect(codeOf(() => pickRegion([{ id: 'r0', status: 'inactive' }], undefined))).toBe('server_error');
  });
});
