/**
 * Gaps left by the first pass over issue 10's conventions: env reads in the languages the detector
 * set grew by, nested apps in those languages, env-template variants in the refusal scan, the port
 * idioms of generated Node servers, workers never getting a port from an unrelated file, and a
 * Cargo workspace binary whose listener lives in a library crate it depends on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FsSnapshot } from '../../src/analyze/fs-snapshot.js';
import { scanSources, type EnvRef } from '../../src/analyze/scan.js';
import { Warnings } from '../../src/analyze/warnings.js';
import { analyzeFiles, removeTrees,  writeTree } from './helpers.js';

afterEach(removeTrees);


/** The env reads the source scan finds in one file: `name fallback default`. */
async function envReads(file: string, text: string): Promise<string[]> {
  const dir = await writeTree({ [file]: text });
  const scan = await scanSources(await FsSnapshot.take(dir), '', new Warnings());
  return scan.envRefs.map((ref: EnvRef) => `${ref.name} ${ref.fallback} ${JSON.stringify(ref.default)}${ref.build ? ' build' : ''}`);
}

describe('env reads in the languages outside the original scan', () => {
  it.each([
    ['src/app/core.clj', '(def port (Integer/parseInt (or (System/getenv "PORT") "3000")))\n(def db (System/getenv "DATABASE_URL"))\n(def key (env :stripe-key))\n', ['PORT default "3000"', 'DATABASE_URL tolerant ""', 'STRIPE_KEY tolerant ""']],
    ['src/app.cr', 'port = (ENV["PORT"]? || "3000").to_i\nsecret = ENV["SESSION_SECRET"]\nurl = ENV.fetch("BASE_URL", "http://localhost")\ndb = ENV["DB"]?\n', ['PORT default "3000"', 'SESSION_SECRET none ""', 'BASE_URL default "http://localhost"', 'DB tolerant ""']],
    ['bin/server.dart', "final port = int.parse(Platform.environment['PORT'] ?? '8080');\nfinal key = Platform.environment['API_KEY'];\nconst api = String.fromEnvironment('API_BASE', defaultValue: 'https://api.example.com');\n", ['PORT default "8080"', 'API_KEY tolerant ""', 'API_BASE default "https://api.example.com" build']],
    ['src/app.gleam', 'let port = envoy.get("PORT") |> result.then(int.parse) |> result.unwrap(8000)\nlet db = envoy.get("DATABASE_URL")\n', ['PORT default "8000"', 'DATABASE_URL tolerant ""']],
    ['app/Main.hs', 'main = do\n  port <- maybe 3000 read <$> lookupEnv "PORT"\n  db <- getEnv "DATABASE_URL"\n  name <- fromMaybe "world" <$> lookupEnv "GREETING"\n', ['PORT default "3000"', 'DATABASE_URL none ""', 'GREETING default "world"']],
    ['src/main/scala/Main.scala', 'val port = sys.env.getOrElse("PORT", "9000").toInt\nval db = sys.env("DATABASE_URL")\nval host = sys.env.get("HOST").getOrElse("0.0.0.0")\nval region = sys.env.get("REGION")\n', ['PORT default "9000"', 'DATABASE_URL none ""', 'HOST default "0.0.0.0"', 'REGION tolerant ""']],
    ['Sources/App/configure.swift', 'let port = Environment.get("PORT").flatMap(Int.init) ?? 8080\nlet db = Environment.get("DATABASE_URL")\nlet key = ProcessInfo.processInfo.environment["API_KEY"] ?? "dev"\n', ['PORT default "8080"', 'DATABASE_URL tolerant ""', 'API_KEY default "dev"']],
    ['src/main.zig', 'const port = std.posix.getenv("PORT") orelse "8080";\nconst db = try std.process.getEnvVarOwned(allocator, "DATABASE_URL");\nconst name = std.process.getEnvVarOwned(allocator, "NAME") catch "zig";\n', ['PORT default "8080"', 'DATABASE_URL none ""', 'NAME default "zig"']],
    ['src/main.c', 'const char *port = getenv("PORT") ? getenv("PORT") : "8080";\nconst char *db = getenv("DATABASE_URL");\n', ['PORT default "8080"', 'PORT tolerant ""', 'DATABASE_URL tolerant ""']],
    ['Program.fs', 'let port = Environment.GetEnvironmentVariable "PORT" |> Option.ofObj |> Option.defaultValue "5000"\nlet db = Environment.GetEnvironmentVariable("DATABASE_URL")\n', ['PORT default "5000"', 'DATABASE_URL tolerant ""']],
    ['lib/app/config.ex', 'port = String.to_integer(System.get_env("PORT", "4000"))\ndb = System.fetch_env!("DATABASE_URL")\n', ['PORT default "4000"', 'DATABASE_URL none ""']],
    [
      'internal/config/config.go',
      'type Config struct {\n\tPort int `envconfig:"PORT" default:"8080"`\n\tDB string `envconfig:"DATABASE_URL" required:"true"`\n\tLevel string `env:"LOG_LEVEL" envDefault:"info"`\n\tKey string `env:"API_KEY,required"`\n\tRegion string `env:"REGION" env-default:"eu"`\n\tDebug bool `env:"DEBUG"`\n}\n',
      ['PORT default "8080"', 'DATABASE_URL none ""', 'LOG_LEVEL default "info"', 'API_KEY none ""', 'REGION default "eu"', 'DEBUG tolerant ""'],
    ],
    ['start.sh', '#!/bin/sh\nexec ./server --port "${PORT:-8080}" --db "$DATABASE_URL"\n', ['PORT default "8080"', 'DATABASE_URL tolerant ""']],
  ])('%s', async (file, text, expected) => {
    expect(await envReads(file, text)).toEqual(expected);
  });

  it('a Crystal app nested in api/ gets its env variables (with defaults) in the analysis', async () => {
    const analysis = await analyzeFiles({
      'api/shard.yml': 'name: notes\nversion: 0.1.0\ntargets:\n  notes:\n    main: src/notes.cr\ndependencies:\n  kemal:\n    github: kemalcr/kemal\n',
      'api/shard.lock': 'version: 2.0\nshards:\n  kemal:\n    git: https://github.com/kemalcr/kemal.git\n    version: 1.5.0\n',
      'api/src/notes.cr': 'require "kemal"\nDB_URL = ENV["DATABASE_URL"]\nget "/" { "hi" }\nKemal.config.port = ENV.fetch("PORT", "4000").to_i\nKemal.run\n',
    });
    const s = analysis.services[0];
    expect(analysis.services.map((x) => [x.source_path, x.language, x.port])).toEqual([['api', 'crystal', 4000]]);
    expect(s?.runtime_vars.map((v) => [v.name, v.required, v.default])).toEqual([
      ['DATABASE_URL', true, ''],
      ['PORT', false, '4000'],
    ]);
  });
});

