/**
 * Units of the real local runtime that need no app build: host routing, the static file server,
 * the reverse proxy (streaming both ways, WebSocket upgrades, 502s), run plans, command checks,
 * process groups and the URL of a local domain.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile, symlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { urlOf } from '../../src/deploy/subdomain.js';
import { crashLine } from '../../src/local-gateway/runtime/releases.js';
import { EngineError, startEngine } from '../../src/local-gateway/runtime/engines.js';
import { buildInstalls, planRun, staticRoot } from '../../src/local-gateway/runtime/plan.js';
import { spawnGroup } from '../../src/local-gateway/runtime/processes.js';
import { localhostLabel, proxyHttp, proxyUpgrade, sendBadGateway } from '../../src/local-gateway/runtime/proxy.js';
import { resolveStaticFile, startStaticServer } from '../../src/local-gateway/runtime/static-server.js';
import { commandsOf, missingCommandMessage } from '../../src/local-gateway/runtime/which.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await cleanupTempDirs();
});

function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function request(port: number, options: { path?: string; method?: string; host?: string; body?: string } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', agent: false, headers: options.host ? { host: options.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('host routing', () => {
  it('takes the label of <label>.localhost[:port] and nothing else', () => {
    expect(localhostLabel('abc123.localhost:4000')).toBe('abc123');
    expect(localhostLabel('My-App.localhost')).toBe('my-app');
    expect(localhostLabel('127.0.0.1:4000')).toBeNull();
    expect(localhostLabel('localhost:4000')).toBeNull();
    expect(localhostLabel('a.b.localhost')).toBeNull();
    expect(localhostLabel('abc.localhost.evil.com')).toBeNull();
    expect(localhostLabel(undefined)).toBeNull();
  });

  it('a local domain gets http://, a hosted one https://, an explicit scheme is kept', () => {
    expect(urlOf({ id: 'd', domain: 'abc.localhost:4000' })).toBe('http://abc.localhost:4000');
    expect(urlOf({ id: 'd', domain: 'abc.opendeploy.run' })).toBe('https://abc.opendeploy.run');
    expect(urlOf({ id: 'd', domain: 'http://abc.example.com' })).toBe('http://abc.example.com');
  });
});

describe('static file server', () => {
  it('serves files with their content types and index.html, refuses traversal and outside symlinks', async () => {
    const root = await tempDir('od-static-');
    const site = path.join(root, 'site');
    await mkdir(path.join(site, 'docs'), { recursive: true });
    await writeFile(path.join(site, 'index.html'), '<h1>home</h1>');
    await writeFile(path.join(site, 'docs', 'index.html'), '<h1>docs</h1>');
    await writeFile(path.join(site, 'app.js'), 'console.log(1)');
    await writeFile(path.join(site, 'logo.svg'), '<svg/>');
    await writeFile(path.join(root, 'secret.txt'), 'secret');
    await symlink(path.join(root, 'secret.txt'), path.join(site, 'leak.txt'));
    const server = await startStaticServer(site);
    closers.push(() => server.close());

    const home = await request(server.port);
    expect(home).toMatchObject({ status: 200, body: '<h1>home</h1>' });
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await request(server.port, { path: '/docs/' })).body).toBe('<h1>docs</h1>');
    expect((await request(server.port, { path: '/app.js' })).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await request(server.port, { path: '/logo.svg' })).headers['content-type']).toBe('image/svg+xml');
    for (const bad of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/leak.txt', '/a%00b', '/missing.css']) {
      expect((await request(server.port, { path: bad })).status, bad).toBe(404);
    }
    expect((await request(server.port, { method: 'POST' })).status).toBe(405);
    expect(await resolveStaticFile(site, '/..\\secret.txt')).toBeNull();
  });
});

describe('reverse proxy', () => {
  it('streams bodies both ways, forwards the Host, and answers 502 when the app is gone', async () => {
    const upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.writeHead(201, { 'x-seen-host': req.headers.host ?? '', 'x-forwarded-proto': String(req.headers['x-forwarded-proto']) });
        res.write('part1-');
        setTimeout(() => res.end(`echo:${body}`), 20);
      });
    });
    const upstreamPort = await listen(upstream);
    closers.push(() => closeServer(upstream));
    let inflight = 0;
    const front = http.createServer((req, res) => {
      if (req.url === '/gone') return sendBadGateway(res, 'nothing here');
      proxyHttp(req, res, { host: '127.0.0.1', port: upstreamPort, begin: () => (inflight += 1), end: () => (inflight -= 1) });
    });
    const frontPort = await listen(front);
    closers.push(() => closeServer(front));

    const res = await request(frontPort, { method: 'POST', host: 'abc.localhost:1234', body: 'hello' });
    expect(res).toMatchObject({ status: 201, body: 'part1-echo:hello' });
    expect(res.headers['x-seen-host']).toBe('abc.localhost:1234');
    expect(inflight).toBe(0);
    expect(await request(frontPort, { path: '/gone' })).toMatchObject({ status: 502, body: '502 Bad Gateway: nothing here\n' });

    const dead = http.createServer((req, res) => proxyHttp(req, res, { host: '127.0.0.1', port: 1 }));
    const deadPort = await listen(dead);
    closers.push(() => closeServer(dead));
    const refused = await request(deadPort);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatch(/^502 Bad Gateway: the app did not answer/);
  });

  it('pipes a WebSocket upgrade to the app as raw bytes, both ways', async () => {
    // A minimal upgrade endpoint: answers 101 and then echoes bytes upper-cased.
    const upstream = http.createServer();
    upstream.on('upgrade', (req, socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-path: ${req.url}\r\n\r\n`);
      socket.on('data', (chunk: Buffer) => socket.write(chunk.toString().toUpperCase()));
      socket.on('end', () => socket.end());
    });
    const upstreamPort = await listen(upstream);
    closers.push(() => closeServer(upstream));
    const front = http.createServer();
    front.on('upgrade', (req, socket, head) => proxyUpgrade(req, socket, head, { host: '127.0.0.1', port: upstreamPort }));
    const frontPort = await listen(front);
    closers.push(() => closeServer(front));

    const socket = net.connect(frontPort, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /ws?x=1 HTTP/1.1\r\nhost: abc.localhost:9\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    await waitUntil(() => received.includes('\r\n\r\n'));
    expect(received).toMatch(/^HTTP\/1\.1 101 /);
    expect(received).toContain('x-path: /ws?x=1');
    socket.write('ping from client');
    await waitUntil(() => received.includes('PING FROM CLIENT'));
    // Closing the client side tears the whole tunnel down.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end();
    await closed;
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('run plans', () => {
  const service = { type: 'web', framework: '', language: 'javascript', build_command: '', start_command: 'npm start', source_path: '.' };

  it('installs with the lockfile\'s package manager, unless the build command already installs', async () => {
    const dir = await tempDir('od-plan-');
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ dependencies: { express: '^4' } }));
    expect(planRun({ service, buildDir: dir, pathEnv: process.env.PATH }).install.map((s) => s.command)).toEqual(['npm install']);
    await writeFile(path.join(dir, 'package-lock.json'), '{}');
    expect(planRun({ service, buildDir: dir, pathEnv: process.env.PATH }).install.map((s) => s.command)).toEqual(['npm ci']);
    const built = planRun({ service: { ...service, build_command: 'npm ci && npm run build' }, buildDir: dir, pathEnv: process.env.PATH });
    expect(built.install).toEqual([]);
    expect(built.build).toBe('npm ci && npm run build');
    expect(buildInstalls('pip install -r requirements.txt', 'python')).toBe(true);
    expect(buildInstalls('npm run build', 'node')).toBe(false);
  });

  it('a dependency-free package installs nothing; Python gets a venv first on PATH', async () => {
    const dir = await tempDir('od-plan-');
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ scripts: { start: 'node server.js' } }));
    expect(planRun({ service, buildDir: dir, pathEnv: process.env.PATH }).install).toEqual([]);
    const py = await tempDir('od-plan-py-');
    await writeFile(path.join(py, 'requirements.txt'), 'flask\n');
    const plan = planRun({ service: { ...service, language: 'python', start_command: 'gunicorn app:app' }, buildDir: py, pathEnv: process.env.PATH });
    expect(plan.install.map((s) => s.command)).toEqual([expect.stringMatching(/^python3? -m venv \.venv$/), 'python -m pip install -r requirements.txt']);
    expect(plan.pathPrepend[0]).toBe(path.join(py, '.venv', 'bin'));
  });

  it('a static site is served from its build output, or from its root when nothing is built', async () => {
    const dir = await tempDir('od-plan-static-');
    const plain = planRun({ service: { ...service, type: 'static', framework: 'static', start_command: '' }, buildDir: dir, pathEnv: process.env.PATH });
    expect(plain.kind).toBe('static');
    expect(staticRoot(plain)).toBe(dir);
    await mkdir(path.join(dir, 'dist'));
    const built = planRun({ service: { ...service, type: 'static', build_command: 'npm run build', start_command: '' }, buildDir: dir, outputDirectory: 'dist', pathEnv: process.env.PATH });
    expect(staticRoot(built)).toBe(path.join(dir, 'dist'));
  });

  it('names the commands a line runs and the runtime a missing one belongs to', () => {
    expect(commandsOf('PORT=1 exec node server.js && cd x; bundle exec rails s | tee log')).toEqual(['node', 'bundle', 'tee']);
    expect(missingCommandMessage('bundle')).toBe('bundle: command not found on this machine — install Ruby/Bundler to preview this app locally');
  });

  it('quotes the line that says why a process died, not the runtime footer', () => {
    expect(crashLine(['/app/server.js:3', '', 'Error: crash marker', '    at Object.<anonymous> (/app/server.js:3:7)', '', 'Node.js v20.20.2'])).toBe('Error: crash marker');
    expect(crashLine(['just text'])).toBe('just text');
  });
});

/** Live (not zombie) members of a process group, from /proc. */
function liveMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

