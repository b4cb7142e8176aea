/**
 * Units of the local runtime's builder conventions (issue 10, runtime items 2, 3, 5, 7): where a
 * workspace member's commands run, which static sites fall back to index.html and which serve
 * their own 404.html, the line that hard-codes a port, and what a missing database engine says.
 * The end-to-end proofs through a real gateway are in test/e2e/local-conventions.test.ts.
 */
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { suppliedConnection } from '../../src/deploy/stages/dependencies.js';
import { buildRelease } from '../../src/local-gateway/runtime/build.js';
import { connectionHint, installHint, startEngine } from '../../src/local-gateway/runtime/engines.js';
import { DeployFailure } from '../../src/local-gateway/runtime/failure.js';
import { findHardcodedPort } from '../../src/local-gateway/runtime/listening.js';
import { planRun } from '../../src/local-gateway/runtime/plan.js';
import { hasIndexPage, singlePageAppEvidence, startStaticServer } from '../../src/local-gateway/runtime/static-server.js';
import { commandDirs, isRootCommand } from '../../src/local-gateway/runtime/workspace.js';
import type { DeploymentRow, ProjectRow, ServiceRow } from '../../src/local-gateway/store.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  await cleanupTempDirs();
});

async function fixtureCopy(name: string): Promise<string> {
  const dir = path.join(await tempDir(`od-conv-${name}-`), name);
  await cp(path.join(REPO_ROOT, 'fixtures', 'apps', name), dir, { recursive: true });
  return dir;
}

function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
  });
}

const service = (fields: Partial<ServiceRow>): ServiceRow =>
  ({ name: 'svc', type: 'web', framework: '', language: 'javascript', build_command: '', start_command: '', source_path: '.', port: 3000, ...fields }) as ServiceRow;

describe('workspace members run their commands where the plan wrote them (runtime item 2)', () => {
  it('the analysis evidence "run from the workspace root" moves install, build and start to the root', async () => {
    const build = await fixtureCopy('npm-workspace-cd');
    const plan = planRun({
      service: service({ source_path: 'packages/api', build_command: '', start_command: 'cd packages/api && node index.js' }),
      buildDir: build,
      pathEnv: process.env.PATH,
      evidence: [
        { decision: 'scripts_start', evidence: 'packages/api/package.json: main "index.js" and no scripts.start; run from the workspace root (package.json: workspaces)' },
      ],
    });
    expect(plan.workdir).toBe(path.join(build, 'packages', 'api'));
    expect(plan.workspaceRoot).toBe(build);
    expect(plan.installDir).toBe(build);
    expect(plan.buildCwd).toBe(path.join(build, 'packages', 'api'));
    expect(plan.startCwd).toBe(build);
    // The root declares workspaces and locks them: it installs even with no dependencies of its own.
    expect(plan.install).toEqual([{ ecosystem: 'node', command: 'npm ci' }]);
    expect(plan.pathPrepend.slice(0, 2)).toEqual([path.join(build, 'packages', 'api', 'node_modules', '.bin'), path.join(build, 'node_modules', '.bin')]);
  });

  it('without evidence, a command written for the root (cd into the member, -w, --filter) runs at the enclosing workspace', async () => {
    const build = await fixtureCopy('turborepo-root-devdeps');
    const member = path.join(build, 'apps', 'api');
    expect(commandDirs({ buildDir: build, member, build: 'npm ci && npx turbo run build --filter=api', start: 'npm run start -w api' })).toEqual({
      root: build,
      install: build,
      build,
      start: build,
    });
    // A member-local start stays in the member; the install still happens at the root (its lockfile, its devDependencies).
    expect(commandDirs({ buildDir: build, member, build: '', start: 'node dist/server.js' })).toEqual({ root: build, install: build, build: member, start: member });
    expect(isRootCommand('cd apps/api && node dist/server.js', build, member)).toBe(true);
    expect(isRootCommand('cd dist && node server.js', build, member)).toBe(false);
    expect(isRootCommand('pnpm --filter api run start', build, member)).toBe(true);
    expect(isRootCommand('yarn workspace api start', build, member)).toBe(true);
    expect(isRootCommand('cargo build --release -p api', build, member)).toBe(true);
    expect(isRootCommand('node dist/server.js', build, member)).toBe(false);
  });

  it('a folder that is no workspace member keeps everything in its own folder', async () => {
    const build = await fixtureCopy('node-http');
    expect(commandDirs({ buildDir: build, member: build, build: '', start: 'npm start' })).toEqual({ root: null, install: build, build, start: build });
  });
});