describe('env-template variants in the refusal scan', () => {
  it('a mining pool in .env.example.local is checked like one in .env.example', async () => {
    const app = { 'package.json': '{"name":"svc","scripts":{"start":"node index.js"}}', 'index.js': 'require("http").createServer((q, r) => r.end("ok")).listen(process.env.PORT || 3000);\n' };
    for (const name of ['.env.example', '.env.example.local', '.env.local.sample']) {
      const analysis = await analyzeFiles({ ...app, [name]: 'POOL_URL=stratum+tcp://pool.example.net:3333\n' });
      expect(analysis.refusal.refused).toBe(true);
      expect(analysis.refusal.reasons.join('\n')).toContain(name);
    }
  });
});

describe('PORT idioms of generated Node servers', () => {
  it.each([
    ['const port = process.env.PORT ? Number(process.env.PORT) : 3000;', 3000],
    ["const port = parseInt(process.env.PORT ?? '3000');", 3000],
    ["const port = parseInt(process.env.PORT ?? '3000', 10);", 3000],
    ['const port = Number(process.env.PORT) || 3000;', 3000],
    ['const port = +process.env.PORT || 3000;', 3000],
    ['const port = parseInt(process.env.PORT, 10) || 4000;', 4000],
    ['const port = process.env.PORT ? parseInt(process.env.PORT, 10) : 8080;', 8080],
  ])('%s', async (line, port) => {
    const analysis = await analyzeFiles({
      'package.json': '{"name":"api","version":"1.0.0","main":"server.js","scripts":{"start":"node server.js"}}',
      'server.js': `const http = require('http');\n${line}\nhttp.createServer((req, res) => res.end('ok')).listen(port);\n`,
    });
    expect(analysis.services.map((s) => [s.port, s.runtime_vars.find((v) => v.name === 'PORT')?.default])).toEqual([[port, String(port)]]);
  });
});

