import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

import { displayPath, isInHome, resolveAuthFile, resolveAuthFileWithSource, resolveHome } from '../../src/auth/index.js';

describe('resolveHome', () => {
  it('uses OPENDEPLOY_HOME, else ~/.opendeploy', () => {
    expect(resolveHome({ OPENDEPLOY_HOME: '/srv/od-home' })).toBe('/srv/od-home');
    expect(resolveHome({ OPENDEPLOY_HOME: '~/custom' })).toBe(join(homedir(), 'custom'));
    expect(resolveHome({})).toBe(join(homedir(), '.opendeploy'));
    expect(resolveHome({ OPENDEPLOY_HOME: '' })).toBe(join(homedir(), '.opendeploy'));
  });
});

describe('resolveAuthFile precedence: flag > OPDEPLOY_AUTH_FILE > OPENDEPLOY_AUTH_FILE > home', () => {
  const home = '/h/.opendeploy';
  const env = { OPDEPLOY_AUTH_FILE: '/e/env.json', OPENDEPLOY_AUTH_FILE: '/a/alias.json' };

  it('flag wins over everything', () => {
    expect(resolveAuthFileWithSource({ flagAuthFile: '/f/flag.json', env, home })).toEqual({ path: '/f/flag.json', source: 'flag' });
  });
  it('OPDEPLOY_AUTH_FILE wins over the alias and home', () => {
    expect(resolveAuthFileWithSource({ env, home })).toEqual({ path: '/e/env.json', source: 'env' });
  });
  it('OPENDEPLOY_AUTH_FILE (alias) wins over home', () => {
    expect(resolveAuthFileWithSource({ env: { OPENDEPLOY_AUTH_FILE: '/a/alias.json' }, home })).toEqual({
      path: '/a/alias.json',
      source: 'alias',
    });
  });
  it('falls back to <home>/auth.json; empty values count as unset', () => {
    expect(resolveAuthFile({ flagAuthFile: '', env: { OPDEPLOY_AUTH_FILE: '', OPENDEPLOY_AUTH_FILE: ' ' }, home })).toBe(
      '/h/.opendeploy/auth.json',
    );
  });
  it('resolves relative and ~ paths', () => {
    expect(resolveAuthFile({ flagAuthFile: 'rel/auth.json', env: {}, home })).toBe(resolve('rel/auth.json'));
    expect(resolveAuthFile({ env: { OPDEPLOY_AUTH_FILE: '~/x.json' }, home })).toBe(join(homedir(), 'x.json'));
  });
  it('knows when the file sits in the home folder', () => {
    expect(isInHome('/h/.opendeploy/auth.json', '/h/.opendeploy')).toBe(true);
    expect(isInHome('/h/.opendeploy/auth.json', '/h/.opendeploy/')).toBe(true);
    expect(isInHome('/elsewhere/auth.json', '/h/.opendeploy')).toBe(false);
  });
  it('shows paths under the user home with ~', () => {
    expect(displayPath(join(homedir(), '.opendeploy', 'auth.json'))).toBe('~/.opendeploy/auth.json');
    expect(displayPath('/etc/x.json')).toBe('/etc/x.json');
  });
});
