import { describe, expect, it } from 'vitest';

import { apiKeysUrl, claimUrl, dashboardBase, dashboardUrl, describeToken, tokenKind } from '../../src/auth/index.js';
import { scrubText } from '../../src/core/redact.js';

const AGENT = 'od_aAbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCX9kQ';
const PAT = 'od_kAbCdEfGhIjKlMnOpQrStUvWxYz0123456789ABCD1e2';

describe('token helpers', () => {
  it('classifies tokens by the kind byte at index 3', () => {
    expect(tokenKind(PAT)).toBe('pat');
    expect(tokenKind(AGENT)).toBe('agent');
    expect(tokenKind('od_zsomething')).toBe('unknown');
    expect(tokenKind('ghp_abc')).toBe('unknown');
    expect(tokenKind('')).toBe('unknown');
  });

  it('describes a token by kind prefix and last 4 characters only', () => {
    expect(describeToken(AGENT)).toBe('od_a…X9kQ');
    expect(describeToken(PAT)).toBe('od_k…D1e2');
    expect(describeToken('od_ashort')).toBe('od_a…');
    expect(describeToken('ghp_0123456789abcdefWXYZ')).toBe('?…WXYZ');
    // the description itself is not token-shaped, so scrubbing leaves it readable
    expect(scrubText(describeToken(AGENT))).toBe('od_a…X9kQ');
  });

  it('builds the claim URL on the dashboard host of the gateway', () => {
    expect(claimUrl('https://dashboard.dev.opendeploy.dev/api', 'agent-1', 'abcdef0123')).toBe(
      'https://dashboard.dev.opendeploy.dev/claim/agent-1?h=abcdef0123',
    );
    expect(claimUrl('https://dashboard.dev.opendeploy.dev/api/', 'agent-1', 'abcdef0123')).toBe(
      'https://dashboard.dev.opendeploy.dev/claim/agent-1?h=abcdef0123',
    );
    expect(claimUrl('http://127.0.0.1:8080/api', 'a', 'ff00', 'https://app-x.opendeploy.run/path?q=1')).toBe(
      'http://127.0.0.1:8080/claim/a?h=ff00&url=https%3A%2F%2Fapp-x.opendeploy.run%2Fpath%3Fq%3D1',
    );
    expect(claimUrl('https://d.example/api', 'a', 'ff00', 'app-x.opendeploy.run')).toBe(
      'https://d.example/claim/a?h=ff00&url=https%3A%2F%2Fapp-x.opendeploy.run',
    );
  });

  it('builds dashboard URLs', () => {
    expect(dashboardBase('https://dashboard.dev.opendeploy.dev/api')).toBe('https://dashboard.dev.opendeploy.dev');
    expect(dashboardBase('https://host.example')).toBe('https://host.example');
    expect(dashboardUrl('https://dashboard.dev.opendeploy.dev/api', 'p-123')).toBe(
      'https://dashboard.dev.opendeploy.dev/projects/p-123',
    );
    expect(apiKeysUrl('https://dashboard.dev.opendeploy.dev/api')).toBe(
      'https://dashboard.dev.opendeploy.dev/account/api-keys',
    );
  });
});
