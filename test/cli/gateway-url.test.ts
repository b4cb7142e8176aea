/** Gateway base URLs are validated and normalised once (issue 11: `http://127.0.0.1:9` became `http://v1/...`). */
import { describe, expect, it } from 'vitest';
import { effectiveGateway } from '../../src/auth/index.js';
import { OdError } from '../../src/core/errors.js';
import { normaliseGatewayUrl } from '../../src/gateway/base-url.js';
import { GatewayClient } from '../../src/gateway/index.js';

describe('normaliseGatewayUrl', () => {
  it.each([
    ['http://127.0.0.1:9', 'http://127.0.0.1:9/api'],
    ['http://127.0.0.1:9/', 'http://127.0.0.1:9/api'],
    ['http://127.0.0.1:9/api', 'http://127.0.0.1:9/api'],
    ['http://127.0.0.1:9/api///', 'http://127.0.0.1:9/api'],
    ['  HTTPS://Dashboard.Dev.OpenDeploy.dev/api  ', 'https://dashboard.dev.opendeploy.dev/api'],
    ['https://gw.example.com/custom/api?x=1#top', 'https://gw.example.com/custom/api'],
    ['https://user:secret@gw.example.com', 'https://gw.example.com/api'],
    ['http://localhost:4000', 'http://localhost:4000/api'],
    ['http://[::1]:4000/api/', 'http://[::1]:4000/api'],
  ])('%s → %s', (raw, expected) => {
    expect(normaliseGatewayUrl(raw)).toBe(expected);
  });

  it.each([
    ['127.0.0.1:9', 'The gateway URL "127.0.0.1:9" is not a valid URL.'],
    ['localhost:4000', 'The gateway URL "localhost:4000" must start with http:// or https://.'],
    ['ftp://gw.example.com/api', 'The gateway URL "ftp://gw.example.com/api" must start with http:// or https://.'],
    ['not a url', 'The gateway URL "not a url" is not a valid URL.'],
    ['https://user:secret@', 'The gateway URL "https://" is not a valid URL.'],
  ])('%s is invalid_input with one sentence', (raw, message) => {
    let caught: unknown;
    try {
      normaliseGatewayUrl(raw, '--gateway');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OdError);
    expect((caught as OdError).code).toBe('invalid_input');
    expect((caught as OdError).message).toBe(message);
    expect((caught as OdError).message).not.toContain('secret');
    expect((caught as OdError).nextAction).toBe(
      'Set --gateway to the gateway base URL, e.g. https://dashboard.dev.opendeploy.dev/api or http://127.0.0.1:4000/api.',
    );
  });

  it('the client builds request URLs under /api for a bare origin (never //v1/...)', () => {
    const client = new GatewayClient({ baseUrl: 'http://127.0.0.1:9' });
    expect(client.baseUrl).toBe('http://127.0.0.1:9/api');
  });

  it('the effective gateway is the normalised one, so auth.json and project.json compare equal', () => {
    expect(effectiveGateway({ flagGateway: 'http://127.0.0.1:9/', env: {} })).toBe('http://127.0.0.1:9/api');
    expect(effectiveGateway({ env: { OD_GATEWAY: 'http://127.0.0.1:9' } })).toBe('http://127.0.0.1:9/api');
    expect(() => effectiveGateway({ env: { OD_GATEWAY: 'localhost:4000' } })).toThrow(
      'The gateway URL "localhost:4000" must start with http:// or https://.',
    );
  });
});
