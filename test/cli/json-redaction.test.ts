/**
 * `--json` lines are scrubbed value by value, not as serialised text: key names survive a secret
 * that happens to be an ordinary word, and a secret holding JSON-escaped characters is still
 * caught. Both failed when the whole serialised line went through the text scrubber.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsonReporter } from '../../src/cli/output/json.js';
import { clearRegisteredSecrets, registerSecret } from '../../src/core/redact.js';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deployLinked } from '../helpers/linked-app.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

function capture(): { reporter: JsonReporter; stdout: () => string } {
  let out = '';
  const reporter = new JsonReporter({ stdout: { write: (chunk: string) => (out += chunk) }, stderr: { write: () => true } }, false);
  return { reporter, stdout: () => out };
}

afterEach(() => clearRegisteredSecrets());

describe('JsonReporter scrubbing', () => {
  it('keeps key names when a registered secret is a word that also appears in a key', () => {
    registerSecret('changed');
    const { reporter, stdout } = capture();
    reporter.result({ keys_changed: ['GREETING'], message: 'GREETING changed' }, []);
    expect(stdout()).toBe('{"type":"result","keys_changed":["GREETING"],"message":"GREETING ***"}\n');
  });

  it('scrubs a secret containing a quote, a backslash and a newline (its JSON-escaped form differs)', () => {
    const canary = 'pa"ss\\wo\nrd-7f3c91';
    registerSecret(canary);
    const { reporter, stdout } = capture();
    reporter.result({ note: `value ${canary} end`, nested: [{ deep: canary }] }, []);
    expect(stdout()).toBe('{"type":"result","note":"value *** end","nested":[{"deep":"***"}]}\n');
  });

  it('scrubs token-shaped strings in keys too, and keeps allowed strings intact', () => {
    const token = patToken();
    registerSecret('sig-4d2a9b77');
    const claim = 'https://dash.example/claim/a?h=sig-4d2a9b77';
    const { reporter, stdout } = capture();
    reporter.result({ [token]: 1, claim_url: claim, sig: 'sig-4d2a9b77' }, [], [claim]);
    const line = JSON.parse(stdout()) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['type', `${token.slice(0, 4)}***`, 'claim_url', 'sig']);
    expect(line.claim_url).toBe(claim);
    expect(line.sig).toBe('***');
  });
});

describe('env set --json through the CLI', () => {
  let gw: TestGateway;
  let env: Record<string, string>;
  let app: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: await tempDir('od-home-'), OPENDEPLOY_TOKEN: patToken() };
    app = await copyFixture('node-http');
    await deployLinked(app, env);
  }, 120_000);

  afterAll(async () => {
    await gw?.close();
    await cleanupTempDirs();
  });

  it('a variable whose value is "changed" leaves keys_changed readable, and the value never appears', async () => {
    const first = await runCli(['env', 'set', 'GREETING=changed', '--json'], { cwd: app, env });
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(['env', 'set', 'GREETING=unchanged-value', '--dry-run', '--json'], { cwd: app, env });
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout.trim()) as Record<string, unknown>;
    expect(result.type).toBe('result');
    expect(result.keys_changed).toEqual(['GREETING']);
    expect(again.stdout).not.toContain('unchanged-value');
    expect(again.stdout).not.toContain('***');
  });
});
