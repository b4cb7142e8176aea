import { describe, expect, it } from 'vitest';
import { OdError } from '../../src/core/errors.js';
import { assertReplacementNotEmpty, planEnvChange, planEnvPull } from '../../src/ops/env-plan.js';
import { envPlanView, envRotateResult, envSetResult, envUnsetResult, outcomeWarnings } from '../../src/ops/env-result.js';
import type { ReplaceOutcome } from '../../src/ops/env.js';

const web = { id: 'svc_1', name: 'web' };
const current = { PORT: '3000', API_TOKEN: 'old-token', DATABASE_URL: 'postgres://db' };

function thrown(fn: () => unknown): OdError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OdError);
    return error as OdError;
  }
  throw new Error('expected an error');
}

describe('planEnvChange: set', () => {
  it('merges the updates in: added and changed names, no question, the running app keeps the old values', () => {
    expect(planEnvChange(web, current, { kind: 'set', updates: { API_TOKEN: 'new-token', NEW_KEY: 'x' } })).toEqual({
      operation: 'set',
      service: web,
      keys: ['API_TOKEN', 'NEW_KEY'],
      diff: { added: ['NEW_KEY'], removed: [], changed: ['API_TOKEN'], unchanged: ['DATABASE_URL', 'PORT'] },
      unchanged: false,
      countBefore: 3,
      consent: null,
      then: 'none',
      before: current,
      next: { PORT: '3000', API_TOKEN: 'new-token', DATABASE_URL: 'postgres://db', NEW_KEY: 'x' },
    });
  });

  it('the same values again: an unchanged plan', () => {
    const plan = planEnvChange(web, current, { kind: 'set', updates: { PORT: '3000' } });
    expect(plan).toMatchObject({ keys: ['PORT'], unchanged: true, consent: null, then: 'none' });
    expect(plan.diff).toEqual({ added: [], removed: [], changed: [], unchanged: ['API_TOKEN', 'DATABASE_URL', 'PORT'] });
    expect(plan.next).toEqual(current);
  });

  it('does not change the map it was given', () => {
    const before = { A: '1' };
    planEnvChange(web, before, { kind: 'set', updates: { A: '2' } });
    expect(before).toEqual({ A: '1' });
  });
});

describe('planEnvChange: unset', () => {
  it('removes the named keys (sorted, duplicates once) and asks first, saying a database variable breaks the connection', () => {
    expect(planEnvChange(web, current, { kind: 'unset', keys: ['PORT', 'DATABASE_URL', 'PORT'] })).toEqual({
      operation: 'unset',
      service: web,
      keys: ['DATABASE_URL', 'PORT'],
      diff: { added: [], removed: ['DATABASE_URL', 'PORT'], changed: [], unchanged: ['API_TOKEN'] },
      unchanged: false,
      countBefore: 3,
      consent: { action: 'Remove 2 variables from service web (DATABASE_URL connects the app to its database)', changes: ['DATABASE_URL', 'PORT'] },
      then: 'none',
      before: current,
      next: { API_TOKEN: 'old-token' },
    });
  });

  it('one ordinary key: the question has no database note', () => {
    expect(planEnvChange(web, current, { kind: 'unset', keys: ['API_TOKEN'] }).consent).toEqual({ action: 'Remove 1 variable from service web', changes: ['API_TOKEN'] });
  });

  it('a key the service does not have: not_found naming every missing key, nothing planned', () => {
    const error = thrown(() => planEnvChange(web, current, { kind: 'unset', keys: ['PORT', 'NOPE', 'GONE'] }));
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('Service web has no variable GONE, NOPE; nothing was changed.');
    expect(error.details).toEqual({ service_id: 'svc_1', missing: ['GONE', 'NOPE'] });
  });
});

