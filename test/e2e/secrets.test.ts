import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, lastEvent } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';

/** Every file below `dir`, read as latin1 so binary archives can be searched for plain strings. */
async function readTree(dir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, text: await readFile(file, 'latin1') });
  }
  return out;
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
  await cleanupTempDirs();
});

describe('secrets never leave their lane', () => {
  it('keeps the minted token, bind_sig, .env values and --env-file values out of every output', async () => {
    const home = await tempDir('od-home-');
    const app = await copyFixture('node-http');
    const envFileCanary = 'canary-envfile-7f3a9c2e51';
    const dotenvCanary = 'canary-dotenv-0b8d4e6f27';
    await writeFile(path.join(app, '.env'), `SESSION_SECRET=${dotenvCanary}\n`);
    const envFile = path.join(await tempDir('od-envfile-'), 'prod.env');
    await writeFile(envFile, `API_SIGNING_KEY=${envFileCanary}\n`);

    const run = await runCli(['deploy', app, '--yes', '--json', '--env-file', envFile], {
      env: { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home },
    });
    expect(run.code).toBe(0);
    const auth = JSON.parse(await readFile(path.join(home, 'auth.json'), 'utf8')) as Record<string, string>;
    const token = auth.api_key!;
    const bindSig = auth.bind_sig!;
    const result = lastEvent(run)!;

    // The env-file value reached the service (proving the test would notice a leak)...
    const state = JSON.stringify(await gw.state());
    expect(state).toContain(envFileCanary);

    // ...but none of the secrets is in stdout, stderr, the audit log or .opendeploy/.
    const logs = await readTree(path.join(home, 'logs'));
    const linkFiles = await readTree(path.join(app, '.opendeploy'));
    expect(linkFiles.map((entry) => path.basename(entry.file)).sort()).toEqual(['.gitignore', 'analysis.json', 'local.json', 'project.json']);
    const surfaces = [
      { file: 'stdout', text: run.stdout },
      { file: 'stderr', text: run.stderr },
      ...logs,
      ...linkFiles,
    ];
    for (const surface of surfaces) {
      expect(surface.text, surface.file).not.toContain(token);
      expect(surface.text, surface.file).not.toContain(envFileCanary);
      expect(surface.text, surface.file).not.toContain(dotenvCanary);
    }
    // bind_sig appears exactly once: inside the claim URL of the final report.
    expect(occurrences(run.stdout, bindSig)).toBe(1);
    expect(String(result.claim_url)).toContain(`?h=${bindSig}&url=`);
    for (const surface of [{ file: 'stderr', text: run.stderr }, ...logs, ...linkFiles]) {
      expect(surface.text, surface.file).not.toContain(bindSig);
    }

    // The archive the gateway received holds neither .env nor its value.
    const stored = await readTree(gw.gateway.dataDir);
    const zips = stored.filter((entry) => entry.file.endsWith('.zip'));
    expect(zips.length).toBeGreaterThan(0);
    for (const zip of zips) {
      expect(zip.text).not.toContain(dotenvCanary);
      expect(zip.text).not.toContain('SESSION_SECRET=');
      expect(zip.text).not.toContain(token);
    }
  });
});
