import { describe, expect, it } from 'vitest';
import { matchPlaybook } from '../../src/diagnose/playbook.js';
import { runtime } from '../helpers/playbook-facts.js';
import { missingRequiredVars, requiredVarNames } from '../../src/diagnose/required-vars.js';

/** A failed runtime deployment of a claimed service on port 3000 with PORT=3000 and no databases. */
const HOW = '`opendeploy env set JWT_SECRET=... SESSION_SECRET=...` (replace each ... with the real value) and then `opendeploy redeploy`, or put them in a dotenv file and deploy again with `opendeploy --vars-file <file>`';

describe('required variables the service lacks come first', () => {
  it('a generic crash with required variables missing is caused by them (G17, all named)', () => {
    const match = matchPlaybook(runtime({ missingRequired: ['JWT_SECRET', 'SESSION_SECRET'] }), [
      "TypeError: Cannot read properties of undefined (reading 'length')",
      'Back-off restarting failed container',
    ]);
    expect(match).toEqual({
      id: 'G17',
      code: 'runtime_crash',
      cause: 'a required environment variable is missing',
      detail: 'JWT_SECRET and SESSION_SECRET are not set (the analysis lists them as required)',
      evidence: [
        'required by the analysis, not set on the service: JWT_SECRET, SESSION_SECRET',
        "TypeError: Cannot read properties of undefined (reading 'length')",
        'Back-off restarting failed container',
      ],
      fixCommand: 'opendeploy env set JWT_SECRET=... SESSION_SECRET=...',
      nextAction: `Set JWT_SECRET and SESSION_SECRET with ${HOW}.`,
      rebindSource: false,
    });
  });

  it('an unknown failure with one missing variable names it', () => {
    const match = matchPlaybook(runtime({ missingRequired: ['API_TOKEN'] }), ['step 1']);
    expect(match).toMatchObject({ id: 'G17', detail: 'API_TOKEN is not set (the analysis lists it as required)', fixCommand: 'opendeploy env set API_TOKEN=...' });
    expect(match.nextAction).toBe(
      'Set API_TOKEN with `opendeploy env set API_TOKEN=...` (replace ... with the real value) and then `opendeploy redeploy`, or put it in a dotenv file and deploy again with `opendeploy --vars-file <file>`.',
    );
  });

  it('a variable the log names joins the ones the analysis knows', () => {
    const match = matchPlaybook(runtime({ missingRequired: ['JWT_SECRET'] }), ['Error: Missing required environment variable: STRIPE_SECRET_KEY']);
    expect(match).toMatchObject({ id: 'G17', fixCommand: 'opendeploy env set JWT_SECRET=... STRIPE_SECRET_KEY=...' });
    expect(match.detail).toBe('JWT_SECRET and STRIPE_SECRET_KEY are not set (the analysis lists them as required)');
  });

  it('another cause stays the cause, and its next action names the missing variables first', () => {
    const match = matchPlaybook(runtime({ missingRequired: ['JWT_SECRET', 'SESSION_SECRET'] }), ['OOMKilled']);
    expect(match).toMatchObject({ id: 'OOM', fixCommand: 'opendeploy resize --memory 2Gi' });
    expect(match.nextAction).toBe(
      `First set JWT_SECRET and SESSION_SECRET, which the analysis lists as required and the service does not have: ${HOW}. Then: Give it more memory with \`opendeploy resize --memory 2Gi\` (or reduce its memory use), then run \`opendeploy redeploy\` if it does not recover by itself.`,
    );
  });

  it('a build failure stays a build failure; D1 and cancelled are untouched', () => {
    const build = matchPlaybook({ status: 'failed', lastPhase: 'building', missingRequired: ['JWT_SECRET'] }, ['npm ERR! missing script: build']);
    expect(build).toMatchObject({ id: 'E1', code: 'build_failed' });
    expect(build.nextAction).toMatch(/^First set JWT_SECRET, /);
    expect(matchPlaybook({ status: 'failed', progress: 10, error_msg: 'Service failed to deploy', missingRequired: ['X_KEY'] }, []).nextAction).not.toContain('X_KEY');
    expect(matchPlaybook({ status: 'cancelled', missingRequired: ['X_KEY'] }, []).nextAction).toBe('Run `opendeploy redeploy` to deploy again.');
  });

  it('no missing variables: nothing changes', () => {
    const lines = ["TypeError: x is undefined", 'Back-off restarting failed container'];
    expect(matchPlaybook(runtime({ missingRequired: [] }), lines)).toEqual(matchPlaybook(runtime(), lines));
  });

  it('required names and the missing ones (an empty value is missing)', () => {
    const service = {
      runtime_vars: [
        { name: 'SESSION_SECRET', required: true, default: '', kind: 'generated_app_secret' as const },
        { name: 'LOG_LEVEL', required: false, default: 'info', kind: 'feature_optional' as const },
        { name: 'DATABASE_URL', required: true, default: '', kind: 'dependency_provided' as const },
        { name: 'API_KEY', required: true, default: '', kind: 'startup_critical' as const },
      ],
    };
    expect(requiredVarNames(service)).toEqual(['API_KEY', 'DATABASE_URL', 'SESSION_SECRET']);
    expect(missingRequiredVars(requiredVarNames(service), { DATABASE_URL: 'postgres://x', API_KEY: '' })).toEqual(['API_KEY', 'SESSION_SECRET']);
  });
});