describe('static sites (runtime item 3)', () => {
  it("a plain site answers unknown paths with its own 404.html and status 404, whatever the Accept header", async () => {
    const site = await fixtureCopy('static-404');
    expect(singlePageAppEvidence(site, site)).toBeNull();
    const server = await startStaticServer(site, { spa: false });
    closers.push(() => server.close());
    const home = await get(server.port, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('<h1>static-404 field notes</h1>');
    expect((await get(server.port, '/notes/')).body).toContain('<h1>static-404 notes index</h1>');
    for (const accept of ['text/html,application/xhtml+xml', '*/*', '']) {
      const missing = await get(server.port, '/no-such-page', accept ? { accept } : {});
      expect(missing.status, accept).toBe(404);
      expect(missing.type).toBe('text/html; charset=utf-8');
      expect(missing.body).toContain('<h1>static-404: this page does not exist</h1>');
    }
    expect((await get(server.port, '/missing.css')).status).toBe(404);
  });

  it('a site without a 404.html answers unknown paths with a plain 404, never index.html', async () => {
    const site = await fixtureCopy('static-site');
    const server = await startStaticServer(site, { spa: false });
    closers.push(() => server.close());
    const missing = await get(server.port, '/about', { accept: 'text/html' });
    expect(missing).toEqual({ status: 404, body: '404 not found\n', type: 'text/plain; charset=utf-8' });
  });

  it('a single-page app (a client router in its dependencies) answers its routes with index.html, with or without Accept', async () => {
    const app = await fixtureCopy('spa-router');
    const dist = path.join(app, 'dist');
    await mkdir(path.join(dist, 'assets'), { recursive: true });
    await writeFile(path.join(dist, 'index.html'), '<h1>spa-router trail log</h1>');
    await writeFile(path.join(dist, 'assets', 'index.js'), 'page();');
    expect(singlePageAppEvidence(app, dist)).toBe('package.json: dependencies.page');
    const server = await startStaticServer(dist, { spa: true });
    closers.push(() => server.close());
    for (const headers of [{ accept: 'text/html' }, {}, { accept: 'application/json' }] as Array<Record<string, string>>) {
      expect(await get(server.port, '/trails/ridge', headers)).toEqual({ status: 200, body: '<h1>spa-router trail log</h1>', type: 'text/html; charset=utf-8' });
    }
    // A missing asset is not a route: it stays a 404.
    expect((await get(server.port, '/assets/missing.js')).status).toBe(404);
  });

  it('explicit single-page settings: _redirects, Staticfile pushstate, static.json routes', async () => {
    const root = await tempDir('od-spa-settings-');
    const site = path.join(root, 'site');
    await mkdir(site, { recursive: true });
    expect(singlePageAppEvidence(root, site)).toBeNull();
    await writeFile(path.join(root, 'Staticfile'), 'root: site\npushstate: enabled\n');
    expect(singlePageAppEvidence(root, site)).toBe('Staticfile: pushstate: enabled');
    await writeFile(path.join(site, '_redirects'), '/api/*  https://api.example.com/:splat  200\n/*    /index.html   200\n');
    expect(singlePageAppEvidence(root, site)).toBe('site/_redirects: /* /index.html 200');
    const other = await tempDir('od-spa-static-json-');
    await writeFile(path.join(other, 'static.json'), JSON.stringify({ root: 'build/', routes: { '/**': 'index.html' } }));
    expect(singlePageAppEvidence(other, other)).toBe('static.json: routes "/**": "index.html"');
  });

  it('a static build without index.html is a failed build, not a live site answering 404', async () => {
    const source = await tempDir('od-no-index-');
    await writeFile(path.join(source, 'package.json'), JSON.stringify({ name: 'docs', private: true, scripts: { build: 'node build.js' } }));
    await writeFile(path.join(source, 'build.js'), "require('fs').mkdirSync('dist', { recursive: true }); require('fs').writeFileSync('dist/about.html', '<h1>about</h1>');\n");
    const buildsDir = await tempDir('od-no-index-builds-');
    const logs: string[] = [];
    const attempt = buildRelease({
      dep: { id: 'dep-no-index', source_path: source, build_variables: '{}' } as DeploymentRow,
      service: service({ type: 'static', framework: 'static', build_command: 'node build.js' }),
      project: { analyze_config: null } as ProjectRow,
      buildsDir,
      signal: new AbortController().signal,
      log: (_source, _level, message) => logs.push(message),
      progress: () => undefined,
      track: () => () => undefined,
    });
    const message = `Build output has no index.html: ${path.join(buildsDir, 'dep-no-index', 'dist')} holds no front page to serve`;
    await expect(attempt).rejects.toThrow(new DeployFailure('build', message));
    expect(logs.at(-1)).toBe(message);
    expect(hasIndexPage(path.join(buildsDir, 'dep-no-index', 'dist'))).toBe(false);
  });
});

describe('build environment', () => {
  it("the build sees the service's variables (as builders do), build variables win, PORT is left to the runtime", async () => {
    const source = await tempDir('od-build-env-');
    await writeFile(path.join(source, 'README.md'), 'env probe');
    const buildsDir = await tempDir('od-build-env-builds-');
    const spec = await buildRelease({
      dep: {
        id: 'dep-env',
        source_path: source,
        runtime_variables: JSON.stringify({ OPENAI_API_KEY: 'sk-runtime', MODE: 'runtime', PORT: '3000' }),
        build_variables: JSON.stringify({ MODE: 'build' }),
      } as DeploymentRow,
      service: service({ type: 'static', framework: 'static', build_command: `mkdir -p dist && echo '<h1>env</h1>' > dist/index.html && node -e "require('fs').writeFileSync('dist/seen.txt', [process.env.OPENAI_API_KEY, process.env.MODE, process.env.PORT ?? 'unset'].join(','))"` }),
      project: { analyze_config: null } as ProjectRow,
      buildsDir,
      signal: new AbortController().signal,
      log: () => undefined,
      progress: () => undefined,
      track: () => () => undefined,
    });
    expect(spec.static_root).toBe(path.join(buildsDir, 'dep-env', 'dist'));
    expect(await readFile(path.join(buildsDir, 'dep-env', 'dist', 'seen.txt'), 'utf8')).toBe('sk-runtime,build,unset');
  });
});

describe('an app that ignores PORT (runtime item 5)', () => {
  it('names the line that hard-codes the port and how the language reads PORT', async () => {
    const app = await fixtureCopy('hardcoded-port');
    expect(findHardcodedPort(app, 5055)).toEqual({
      file: 'server.js',
      line: 11,
      text: "server.listen(5055, () => console.log('status page on http://localhost:5055'));",
      expression: 'process.env.PORT',
    });
    expect(findHardcodedPort(app, 6000)).toBeNull();
    const py = await tempDir('od-port-py-');
    await mkdir(path.join(py, 'node_modules', 'x'), { recursive: true });
    await writeFile(path.join(py, 'node_modules', 'x', 'index.js'), 'listen(8123)\n');
    await writeFile(path.join(py, 'app.py'), '# serves on 8123\nBANNER = "v8123"\nTIMEOUT = 8123\napp.run(host="0.0.0.0", port=8123)\n');
    expect(findHardcodedPort(py, 8123)).toEqual({ file: 'app.py', line: 4, text: 'app.run(host="0.0.0.0", port=8123)', expression: 'os.environ["PORT"]' });
    await writeFile(path.join(py, 'settings.py'), 'HTTP_PORT = 8123\n');
    await writeFile(path.join(py, 'app.py'), 'TIMEOUT = 8123\n');
    expect(findHardcodedPort(py, 8123)).toEqual({ file: 'settings.py', line: 1, text: 'HTTP_PORT = 8123', expression: 'os.environ["PORT"]' });
  });
});

describe('databases (runtime item 7)', () => {
  it('a missing engine says how to install it with the package manager of this machine, or how to pass a connection string', async () => {
    const bin = await tempDir('od-apt-');
    await writeFile(path.join(bin, 'apt-get'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(bin, 'apt-get'), 0o755);
    expect(installHint('postgres', bin, 'linux', true)).toBe('install PostgreSQL with `apt-get install postgresql`');
    expect(installHint('redis', bin, 'linux', false)).toBe('install Redis with `sudo apt-get install redis-server`');
    expect(installHint('redis', '', 'linux', false)).toBe('install Redis (the redis-server package on Debian/Ubuntu, redis with Homebrew)');
    const baseDir = await tempDir('od-engines-');
    const spec = { id: 'dep-1', port: 1, user: 'u', password: 'p', database: 'app', baseDir, env: { PATH: bin } };
    const root = process.getuid?.() === 0;
    await expect(startEngine({ ...spec, engine: 'redis' })).rejects.toThrow(
      `redis-server: not found on this machine — install Redis with \`${root ? '' : 'sudo '}apt-get install redis-server\` to preview this app with its cache locally. ` +
        'Use a server of yours instead: put REDIS_URL=redis://host:6379 in a file and deploy with `--vars-file <file>` (no redis is provisioned then).',
    );
    await expect(startEngine({ ...spec, engine: 'mongodb' })).rejects.toThrow(
      'MongoDB cannot run in a local preview yet: only PostgreSQL and Redis are started on this machine. ' +
        'Use a server of yours instead: put MONGODB_URI=mongodb://host:27017/app in a file and deploy with `--vars-file <file>` (no mongodb is provisioned then), or deploy to the hosted gateway.',
    );
    expect(connectionHint('postgres')).not.toMatch(/dashboard/);
  });

  it("the user's own connection variable means the engine is not provisioned (DATABASE_URL counts for the engine its scheme names)", () => {
    expect(suppliedConnection('postgres', { DATABASE_URL: 'postgresql://u:p@db.example.com:5432/app' })).toBe('DATABASE_URL');
    expect(suppliedConnection('postgres', { DATABASE_URL: 'mysql://u:p@db.example.com/app' })).toBeNull();
    expect(suppliedConnection('mysql', { DATABASE_URL: 'mysql://u:p@db.example.com/app' })).toBe('DATABASE_URL');
    expect(suppliedConnection('redis', { REDIS_URL: 'redis://cache.example.com:6379' })).toBe('REDIS_URL');
    expect(suppliedConnection('mongodb', { MONGODB_URI: 'mongodb+srv://u:p@cluster0.example.net/app' })).toBe('MONGODB_URI');
    expect(suppliedConnection('redis', { DATABASE_URL: 'postgresql://u:p@h/app' })).toBeNull();
    expect(suppliedConnection('postgres', { DATABASE_URL: '' })).toBeNull();
    expect(suppliedConnection('postgres', {})).toBeNull();
  });
});