describe('a worker gets no port from files it does not run', () => {
  it('a queue worker next to a preview server in tools/ has port null and no port warning', async () => {
    const analysis = await analyzeFiles({
      'package.json': '{"name":"mailer","version":"1.0.0","scripts":{"start":"node worker.js","preview":"node tools/preview.js"},"dependencies":{"bullmq":"^5.0.0","express":"^4.19.0"}}',
      'worker.js': "const { Worker } = require('bullmq');\nnew Worker('mail', async (job) => console.log('sending', job.id), { connection: { url: process.env.REDIS_URL } });\n",
      'tools/preview.js': "const express = require('express');\nconst app = express();\napp.get('/', (req, res) => res.send('preview'));\napp.listen(4000);\n",
      '.env.example': 'REDIS_URL=redis://localhost:6379\nPORT=4000\n',
    });
    expect(analysis.services.map((s) => [s.project_type, s.port, s.scripts_start])).toEqual([['worker', null, 'npm start']]);
    expect(analysis.services[0]?.evidence.filter((e) => e.decision === 'port')).toEqual([]);
    expect(analysis.warnings.filter((w) => /no port found|mentions several ports/.test(w))).toEqual([]);
  });
});

describe('a Cargo workspace binary whose server lives in a library crate', () => {
  it('the library crate (axum, sqlx postgres) makes the binary a web service with its framework, port and database', async () => {
    const analysis = await analyzeFiles({
      'Cargo.toml': '[workspace]\nresolver = "2"\nmembers = ["api", "crates/*"]\n\n[workspace.dependencies]\nweb = { path = "crates/web" }\naxum = "0.7"\n',
      'Cargo.lock': 'version = 4\n',
      'api/Cargo.toml': '[package]\nname = "api"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nweb = { workspace = true }\ntokio = { version = "1", features = ["full"] }\n',
      'api/src/main.rs': '#[tokio::main]\nasync fn main() {\n    web::run().await;\n}\n',
      'crates/web/Cargo.toml': '[package]\nname = "web"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\naxum = { workspace = true }\ntokio = { version = "1", features = ["full"] }\nsqlx = { version = "0.8", features = ["postgres", "runtime-tokio"] }\n',
      'crates/web/src/lib.rs':
        'use axum::{routing::get, Router};\n\npub async fn run() {\n    let pool = sqlx::PgPool::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap();\n    let app = Router::new().route("/", get(|| async { "hi" })).with_state(pool);\n    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();\n    axum::serve(listener, app).await.unwrap();\n}\n',
    });
    expect(analysis.services.map((s) => [s.source_path, s.project_type, s.framework, s.port, s.database_type, s.scripts_start])).toEqual([['api', 'web', 'axum', 3000, 'postgres', './target/release/api']]);
    expect(analysis.services[0]?.runtime_vars.map((v) => [v.name, v.required])).toEqual([['DATABASE_URL', true]]);
  });

  it('a library crate outside the workspace folder (path = "../x") is never read', async () => {
    const analysis = await analyzeFiles({
      'Cargo.toml': '[package]\nname = "tool"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nshared = { path = "../shared" }\n',
      'src/main.rs': 'fn main() { println!("tool ran"); }\n',
    });
    expect(analysis.services.map((s) => [s.project_type, s.port])).toEqual([['worker', null]]);
  });
});

describe('real-project shapes', () => {
  it('a public URL whose example value is a local address is not deployed as a default, and not required', async () => {
    const analysis = await analyzeFiles({
      'package.json': '{"name":"svc","scripts":{"start":"node index.js"}}',
      'index.js': "const base = process.env.APP_URL;\nrequire('http').createServer((q, r) => r.end(base)).listen(process.env.PORT || 3000);\n",
      '.env.example': 'APP_URL=http://localhost:3000\nSITE_URL=https://example.com\n',
    });
    expect(analysis.services[0]?.runtime_vars.map((v) => [v.name, v.required, v.default, v.kind])).toEqual([
      ['APP_URL', false, '', 'late_bound_url'],
      ['PORT', false, '3000', 'startup_critical'],
      ['SITE_URL', false, 'https://example.com', 'late_bound_url'],
    ]);
  });
});