describe('planEnvChange: rotate', () => {
  it('replace: the file becomes the whole set; the question lists +added -removed ~changed and the redeploy after', () => {
    const plan = planEnvChange(web, current, { kind: 'replace', variables: { PORT: '3000', API_TOKEN: 'rotated', NEW_KEY: 'n' }, source: '.env.production', redeploy: true });
    expect(plan).toEqual({
      operation: 'rotate',
      service: web,
      keys: ['API_TOKEN', 'NEW_KEY', 'PORT'],
      diff: { added: ['NEW_KEY'], removed: ['DATABASE_URL'], changed: ['API_TOKEN'], unchanged: ['PORT'] },
      unchanged: false,
      countBefore: 3,
      consent: { action: 'Replace all variables of service web with the 3 variables in .env.production, then redeploy it', changes: ['+NEW_KEY', '-DATABASE_URL', '~API_TOKEN'] },
      then: 'redeploy',
      before: current,
      next: { PORT: '3000', API_TOKEN: 'rotated', NEW_KEY: 'n' },
    });
  });

  it('replace without a redeploy: the question does not promise one and nothing follows', () => {
    const plan = planEnvChange(web, { A: '1' }, { kind: 'replace', variables: { B: '2' }, source: 'prod.env', redeploy: false });
    expect(plan.consent).toEqual({ action: 'Replace all variables of service web with the 1 variable in prod.env', changes: ['+B', '-A'] });
    expect(plan.then).toBe('none');
  });

  it('replace with exactly the current set: unchanged, no question, no redeploy', () => {
    const plan = planEnvChange(web, current, { kind: 'replace', variables: { ...current }, source: 'same.env', redeploy: true });
    expect(plan).toMatchObject({ operation: 'rotate', unchanged: true, consent: null, then: 'none' });
  });

  it('generate: a new key is "Set", an existing one "Replace"; the value is in next only', () => {
    const added = planEnvChange(web, current, { kind: 'generate', key: 'SESSION_SECRET', value: 'generated-1', redeploy: true });
    expect(added).toEqual({
      operation: 'rotate.generate',
      service: web,
      keys: ['SESSION_SECRET'],
      diff: { added: ['SESSION_SECRET'], removed: [], changed: [], unchanged: ['API_TOKEN', 'DATABASE_URL', 'PORT'] },
      unchanged: false,
      countBefore: 3,
      consent: { action: 'Set SESSION_SECRET of service web with a newly generated secret, then redeploy it', changes: ['+SESSION_SECRET'] },
      then: 'redeploy',
      before: current,
      next: { ...current, SESSION_SECRET: 'generated-1' },
    });
    const replaced = planEnvChange(web, current, { kind: 'generate', key: 'API_TOKEN', value: 'generated-2', redeploy: false });
    expect(replaced.consent).toEqual({ action: 'Replace API_TOKEN of service web with a newly generated secret', changes: ['~API_TOKEN'] });
    expect(replaced.then).toBe('none');
  });

  it('no plan names a value: only the maps handed to apply hold them', () => {
    const plan = planEnvChange(web, current, { kind: 'replace', variables: { API_TOKEN: 'rotated' }, source: 'f.env', redeploy: true });
    const { before: _before, next: _next, ...shown } = plan;
    for (const value of ['old-token', 'postgres://db', 'rotated']) expect(JSON.stringify(shown)).not.toContain(value);
  });

  it('an empty replacement is refused before anything is read', () => {
    const error = thrown(() => assertReplacementNotEmpty({}, '/p/empty.env'));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toBe('/p/empty.env holds no variables; a full replacement with it would remove every variable of the service.');
    expect(() => assertReplacementNotEmpty({ A: '1' }, 'x')).not.toThrow();
  });
});

describe('planEnvPull', () => {
  it('a new file needs no question; an existing one asks before overwriting; a folder is refused', () => {
    expect(planEnvPull('/app/.env.opendeploy', '.env.opendeploy', 'none')).toEqual({ file: '/app/.env.opendeploy', shown: '.env.opendeploy', consent: null });
    expect(planEnvPull('/app/.env.opendeploy', '.env.opendeploy', 'file')).toEqual({
      file: '/app/.env.opendeploy',
      shown: '.env.opendeploy',
      consent: { action: "Overwrite .env.opendeploy with the service's variables", changes: ['.env.opendeploy'] },
    });
    const error = thrown(() => planEnvPull('/app/conf', 'conf', 'folder'));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toBe('conf is a folder.');
  });
});