describe.runIf(process.platform === 'linux')('process groups', () => {
  it('stop() ends the whole group, background children included', async () => {
    const dir = await tempDir('od-pg-');
    const lines: string[] = [];
    const child = spawnGroup({ command: 'sleep 30 & sleep 30 & echo started; wait', cwd: dir, env: process.env, onLine: (_s, line) => lines.push(line) });
    await waitUntil(() => lines.includes('started'));
    expect(liveMembers(child.pid!).length).toBeGreaterThanOrEqual(3);
    const exit = await child.stop(2000);
    expect(exit.signal ?? exit.code).toBeTruthy();
    expect(child.hasExited).toBe(true);
    await waitUntil(() => liveMembers(child.pid!).length === 0);
  });
});

describe('local databases', () => {
  it('an engine that is not installed, or not supported locally, is an error that says so (never a pretend database)', async () => {
    const baseDir = await tempDir('od-engines-');
    const spec = { id: 'dep-1', port: 1, user: 'u', password: 'p', database: 'app', baseDir, env: { PATH: '' } };
    await expect(startEngine({ ...spec, engine: 'redis' })).rejects.toThrow(
      new EngineError(
        'redis-server: not found on this machine — install Redis (the redis-server package on Debian/Ubuntu, redis with Homebrew) to preview this app with its cache locally. ' +
          'Use a server of yours instead: put REDIS_URL=redis://host:6379 in a file and deploy with `--vars-file <file>` (no redis is provisioned then).',
      ),
    );
    await expect(startEngine({ ...spec, engine: 'mysql' })).rejects.toThrow(/^MySQL cannot run in a local preview yet/);
  });
});
