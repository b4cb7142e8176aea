/** Pure helpers of the analyzer, tested by value. */
import { describe, expect, it } from 'vitest';
import { containerPort, engineOfImage } from '../../src/analyze/compose.js';
import { parseDockerfile } from '../../src/analyze/dockerfile.js';
import { classifyEnv, parseDotenv } from '../../src/analyze/env-vars.js';
import { describeRawName } from '../../src/analyze/fs-snapshot.js';
import { parsePep508 } from '../../src/analyze/manifests.js';
import { dnsName } from '../../src/analyze/name.js';
import { pickHttpPort } from '../../src/analyze/port.js';
import { entryOfStartScript, nodeExec } from '../../src/analyze/detectors/node.js';
import { portOfNextScript } from '../../src/analyze/detectors/next.js';
import { moduleOf } from '../../src/analyze/detectors/python.js';
import { nodeStartCommand, nodeRunScript } from '../../src/analyze/package-manager.js';

describe('entryOfStartScript', () => {
  it.each([
    ['node server.js', 'server.js'],
    ['node ./server.js', 'server.js'],
    ['NODE_ENV=production node --enable-source-maps dist/server.js', 'dist/server.js'],
    ['node -r dotenv/config src/index.js', 'src/index.js'],
    ['tsx src/main.ts', 'src/main.ts'],
    ['npm run build && node build/index.mjs', 'build/index.mjs'],
    ['bun run src/index.ts', 'src/index.ts'],
    ['next start', ''],
    ['vite preview --port 4173', ''],
    ['node', ''],
  ])('%s → %s', (script, entry) => {
    expect(entryOfStartScript(script)).toBe(entry);
  });
});

describe('dnsName', () => {
  it.each([
    ['express-app', 'express-app'],
    ['@acme/Fastify_App', 'acme-fastify-app'],
    ['My Cool App!!', 'my-cool-app'],
    ['Café Society', 'cafe-society'],
    ['---', ''],
    ['a'.repeat(70), 'a'.repeat(63)],
    [`${'a'.repeat(62)}-b`, 'a'.repeat(62)],
  ])('%s → %s', (raw, name) => {
    expect(dnsName(raw)).toBe(name);
  });
});

describe('parseDotenv', () => {
  it('reads names and defaults, quotes, export, comments and blanks', () => {
    const text = [
      '# comment',
      '',
      'DATABASE_URL=postgres://u:p@localhost/db',
      'export LOG_LEVEL=info # inline comment',
      'GREETING="hello # not a comment"',
      "SINGLE='x'",
      'EMPTY=',
      'not a line',
    ].join('\n');
    expect(parseDotenv(text, '.env.example')).toEqual([
      { name: 'DATABASE_URL', value: 'postgres://u:p@localhost/db', file: '.env.example', line: 3 },
      { name: 'LOG_LEVEL', value: 'info', file: '.env.example', line: 4 },
      { name: 'GREETING', value: 'hello # not a comment', file: '.env.example', line: 5 },
      { name: 'SINGLE', value: 'x', file: '.env.example', line: 6 },
      { name: 'EMPTY', value: '', file: '.env.example', line: 7 },
    ]);
  });
});

describe('classifyEnv', () => {
  it.each([
    ['DATABASE_URL', false, 'dependency_provided'],
    ['PGHOST', false, 'dependency_provided'],
    ['REDIS_URL', false, 'dependency_provided'],
    ['MONGODB_URI', false, 'dependency_provided'],
    ['SECRET_KEY', true, 'generated_app_secret'],
    ['SESSION_SECRET', true, 'generated_app_secret'],
    ['NEXTAUTH_URL', false, 'late_bound_url'],
    ['APP_URL', true, 'late_bound_url'],
    ['PORT', false, 'startup_critical'],
    ['STRIPE_API_KEY', true, 'startup_critical'],
    ['LOG_LEVEL', false, 'feature_optional'],
  ] as const)('%s (required %s) → %s', (name, required, kind) => {
    expect(classifyEnv(name, required)).toBe(kind);
  });
});