describe('Rails runs in production when deployed', () => {
  const app = {
    Gemfile: 'source "https://rubygems.org"\ngem "rails", "~> 7.2.0"\ngem "puma"\ngem "sqlite3"\n',
    'Gemfile.lock': 'GEM\n  remote: https://rubygems.org/\n  specs:\n    rails (7.2.1)\n\nBUNDLED WITH\n   2.5.16\n',
    'config/application.rb': 'require_relative "boot"\nrequire "rails/all"\nmodule Shop\n  class Application < Rails::Application\n  end\nend\n',
    'config/database.yml': 'production:\n  adapter: sqlite3\n  database: storage/production.sqlite3\n',
  };

  it('RAILS_ENV=production even when no file names it, and SECRET_KEY_BASE is required without encrypted credentials', async () => {
    const analysis = await analyzeFiles(app);
    expect(analysis.services[0]?.runtime_vars.map((v) => [v.name, v.required, v.default])).toEqual([
      ['RAILS_ENV', false, 'production'],
      ['SECRET_KEY_BASE', true, ''],
    ]);
  });

  it('with encrypted credentials RAILS_MASTER_KEY is required; puma.rb\'s development fallback is not deployed', async () => {
    const analysis = await analyzeFiles({ ...app, 'config/credentials.yml.enc': 'c2VjcmV0--aXY=--dGFn\n', 'config/puma.rb': 'port ENV.fetch("PORT") { 3000 }\nenvironment ENV.fetch("RAILS_ENV") { "development" }\n' });
    expect(analysis.services[0]?.runtime_vars.map((v) => [v.name, v.required, v.default])).toEqual([
      ['PORT', false, '3000'],
      ['RAILS_ENV', false, 'production'],
      ['RAILS_MASTER_KEY', true, ''],
    ]);
  });
});

describe('an app one folder down in any language the detectors know', () => {
  it.each([
    ['gleam.toml', { 'api/gleam.toml': 'name = "api"\nversion = "1.0.0"\n\n[dependencies]\ngleam_stdlib = ">= 0.34.0 and < 2.0.0"\n', 'api/src/api.gleam': 'import gleam/io\n\npub fn main() {\n  io.println("api ran")\n}\n' }, 'gleam'],
    ['stack.yaml + *.cabal', { 'api/stack.yaml': 'resolver: lts-22.20\npackages:\n  - .\n', 'api/api.cabal': 'cabal-version: 2.4\nname: api\nversion: 0.1.0\n\nexecutable api\n  main-is: Main.hs\n  hs-source-dirs: app\n  build-depends: base\n  default-language: Haskell2010\n', 'api/app/Main.hs': 'main :: IO ()\nmain = putStrLn "api ran"\n' }, 'haskell'],
    ['*.fsproj', { 'api/Api.fsproj': '<Project Sdk="Microsoft.NET.Sdk.Web">\n  <PropertyGroup>\n    <TargetFramework>net8.0</TargetFramework>\n  </PropertyGroup>\n  <ItemGroup>\n    <Compile Include="Program.fs" />\n  </ItemGroup>\n</Project>\n', 'api/Program.fs': 'let app = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder().Build()\napp.Run()\n' }, 'fsharp'],
    ['start.sh', { 'api/start.sh': '#!/bin/sh\nexec python3 -m http.server "${PORT:-8000}"\n' }, 'other'],
    ['a lone main.go', { 'api/main.go': 'package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\nfunc main() {\n\thttp.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })\n\thttp.ListenAndServe(":8080", nil)\n}\n' }, 'go'],
  ])('%s in api/', async (_what, files, language) => {
    const analysis = await analyzeFiles({ 'README.md': '# project\n', ...files });
    expect(analysis.services.map((s) => [s.source_path, s.language])).toEqual([['api', language]]);
  });
});
