/**
 * Ecosystems beyond the original detector set and the non-JS runtime conventions of issue 10, on
 * small hand-built projects: the variants the fixtures do not cover (deps.edn, Flutter web, hpack
 * with Cabal, Meson, Play, a library in each ecosystem, FrankenPHP Caddyfiles, Maven shade / exec,
 * Gradle Main-Class jars, a lone main.go with third-party imports, Elixir workers, Staticfile
 * without root, a proxy-only Caddyfile, start.sh next to a Node app).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {  type Analysis, type AnalyzedService } from '../../src/analyze/schema.js';
import { analyzeFiles, removeTrees } from './helpers.js';

afterEach(removeTrees);

type Files = Record<string, string>;

async function one(files: Files, name?: string): Promise<{ s: AnalyzedService; analysis: Analysis }> {
  const analysis = await analyzeFiles(files, name);
  expect(analysis.services).toHaveLength(1);
  return { s: analysis.services[0] as AnalyzedService, analysis };
}

const plan = (s: AnalyzedService): Record<string, unknown> => ({
  language: s.language,
  type: s.project_type,
  build: s.scripts_build,
  start: s.scripts_start,
  port: s.port,
});

describe('ecosystems outside the original set', () => {
  it('Clojure CLI: build.clj builds the uberjar it names; the port is the default of the PORT read', async () => {
    const { s } = await one({
      'deps.edn': '{:paths ["src"]\n :deps {org.clojure/clojure {:mvn/version "1.11.3"}\n        http-kit/http-kit {:mvn/version "2.8.0"}}\n :aliases {:build {:deps {io.github.clojure/tools.build {:mvn/version "0.10.3"}} :ns-default build}}}\n',
      'build.clj': "(ns build (:require [clojure.tools.build.api :as b]))\n(def lib 'acme/notes)\n(def version \"1.2.0\")\n(def uber-file (format \"target/%s-%s-standalone.jar\" (name lib) version))\n",
      'src/notes/main.clj': '(ns notes.main (:require [org.httpkit.server :as http]) (:gen-class))\n(defn -main [] (http/run-server (fn [_] {:status 200}) {:port (Integer/parseInt (or (System/getenv "PORT") "8090"))}))\n',
    });
    expect(plan(s)).toEqual({ language: 'clojure', type: 'web', build: 'clojure -T:build uber', start: 'java -jar target/notes-1.2.0-standalone.jar', port: 8090 });
    expect(s.package_manager).toBe('clojure');
  });

  it('Flutter with a web/ target is a static build served from build/web; mobile-only Flutter is not deployable', async () => {
    const web = await one({ 'pubspec.yaml': 'name: shop_app\ndependencies:\n  flutter:\n    sdk: flutter\n', 'pubspec.lock': '', 'web/index.html': '<html></html>', 'lib/main.dart': 'void main() {}\n' });
    expect([web.s.language, web.s.framework, web.s.project_type, web.s.scripts_build, web.s.output_directory, web.s.port]).toEqual(['dart', 'static', 'static', 'flutter pub get && flutter build web --release', 'build/web', null]);
    const mobile = await analyzeFiles({ 'pubspec.yaml': 'name: shop_app\ndependencies:\n  flutter:\n    sdk: flutter\n', 'pubspec.lock': '', 'lib/main.dart': 'void main() {}\n' });
    expect(mobile.refusal.refused).toBe(true);
    expect(mobile.warnings).toContain('pubspec.yaml: a Flutter app without a web/ target (mobile only): nothing to deploy as a web service');
  });

  it('Haskell with hpack and Cabal (no Stack): cabal install copies the executable to bin/', async () => {
    const { s, analysis } = await one({
      'package.yaml': 'name: todo-api\ndependencies:\n  - base\nexecutables:\n  todo-api:\n    main: Main.hs\n    source-dirs: app\n    dependencies:\n      - warp\n      - wai\n',
      'app/Main.hs': 'import Network.Wai.Handler.Warp (run)\nmain :: IO ()\nmain = run 8081 app\n',
    });
    expect(plan(s)).toEqual({
      language: 'haskell',
      type: 'web',
      build: 'cabal update && cabal install exe:todo-api --installdir=bin --install-method=copy --overwrite-policy=always',
      start: './bin/todo-api',
      port: 8081,
    });
    expect(analysis.warnings).toContain('cabal.project.freeze is missing: clean cloud builds may resolve different package versions (run `cabal freeze` and commit it)');
  });

  it('Meson C project: meson setup + compile, ./build/<executable>; a worker when nothing listens', async () => {
    const { s } = await one({ 'meson.build': "project('ticker', 'c')\nexecutable('ticker', 'src/main.c')\n", 'src/main.c': '#include <stdio.h>\nint main(void) { puts("tick"); return 0; }\n' });
    expect(plan(s)).toEqual({ language: 'c', type: 'worker', build: 'meson setup build --buildtype=release && meson compile -C build', start: './build/ticker', port: null });
  });

  it('Play (sbt): the staged script with -Dhttp.port=$PORT on 9000', async () => {
    const { s } = await one({
      'build.sbt': 'name := "Shop Front"\nscalaVersion := "2.13.14"\nlazy val root = (project in file(".")).enablePlugins(PlayScala)\nlibraryDependencies += guice\n',
      'project/plugins.sbt': 'addSbtPlugin("org.playframework" % "sbt-plugin" % "3.0.4")\n',
    });
    expect(plan(s)).toEqual({ language: 'scala', type: 'web', build: 'sbt stage', start: 'target/universal/stage/bin/shop-front -Dhttp.port=$PORT', port: 9000 });
  });

  it('libraries are refused with the reason of their ecosystem', async () => {
    const crystal = await analyzeFiles({ 'shard.yml': 'name: slugify\nversion: 1.0.0\n', 'src/slugify.cr': 'module Slugify\nend\n' });
    expect(crystal.refusal.reasons).toEqual(['no entry point or start command found for service "slugify" (.): shard.yml declares no targets; add a Dockerfile with CMD or a Procfile web entry']);
    const zig = await analyzeFiles({ 'build.zig': 'const std = @import("std");\npub fn build(b: *std.Build) void {\n    _ = b.addModule("json5", .{ .root_source_file = b.path("src/root.zig") });\n}\n' }, 'json5');
    expect(zig.refusal.reasons).toEqual(['no entry point or start command found for service "json5" (.): build.zig builds no executable (addExecutable); add a Dockerfile with CMD or a Procfile web entry']);
  });

  it('a .vbproj is a .NET project with language vbnet', async () => {
    const { s } = await one({ 'Worker.vbproj': '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>', 'Program.vb': 'Module Program\nEnd Module\n' });
    expect(plan(s)).toEqual({ language: 'vbnet', type: 'worker', build: 'dotnet publish -c Release -o out', start: 'dotnet out/Worker.dll', port: null });
  });
});

describe('PHP production starts', () => {
  it('a Laravel app with a FrankenPHP Caddyfile runs it; the port is the site address', async () => {
    const { s, analysis } = await one({
      artisan: '#!/usr/bin/env php\n',
      'composer.json': JSON.stringify({ require: { 'laravel/framework': '^11.0' } }),
      'composer.lock': '{}',
      'public/index.php': '<?php\n',
      Caddyfile: '{\n\tfrankenphp\n}\n\n:8088 {\n\troot * public/\n\tphp_server\n}\n',
    });
    expect([s.framework, s.scripts_start, s.port]).toEqual(['laravel', 'frankenphp run --config Caddyfile --adapter caddyfile', 8088]);
    expect(analysis.warnings.some((w) => w.includes('one request at a time'))).toBe(false);
  });

  it('a Caddyfile that forwards to PHP-FPM (php_fastcgi) is not FrankenPHP: the built-in server, warned', async () => {
    const { s, analysis } = await one({
      'composer.json': JSON.stringify({ require: { 'slim/slim': '^4.14' } }),
      'composer.lock': '{}',
      'public/index.php': '<?php\n',
      Caddyfile: ':80 {\n\troot * public\n\tphp_fastcgi 127.0.0.1:9000\n\tfile_server\n}\n',
    });
    expect([s.scripts_start, s.port]).toEqual(['php -S 0.0.0.0:$PORT -t public', 8000]);
    expect(analysis.warnings.some((w) => w.startsWith("The app is started with PHP's built-in server (php -S), which handles one request at a time"))).toBe(true);
  });

  it('a plain Composer app on the FrankenPHP image serves public/ with php-server on $PORT', async () => {
    const { s } = await one({
      'composer.json': JSON.stringify({ require: { 'slim/slim': '^4.14' } }),
      'composer.lock': '{}',
      'public/index.php': '<?php\n',
      Dockerfile: 'FROM dunglas/frankenphp:1-php8.3\nCOPY . /app\n',
    });
    expect([s.scripts_start, s.port]).toEqual(['frankenphp php-server --listen 0.0.0.0:$PORT --root public/', 8000]);
  });
});

describe('plain JVM, Go, Elixir, static and shell conventions', () => {
  const pom = (plugins: string): string =>
    `<project><groupId>com.acme</groupId><artifactId>relay</artifactId><version>2.1.0</version><build><plugins>${plugins}</plugins></build></project>`;

  it('Maven: the shaded jar replaces the main artifact; exec-maven-plugin runs with mvn exec:java', async () => {
    const shade = await one({ 'pom.xml': pom('<plugin><artifactId>maven-shade-plugin</artifactId><executions><execution><configuration><transformers><transformer><mainClass>com.acme.Relay</mainClass></transformer></transformers></configuration></execution></executions></plugin>') });
    expect([shade.s.scripts_build, shade.s.scripts_start, shade.s.project_type]).toEqual(['mvn -DskipTests package', 'java -jar target/relay-2.1.0.jar', 'worker']);
    const exec = await one({ 'pom.xml': pom('<plugin><groupId>org.codehaus.mojo</groupId><artifactId>exec-maven-plugin</artifactId><configuration><mainClass>com.acme.Relay</mainClass></configuration></plugin>') });
    expect(exec.s.scripts_start).toBe('mvn exec:java');
  });

  it('Gradle: a jar whose manifest names Main-Class runs with java -jar build/libs/<name>-<version>.jar', async () => {
    const { s } = await one({
      'settings.gradle': "rootProject.name = 'feeder'\n",
      'build.gradle': "plugins { id 'java' }\nversion = '0.4.0'\njar {\n    manifest {\n        attributes 'Main-Class': 'feeder.Main'\n    }\n}\n",
      'src/main/java/feeder/Main.java': 'package feeder;\npublic class Main { public static void main(String[] a) { System.out.println("fed"); } }\n',
    });
    expect(plan(s)).toEqual({ language: 'java', type: 'worker', build: 'gradle build -x test', start: 'java -jar build/libs/feeder-0.4.0.jar', port: null });
  });

  it('a lone main.go with third-party imports creates its module at build time, warned', async () => {
    const { s, analysis } = await one({ 'main.go': 'package main\n\nimport (\n\t"net/http"\n\n\t"github.com/go-chi/chi/v5"\n)\n\nfunc main() {\n\tr := chi.NewRouter()\n\thttp.ListenAndServe(":3000", r)\n}\n' });
    expect(plan(s)).toEqual({ language: 'go', type: 'web', build: 'go mod init app && go mod tidy && go build -o app .', start: './app', port: 3000 });
    expect(s.dependency_resolution).toBe('unlocked');
    expect(analysis.warnings).toContain('main.go imports third-party packages but there is no go.mod: versions are resolved at build time (run `go mod init` and `go mod tidy`, and commit go.mod and go.sum)');
  });

  it('Elixir: an application without a web server is a mix run --no-halt worker; without mod it is refused', async () => {
    const mix = (application: string): string => `defmodule Q.MixProject do\n  use Mix.Project\n  def project, do: [app: :q, version: "0.1.0", deps: deps()]\n  def application, do: [${application}]\n  defp deps, do: [{:oban, "~> 2.17"}]\nend\n`;
    const worker = await one({ 'mix.exs': mix('extra_applications: [:logger], mod: {Q.Application, []}'), 'mix.lock': '%{}\n', 'lib/q/application.ex': 'defmodule Q.Application do\nend\n' });
    expect(plan(worker.s)).toEqual({ language: 'elixir', type: 'worker', build: 'mix deps.get --only prod && MIX_ENV=prod mix compile', start: 'MIX_ENV=prod mix run --no-halt', port: null });
    const library = await analyzeFiles({ 'mix.exs': mix('extra_applications: [:logger]'), 'mix.lock': '%{}\n' });
    expect(library.refusal.refused).toBe(true);
  });

  it('a Staticfile without root serves the project root', async () => {
    const { s } = await one({ Staticfile: 'pushstate: enabled\n', 'index.html': '<h1>hi</h1>' });
    expect([s.framework, s.project_type, s.output_directory]).toEqual(['static', 'static', '.']);
  });

  it('a Caddyfile that only proxies is not the app; start.sh next to a Node app loses without a warning', async () => {
    const proxy = await one({ Caddyfile: ':80 {\n\treverse_proxy localhost:3000\n}\n', 'package.json': JSON.stringify({ name: 'api', scripts: { start: 'node server.js' } }), 'server.js': 'require("http").createServer().listen(3000);\n', 'start.sh': '#!/bin/sh\nnode server.js\n' });
    expect([proxy.s.language, proxy.s.scripts_start, proxy.s.port]).toEqual(['javascript', 'npm start', 3000]);
    expect(proxy.analysis.warnings.filter((w) => w.includes('also has'))).toEqual([]);
  });

  it('start.sh that names no port is a worker', async () => {
    const { s } = await one({ 'start.sh': '#!/usr/bin/env bash\nexec python3 worker.py\n', 'worker.txt': 'notes\n' });
    expect(plan(s)).toEqual({ language: 'other', type: 'worker', build: '', start: 'bash start.sh', port: null });
  });
});