describe('results of an applied plan (what --json and MCP tools print)', () => {
  const verified = (plan: ReturnType<typeof planEnvChange>, count: number): ReplaceOutcome => ({ diff: plan.diff, count, unexpected: [], verified: true, reapplied: 0 });

  it('set: the named keys split into added / changed / unchanged; an unchanged plan says nothing changed', () => {
    const plan = planEnvChange(web, current, { kind: 'set', updates: { API_TOKEN: 'new', NEW_KEY: 'x', PORT: '3000' } });
    expect(envSetResult(plan, verified(plan, 4))).toEqual({
      service_id: 'svc_1',
      keys_set: ['API_TOKEN', 'NEW_KEY', 'PORT'],
      keys_added: ['NEW_KEY'],
      keys_changed: ['API_TOKEN'],
      keys_unchanged: ['PORT'],
      count: 4,
      changed: true,
      verified: true,
      redeploy_needed: true,
    });
    const same = planEnvChange(web, current, { kind: 'set', updates: { PORT: '3000' } });
    expect(envSetResult(same, undefined)).toEqual({
      service_id: 'svc_1',
      keys_set: ['PORT'],
      keys_added: [],
      keys_changed: [],
      keys_unchanged: ['PORT'],
      count: 3,
      changed: false,
      verified: true,
      redeploy_needed: false,
    });
  });

  it('unset and rotate', () => {
    const unset = planEnvChange(web, current, { kind: 'unset', keys: ['PORT'] });
    expect(envUnsetResult(unset, verified(unset, 2))).toEqual({ service_id: 'svc_1', keys_removed: ['PORT'], count: 2, verified: true, redeploy_needed: true });
    const rotate = planEnvChange(web, current, { kind: 'replace', variables: { PORT: '1', NEW: '2' }, source: 'f.env', redeploy: true });
    expect(envRotateResult(rotate, { ...verified(rotate, 2), verified: false })).toEqual({
      service_id: 'svc_1',
      keys_added: ['NEW'],
      keys_removed: ['API_TOKEN', 'DATABASE_URL'],
      keys_changed: ['PORT'],
      count: 2,
      changed: true,
      verified: false,
    });
    const same = planEnvChange(web, current, { kind: 'replace', variables: { ...current }, source: 'f.env', redeploy: true });
    expect(envRotateResult(same, undefined)).toEqual({ service_id: 'svc_1', keys_added: [], keys_removed: [], keys_changed: [], count: 3, changed: false, verified: true, deployment_id: null });
  });

  it('warnings name keys and counts, never values', () => {
    const plan = planEnvChange(web, current, { kind: 'set', updates: { A: 'secret-a' } });
    expect(outcomeWarnings(verified(plan, 4))).toEqual([]);
    expect(outcomeWarnings({ ...verified(plan, 5), reapplied: 2, unexpected: ['OTHER'], warning: 'The answer was lost.' })).toEqual([
      'Another change to these variables was written at the same time and replaced this one; opendeploy applied it again on top (2 times) and read it back.',
      'The answer was lost.',
      'The service also holds OTHER, which this change did not send: another change may have happened at the same time.',
    ]);
  });
});

describe('envPlanView (what --dry-run prints)', () => {
  it('names, counts, whether it asks and what follows; never a value', () => {
    const plan = planEnvChange(web, current, { kind: 'replace', variables: { PORT: '1', NEW: 'secret-new' }, source: 'f.env', redeploy: true });
    expect(envPlanView(plan)).toEqual({
      operation: 'rotate',
      service_id: 'svc_1',
      keys_added: ['NEW'],
      keys_removed: ['API_TOKEN', 'DATABASE_URL'],
      keys_changed: ['PORT'],
      count_before: 3,
      count_after: 2,
      changed: true,
      needs_consent: true,
      then: 'redeploy',
    });
    expect(JSON.stringify(envPlanView(plan))).not.toContain('secret-new');
    const merge = planEnvChange(web, current, { kind: 'set', updates: { PORT: '3000' } });
    expect(envPlanView(merge)).toEqual({
      operation: 'set',
      service_id: 'svc_1',
      keys_added: [],
      keys_removed: [],
      keys_changed: [],
      count_before: 3,
      count_after: 3,
      changed: false,
      needs_consent: false,
      then: 'none',
    });
  });
});