describe('ports', () => {
  it('pickHttpPort prefers usual HTTP ports over SSH, SMTP and databases', () => {
    expect(pickHttpPort([22, 8080])).toEqual({ port: 8080, ambiguous: false });
    expect(pickHttpPort([5432, 9123])).toEqual({ port: 9123, ambiguous: false });
    expect(pickHttpPort([7000, 7001])).toEqual({ port: null, ambiguous: true });
    expect(pickHttpPort([4000])).toEqual({ port: 4000, ambiguous: false });
  });

  it('containerPort takes the container side of compose port syntax', () => {
    expect(containerPort('8080:80')).toBe(80);
    expect(containerPort('127.0.0.1:5432:5432/tcp')).toBe(5432);
    expect(containerPort('3000')).toBe(3000);
    expect(containerPort(3000)).toBe(3000);
    expect(containerPort({ target: 8000, published: 80 })).toBe(8000);
    expect(containerPort('${WEB_PORT:-8000}:${APP_PORT:-9000}')).toBe(9000);
    expect(containerPort('${WEB_PORT}:${APP_PORT}')).toBeNull();
    expect(containerPort('8000-8001:8000-8001')).toBeNull();
  });

  it('portOfNextScript reads -p, --port and PORT=', () => {
    expect(portOfNextScript('next start -p 4000')).toBe(4000);
    expect(portOfNextScript('next start --port=4001')).toBe(4001);
    expect(portOfNextScript('PORT=4002 next start')).toBe(4002);
    expect(portOfNextScript('next start')).toBeNull();
  });
});

describe('parseDockerfile', () => {
  it('keeps the final stage EXPOSE and start, every ARG, and resolves $VAR ports', () => {
    const text = [
      'ARG NODE_VERSION=20',
      'FROM node:${NODE_VERSION} AS build',
      'EXPOSE 9999',
      'ARG NEXT_PUBLIC_API_URL',
      'RUN npm ci && \\',
      '    npm run build',
      'CMD ["npm", "run", "dev"]',
      '',
      '# runtime',
      'FROM node:20-slim',
      'ENV PORT=8080',
      'EXPOSE $PORT 22/tcp',
      'CMD ["node", "server.js"]',
    ].join('\n');
    expect(parseDockerfile('Dockerfile', text)).toEqual({
      path: 'Dockerfile',
      exposes: [
        { port: 8080, line: 12 },
        { port: 22, line: 12 },
      ],
      args: [
        { name: 'NODE_VERSION', default: '20', line: 1 },
        { name: 'NEXT_PUBLIC_API_URL', default: '', line: 4 },
      ],
      startLine: 13,
      stages: 2,
      command: '["node", "server.js"]',
      entrypoint: '',
      cmd: '["node", "server.js"]',
    });
  });
});

describe('small parsers', () => {
  it('parsePep508 normalises names and keeps extras and the version spec', () => {
    expect(parsePep508('Flask_SQLAlchemy>=3.0')).toEqual({ name: 'flask-sqlalchemy', extras: [], spec: '>=3.0' });
    expect(parsePep508('celery[redis,sqs]==5.4.0 ; python_version >= "3.9"')).toEqual({ name: 'celery', extras: ['redis', 'sqs'], spec: '==5.4.0' });
    expect(parsePep508('uvicorn[standard]')).toEqual({ name: 'uvicorn', extras: ['standard'], spec: '' });
  });

  it('engineOfImage maps database and cache images to engines', () => {
    expect(engineOfImage('postgres:16-alpine')).toBe('postgres');
    expect(engineOfImage('bitnami/postgresql:16')).toBe('postgres');
    expect(engineOfImage('mariadb:11')).toBe('mysql');
    expect(engineOfImage('mongo:7')).toBe('mongodb');
    expect(engineOfImage('valkey/valkey:8')).toBe('redis');
    expect(engineOfImage('clickhouse/clickhouse-server')).toBe('clickhouse');
    expect(engineOfImage('nginx:1.27')).toBeNull();
  });

  it('moduleOf turns a file into a Python module path', () => {
    expect(moduleOf('', 'main.py')).toBe('main');
    expect(moduleOf('', 'app/main.py')).toBe('app.main');
    expect(moduleOf('', 'app/__init__.py')).toBe('app');
    expect(moduleOf('api', 'api/src/app.py')).toBe('src.app');
  });

  it('describeRawName escapes bytes that are not UTF-8 and keeps the ones that are', () => {
    expect(describeRawName(Buffer.from([0x62, 0xff, 0x2e, 0x6a, 0x73]))).toBe('b\\xff.js');
    expect(describeRawName(Buffer.from('café.js'))).toBe('café.js');
  });

  it('commands are written for the package manager', () => {
    expect(nodeRunScript('pnpm', 'build')).toBe('pnpm run build');
    expect(nodeStartCommand('npm')).toBe('npm start');
    expect(nodeStartCommand('bun')).toBe('bun run start');
    expect(nodeExec('npm', 'next build')).toBe('npx next build');
    expect(nodeExec('pnpm', 'vite build')).toBe('pnpm exec vite build');
    expect(nodeExec('yarn', 'next start')).toBe('yarn next start');
    expect(nodeExec('bun', 'vite build')).toBe('bunx vite build');
  });
});
