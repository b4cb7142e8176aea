import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEvent, runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanupTempDirs, copyFixture, tempDir } from '../helpers/tmp.js';
import { patToken } from '../helpers/tokens.js';

/**
 * The dashboard link the CLI prints for a project on the local gateway opens a real page there:
 * the project, its service with its URL, and the deployments (newest first, the live one marked).
 * It needs no credential, so it must show nothing one protects: no variable values, no token.
 */

const TOKEN = patToken();
const SECRET_VALUE = 'sk-dashboard-page-Zq81xKp';
let gw: TestGateway;
let home: string;
let result: Record<string, unknown>;

beforeAll(async () => {
  gw = await startTestGateway();
  home = await tempDir('od-home-');
  const app = await copyFixture('node-http');
  const vars = path.join(await tempDir('od-vars-'), 'prod.env');
  await writeFile(vars, `API_SECRET=${SECRET_VALUE}\n`);
  const env = { OD_GATEWAY: gw.url, OPENDEPLOY_HOME: home, OPENDEPLOY_TOKEN: TOKEN };
  const first = await runCli(['deploy', '--vars-file', vars, '--json'], { cwd: app, env });
  expect(first.code, first.stderr).toBe(0);
  const second = await runCli(['redeploy', '--json'], { cwd: app, env });
  expect(second.code, second.stderr).toBe(0);
  result = lastEvent(second)!;
  const status = await runCli(['status', '--json'], { cwd: app, env });
  expect(status.code, status.stderr).toBe(0);
  result = { ...result, ...(JSON.parse(status.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>) };
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanupTempDirs();
});

describe('the local dashboard page', () => {
  it('the printed link answers 200 text/html with the project, its service and URL, and the deployments', async () => {
    const link = String(result.dashboard_url);
    const project = result.project as { id: string; name: string };
    expect(link).toBe(`${gw.origin}/projects/${project.id}`);
    const response = await fetch(link);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).toContain(`<title>${project.name} · opendeploy local gateway</title>`);
    expect(html).toContain(`<h1>${project.name}</h1>`);
    const service = (result.services as { name: string; url: string; port: number }[])[0]!;
    expect(html).toContain(`<td>${service.name}</td><td>running</td><td>${service.port}</td><td><a href="${service.url}" rel="noreferrer">${service.url}</a></td>`);
    // Both deployments, newest (the redeploy, live) first.
    const deployments = ((await gw.state()).deployments as { id: string; created_at: string }[]).sort((a, b) => b.created_at.localeCompare(a.created_at));
    expect(deployments).toHaveLength(2);
    const rows = deployments.map((d) => html.indexOf(`<code>${d.id}</code>`));
    expect(rows.every((index) => index > 0)).toBe(true);
    expect(rows[0]).toBeLessThan(rows[1]!);
    expect(html).toContain(`<td><code>${deployments[0]!.id}</code></td><td>${service.name}</td><td>production</td><td>success</td>`);
    expect(html.match(/<td>live<\/td>/g)).toHaveLength(1);
    expect(html).not.toContain(SECRET_VALUE);
    expect(html).not.toContain('API_SECRET');
    expect(html).not.toContain(TOKEN);
    expect(html).not.toContain(TOKEN.slice(-8));
  });

  it('an unknown project id is a 404 page, the id escaped', async () => {
    const response = await fetch(`${gw.origin}/projects/${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('<h1>Project not found</h1>');
    expect(html).toContain('<code>&lt;img src=x onerror=alert(1)&gt;</code>');
    expect(html).not.toContain('<img');
  });

  it('answers only loopback host names (the DNS-rebinding guard applies to it too)', async () => {
    const project = result.project as { id: string };
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.origin}/projects/${project.id}`, { headers: { host: `evil.example:${new URL(gw.origin).port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});
