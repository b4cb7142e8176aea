import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCredential } from '../../src/deploy/connect.js';
import { OdError } from '../../src/core/errors.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

let gw: TestGateway;
let home: string;

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

function connect(env: NodeJS.ProcessEnv) {
  return connectCredential({
    resolve: { env, home, interactive: false, yes: false, confirmMint: async () => false },
    debug: () => undefined,
  });
}

describe('the connect step: which credential, proven, bound or pending', () => {
  it('a dashboard token from the environment is proven with the regions list and is bound', async () => {
    const token = patToken();
    const { credential, regions, bound } = await connect({ OPENDEPLOY_TOKEN: token, OD_GATEWAY: gw.url });
    expect({ source: credential.source, kind: credential.kind, gateway: credential.gateway, bound }).toEqual({ source: 'env', kind: 'pat', gateway: gw.url, bound: true });
    expect(regions.map((region) => ({ name: region.name, status: region.status }))).toEqual([
      { name: 'eu-west-1', status: 'inactive' },
      { name: 'us-east-1', status: 'active' },
    ]);
  });

  it('a token the gateway rejects is auth_invalid naming where it came from', async () => {
    const error = await connect({ OPENDEPLOY_TOKEN: `od_a${'x'.repeat(43)}`, OD_GATEWAY: gw.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OdError);
    expect({ code: (error as OdError).code, message: (error as OdError).message, nextAction: (error as OdError).nextAction }).toEqual({
      code: 'auth_invalid',
      message:
        'The gateway rejected the credential in OPENDEPLOY_TOKEN (od_a…xxxx) (the gateway said: Unknown agent credential: it was not issued by this gateway): set OPENDEPLOY_TOKEN to a valid dashboard token (od_k…).',
      nextAction: `Unset OPENDEPLOY_TOKEN or set it to a token issued by ${gw.url}.`,
    });
  });

  it('the request timeout comes from the environment it is given', async () => {
    await gw.fault({ route: 'GET /api/v1/regions/', count: 10, delay_ms: 1500 });
    const error = await connect({ OPENDEPLOY_TOKEN: patToken(), OD_GATEWAY: gw.url, OD_REQUEST_TIMEOUT_MS: '200' }).catch((e: unknown) => e);
    await gw.clearFaults();
    // Without it the client would wait its default 60 s per attempt.
    expect({ code: (error as OdError).code, message: (error as OdError).message }).toEqual({
      code: 'gateway_unreachable',
      message: `Could not reach the gateway at ${gw.url} (no response within 0.2s).`,
    });
  });
});
