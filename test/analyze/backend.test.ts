/**
 * Backend ecosystems on small hand-built projects: the variants the fixtures do not cover (Django
 * settings packages and ASGI, src layouts, Rails API-only, Rack 3, Laravel without a server command,
 * multi-module Spring builds, solutions, Phoenix releases, Go and Rust target discovery, Cargo / Go /
 * uv workspaces), the manifest parsers, and broken backend manifests (never a crash).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCsproj, parseGradle, parseMixExs, parsePom, parseSln, parseVersionCatalog } from '../../src/analyze/manifests-backend.js';
import {  type Analysis, type AnalyzedService } from '../../src/analyze/schema.js';
import { parseXml, textAt } from '../../src/analyze/xml.js';
import { springPort } from '../../src/analyze/detectors/spring-boot.js';
import { analyzeFiles, removeTrees } from './helpers.js';

afterEach(removeTrees);

type Files = Record<string, string>;

async function one(files: Files): Promise<{ s: AnalyzedService; analysis: Analysis }> {
  const analysis = await analyzeFiles(files);
  expect(analysis.services).toHaveLength(1);
  return { s: analysis.services[0] as AnalyzedService, analysis };
}

const summary = (s: AnalyzedService): Record<string, unknown> => ({
  framework: s.framework,
  build: s.scripts_build,
  start: s.scripts_start,
  port: s.port,
  dependencies: s.dependencies,
});

describe('manifest parsers', () => {
  it('the XML reader tolerates comments, CDATA, entities, unclosed and mismatched tags', () => {
    const doc = parseXml('<?xml version="1.0"?><!-- c --><project><a x="1 > 0">A &amp; B</a><b><![CDATA[<raw>]]></b><c><d>1</c><e>tail');
    const project = doc.children[0];
    expect(textAt(project, ['a'])).toBe('A & B');
    expect(project?.children[0]?.attrs.x).toBe('1 > 0');
    expect(textAt(project, ['b'])).toBe('<raw>');
    expect(textAt(project, ['c', 'd'])).toBe('1');
    expect(textAt(project, ['e'])).toBe('tail');
  });

  it('parsePom: coordinates, properties, dependencies with scopes, plugins, modules, version ranges', () => {
    const pom = parsePom(
      `<project><parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId><version>3.3.4</version></parent>
       <artifactId>shop</artifactId><version>\${revision}</version><properties><revision>1.2.0</revision><java.version>21</java.version></properties>
       <dependencies><dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><scope>runtime</scope></dependency>
       <dependency><groupId>org.junit</groupId><artifactId>junit</artifactId><version>[5.0,6.0)</version><scope>test</scope></dependency></dependencies>
       <dependencyManagement><dependencies><dependency><groupId>x</groupId><artifactId>managed</artifactId></dependency></dependencies></dependencyManagement>
       <modules><module>api</module></modules><build><plugins><plugin><artifactId>maven-surefire-plugin</artifactId></plugin></plugins></build></project>`,
      'pom.xml',
    );
    expect(pom?.groupId).toBe('org.springframework.boot');
    expect(pom?.version).toBe('${revision}');
    expect(pom?.properties['java.version']).toBe('21');
    expect(pom?.dependencies.map((d) => [d.name, d.dev])).toEqual([
      ['org.postgresql:postgresql', false],
      ['org.junit:junit', true],
    ]);
    expect(pom?.plugins).toEqual(['org.apache.maven.plugins:maven-surefire-plugin']);
    expect(pom?.modules).toEqual(['api']);
    expect(pom?.versionRanges).toEqual(['org.junit:junit [5.0,6.0)']);
    expect(parsePom('<notaproject/>', 'pom.xml')).toBeNull();
  });

  it('parseGradle: plugins (ids, kotlin(), catalog aliases), dependencies (literal, named, catalog), toolchain, version', () => {
    const catalog = parseVersionCatalog(
      '[versions]\nboot = "3.3.4"\n[libraries]\npostgresql = { module = "org.postgresql:postgresql" }\nspring-boot-starter-web = { group = "org.springframework.boot", name = "spring-boot-starter-web" }\n[plugins]\nspring-boot = { id = "org.springframework.boot", version.ref = "boot" }\n',
    );
    const gradle = parseGradle(
      `plugins {\n  alias(libs.plugins.spring.boot)\n  kotlin("jvm") version "2.0.0"\n  application\n}\nversion = '1.0'\n// implementation 'commented:out'\ndependencies {\n  implementation(libs.spring.boot.starter.web)\n  runtimeOnly libs.postgresql\n  implementation group: 'redis.clients', name: 'jedis'\n  testImplementation 'org.junit:junit:5.+'\n}\njava { sourceCompatibility = JavaVersion.VERSION_17 }\n`,
      'build.gradle',
      catalog,
    );
    expect(gradle.plugins).toEqual(expect.arrayContaining(['org.springframework.boot', 'org.jetbrains.kotlin.jvm', 'application']));
    expect(gradle.dependencies.map((d) => [d.name, d.dev])).toEqual([
      ['org.junit:junit', true],
      ['redis.clients:jedis', false],
      ['org.springframework.boot:spring-boot-starter-web', false],
      ['org.postgresql:postgresql', false],
    ]);
    expect(gradle.javaVersion?.value).toBe('17');
    expect(gradle.version).toBe('1.0');
    expect(gradle.dynamicVersions).toEqual(['org.junit:junit:5.+']);
  });

  it('parseCsproj, parseSln and parseMixExs', () => {
    const project = parseCsproj(
      '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFrameworks>net8.0;net9.0</TargetFrameworks><AssemblyName>Shop.Api</AssemblyName></PropertyGroup><ItemGroup><PackageReference Include="Npgsql" Version="8.*" /><PackageReference Include="StyleCop"><Version>1.1</Version><PrivateAssets>all</PrivateAssets></PackageReference></ItemGroup></Project>',
      'Api.csproj',
    );
    expect([project?.sdk, project?.targetFrameworks, project?.assemblyName]).toEqual(['Microsoft.NET.Sdk.Web', ['net8.0', 'net9.0'], 'Shop.Api']);
    expect(project?.packages.map((p) => [p.name, p.spec, p.dev])).toEqual([
      ['Npgsql', '8.*', false],
      ['StyleCop', '1.1', true],
    ]);
    expect(project?.floating).toEqual(['Npgsql 8.*']);
    expect(parseSln('Project("{FAE04EC0}") = "Api", "src\\Api\\Api.csproj", "{1}"\nEndProject\n')).toEqual(['src/Api/Api.csproj']);
    const mix = parseMixExs(
      'defmodule A.MixProject do\n  def project, do: [app: :shop, elixir: "~> 1.15", releases: [shop: []]]\n  # {:commented, "1.0"}\n  defp deps do\n    [\n      {:phoenix, "~> 1.7"},\n      {:credo, "~> 1.7", only: [:dev, :test], runtime: false},\n      {:myxql, ">= 0.0.0"}\n    ]\n  end\nend\n',
      'mix.exs',
    );
    expect([mix.app, mix.elixir, mix.releases]).toEqual(['shop', '~> 1.15', true]);
    expect(mix.dependencies.map((d) => [d.name, d.dev])).toEqual([
      ['phoenix', false],
      ['credo', true],
      ['myxql', false],
    ]);
  });

  it('springPort reads literals and ${PORT:default} placeholders', () => {
    expect(springPort('9000')).toBe(9000);
    expect(springPort('${PORT:8081}')).toBe(8081);
    expect(springPort('${SERVER_PORT:${PORT:8082}}')).toBe(8082);
    expect(springPort('${PORT}')).toBeUndefined();
  });
});

describe('python backends', () => {
  it('Django: settings package, STATIC_ROOT in base.py, WSGI_APPLICATION, uv prefix', async () => {
    const { s } = await one({
      'pyproject.toml': '[project]\nname = "shop"\nversion = "0"\ndependencies = ["django>=5", "gunicorn", "psycopg[binary]"]\n',
      'uv.lock': 'version = 1\n',
      'manage.py': 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")\n',
      'config/__init__.py': '',
      'config/wsgi.py': 'application = None\n',
      'config/settings/__init__.py': '',
      'config/settings/base.py': 'STATIC_ROOT = BASE_DIR / "staticfiles"\nWSGI_APPLICATION = "config.wsgi.application"\n',
      'config/settings/production.py': 'from .base import *  # noqa\n',
    });
    expect(summary(s)).toEqual({
      framework: 'django',
      build: 'uv sync --frozen --no-dev && uv run python manage.py collectstatic --noinput',
      start: 'uv run python manage.py migrate && uv run gunicorn config.wsgi --bind 0.0.0.0:$PORT',
      port: 8000,
      dependencies: ['postgres'],
    });
  });

  it('Django Channels (ASGI_APPLICATION) with daphne; manage.py one folder down uses --chdir with gunicorn', async () => {
    const channels = await one({
      'requirements.txt': 'django==5.1\nchannels==4.1\ndaphne==4.1\n',
      'manage.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat.settings")\n',
      'chat/settings.py': 'ASGI_APPLICATION = "chat.asgi.application"\n',
      'chat/asgi.py': 'application = None\n',
    });
    expect(channels.s.scripts_start).toBe('python manage.py migrate && daphne -b 0.0.0.0 -p $PORT chat.asgi:application');
    const nested = await one({
      'requirements.txt': 'django==5.1\ngunicorn==23.0.0\n',
      'src/manage.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_app.settings")\n',
      'src/site_app/settings.py': 'DEBUG = False\n',
      'src/site_app/wsgi.py': 'application = None\n',
    });
    expect([nested.s.scripts_start, nested.s.entry_point]).toEqual(['python src/manage.py migrate && gunicorn site_app.wsgi --chdir src --bind 0.0.0.0:$PORT', 'src/site_app/wsgi.py']);
  });

  it('cookiecutter-django layout: requirements/production.txt, and a front-end build before collectstatic', async () => {
    const { s } = await one({
      'requirements/base.txt': 'django==5.1.2\npsycopg[binary]==3.2.3\n',
      'requirements/production.txt': '-r base.txt\ngunicorn==23.0.0\n',
      'manage.py': 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")\n',
      'config/wsgi.py': 'application = None\n',
      'config/settings/__init__.py': '',
      'config/settings/base.py': 'STATIC_ROOT = str(BASE_DIR / "staticfiles")\n',
      'config/settings/local.py': 'from .base import *\n',
      'package.json': JSON.stringify({ name: 'site', scripts: { build: 'webpack --mode production' }, devDependencies: { webpack: '^5' } }),
      'package-lock.json': '{}',
    });
    expect([s.framework, s.lockfile, s.scripts_build, s.scripts_start, s.build_tool, s.dependencies]).toEqual([
      'django',
      'requirements/production.txt',
      'pip install -r requirements/production.txt && npm ci && npm run build && python manage.py collectstatic --noinput',
      'python manage.py migrate && gunicorn config.wsgi --bind 0.0.0.0:$PORT',
      'webpack',
      ['postgres'],
    ]);
  });

  it('FastAPI in a src layout runs with --app-dir src; a Flask factory behind wsgi.py runs wsgi:app', async () => {
    const fast = await one({
      'requirements.txt': 'fastapi==0.115.0\nuvicorn==0.31.0\n',
      'src/api/__init__.py': '',
      'src/api/main.py': 'from fastapi import FastAPI\napp = FastAPI()\n',
    });
    expect(fast.s.scripts_start).toBe('uvicorn api.main:app --app-dir src --host 0.0.0.0 --port $PORT');
    const factory = await one({
      'requirements.txt': 'flask==3.0.3\ngunicorn==23.0.0\n',
      'app/__init__.py': 'from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n',
    });
    expect(factory.s.scripts_start).toBe("gunicorn 'app:create_app()' --bind 0.0.0.0:$PORT");
  });
});

describe('ruby backends', () => {
  const lock = (gems: string): string => `GEM\n  remote: https://rubygems.org/\n  specs:\n${gems}\nBUNDLED WITH\n   2.5.16\n`;

  it('Rails API-only: no asset precompile; sqlite3 production adapter is not a managed database', async () => {
    const { s, analysis } = await one({
      Gemfile: 'source "https://rubygems.org"\ngem "rails", "~> 8.0"\ngem "sqlite3"\ngem "propshaft"\n',
      'Gemfile.lock': lock('    rails (8.0.0)\n    sqlite3 (2.1.0)\n'),
      'config/application.rb': 'module Api\n  class Application < Rails::Application\n    config.api_only = true\n  end\nend\n',
      'config/database.yml': 'default: &default\n  adapter: sqlite3\nproduction:\n  primary:\n    <<: *default\n    database: storage/production.sqlite3\n',
      'config.ru': 'run Rails.application\n',
      'bin/rails': '#!/usr/bin/env ruby\n',
    });
    expect(summary(s)).toEqual({ framework: 'rails', build: 'bundle install', start: 'bundle exec rails server -b 0.0.0.0 -p $PORT', port: 3000, dependencies: [] });
    expect(analysis.warnings).toContain('config/application.rb sets config.api_only = true: assets are not precompiled');
    expect(analysis.warnings.some((w) => w.startsWith('config/database.yml: production.primary.adapter sqlite3: SQLite is a file'))).toBe(true);
  });

  it('Rails with jsbundling installs JS packages before assets:precompile', async () => {
    const { s } = await one({
      Gemfile: 'gem "rails"\ngem "sprockets-rails"\ngem "jsbundling-rails"\ngem "mysql2"\n',
      'config/application.rb': 'class Application < Rails::Application\nend\n',
      'bin/rails': '',
      'package.json': JSON.stringify({ name: 'app', scripts: { build: 'esbuild app/javascript/*.* --bundle --outdir=app/assets/builds' }, dependencies: { esbuild: '^0.24.0' } }),
      'yarn.lock': '',
    });
    expect(summary(s)).toEqual({
      framework: 'rails',
      build: 'bundle install && yarn install --frozen-lockfile && bundle exec rails assets:precompile',
      start: 'bundle exec rails server -b 0.0.0.0 -p $PORT',
      port: 3000,
      dependencies: ['mysql'],
    });
  });

  it('Rack apps: rackup with config.ru (9292); puma when Rack 3 has no rackup gem', async () => {
    const rackup = await one({ Gemfile: 'gem "sinatra"\ngem "rackup"\n', 'config.ru': 'require "./app"\nrun App\n', 'app.rb': 'require "sinatra/base"\nclass App < Sinatra::Base\nend\n' });
    expect(summary(rackup.s)).toEqual({ framework: 'sinatra', build: 'bundle install', start: 'bundle exec rackup config.ru -o 0.0.0.0 -p $PORT', port: 9292, dependencies: [] });
    const puma = await one({ Gemfile: 'gem "roda"\ngem "puma"\n', 'Gemfile.lock': lock('    puma (6.4.3)\n    rack (3.1.7)\n    roda (3.84.0)\n'), 'config.ru': 'run App.freeze.app\n' });
    expect([puma.s.framework, puma.s.scripts_start, puma.s.port]).toEqual(['', 'bundle exec puma config.ru -b tcp://0.0.0.0:$PORT', 9292]);
  });
});

describe('php backends', () => {
  const laravelBase: Files = {
    artisan: '#!/usr/bin/env php\n',
    'public/index.php': '<?php\n',
  };

  it('Laravel without a server script starts with artisan serve on $PORT (port 8000), warned as single-request', async () => {
    const { s, analysis } = await one({
      ...laravelBase,
      'composer.json': JSON.stringify({ name: 'acme/crm', require: { php: '^8.2', 'laravel/framework': '^11.0' } }),
      'composer.lock': '{}',
      '.env.example': 'DB_CONNECTION=pgsql\nCACHE_STORE=redis\nREDIS_HOST=127.0.0.1\n',
    });
    expect(summary(s)).toEqual({ framework: 'laravel', build: 'composer install --no-dev --optimize-autoloader --no-interaction', start: 'php artisan serve --host 0.0.0.0 --port $PORT', port: 8000, dependencies: ['postgres', 'redis'] });
    expect(s.entry_point).toBe('public/index.php');
    expect(analysis.refusal.refused).toBe(false);
    expect(analysis.warnings[0]).toMatch(/^Laravel is started with php artisan serve \(PHP's built-in server\), which handles one request at a time/);
  });

  it('Laravel Octane starts with octane:start on 8000; sqlite and the skeleton REDIS_* names provision nothing', async () => {
    const { s, analysis } = await one({
      ...laravelBase,
      'composer.json': JSON.stringify({ name: 'acme/app', require: { 'laravel/framework': '^11.0', 'laravel/octane': '^2.5' } }),
      '.env.example': 'DB_CONNECTION=sqlite\nREDIS_HOST=127.0.0.1\nREDIS_PORT=6379\n',
      'config/database.php': "<?php\nreturn ['options' => [PDO::MYSQL_ATTR_SSL_CA => env('MYSQL_ATTR_SSL_CA')]];\n",
    });
    expect(summary(s)).toEqual({ framework: 'laravel', build: 'composer install --no-dev --optimize-autoloader --no-interaction', start: 'php artisan octane:start --host 0.0.0.0 --port $PORT', port: 8000, dependencies: [] });
    expect(analysis.warnings.some((w) => w.includes('DB_CONNECTION=sqlite is a file'))).toBe(true);
  });

  it('plain PHP: a Composer script running the built-in server gives the start command and port', async () => {
    const { s } = await one({
      'composer.json': JSON.stringify({ require: { 'slim/slim': '^4.14' }, scripts: { start: 'php -S localhost:8080 -t public' } }),
      'public/index.php': '<?php\n',
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['', 'php -S 0.0.0.0:$PORT -t public', 8080]);
  });
});

describe('JVM and .NET backends', () => {
  it('multi-module Maven: the Spring Boot module is built with -pl and its engines count', async () => {
    const { s } = await one({
      'pom.xml': '<project><artifactId>parent</artifactId><version>1.0</version><packaging>pom</packaging><modules><module>common</module><module>app</module></modules></project>',
      mvnw: '',
      'common/pom.xml': '<project><artifactId>common</artifactId></project>',
      'app/pom.xml':
        '<project><artifactId>app</artifactId><version>1.0</version><dependencies><dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency><dependency><groupId>com.mysql</groupId><artifactId>mysql-connector-j</artifactId></dependency></dependencies><build><plugins><plugin><groupId>org.springframework.boot</groupId><artifactId>spring-boot-maven-plugin</artifactId></plugin></plugins></build></project>',
      'app/src/main/resources/application.yml': 'server:\n  port: 9000\n',
    });
    expect(summary(s)).toEqual({
      framework: 'spring-boot',
      build: './mvnw -DskipTests -pl app -am package',
      start: 'java -Dserver.port=$PORT -jar app/target/app-1.0.jar',
      port: 9000,
      dependencies: ['mysql'],
    });
  });

  it('Gradle (Groovy) without the wrapper; a Boot app with no web starter is a worker without a port', async () => {
    const { s } = await one({
      'build.gradle': "plugins {\n  id 'java'\n  id 'org.springframework.boot' version '3.3.4'\n}\njava { sourceCompatibility = '17' }\ndependencies {\n  implementation 'org.springframework.boot:spring-boot-starter-batch'\n}\n",
      'settings.gradle': "rootProject.name = 'batch'\n",
    });
    expect([s.language, s.language_version, s.project_type, s.scripts_build, s.scripts_start, s.port]).toEqual(['java', '17', 'worker', 'gradle bootJar', 'java -jar build/libs/batch.jar', null]);
  });

  it('a solution with the web project in src/: publish that project; .NET 6 listens on 80 in containers', async () => {
    const { s } = await one({
      'Shop.sln': 'Project("{FAE04EC0}") = "Shop.Api", "src\\Shop.Api\\Shop.Api.csproj", "{1}"\nEndProject\nProject("{FAE04EC0}") = "Shop.Tests", "tests\\Shop.Tests\\Shop.Tests.csproj", "{2}"\nEndProject\n',
      'src/Shop.Api/Shop.Api.csproj': '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net6.0</TargetFramework></PropertyGroup></Project>',
      'src/Shop.Api/Program.cs': 'var app = WebApplication.CreateBuilder(args).Build();\napp.Run();\n',
      'tests/Shop.Tests/Shop.Tests.csproj': '<Project Sdk="Microsoft.NET.Sdk"><ItemGroup><PackageReference Include="xunit" Version="2.9.0" /></ItemGroup></Project>',
    });
    expect([s.framework, s.language_version, s.scripts_build, s.scripts_start, s.port, s.entry_point]).toEqual([
      'aspnet',
      '6.0',
      'dotnet publish src/Shop.Api/Shop.Api.csproj -c Release -o out',
      'ASPNETCORE_URLS=http://0.0.0.0:$PORT dotnet out/Shop.Api.dll',
      80,
      'src/Shop.Api/Program.cs',
    ]);
  });
});

describe('more JVM, .NET and PHP layouts', () => {
  it('spring-petclinic style: Maven and Gradle both present (Maven wins with mvnw); embedded H2 by default provisions nothing', async () => {
    const { s, analysis } = await one({
      'pom.xml':
        '<project><artifactId>petclinic</artifactId><version>3.4.0</version><parent><artifactId>spring-boot-starter-parent</artifactId></parent><dependencies><dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency><dependency><groupId>com.h2database</groupId><artifactId>h2</artifactId><scope>runtime</scope></dependency><dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><scope>runtime</scope></dependency></dependencies></project>',
      'build.gradle': "plugins { id 'org.springframework.boot' version '3.4.0' }\n",
      mvnw: '',
      'src/main/resources/application.properties': 'database=h2\n',
      'src/main/resources/application-postgres.properties': 'spring.datasource.url=${POSTGRES_URL:jdbc:postgresql://localhost/petclinic}\n',
    });
    expect([s.package_manager, s.scripts_build, s.scripts_start, s.dependencies, s.runtime_vars]).toEqual([
      'maven',
      './mvnw -DskipTests package',
      'java -Dserver.port=$PORT -jar target/petclinic-3.4.0.jar',
      [],
      [],
    ]);
    expect(analysis.warnings[0]).toMatch(/^postgres driver\(s\) are declared but the default configuration runs on the embedded database/);
  });


  it('Quarkus runs its fast-jar on 8080; Ktor with the application plugin is a web service', async () => {
    const quarkus = await one({
      'pom.xml': '<project><artifactId>q</artifactId><version>1</version><dependencies><dependency><groupId>io.quarkus</groupId><artifactId>quarkus-rest</artifactId></dependency></dependencies></project>',
    });
    expect([quarkus.s.framework, quarkus.s.scripts_build, quarkus.s.scripts_start, quarkus.s.port]).toEqual([
      '',
      'mvn -DskipTests package',
      'java -Dquarkus.http.host=0.0.0.0 -Dquarkus.http.port=$PORT -jar target/quarkus-app/quarkus-run.jar',
      8080,
    ]);
    const ktor = await one({
      'build.gradle.kts': 'plugins {\n  kotlin("jvm") version "2.0.0"\n  application\n}\ndependencies {\n  implementation("io.ktor:ktor-server-netty:2.3.12")\n}\n',
      'settings.gradle.kts': 'rootProject.name = "hello-ktor"\n',
      gradlew: '',
    });
    expect([ktor.s.language, ktor.s.project_type, ktor.s.scripts_build, ktor.s.scripts_start, ktor.s.port]).toEqual([
      'kotlin',
      'web',
      './gradlew installDist -x test',
      'build/install/hello-ktor/bin/hello-ktor',
      8080,
    ]);
  });

  it('a .NET project one folder down without a solution; a plain PHP site without composer.json', async () => {
    const dotnet = await one({
      'Api/Api.csproj': '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>',
      'Api/Program.cs': 'var app = WebApplication.Create(args);\napp.Run();\n',
    });
    // The root has no manifest: the top-level folder is the service (services.ts), built in its folder.
    expect([dotnet.s.source_path, dotnet.s.framework, dotnet.s.scripts_build, dotnet.s.entry_point]).toEqual(['Api', 'aspnet', 'dotnet publish -c Release -o out', 'Program.cs']);
    const plain = await one({ 'index.php': '<?php echo "hi";\n' });
    expect([plain.s.language, plain.s.entry_point, plain.s.scripts_start, plain.s.port, plain.analysis.refusal.refused]).toEqual(['php', 'index.php', 'php -S 0.0.0.0:$PORT', 8000, false]);
  });
});

describe('elixir', () => {
  it('Phoenix with phx.gen.release: the release is built and bin/server starts it', async () => {
    const { s } = await one({
      'mix.exs': 'defmodule Shop.MixProject do\n  def project, do: [app: :shop, deps: deps()]\n  defp deps do\n    [{:phoenix, "~> 1.7"}, {:myxql, ">= 0.0.0"}]\n  end\nend\n',
      'rel/overlays/bin/server': '#!/bin/sh\ncd -P -- "$(dirname -- "$0")"\nPHX_SERVER=true exec ./shop start\n',
    });
    expect(summary(s)).toEqual({
      framework: 'phoenix',
      build: 'mix deps.get --only prod && MIX_ENV=prod mix compile && MIX_ENV=prod mix release',
      start: '_build/prod/rel/shop/bin/server',
      port: 4000,
      dependencies: ['mysql'],
    });
  });

  it('Phoenix 1.5: npm in assets/ and phx.digest', async () => {
    const { s } = await one({
      'mix.exs': 'defmodule Old.MixProject do\n  def project, do: [app: :old, deps: deps()]\n  defp deps do\n    [{:phoenix, "~> 1.5.9"}, {:postgrex, ">= 0.0.0"}]\n  end\nend\n',
      'mix.lock': '%{}\n',
      'assets/package.json': JSON.stringify({ scripts: { deploy: 'webpack --mode production' }, devDependencies: { webpack: '^4' } }),
      'assets/package-lock.json': '{}',
    });
    expect(s.scripts_build).toBe(
      'mix deps.get --only prod && npm --prefix assets ci && MIX_ENV=prod mix compile && npm --prefix assets run deploy && MIX_ENV=prod mix phx.digest',
    );
  });

  it('a plain Mix project has no start command: refused with the reason', async () => {
    const { analysis } = await one({ 'mix.exs': 'defmodule Lib.MixProject do\n  def project, do: [app: :lib]\nend\n' });
    expect(analysis.refusal.reasons[0]).toMatch(/no Phoenix dependency and no application module \(application: \[mod: \.\.\.\]\); add a Dockerfile with CMD or a Procfile web entry$/);
  });
});

describe('go and rust targets', () => {
  it('Go: an indirect framework is not the framework; a main package in server/ is found', async () => {
    const { s } = await one({
      'go.mod': 'module example.com/svc\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.10.0 // indirect\n',
      'go.sum': '',
      'server/main.go': 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":9090", nil) }\n',
    });
    expect([s.framework, s.scripts_build, s.scripts_start, s.port, s.entry_point]).toEqual(['', 'go build -o app ./server', './app', 9090, 'server/main.go']);
  });

  it('Go: main.go that calls a server in internal/ is a web service', async () => {
    const { s } = await one({
      'go.mod': 'module example.com/app\n\ngo 1.22\n',
      'main.go': 'package main\n\nimport "example.com/app/internal/server"\n\nfunc main() { server.Run() }\n',
      'internal/server/server.go': 'package server\n\nimport "net/http"\n\nfunc Run() { http.ListenAndServe(":7000", nil) }\n',
    });
    expect([s.project_type, s.scripts_start, s.port]).toEqual(['web', './app', 7000]);
  });

  it('Go: several cmd/* services in one module are split; tools are not services', async () => {
    const analysis = await analyzeFiles({
      'go.mod': 'module example.com/shop\n\ngo 1.22\n',
      'cmd/api/main.go': 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n',
      'cmd/worker/main.go': 'package main\n\nfunc main() { select {} }\n',
      'cmd/migrate/main.go': 'package main\n\nfunc main() {}\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.project_type, s.scripts_build, s.port])).toEqual([
      ['shop-api', '.', 'web', 'go build -o app ./cmd/api', 8080],
      ['shop-worker', '.', 'worker', 'go build -o app ./cmd/worker', null],
    ]);
    expect(analysis.warnings).toContain('go.mod: main packages cmd/migrate are not deployed (they neither serve HTTP nor are named as workers)');
  });

  it('go.work: each member module that serves is a service', async () => {
    const analysis = await analyzeFiles({
      'go.work': 'go 1.22\n\nuse (\n\t./api\n\t./lib\n)\n',
      'api/go.mod': 'module example.com/api\n\ngo 1.22\n',
      'api/main.go': 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n',
      'lib/go.mod': 'module example.com/lib\n\ngo 1.22\n',
      'lib/lib.go': 'package lib\n',
    });
    expect(analysis.services.map((s) => [s.name, s.source_path, s.scripts_build])).toEqual([['api', 'api', 'go build -o app .']]);
  });

  it('Rust: default-run picks among several binaries; a 127.0.0.1 bind is warned; a library is refused', async () => {
    const { s, analysis } = await one({
      'Cargo.toml': '[package]\nname = "svc"\nversion = "0.1.0"\ndefault-run = "server"\n\n[dependencies]\nactix-web = "4"\n',
      'src/bin/server.rs': 'use actix_web::{App, HttpServer};\n#[actix_web::main]\nasync fn main() { HttpServer::new(|| App::new()).bind(("127.0.0.1", 8080)).unwrap().run().await.unwrap(); }\n',
      'src/bin/cli.rs': 'fn main() {}\n',
    });
    expect([s.framework, s.scripts_build, s.scripts_start, s.port]).toEqual(['actix', 'cargo build --release --bin server', './target/release/server', 8080]);
    expect(analysis.warnings).toContain('src/bin/server.rs:3 binds to 127.0.0.1: the server is unreachable from outside its container; bind 0.0.0.0');
    const lib = await one({ 'Cargo.toml': '[package]\nname = "lib"\nversion = "0.1.0"\n', 'src/lib.rs': '' });
    expect(lib.analysis.refusal.reasons[0]).toMatch(/Cargo.toml builds no binary/);
  });
});

describe('broken backend manifests never crash', () => {
  it.each([
    ['unclosed pom.xml', 'pom.xml', '<project><dependencies><dependency><groupId>a'.repeat(2000)],
    ['deeply nested pom.xml', 'pom.xml', `${'<a>'.repeat(20000)}${'</b>'.repeat(20000)}`],
    ['truncated build.gradle', 'build.gradle', 'plugins { id( \n dependencies { implementation "'],
    ['truncated csproj', 'App.csproj', '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup><TargetFramework>'],
    ['truncated mix.exs', 'mix.exs', 'defp deps do [{:phoenix, "~> 1.7" '],
    ['go.work outside the root', 'go.work', 'use (\n ../../outside\n ./missing\n'],
    ['Cargo workspace with odd members', 'Cargo.toml', '[workspace]\nmembers = ["**", "../x", 3]\n'],
    ['uv workspace members not a list', 'pyproject.toml', '[tool.uv.workspace]\nmembers = "not-a-list"\n'],
    ['truncated global.json', 'global.json', '{ "sdk": { "version": '],
  ])('%s', async (_label, file, content) => {
    const analysis = await analyzeFiles({ [file]: content });
    expect(Array.isArray(analysis.services)).toBe(true);
  });
});
