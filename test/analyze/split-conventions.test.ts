/**
 * Service-split conventions of real repositories (issue 10), on small hand-built trees next to the
 * golden fixtures that cover each one whole:
 * - tooling-named workspace members that are full apps (monorepo-docs-app);
 * - compose services built from the root with a Dockerfile in a subfolder (compose-subfolder-dockerfile);
 * - development compose files and vendored build contexts (compose-dev-only, laravel-sail-compose);
 * - a workspace root whose start runs a file, or delegates into one member (monorepo-root-start);
 * - workers from Procfile.dev job runners and same-image compose commands (procfile-dev-sidekiq,
 *   compose-worker-command);
 * - a Procfile web line in a language no detector knows (procfile-web-script);
 * - a Cargo workspace's only binary, Go workspace libraries, apps two folders deep
 *   (cargo-workspace-one-bin, go-work-library, nested-app).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { languageOfCommand } from '../../src/analyze/procfile.js';
import { rootStart } from '../../src/analyze/root-start.js';
import type { PackageJson } from '../../src/analyze/manifests.js';
import { toolingKind } from '../../src/analyze/workspaces.js';
import type { AnalyzedService } from '../../src/analyze/schema.js';
import { analyzeFiles, removeTrees } from './helpers.js';

afterEach(removeTrees);

const pkg = (value: Record<string, unknown>): string => JSON.stringify(value, null, 2);
const LOCK = pkg({ lockfileVersion: 3, requires: true, packages: {} });
const HTTP = "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);\n";
const brief = (s: AnalyzedService) => [s.name, s.source_path, s.project_type, s.port, s.scripts_start];
const split = (s: AnalyzedService | undefined) => s?.evidence.find((e) => e.decision === 'service')?.evidence;

const nextApp = (name: string) => ({
  [`apps/${name}/package.json`]: pkg({ name, scripts: { dev: 'next dev', build: 'next build', start: 'next start' }, dependencies: { next: '15.1.3', react: '19.0.0' } }),
  [`apps/${name}/app/page.tsx`]: 'export default function Page() { return <h1>hi</h1>; }\n',
});

describe('convention 1: tooling-named workspace members', () => {
  const workspace = { 'package.json': pkg({ name: 'root', private: true, workspaces: ['apps/*', 'packages/*'] }), 'package-lock.json': LOCK };

  it('a docs member that is a full Next app (build and start scripts) is a service', async () => {
    const analysis = await analyzeFiles({ ...workspace, ...nextApp('web'), ...nextApp('docs') });
    expect(analysis.services.map(brief)).toEqual([
      ['docs', 'apps/docs', 'web', 3000, 'npm run start -w docs'],
      ['web', 'apps/web', 'web', 3000, 'npm run start -w web'],
    ]);
    expect(split(analysis.services[0])).toBe('package.json: workspaces member apps/docs: nextjs app with scripts.build and scripts.start (a tooling-like name, but a full app)');
  });

  it('a docs member with only a dev server, or a static docs build, is not', async () => {
    const analysis = await analyzeFiles({
      ...workspace,
      ...nextApp('web'),
      'apps/docs/package.json': pkg({ name: 'docs', scripts: { dev: 'next dev', start: 'next dev' }, dependencies: { next: '15.1.3' } }),
      'packages/documentation/package.json': pkg({ name: '@x/documentation', scripts: { build: 'vitepress build', start: 'vitepress dev' }, devDependencies: { vitepress: '1.5.0' } }),
      'packages/documentation/index.md': '# Docs\n',
    });
    expect(analysis.services.map((s) => s.source_path)).toEqual(['apps/web']);
  });

  it('tooling kinds: a tooling name can be an app, a tooling parent folder never is', () => {
    expect(toolingKind('apps/docs', 'docs')).toBe('name');
    expect(toolingKind('packages/site', '@acme/documentation')).toBe('name');
    expect(toolingKind('examples/blog', 'blog')).toBe('path');
    expect(toolingKind('apps/web', 'web')).toBe(null);
  });
});

describe('convention 2: compose Dockerfile in a subfolder, built from the root', () => {
  const files = {
    'docker-compose.yml': [
      'services:',
      '  api:',
      '    build: { context: ., dockerfile: api/Dockerfile }',
      '    ports: ["4000:4000"]',
      '  web:',
      '    build:',
      '      context: .',
      '      dockerfile: ./web/Dockerfile',
      '    ports: ["8080:80"]',
    ].join('\n'),
    'api/package.json': pkg({ name: 'api', scripts: { start: 'node server.js' } }),
    'api/package-lock.json': LOCK,
    'api/server.js': HTTP,
    'api/Dockerfile': 'FROM node:20\nWORKDIR /app\nCOPY lib ./lib\nCOPY api ./api\nWORKDIR /app/api\nEXPOSE 4000\nCMD ["node", "server.js"]\n',
    'web/package.json': pkg({ name: 'web', scripts: { build: 'vite build' }, devDependencies: { vite: '^6.0.5' } }),
    'web/package-lock.json': LOCK,
    'web/index.html': '<div id="app"></div>',
    'web/Dockerfile': 'FROM node:20 AS build\nCOPY lib ./lib\nCOPY web ./web\nRUN cd web && npm ci && npm run build\nFROM nginx:alpine\nCOPY --from=build /web/dist /usr/share/nginx/html\n',
    'lib/greeting.js': 'module.exports = () => "hi";\n',
  };

  it('each service is detected in its Dockerfile folder and built from the context: source_path ".", commands cd into the folder', async () => {
    const analysis = await analyzeFiles(files);
    expect(analysis.services.map((s) => [s.name, s.source_path, s.dockerfile, s.framework, s.port, s.entry_point, s.output_directory, s.scripts_build, s.scripts_start])).toEqual([
      ['api', '.', 'api/Dockerfile', '', 4000, 'api/server.js', '', '', 'cd api && npm start'],
      ['web', '.', 'web/Dockerfile', 'vite', 80, '', 'web/dist', 'cd web && npm ci && npm run build', ''],
    ]);
    expect(analysis.services[0]?.evidence.at(-1)).toEqual({
      decision: 'source_path',
      value: '.',
      evidence: 'docker-compose.yml: services.api.build: built from . with the app in api; commands run from .',
    });
  });

  it('one root Dockerfile for every app, told which by a build arg: each service is its member', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'root', private: true, workspaces: ['apps/*'] }),
      'package-lock.json': LOCK,
      Dockerfile: 'FROM node:20\nARG APP\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build -w ${APP}\nWORKDIR /app/apps/${APP}\nCMD ["npm", "start"]\n',
      'compose.yaml': 'services:\n  api:\n    build: { context: ., args: { APP: api } }\n    ports: ["4000:4000"]\n  client:\n    build:\n      context: .\n      args: ["APP=client"]\n    ports: ["3000:3000"]\n',
      'apps/api/package.json': pkg({ name: 'api', scripts: { start: 'node index.js' } }),
      'apps/api/index.js': HTTP,
      'apps/client/package.json': pkg({ name: 'client', scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '15.1.3' } }),
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.dockerfile, s.framework, s.port, s.scripts_start])).toEqual([
      ['api', 'apps/api', 'Dockerfile', '', 4000, 'npm run start -w api'],
      ['client', 'apps/client', 'Dockerfile', 'nextjs', 3000, 'npm run start -w client'],
    ]);
  });

  it('a Dockerfile in a folder without a manifest (docker/) leaves the app at the context, with that Dockerfile', async () => {
    const analysis = await analyzeFiles({
      'compose.yaml': 'services:\n  app:\n    build: { context: ., dockerfile: docker/Dockerfile }\n    ports: ["3000:3000"]\n',
      'package.json': pkg({ name: 'shop', scripts: { start: 'node server.js' } }),
      'package-lock.json': LOCK,
      'server.js': HTTP,
      'docker/Dockerfile': 'FROM node:20\nCOPY . .\nCMD ["node", "server.js"]\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.dockerfile, s.scripts_start])).toEqual([['shop', '.', 'docker/Dockerfile', 'npm start']]);
  });

  it('a workspace member built from the workspace root (turborepo Docker layout) keeps the workspace convention', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'root', private: true, workspaces: ['apps/*'], devDependencies: { turbo: '^2.3.3' } }),
      'package-lock.json': LOCK,
      'turbo.json': '{ "tasks": { "build": { "dependsOn": ["^build"] } } }',
      'docker-compose.yml': 'services:\n  api:\n    build:\n      context: .\n      dockerfile: ./apps/api/Dockerfile\n    ports: ["3001:3001"]\n',
      'apps/api/package.json': pkg({ name: 'api', scripts: { build: 'tsc', start: 'node dist/index.js' } }),
      'apps/api/Dockerfile': 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npx turbo run build --filter=api\nEXPOSE 3001\nCMD ["node", "apps/api/dist/index.js"]\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.dockerfile, s.port, s.scripts_build, s.scripts_start])).toEqual([
      ['api', 'apps/api', 'apps/api/Dockerfile', 3001, 'npm ci && npx turbo run build --filter=api', 'npm run start -w api'],
    ]);
  });
});

describe('convention 3: development-only compose files', () => {
  const app = {
    'package.json': pkg({ name: 'notes', scripts: { start: 'node server.js', dev: 'node --watch server.js' } }),
    'package-lock.json': LOCK,
    'server.js': HTTP,
  };

  it('a build context under vendor/ (Laravel Sail) is not a service and the analysis does not refuse', async () => {
    const analysis = await analyzeFiles({
      ...app,
      'docker-compose.yml': 'services:\n  laravel.test:\n    build:\n      context: ./vendor/laravel/sail/runtimes/8.3\n    ports: ["80:80"]\n  redis:\n    image: redis:alpine\n',
    });
    expect(analysis.refusal.refused).toBe(false);
    expect(analysis.services.map(brief)).toEqual([['notes', '.', 'web', 3000, 'npm start']]);
    expect(analysis.warnings).toContain(
      "docker-compose.yml: services.laravel.test is built from vendor/laravel/sail/runtimes/8.3, which is not part of the repository (installed tooling such as Laravel Sail's runtime, or a missing folder); it is not deployed",
    );
  });

  it('a build context that does not exist is not a service', async () => {
    const analysis = await analyzeFiles({ ...app, 'compose.yaml': 'services:\n  web:\n    build: ./docker/web\n  api:\n    build: .\n    ports: ["3000:3000"]\n' });
    expect(analysis.services.map(brief)).toEqual([['notes', '.', 'web', 3000, 'npm start']]);
    expect(analysis.warnings.some((w) => w.startsWith('compose.yaml: services.web is built from docker/web, which is not part of the repository'))).toBe(true);
  });

  it('the source mounted into the container: neither ports nor engines count', async () => {
    const analysis = await analyzeFiles({
      ...app,
      'docker-compose.yml': 'services:\n  app:\n    build: .\n    command: npm run dev\n    ports: ["9229:9229"]\n    volumes: ["./:/app", "/app/node_modules"]\n    depends_on: [db]\n  db:\n    image: postgres:16\n',
    });
    expect(analysis.services.map((s) => [s.port, s.dependencies])).toEqual([[3000, []]]);
    expect(analysis.warnings).toContain(
      'docker-compose.yml is a development environment (services.app mounts the source (.) into the container); its ports, databases and environment were not used',
    );
  });

  it('a development build target, or a comment saying so, makes it a development file; data volumes do not', async () => {
    const target = await analyzeFiles({ ...app, 'compose.yaml': 'services:\n  app:\n    build: { context: ., target: dev }\n    ports: ["5173:5173"]\n  cache:\n    image: redis:7\n' });
    expect(target.services.map((s) => [s.port, s.dependencies])).toEqual([[3000, []]]);
    expect(target.warnings).toContain('compose.yaml is a development environment (services.app builds the "dev" target); its ports, databases and environment were not used');

    const comment = await analyzeFiles({ ...app, 'compose.yaml': '# Local development only\nservices:\n  app:\n    build: .\n    ports: ["8080:3000"]\n  db:\n    image: postgres:16\n' });
    expect(comment.services.map((s) => [s.port, s.dependencies])).toEqual([[3000, []]]);
    expect(comment.warnings).toContain('compose.yaml is a development environment (its header comment at compose.yaml:1 says so); its ports, databases and environment were not used');

    const lineComment = await analyzeFiles({
      ...app,
      'compose.yaml': 'services:\n  app:\n    build: .\n    ports: ["8080:3000"]\n    # volumes: [".:/app"]  # uncomment for local development\n    depends_on: [db]\n  db:\n    image: postgres:16\n',
    });
    expect(lineComment.services.map((s) => [s.port, s.dependencies])).toEqual([[3000, ['postgres']]]);

    const production = await analyzeFiles({
      ...app,
      'compose.yaml': '# For development use compose.dev.yaml\nservices:\n  app:\n    build: .\n    ports: ["8080:3000"]\n    volumes: ["./data:/app/data"]\n    depends_on: [db]\n  db:\n    image: postgres:16\n',
    });
    expect(production.services.map((s) => [s.port, s.dependencies])).toEqual([[3000, ['postgres']]]);
  });

  it('mounting a source folder is development; mounting uploads or data is not', async () => {
    const source = await analyzeFiles({ ...app, 'compose.yaml': 'services:\n  app:\n    build: .\n    ports: ["8080:3000"]\n    volumes: ["./src:/app/src"]\n' });
    expect(source.services.map((s) => s.port)).toEqual([3000]);
    expect(source.warnings).toContain('compose.yaml is a development environment (services.app mounts the source (src) into the container); its ports, databases and environment were not used');
    const uploads = await analyzeFiles({ ...app, 'compose.yaml': 'services:\n  app:\n    build: .\n    ports: ["8080:3000"]\n    volumes: ["./public/uploads:/app/public/uploads", "./app/storage:/app/storage"]\n' });
    expect(uploads.services.map((s) => s.port)).toEqual([3000]);
    expect(uploads.services[0]?.evidence.find((e) => e.decision === 'port')?.evidence).toBe('compose.yaml: services.app.ports[0] "8080:3000"');
  });

  it('a development file still says which workers exist; its dev Dockerfile, ports and databases do not count', async () => {
    const analysis = await analyzeFiles({
      'requirements.txt': 'django==5.1.4\ncelery[redis]==5.4.0\ngunicorn==23.0.0\n',
      'manage.py': 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n',
      'shop/__init__.py': '',
      'shop/settings.py': 'ROOT_URLCONF = "shop.urls"\nWSGI_APPLICATION = "shop.wsgi.application"\n',
      'shop/wsgi.py': 'from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n',
      'Dockerfile.dev': 'FROM python:3.12\nCOPY . /code\nCMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n',
      'docker-compose.yml': [
        'services:',
        '  web:',
        '    build: { context: ., dockerfile: Dockerfile.dev }',
        '    command: python manage.py runserver 0.0.0.0:8000',
        '    volumes: [".:/code"]',
        '    ports: ["8000:8000"]',
        '    depends_on: [db, redis]',
        '  tasks:',
        '    build: { context: ., dockerfile: Dockerfile.dev }',
        '    command: celery -A shop worker -l info',
        '    volumes: [".:/code"]',
        '  db:',
        '    image: postgres:16',
        '  redis:',
        '    image: redis:7',
      ].join('\n'),
    });
    // The web start is Django's production server (the detector's), never the compose runserver.
    expect(analysis.services.map((s) => [s.name, s.project_type, s.dockerfile, /\bgunicorn\b/.test(s.scripts_start) ? 'gunicorn' : s.scripts_start])).toEqual([
      ['web', 'web', '', 'gunicorn'],
      ['tasks', 'worker', '', 'celery -A shop worker -l info'],
    ]);
    expect(analysis.services[0]?.evidence.find((e) => e.decision === 'port')?.evidence).not.toMatch(/docker-compose/);
    expect(analysis.services.flatMap((s) => s.evidence).some((e) => e.evidence.includes('docker-compose.yml: services.db'))).toBe(false);
    expect(analysis.warnings).toContain(
      'docker-compose.yml is a development environment (services.web builds Dockerfile.dev and mounts the source (.) into the container; services.tasks builds Dockerfile.dev and mounts the source (.) into the container); its ports, databases and environment were not used',
    );
  });

  it('a docker-compose.dev.yml is never read', async () => {
    const analysis = await analyzeFiles({ ...app, 'docker-compose.dev.yml': 'services:\n  app:\n    build: .\n    ports: ["5173:5173"]\n  db:\n    image: postgres:16\n' });
    expect(analysis.services.map((s) => [s.port, s.dependencies])).toEqual([[3000, []]]);
  });
});

describe('convention 5: a workspace root that starts the app', () => {
  const members = new Map<string, PackageJson | null>([
    ['apps/api', { name: '@x/api' } as PackageJson],
    ['apps/web', { name: 'web' } as PackageJson],
  ]);
  const root = (start: string, extra: Record<string, string> = {}): PackageJson => ({ path: 'package.json', scripts: { start, ...extra } }) as unknown as PackageJson;

  it('running a file from the root makes the root the service; delegating into one member makes that member', () => {
    for (const start of ['node packages/api/index.js', 'NODE_ENV=production node .', 'next start', 'tsx src/server.ts']) {
      expect(rootStart(root(start), members)?.kind, start).toBe('root');
    }
    expect(rootStart(root('npm run serve', { serve: 'node dist/server.js' }), members)).toEqual({
      kind: 'root',
      evidence: 'package.json: scripts.serve "node dist/server.js" starts the app from the workspace root; the members are its libraries',
    });
    for (const start of ['cd apps/api && npm start', 'pnpm --filter @x/api start', 'npm start -w @x/api', 'npm run start --workspace=apps/api', 'yarn workspace @x/api start', 'npm --prefix apps/api start']) {
      expect(rootStart(root(start), members), start).toEqual({ kind: 'member', dir: 'apps/api', evidence: `package.json: scripts.start "${start}" starts this member` });
    }
    for (const start of ['turbo run dev', 'next dev', 'turbo run start', 'nx run-many -t start', 'lerna run start', 'pnpm -r start', 'npm run start --workspaces', 'concurrently "npm:start:*"', 'concurrently "npm start -w @x/api" "npm start -w web"', 'echo "run npm run dev"', 'docker compose up']) {
      expect(rootStart(root(start), members), start).toBe(null);
    }
  });

  it('a root start that delegates into one member plans only that member, with workspace commands', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'root', private: true, workspaces: ['apps/*'], scripts: { start: 'npm run start -w api' } }),
      'package-lock.json': LOCK,
      'apps/api/package.json': pkg({ name: 'api', scripts: { start: 'node index.js' } }),
      'apps/api/index.js': HTTP,
      'apps/admin/package.json': pkg({ name: 'admin', scripts: { start: 'node index.js' } }),
      'apps/admin/index.js': HTTP,
    });
    expect(analysis.services.map(brief)).toEqual([['api', 'apps/api', 'web', 3000, 'npm run start -w api']]);
    expect(split(analysis.services[0])).toBe('package.json: workspaces member apps/api: package.json: scripts.start "npm run start -w api" starts this member');
  });
});

describe('convention 5: a browser script next to an index.html is not a Node worker', () => {
  it('a frontend folder of plain HTML and its script is a static site, not `node app.js`', async () => {
    const analysis = await analyzeFiles({
      'frontend/package.json': pkg({ name: 'todo-frontend', devDependencies: { eslint: '^9.17.0' } }),
      'frontend/index.html': '<ul id="todos"></ul>\n<script src="./app.js"></script>\n',
      'frontend/app.js': "document.querySelector('#todos').innerHTML = '<li>milk</li>';\n",
      'backend/package.json': pkg({ name: 'todo-api', scripts: { start: 'node index.js' } }),
      'backend/index.js': HTTP,
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.framework, s.project_type, s.scripts_start])).toEqual([
      ['todo-api', 'backend', '', 'web', 'npm start'],
      ['frontend', 'frontend', 'static', 'static', ''],
    ]);
  });

  it('DOM code without Node is a browser script even when no page names it; a Node file is not', async () => {
    const browser = await analyzeFiles({ 'package.json': pkg({ name: 'widget' }), 'index.js': 'window.addEventListener("load", () => document.body.append("hi"));\n' });
    expect(browser.services.map((s) => [s.scripts_start, s.entry_point])).toEqual([['', '']]);
    const page = await analyzeFiles({ 'package.json': pkg({ name: 'clock', devDependencies: { prettier: '^3.4.2' } }), 'index.html': '<p id="t"></p><script src="main.js"></script>\n', 'main.js': 'setInterval(() => { t.textContent = new Date(); }, 1000);\n' });
    expect(page.services.map((s) => [s.framework, s.project_type, s.scripts_start])).toEqual([['static', 'static', '']]);
    const node = await analyzeFiles({ 'package.json': pkg({ name: 'job' }), 'index.js': 'console.log(process.argv.length);\n' });
    expect(node.services.map((s) => [s.project_type, s.scripts_start, s.entry_point])).toEqual([['worker', 'node index.js', 'index.js']]);
  });
});

describe('convention 6: workers declared outside the Procfile', () => {
  const rails = {
    Gemfile: 'source "https://rubygems.org"\ngem "rails", "~> 7.2.2"\ngem "puma"\ngem "good_job"\n',
    'config/application.rb': 'require_relative "boot"\nrequire "rails/all"\nmodule Shop\n  class Application < Rails::Application\n  end\nend\n',
    'config.ru': 'require_relative "config/environment"\nrun Rails.application\n',
    'bin/rails': '#!/usr/bin/env ruby\n',
  };

  it('Procfile.dev: job runners are workers, watchers and dev servers are not', async () => {
    const analysis = await analyzeFiles({
      ...rails,
      'Procfile.dev': 'web: bin/rails server -p 3000\njs: yarn build --watch\ncss: bin/rails tailwindcss:watch\njobs: bundle exec good_job start\nreload: watchmedo auto-restart -- celery -A app worker\n',
    });
    expect(analysis.services.map((s) => [s.name, s.project_type, s.scripts_start])).toEqual([
      ['project', 'web', 'bundle exec rails server -b 0.0.0.0 -p $PORT'],
      ['project-jobs', 'worker', 'bundle exec good_job start'],
    ]);
    expect(split(analysis.services[1])).toBe('Procfile.dev:4 jobs (a production job runner)');
  });

  it('a job runner the Procfile already runs is not added twice; Procfile.dev alone without a job runner adds nothing', async () => {
    const both = await analyzeFiles({ ...rails, Procfile: 'web: bundle exec puma -C config/puma.rb\nworker: bin/jobs\n', 'Procfile.dev': 'web: bin/rails server\nworker: bin/jobs start\n' });
    expect(both.services.map((s) => [s.name, s.project_type, s.scripts_start])).toEqual([
      ['project', 'web', 'bundle exec puma -C config/puma.rb'],
      ['project-worker', 'worker', 'bin/jobs'],
    ]);
    const none = await analyzeFiles({ ...rails, 'Procfile.dev': 'web: bin/rails server\ncss: bin/rails tailwindcss:watch\n' });
    expect(none.services.map((s) => [s.name, s.project_type])).toEqual([['project', 'web']]);
  });

  it('compose: a service running the image another service builds, with its own command, is a worker; one with ports stays web', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'shop', scripts: { start: 'node server.js' } }),
      'package-lock.json': LOCK,
      'server.js': HTTP,
      'sync.js': 'setInterval(() => console.log("sync"), 1000);\n',
      'admin.js': HTTP,
      'compose.yaml': [
        'services:',
        '  app:',
        '    build: .',
        '    image: registry.example.com/shop:latest',
        '    ports: ["3000:3000"]',
        '  sync:',
        '    image: registry.example.com/shop:latest',
        '    command: node sync.js',
        '  admin:',
        '    build: .',
        '    command: node admin.js',
        '    ports: ["3001:3000"]',
      ].join('\n'),
    });
    expect(analysis.services.map((s) => [s.name, s.project_type, s.scripts_start])).toEqual([
      ['app', 'web', 'npm start'],
      ['sync', 'worker', 'node sync.js'],
      ['admin', 'web', 'node admin.js'],
    ]);
    expect(split(analysis.services[1])).toBe('compose.yaml: services.sync (worker, built from ., runs the image of services.app with its own command)');
  });

  it('compose services sharing one definition through `<<: *app` are the same build', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'shop', scripts: { start: 'node server.js' } }),
      'package-lock.json': LOCK,
      'server.js': HTTP,
      'mailer.js': 'setInterval(() => console.log("mail"), 1000);\n',
      'compose.yaml': 'x-app: &app\n  build: .\n  environment:\n    NODE_ENV: production\nservices:\n  app:\n    <<: *app\n    ports: ["3000:3000"]\n  mailer:\n    <<: *app\n    command: node mailer.js\n',
    });
    expect(analysis.services.map((s) => [s.name, s.project_type, s.scripts_start])).toEqual([
      ['app', 'web', 'npm start'],
      ['mailer', 'worker', 'node mailer.js'],
    ]);
  });

  it('a worker is never inferred from dependencies alone', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'shop', scripts: { start: 'node server.js' }, dependencies: { bullmq: '^5.34.5' } }),
      'package-lock.json': LOCK,
      'server.js': HTTP,
    });
    expect(analysis.services.map((s) => [s.name, s.project_type])).toEqual([['shop', 'web']]);
  });
});

describe('convention 9: a Procfile web line in any language', () => {
  it('a folder no detector claims is a service started by its web line, never "no deployable service"', async () => {
    const analysis = await analyzeFiles({ Procfile: 'web: ./bin/server --port 7000\n', 'bin/server': '#!/bin/sh\nexec busybox httpd -f -p "$PORT"\n' }, 'tiny');
    expect(analysis.refusal.refused).toBe(false);
    expect(analysis.services.map((s) => [s.name, s.language, s.project_type, s.port, s.scripts_start])).toEqual([['tiny', '', 'web', 7000, './bin/server --port 7000']]);
  });

  it('a Sinatra script run by the web line without a Gemfile listens on 4567', async () => {
    const analysis = await analyzeFiles({ Procfile: 'web: ruby app.rb\n', 'app.rb': "require 'sinatra'\n\nget('/') { 'hello' }\n" }, 'hello');
    expect(analysis.services.map((s) => [s.language, s.project_type, s.port, s.scripts_start])).toEqual([['ruby', 'web', 4567, 'ruby app.rb']]);
    expect(analysis.services[0]?.evidence.find((e) => e.decision === 'port')?.evidence).toBe('app.rb runs Sinatra, which listens on 4567 by default');
  });

  it('the language is the program the line runs', () => {
    expect(languageOfCommand('python3 src/web.py')).toBe('python');
    expect(languageOfCommand('gunicorn app:app')).toBe('python');
    expect(languageOfCommand('PORT=80 node dist/index.js')).toBe('javascript');
    expect(languageOfCommand('node --import tsx src/main.ts')).toBe('typescript');
    expect(languageOfCommand('exec ruby app.rb')).toBe('ruby');
    expect(languageOfCommand('bundle exec puma')).toBe('ruby');
    expect(languageOfCommand('java -jar target/app.jar')).toBe('java');
    expect(languageOfCommand('perl app.pl')).toBe('perl');
    expect(languageOfCommand('./bin/server')).toBe('');
  });

  it('the port is recomputed from the web line: gunicorn listens on 8000', async () => {
    const analysis = await analyzeFiles({
      'requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
      Procfile: 'web: gunicorn app:app\n',
    });
    expect(analysis.services.map((s) => [s.framework, s.port, s.scripts_start])).toEqual([['flask', 8000, 'gunicorn app:app']]);
  });
});

describe('convention 21: workspaces and nested apps', () => {
  const lib = { 'crates/core/Cargo.toml': '[package]\nname = "core"\nversion = "0.1.0"\nedition = "2021"\n', 'crates/core/src/lib.rs': 'pub fn add(a: i32, b: i32) -> i32 { a + b }\n' };

  it("a Cargo workspace's only binary is the service; build tools (xtask) do not count", async () => {
    const analysis = await analyzeFiles({
      'Cargo.toml': '[workspace]\nmembers = ["crates/*", "xtask"]\n',
      ...lib,
      'crates/bot/Cargo.toml': '[package]\nname = "bot"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\ncore = { path = "../core" }\n',
      'crates/bot/src/main.rs': 'fn main() { println!("{}", core::add(1, 2)); }\n',
      'xtask/Cargo.toml': '[package]\nname = "xtask"\nversion = "0.1.0"\nedition = "2021"\n',
      'xtask/src/main.rs': 'fn main() {}\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.project_type, s.scripts_build, s.scripts_start])).toEqual([
      ['bot', 'crates/bot', 'worker', 'cargo build --release -p bot', './target/release/bot'],
    ]);
    expect(analysis.warnings).toContain('Cargo.toml: members crates/core, xtask are not deployed (libraries, or binaries that neither serve HTTP nor are named as workers)');
  });

  it('two binaries that neither serve nor are workers: no member is chosen', async () => {
    const analysis = await analyzeFiles({
      'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n',
      ...lib,
      'crates/a/Cargo.toml': '[package]\nname = "a"\nversion = "0.1.0"\nedition = "2021"\n',
      'crates/a/src/main.rs': 'fn main() {}\n',
      'crates/b/Cargo.toml': '[package]\nname = "b"\nversion = "0.1.0"\nedition = "2021"\n',
      'crates/b/src/main.rs': 'fn main() {}\n',
    });
    expect(analysis.services.map((s) => s.source_path)).toEqual(['.']);
  });

  it('a Go workspace: the library module is not a service, and a lone tool module is not made one', async () => {
    const analysis = await analyzeFiles({
      'go.work': 'go 1.23\n\nuse (\n\t./lib\n\t./tools/gen\n)\n',
      'lib/go.mod': 'module example.com/lib\n\ngo 1.23\n',
      'lib/lib.go': 'package lib\n\nfunc Answer() int { return 42 }\n',
      'tools/gen/go.mod': 'module example.com/gen\n\ngo 1.23\n',
      'tools/gen/main.go': 'package main\n\nfunc main() {}\n',
    });
    expect(analysis.services.every((s) => s.source_path !== 'lib' && s.source_path !== 'tools/gen')).toBe(true);
  });

  it('a root package.json with nothing to run (husky, prettier) does not hide frontend/ and backend/', async () => {
    const analysis = await analyzeFiles({
      'package.json': pkg({ name: 'todo', private: true, scripts: { dev: 'concurrently "npm run dev --prefix backend" "npm run dev --prefix frontend"' }, devDependencies: { concurrently: '^9.1.0', husky: '^9.1.7' } }),
      'package-lock.json': LOCK,
      'backend/package.json': pkg({ name: 'todo-api', scripts: { start: 'node index.js' } }),
      'backend/index.js': HTTP,
      'frontend/package.json': pkg({ name: 'todo-web', scripts: { build: 'vite build' }, devDependencies: { vite: '^6.0.5' } }),
      'frontend/index.html': '<div id="app"></div>',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.project_type])).toEqual([
      ['todo-api', 'backend', 'web'],
      ['todo-web', 'frontend', 'static'],
    ]);
    expect(split(analysis.services[0])).toBe('nothing to run at the root; top-level folder member backend: backend/package.json: scripts.start');
  });

  it('a root Procfile makes the root the service, whatever its subfolders hold', async () => {
    const analysis = await analyzeFiles({ Procfile: 'web: python3 serve.py\n', 'serve.py': 'print("hi")\n', 'tools/package.json': pkg({ name: 'tools', scripts: { start: 'node x.js' } }) }, 'site');
    expect(analysis.services.map((s) => [s.name, s.source_path, s.language, s.scripts_start])).toEqual([['site', '.', 'python', 'python3 serve.py']]);
  });

  it('an app two folders deep under examples/ is found when nothing else is', async () => {
    const analysis = await analyzeFiles({
      'README.md': '# demo\n',
      'examples/app/package.json': pkg({ name: 'demo-app', scripts: { start: 'node server.js' } }),
      'examples/app/server.js': HTTP,
    });
    expect(analysis.services.map(brief)).toEqual([['demo-app', 'examples/app', 'web', 3000, 'npm start']]);
  });
});