describe('fix commands that work', () => {
  it('F4, not F1: PORT is set and the app listens elsewhere, so it does not read PORT (env set PORT cannot fix it)', () => {
    const match = matchPlaybook(runtime({ service: { port: 8080, envKeys: ['PORT'], portEnv: '5000' } }), ['Server listening on http://0.0.0.0:3000', 'Readiness probe failed: connection refused']);
    expect(match).toMatchObject({
      id: 'F4',
      detail: 'it listens on 3000, the service expects 8080; it ignores PORT=5000',
      fixCommand: 'opendeploy redeploy --source .',
    });
    expect(match.nextAction).toBe('Make the app listen on 0.0.0.0 and process.env.PORT (8080) instead of a hard-coded 3000, then run `opendeploy redeploy --source .`; or, to keep 3000, run `opendeploy port 3000 --redeploy`.');
  });

  it('F1: the app follows a wrong PORT, so setting PORT fixes it', () => {
    const match = matchPlaybook(runtime({ service: { port: 8080, envKeys: ['PORT'], portEnv: '3000' } }), ['Server listening on http://0.0.0.0:3000', 'Readiness probe failed: connection refused']);
    expect(match).toMatchObject({ id: 'F1', detail: 'it listens on 3000, the service expects 8080; PORT is set to 3000', fixCommand: 'opendeploy env set PORT=8080' });
    expect(match.nextAction).toBe('The app reads PORT, which says 3000: set it to the service port with `opendeploy env set PORT=8080`, then run `opendeploy redeploy`.');
  });

  it('F1 with PORT unset also says what to do when the port is hard-coded', () => {
    const match = matchPlaybook(runtime({ service: { port: 8080, envKeys: [], portEnv: null } }), ['Server listening on http://0.0.0.0:3000', 'Readiness probe failed']);
    expect(match.nextAction).toBe(
      'Tell the app which port to use with `opendeploy env set PORT=8080`, then run `opendeploy redeploy` (if the app hard-codes 3000 instead of reading PORT, make it read PORT, then run `opendeploy redeploy --source .`).',
    );
  });

  it('B1 keeps the unit of a decimal memory limit (2G, not 2 bytes) and gives no exact command for bare bytes', () => {
    expect(matchPlaybook(runtime(), ['403 agent_quota_exceeded field=memory_limit requested=4G limit=2G']).fixCommand).toBe('opendeploy resize --memory 2G');
    expect(matchPlaybook(runtime(), ['403 agent_quota_exceeded field=memory_limit requested=4294967296 limit=1073741824']).fixCommand).toBe('opendeploy auth status');
  });

  it('B1 without a named resource suggests a resize that runs (not a bare `opendeploy resize`)', () => {
    const match = matchPlaybook(runtime(), ['quota exceeded']);
    expect(match.nextAction).toContain('`opendeploy resize --cpu 1 --memory 1Gi --replicas 1`');
    expect(match.nextAction).not.toContain('`opendeploy resize`');
  });
});
