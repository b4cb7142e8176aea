/**
 * Issue 10 conventions on small hand-built projects (the fixtures cover the realistic apps):
 * the port of the server the start command launches, ports from the app's own configuration,
 * databases that need evidence of use, app factories, Dockerfile starts and Python entry scripts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerStartCommand, parseDockerfile } from '../../src/analyze/dockerfile.js';
import { analyzeProject } from '../../src/analyze/index.js';
import { serverPortOf } from '../../src/analyze/port.js';
import type { Analysis, AnalyzedService } from '../../src/analyze/schema.js';
import { tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function analyzeFiles(files: Record<string, string>): Promise<{ service: AnalyzedService; analysis: Analysis }> {
  const { dir, cleanup } = await tempDir('project');
  cleanups.push(cleanup);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  const analysis = await analyzeProject(dir, { cwd: dir });
  expect(analysis.services).toHaveLength(1);
  return { service: analysis.services[0] as AnalyzedService, analysis };
}

const evidenceOf = (s: AnalyzedService, decision: string): string | undefined => s.evidence.find((e) => e.decision === decision)?.evidence;

describe('serverPortOf: the server the start command launches', () => {
  it.each([
    ['gunicorn app:app --bind 0.0.0.0:$PORT', 8000, false],
    ['gunicorn -b :9000 app:app', 9000, true],
    ['python manage.py migrate && gunicorn mysite.wsgi', 8000, false],
    ['poetry run uvicorn main:app --host 0.0.0.0 --port 7000', 7000, true],
    ['uvicorn main:app', 8000, false],
    ['flask --app app run --host 0.0.0.0', 5000, false],
    ['hypercorn main:app', 8000, false],
    ['daphne -b 0.0.0.0 -p 8001 proj.asgi:application', 8001, true],
    ['waitress-serve --listen=*:6543 app:app', 6543, true],
    ['python manage.py runserver 0.0.0.0:8080', 8080, true],
    ['bundle exec rackup config.ru', 9292, false],
    ['bundle exec puma -b tcp://0.0.0.0:4000', 4000, true],
    ['bundle exec rails server -b 0.0.0.0', 3000, false],
    ['fastapi run main.py', 8000, false],
    ['streamlit run app.py --server.port 8080', 8080, true],
    ['python -m http.server 9001', 9001, true],
    ['gunicorn app:app --bind 0.0.0.0:${PORT:-5000}', 5000, false],
  ])('%s → %i', async (command, value, explicit) => {
    expect(await serverPortOf(command, 'Procfile:1 web')).toMatchObject({ value, explicit });
  });

  it('is null for commands that launch no known server', async () => {
    expect(await serverPortOf('node server.js', 'Procfile:1 web')).toBeNull();
    expect(await serverPortOf('python app.py', 'Procfile:1 web')).toBeNull();
    expect(await serverPortOf('bundle exec ruby app.rb -o 0.0.0.0', 'Procfile:1 web')).toBeNull();
  });

  it('names the command when it does not come from a file line', async () => {
    expect(await serverPortOf('uvicorn main:app --port $PORT', 'requirements.txt:2 uvicorn; ASGI app at main.py:3')).toEqual({
      value: 8000,
      explicit: false,
      evidence: 'start command "uvicorn main:app --port $PORT": uvicorn listens on 8000 by default',
    });
  });

  it('a Procfile start that runs a shell script takes the port of the server in the script', async () => {
    const { service } = await analyzeFiles({
      'requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
      'start.sh': '#!/bin/sh\nset -e\nflask db upgrade\nexec gunicorn -b 0.0.0.0:5005 app:app\n',
      Procfile: 'web: ./start.sh\n',
    });
    expect(service.port).toBe(5005);
    expect(evidenceOf(service, 'port')).toBe('start command "gunicorn -b 0.0.0.0:5005 app:app": gunicorn -b 0.0.0.0:5005');
  });

  it('a Procfile that runs the Sinatra file itself listens on 4567, not on the Rack default of config.ru', async () => {
    const { service } = await analyzeFiles({
      Gemfile: 'source "https://rubygems.org"\ngem "sinatra"\ngem "puma"\n',
      'app.rb': 'require "sinatra"\n\nget "/" do\n  "hi"\nend\n',
      'config.ru': 'require "./app"\nrun Sinatra::Application\n',
      Procfile: 'web: bundle exec ruby app.rb -o 0.0.0.0\n',
    });
    expect(service.port).toBe(4567);
    expect(evidenceOf(service, 'port')).toBe('app.rb runs Sinatra, which listens on 4567 by default');
  });

  it('gunicorn reads gunicorn.conf.py for its bind address', async () => {
    const { service } = await analyzeFiles({
      'requirements.txt': 'flask==3.1.0\ngunicorn==23.0.0\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
      'gunicorn.conf.py': 'workers = 2\nbind = "0.0.0.0:8123"\n',
    });
    expect(service.port).toBe(8123);
    expect(evidenceOf(service, 'port')).toBe('gunicorn.conf.py:2 port 8123 (read by gunicorn)');
  });
});

describe('dockerStartCommand', () => {
  it('joins an exec-form ENTRYPOINT with CMD, unwraps sh -c, keeps the shell form', () => {
    const start = (text: string): string => dockerStartCommand(parseDockerfile('Dockerfile', text));
    expect(start('FROM python:3.12\nENTRYPOINT ["gunicorn"]\nCMD ["-b", "0.0.0.0:8000", "app:app"]\n')).toBe('gunicorn -b 0.0.0.0:8000 app:app');
    expect(start('FROM node:20\nCMD ["sh", "-c", "node dist/main.js --port $PORT"]\n')).toBe('node dist/main.js --port $PORT');
    expect(start('FROM ruby:3.3\nCMD bundle exec puma -C config/puma.rb\n')).toBe('bundle exec puma -C config/puma.rb');
    expect(start('FROM node:20 AS build\nCMD ["npm", "test"]\nFROM nginx:alpine\n')).toBe('');
  });
});

describe('app factories', () => {
  it('a FastAPI factory with no module-level app is started with uvicorn --factory', async () => {
    const { service } = await analyzeFiles({
      'requirements.txt': 'fastapi==0.115.5\nuvicorn==0.32.1\n',
      'main.py': 'from fastapi import FastAPI\n\n\ndef create_app(\n    debug: bool = False,\n) -> FastAPI:\n    api = FastAPI(debug=debug)\n    return api\n',
    });
    expect(service.scripts_start).toBe('uvicorn main:create_app --factory --host 0.0.0.0 --port $PORT');
    expect(evidenceOf(service, 'entry_point')).toBe('main.py:4 def create_app() builds the app');
  });

  it('a Flask factory with no module-level app runs through flask --app, which finds create_app itself', async () => {
    const { service } = await analyzeFiles({
      'requirements.txt': 'flask==3.1.0\n',
      'shop/__init__.py': 'from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n',
    });
    expect(service.scripts_start).toBe('flask --app shop run --host 0.0.0.0 --port $PORT');
    expect(service.port).toBe(5000);
  });
});

describe('ports from the app configuration', () => {
  it('a Go command-line flag default', async () => {
    const { service } = await analyzeFiles({
      'go.mod': 'module example.com/api\n\ngo 1.22\n',
      'main.go': 'package main\n\nimport (\n\t"flag"\n\t"net/http"\n)\n\nvar addr = flag.String("addr", ":7070", "listen address")\n\nfunc main() {\n\tflag.Parse()\n\thttp.ListenAndServe(*addr, nil)\n}\n',
    });
    expect(service.port).toBe(7070);
    expect(evidenceOf(service, 'port')).toBe('main.go:8 command-line flag default port 7070');
  });

  it('a database port in the env example is never the HTTP port; PORT= only fills in after the code', async () => {
    const { service } = await analyzeFiles({
      'package.json': JSON.stringify({ name: 'api', scripts: { start: 'node index.js' } }),
      '.env.example': 'DB_PORT=5432\nPORT=4100\n',
      'index.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
    });
    expect(service.port).toBe(4100);
    expect(evidenceOf(service, 'port')).toBe('.env.example:2 PORT=4100');
  });
});

describe('databases need evidence of use', () => {
  it('a Redis client that nothing uses in production provisions nothing, with a warning', async () => {
    const { service, analysis } = await analyzeFiles({
      'package.json': JSON.stringify({ name: 'api', scripts: { start: 'node index.js' }, dependencies: { redis: '^4.7.0' } }),
      'index.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);\n",
    });
    expect(service.dependencies).toEqual([]);
    expect(analysis.warnings).toContain(
      'package.json: dependencies.redis is a Redis client but nothing uses Redis in production (no job queue, cache or session store, Action Cable adapter or REDIS_URL); no Redis is provisioned',
    );
  });

  it('a Redis client counts when a queue uses it (celery) or the env example names REDIS_URL', async () => {
    const celery = await analyzeFiles({
      'requirements.txt': 'celery==5.4.0\nredis==5.2.0\n',
      'tasks.py': 'from celery import Celery\n\napp = Celery("tasks")\n',
    });
    expect(celery.service.dependencies).toEqual(['redis']);
    expect(evidenceOf(celery.service, 'dependency')).toBe('requirements.txt:2 redis');
    const example = await analyzeFiles({
      'package.json': JSON.stringify({ name: 'api', scripts: { start: 'node index.js' }, dependencies: { ioredis: '^5.4.1' } }),
      '.env.example': 'REDIS_URL=redis://localhost:6379\n',
      'index.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(3000);\n",
    });
    expect(example.service.dependencies).toEqual(['redis']);
  });

  it("a broker URL falling back to redis:// and Django's Redis cache backend are production uses of Redis", async () => {
    const broker = await analyzeFiles({
      'requirements.txt': 'celery==5.4.0\n',
      'tasks.py': 'import os\nfrom celery import Celery\n\napp = Celery("tasks", broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))\n',
    });
    expect(broker.service.dependencies).toEqual(['redis']);
    expect(evidenceOf(broker.service, 'dependency')).toBe('tasks.py:4 CELERY_BROKER_URL falls back to a Redis URL');
    const cache = await analyzeFiles({
      'requirements.txt': 'Django==5.1.3\nredis==5.2.0\n',
      'manage.py': 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n',
      'site/__init__.py': '',
      'site/settings.py': 'CACHES = {\n    "default": {\n        "BACKEND": "django.core.cache.backends.redis.RedisCache",\n        "LOCATION": "redis://cache:6379",\n    }\n}\n',
    });
    expect(cache.service.dependencies).toEqual(['redis']);
    expect(evidenceOf(cache.service, 'dependency')).toBe('site/settings.py:3 CACHES uses django.core.cache.backends.redis.RedisCache');
  });

  it('the ORM configuration decides: knexfile production client, SQLAlchemy literal SQLite URL', async () => {
    const knex = await analyzeFiles({
      'package.json': JSON.stringify({ name: 'api', scripts: { start: 'node index.js' }, dependencies: { knex: '^3.1.0', pg: '^8.13.1', sqlite3: '^5.1.7', mysql2: '^3.11.4' } }),
      'knexfile.js': "module.exports = {\n  development: { client: 'sqlite3', connection: { filename: './dev.sqlite3' } },\n  production: { client: 'pg', connection: process.env.DATABASE_URL },\n};\n",
      'index.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(3000);\n",
    });
    expect(knex.service.dependencies).toEqual(['postgres']);
    expect(knex.analysis.warnings).toContain(
      'package.json: dependencies.mysql2 is declared but the app\'s database is postgres (knexfile.js: production client "pg"); no other database is provisioned for it',
    );
    const sqlalchemy = await analyzeFiles({
      'requirements.txt': 'SQLAlchemy==2.0.36\npsycopg2-binary==2.9.10\n',
      'db.py': 'from sqlalchemy import create_engine\n\nengine = create_engine("sqlite:///./jobs.db")\n',
      'main.py': 'from db import engine\n\nif __name__ == "__main__":\n    print(engine)\n',
    });
    expect(sqlalchemy.service.dependencies).toEqual([]);
  });

  it('Rails: Action Cable on Redis in production counts; SQLite in production drops the other SQL drivers', async () => {
    const rails = (files: Record<string, string>): Promise<{ service: AnalyzedService; analysis: Analysis }> =>
      analyzeFiles({
        Gemfile: 'source "https://rubygems.org"\ngem "rails"\ngem "redis"\ngem "sqlite3"\ngem "mysql2"\n',
        'config/application.rb': 'module Shop\n  class Application < Rails::Application\n  end\nend\n',
        ...files,
      });
    const cable = await rails({
      'config/database.yml': 'production:\n  adapter: mysql2\n  url: <%= ENV["DATABASE_URL"] %>\n',
      'config/cable.yml': 'development:\n  adapter: async\nproduction:\n  adapter: redis\n  url: <%= ENV.fetch("REDIS_URL") { "redis://localhost:6379/1" } %>\n',
    });
    expect(cable.service.dependencies).toEqual(['mysql', 'redis']);
    expect(cable.service.evidence.filter((e) => e.decision === 'dependency').map((e) => e.evidence)).toEqual([
      'config/database.yml: production.adapter mysql2',
      'config/cable.yml: production.adapter redis (Action Cable)',
    ]);
    const sqlite = await rails({ 'config/database.yml': 'production:\n  adapter: sqlite3\n  database: storage/production.sqlite3\n' });
    expect(sqlite.service.dependencies).toEqual([]);
    expect(sqlite.analysis.warnings).toContain(
      'mysql driver(s) are declared but production uses SQLite (config/database.yml: production.adapter sqlite3); no database is provisioned for them',
    );
  });

  it('a Drizzle dialect decides the SQL engine over other drivers', async () => {
    const { service } = await analyzeFiles({
      'package.json': JSON.stringify({ name: 'api', scripts: { start: 'node index.js' }, dependencies: { 'drizzle-orm': '^0.36.0', postgres: '^3.4.5', mysql2: '^3.11.4' } }),
      'drizzle.config.ts': 'import { defineConfig } from "drizzle-kit";\nexport default defineConfig({ dialect: "postgresql", schema: "./schema.ts" });\n',
      'index.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(3000);\n",
    });
    expect(service.dependencies).toEqual(['postgres']);
    expect(evidenceOf(service, 'dependency')).toBe('drizzle.config.ts: dialect "postgresql"');
  });

  it('Django ENGINE decides the SQL engine; a MySQL driver next to it is not provisioned', async () => {
    const { service } = await analyzeFiles({
      'requirements.txt': 'Django==5.1.3\npsycopg[binary]==3.2.3\nmysqlclient==2.2.6\n',
      'manage.py': 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n',
      'site/__init__.py': '',
      'site/settings.py': 'DATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "app",\n    }\n}\n',
    });
    expect(service.dependencies).toEqual(['postgres']);
    expect(evidenceOf(service, 'dependency')).toBe('site/settings.py:3 ENGINE django.db.backends.postgresql');
  });
});

describe('Python entry scripts', () => {
  it('a lone app.py that imports packages is a service, with a warning naming them', async () => {
    const { service, analysis } = await analyzeFiles({
      'app.py': 'import os\nimport requests\nfrom bs4 import BeautifulSoup\n\nprint(requests.get(os.environ["FEED"]).status_code)\n',
    });
    expect([service.language, service.scripts_start, service.project_type, service.dependency_resolution]).toEqual(['python', 'python app.py', 'worker', 'unknown']);
    expect(analysis.warnings).toContain('app.py imports requests, bs4 but there is no requirements.txt or pyproject.toml: add one so they are installed');
  });

  it('a lone app.py that runs Flask itself is a web service on 5000', async () => {
    const { service } = await analyzeFiles({
      'app.py': 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef index():\n    return "hi"\n\n\nif __name__ == "__main__":\n    app.run(host="0.0.0.0")\n',
    });
    expect([service.scripts_start, service.project_type, service.port]).toEqual(['python app.py', 'web', 5000]);
    expect(evidenceOf(service, 'port')).toBe('flask default port 5000');
  });

  it('a stray main.py next to another ecosystem manifest is not a Python service', async () => {
    const { service } = await analyzeFiles({
      'package.json': JSON.stringify({ name: 'web', scripts: { start: 'node server.js' } }),
      'server.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(3000);\n",
      'main.py': 'print("helper")\n',
    });
    expect(service.language).toBe('javascript');
  });
});
