/**
 * The service split (spec/analysis.md "Service split") and the Dockerfile rules, on small
 * hand-built projects: compose roles and ignored entries, Procfile workers, workspace members and
 * their root-built commands, Dockerfile sanity and the HTTP port among several EXPOSEd ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isToolingPackage } from '../../src/analyze/workspaces.js';
import type { AnalyzedService } from '../../src/analyze/schema.js';
import { analyzeFiles, removeTrees } from './helpers.js';

afterEach(removeTrees);

const pkg = (value: Record<string, unknown>): string => JSON.stringify(value, null, 2);
const LOCK = pkg({ lockfileVersion: 3, requires: true, packages: {} });
const EXPRESS = "require('express')().listen(process.env.PORT || 3000);\n";
const brief = (s: AnalyzedService) => ({
  name: s.name,
  source_path: s.source_path,
  framework: s.framework,
  project_type: s.project_type,
  port: s.port,
  scripts_build: s.scripts_build,
  scripts_start: s.scripts_start,
  dependencies: s.dependencies,
});

describe('compose split', () => {
  it('services built from sub-folders are services there; tooling, proxies and external services are not', async () => {
    const analysis = await analyzeFiles({
      'docker-compose.yml': [
        'services:',
        '  frontend:',
        '    build: ./frontend',
        '    ports: ["8080:80"]',
        '    depends_on: [backend]',
        '  backend:',
        '    build:',
        '      context: ./backend',
        '      dockerfile: Dockerfile.prod',
        '    command: npm run dev',
        '    environment:',
        '      - DATABASE_URL=mysql://app:app@mariadb:3306/app',
        '  mariadb:',
        '    image: mariadb:11',
        '  search:',
        '    image: getmeili/meilisearch:v1.12',
        '  nginx:',
        '    build: ./nginx',
        '  e2e:',
        '    build: ./e2e',
        '  adminer:',
        '    image: adminer',
        '  docs:',
        '    build: ./docs',
        '    profiles: [docs]',
      ].join('\n'),
      'frontend/package.json': pkg({ name: 'frontend', scripts: { build: 'vite build' }, devDependencies: { vite: '^6.0.5' } }),
      'frontend/package-lock.json': LOCK,
      'frontend/index.html': '<div id="root"></div>',
      'frontend/Dockerfile': 'FROM node:20 AS build\nRUN npm ci && npm run build\nFROM nginx:alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n',
      'backend/package.json': pkg({ name: 'backend', scripts: { start: 'node index.js', dev: 'nodemon index.js' }, dependencies: { express: '^4.21.2' } }),
      'backend/package-lock.json': LOCK,
      'backend/index.js': EXPRESS,
      'backend/Dockerfile.prod': 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nEXPOSE 4000\nCMD ["node", "index.js"]\n',
      'nginx/Dockerfile': 'FROM nginx:alpine\n',
    });
    expect(analysis.services.map(brief)).toEqual([
      { name: 'frontend', source_path: 'frontend', framework: 'vite', project_type: 'static', port: 80, scripts_build: 'npm ci && npm run build', scripts_start: '', dependencies: [] },
      { name: 'backend', source_path: 'backend', framework: 'express', project_type: 'web', port: 4000, scripts_build: 'npm ci', scripts_start: 'npm start', dependencies: ['mysql'] },
    ]);
    expect(analysis.services[1]?.dockerfile).toBe('backend/Dockerfile.prod');
    expect(analysis.warnings).toEqual(
      expect.arrayContaining([
        'docker-compose.yml: services.nginx is a reverse proxy; the platform routes traffic to the services itself, so it is not deployed',
        'docker-compose.yml: search (getmeili/meilisearch:v1.12) is an external service opendeploy does not manage; provide the connection settings yourself',
        'docker-compose.yml: services.backend.command "npm run dev" runs a development server; it was not used as the start command',
      ]),
    );
  });

  it('one service built from the root stays the single service, named after the project', async () => {
    const analysis = await analyzeFiles({
      'compose.yaml': 'services:\n  app:\n    build: .\n    ports: ["3000:3000"]\n  cache:\n    image: valkey/valkey:8\n',
      'package.json': pkg({ name: 'shop', scripts: { start: 'node server.js' }, dependencies: { express: '^4.21.2' } }),
      'package-lock.json': LOCK,
      'server.js': EXPRESS,
    });
    expect(analysis.services.map(brief)).toEqual([
      { name: 'shop', source_path: '.', framework: 'express', project_type: 'web', port: 3000, scripts_build: 'npm ci', scripts_start: 'npm start', dependencies: ['redis'] },
    ]);
  });
});

describe('Procfile split', () => {
  it('web and every worker-type process; release is not a service but runs before the web process', async () => {
    const analysis = await analyzeFiles({
      'requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\ncelery[redis]==5.4.0\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
      Procfile: 'web: gunicorn app:app\nworker: celery -A tasks worker\nbeat: celery -A tasks beat\nrelease: flask db upgrade\n',
    });
    expect(analysis.services.map((s) => [s.name, s.project_type, s.scripts_start, s.port])).toEqual([
      // The port is gunicorn's (the server the web line launches), not Flask's development default.
      ['project', 'web', 'flask db upgrade && gunicorn app:app', 8000],
      ['project-worker', 'worker', 'celery -A tasks worker', null],
      ['project-beat', 'worker', 'celery -A tasks beat', null],
    ]);
    expect(analysis.services[1]?.evidence[0]).toEqual({ decision: 'service', value: 'project-worker', evidence: 'Procfile:2 worker' });
  });

  it('a Procfile with only a worker is one worker service with the project name', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'jobs', dependencies: { bullmq: '^5.34.5' } }),
      'package-lock.json': LOCK,
      'worker.js': "require('bullmq');\n",
      Procfile: 'worker: node worker.js\n',
    });
    expect(analysis.services.map((s) => [s.name, s.project_type, s.scripts_start, s.entry_point, s.port, s.dependencies])).toEqual([
      ['jobs', 'worker', 'node worker.js', 'worker.js', null, ['redis']],
    ]);
    expect(analysis.refusal.refused).toBe(false);
  });
});

describe('workspace split', () => {
  it('yarn workspaces: filtered yarn commands from the root; a docs app with build and start is a service, config packages are not', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'root', private: true, workspaces: ['apps/*', 'packages/*'] }),
      'yarn.lock': '# yarn lockfile v1\n',
      'apps/site/package.json': pkg({ name: '@x/site', scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.1.3', '@x/lib': '1.0.0' } }),
      'apps/docs/package.json': pkg({ name: '@x/docs', scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.1.3' } }),
      'packages/lib/package.json': pkg({ name: '@x/lib', version: '1.0.0', main: 'dist/index.js', scripts: { build: 'tsc' } }),
      'packages/eslint-config/package.json': pkg({ name: '@x/eslint-config', main: 'index.js' }),
      'packages/eslint-config/index.js': 'module.exports = {};\n',
    });
    expect(analysis.services.map(brief)).toEqual([
      {
        name: 'x-docs',
        source_path: 'apps/docs',
        framework: 'nextjs',
        project_type: 'web',
        port: 3000,
        scripts_build: 'yarn install --frozen-lockfile && yarn workspace @x/docs run build',
        scripts_start: 'yarn workspace @x/docs run start',
        dependencies: [],
      },
      {
        name: 'x-site',
        source_path: 'apps/site',
        framework: 'nextjs',
        project_type: 'web',
        port: 3000,
        scripts_build: 'yarn install --frozen-lockfile && yarn workspace @x/lib run build && yarn workspace @x/site run build',
        scripts_start: 'yarn workspace @x/site run start',
        dependencies: [],
      },
    ]);
  });

  it('a member with its own lockfile and no local dependencies builds on its own', async () => {
    const analysis = await analyzeFiles({
      'pnpm-workspace.yaml': 'packages:\n  - "services/**"\n  - "!services/legacy/**"\n',
      'package.json': pkg({ name: 'root', private: true }),
      'services/api/package.json': pkg({ name: 'api', scripts: { start: 'node index.js' }, dependencies: { express: '^4.21.2' } }),
      'services/api/package-lock.json': LOCK,
      'services/api/index.js': EXPRESS,
      'services/legacy/old/package.json': pkg({ name: 'old', scripts: { start: 'node index.js' } }),
    });
    expect(analysis.services.map(brief)).toEqual([
      { name: 'api', source_path: 'services/api', framework: 'express', project_type: 'web', port: 3000, scripts_build: 'npm ci', scripts_start: 'npm start', dependencies: [] },
    ]);
  });

  it('no member is a service: the root is analysed as one service', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'lib-monorepo', private: true, workspaces: ['packages/*'], scripts: { start: 'node server.js' } }),
      'package-lock.json': LOCK,
      'server.js': "require('node:http').createServer(() => {}).listen(process.env.PORT || 3000);\n",
      'packages/core/package.json': pkg({ name: '@lib/core', main: 'index.js' }),
      'packages/core/index.js': 'module.exports = 1;\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.scripts_start])).toEqual([['lib-monorepo', '.', 'npm start']]);
  });

  it('no manifest at the root: top-level folders with one are the services, each built on its own', async () => {
    const analysis = await analyzeFiles({
      'README.md': '# todo app\n',
      'frontend/package.json': pkg({ name: 'todo-frontend', scripts: { dev: 'vite', build: 'vite build' }, devDependencies: { vite: '^6.0.5' } }),
      'frontend/package-lock.json': LOCK,
      'frontend/index.html': '<div id="app"></div>',
      'backend/requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\n',
      'backend/app.py': 'from flask import Flask\napp = Flask(__name__)\n',
      'docs/index.html': '<h1>docs</h1>',
      'scripts/seed.sh': 'echo seed\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.framework, s.project_type, s.scripts_build])).toEqual([
      ['backend', 'backend', 'flask', 'web', 'pip install -r requirements.txt'],
      ['todo-frontend', 'frontend', 'vite', 'static', 'npm ci && npm run build'],
    ]);
  });

  it('tooling package names', () => {
    for (const name of ['eslint-config', 'tsconfig', 'docs', 'cli', 'create-app', 'config', 'typescript-config', 'web-e2e', 'storybook']) {
      expect(isToolingPackage(`packages/${name}`, undefined), name).toBe(true);
    }
    for (const name of ['web', 'api', 'admin-ui', 'worker', 'dashboard']) expect(isToolingPackage(`apps/${name}`, undefined), name).toBe(false);
    expect(isToolingPackage('examples/blog', 'blog')).toBe(true);
  });
});

describe('Dockerfile', () => {
  const app = {
    'package.json': pkg({ name: 'svc', scripts: { start: 'node server.js', dev: 'nodemon server.js' }, dependencies: { express: '^4.21.2' } }),
    'package-lock.json': LOCK,
    'server.js': EXPRESS,
  };

  it('a Dockerfile that starts a development server is not used', async () => {
    const analysis = await analyzeFiles({ ...app, Dockerfile: 'FROM node:20\nCOPY . .\nRUN npm install\nCMD ["npm", "run", "dev"]\n' });
    expect(analysis.services[0]?.dockerfile).toBe('');
    expect(analysis.warnings).toContain('Dockerfile starts a development server (["npm", "run", "dev"]); it was not used (the service is built from the detected framework instead)');
  });

  it('a Dockerfile without FROM is not used', async () => {
    const analysis = await analyzeFiles({ ...app, Dockerfile: 'RUN echo hi\n' });
    expect(analysis.services[0]?.dockerfile).toBe('');
    expect(analysis.warnings).toContain('Dockerfile has no FROM instruction; it was not used (the service is built from the detected framework instead)');
  });

  it('a database port alone is never the HTTP port: later evidence decides', async () => {
    const analysis = await analyzeFiles({ ...app, Dockerfile: 'FROM node:20\nEXPOSE 5432\nCMD ["node", "server.js"]\n' });
    expect(analysis.services[0]?.port).toBe(3000);
    expect(analysis.warnings).toContain('Dockerfile exposes only 5432 (PostgreSQL), which is not an HTTP port; the port was taken from later evidence');
  });
});

describe('service names', () => {
  it('are DNS-safe and unique', async () => {
    const analysis = await analyzeFiles({
      'docker-compose.yml': 'services:\n  API_1:\n    build: ./a\n  api-1:\n    build: ./b\n',
      'a/package.json': pkg({ name: 'a', scripts: { start: 'node index.js' } }),
      'a/index.js': EXPRESS,
      'b/package.json': pkg({ name: 'b', scripts: { start: 'node index.js' } }),
      'b/index.js': EXPRESS,
    });
    expect(analysis.services.map((s) => s.name)).toEqual(['api-1', 'api-1-2']);
  });
});

describe('bad input in split files never crashes', () => {
  it('malformed pnpm-workspace.yaml, deno.jsonc and compose shapes are warnings', async () => {
    const analysis = await analyzeFiles({
      'pnpm-workspace.yaml': 'packages: [unclosed\n',
      'package.json': pkg({ name: 'app', scripts: { start: 'node server.js' } }),
      'server.js': EXPRESS,
      'deno.jsonc': '{ "tasks": { "start": ',
      'compose.yaml': 'services:\n  a: [1, 2]\n  b:\n    build: 42\n    ports: [{}, "x:y", 99999]\n    depends_on: 7\n    environment: 5\n    command: { x: 1 }\n',
    });
    expect(analysis.warnings).toContain('pnpm-workspace.yaml is not valid YAML; it was ignored');
    expect(analysis.services.map((s) => [s.name, s.scripts_start])).toEqual([['app', 'npm start']]);
  });

  it('a broken deno.jsonc alone: a warning naming it, and a refusal for lack of a start command', async () => {
    const analysis = await analyzeFiles({ 'deno.jsonc': '{ "tasks": { "start": ', 'lib.ts': 'export const x = 1;\n' });
    expect(analysis.warnings).toContain('deno.jsonc is not valid JSON(C) (syntax error); its tasks and imports were ignored');
    expect(analysis.refusal.refused).toBe(true);
  });

  it('circular local dependencies and deep ** globs terminate', async () => {
    const files: Record<string, string> = {
      'package.json': pkg({ name: 'root', private: true, workspaces: ['**'] }),
      'package-lock.json': LOCK,
      'a/package.json': pkg({ name: 'a', scripts: { build: 'tsc', start: 'node index.js' }, dependencies: { b: '*' } }),
      'a/index.js': EXPRESS,
      'b/package.json': pkg({ name: 'b', scripts: { build: 'tsc' }, dependencies: { a: '*' } }),
    };
    let deep = 'deep';
    for (let i = 0; i < 12; i += 1) deep += `/d${i}`;
    files[`${deep}/package.json`] = pkg({ name: 'deep', scripts: { start: 'node x.js' } });
    const analysis = await analyzeFiles(files);
    expect(analysis.services.map((s) => [s.name, s.scripts_build])).toEqual([['a', 'npm ci && npm run build -w b && npm run build -w a']]);
  });
});
