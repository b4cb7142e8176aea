/**
 * Framework knowledge lives in the detector file that owns it: the route syntax a framework writes
 * its health endpoint with, the constructor of its app object, the way its code or configuration
 * reads env, its public env prefix and build configuration file, and why a service in its language
 * has no start command. The registry collects that knowledge for the one-pass source scan and the
 * refusal checklist, so adding a framework is one detector file (plus its fixture).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FsSnapshot } from '../../src/analyze/fs-snapshot.js';
import { FRAMEWORKS, SCAN_KNOWLEDGE } from '../../src/analyze/registry.js';
import { scanSources } from '../../src/analyze/scan.js';
import { Warnings } from '../../src/analyze/warnings.js';
import { removeTrees, writeTree } from './helpers.js';

afterEach(removeTrees);

const ANALYZE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/analyze');

/** Code without comments (comments may name a framework as an example). */
function codeOf(file: string): string {
  return readFileSync(path.join(ANALYZE, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|\s)\/\/.*$/gm, '$1');
}

/**
 * Names that are not framework knowledge although they spell a framework id: Bun's lockfile is the
 * package manager's (lockfiles are never scanned), `Bun.serve(` is a runtime API inside the one port
 * pattern it shares with `Deno.serve(` and `serve(`, and `.astro` files are JavaScript source.
 */
const NOT_FRAMEWORK_KNOWLEDGE: Readonly<Record<string, readonly string[]>> = {
  'scan.ts': ["'bun.lock'", 'Bun\\.serve'],
  'scan-model.ts': ["'.astro'"],
  'refusal.ts': [],
};

describe('detectors own their framework knowledge', () => {
  it('the source scan and the refusal checklist name no framework the registry lists', () => {
    const ids = FRAMEWORKS.map((detector) => detector.id);
    expect(ids.length).toBe(32);
    for (const [file, allowed] of Object.entries(NOT_FRAMEWORK_KNOWLEDGE)) {
      let code = codeOf(file);
      for (const text of allowed) {
        expect(code.includes(text)).toBe(true);
        code = code.split(text).join('');
      }
      const named = ids.filter((id) => new RegExp(`\\b${id}\\b`, 'i').test(code));
      expect({ file, named }).toEqual({ file, named: [] });
    }
  });

  it('the registry collects each detector’s knowledge, frameworks before runtimes', () => {
    expect(SCAN_KNOWLEDGE.healthRoutes.map((syntax) => syntax.language)).toEqual(['py', 'rb', 'php', 'ex']);
    expect(SCAN_KNOWLEDGE.appObjects).toEqual(['FastAPI', 'Flask']);
    expect(SCAN_KNOWLEDGE.envReadSyntaxes.map((syntax) => `${syntax.language} ${syntax.prefilter.source}`)).toEqual([
      'props %env\\(',
      'props \\$\\{',
      'js import\\.meta\\.env',
      'js Bun\\.env',
      'js Deno\\.env',
    ]);
    expect(SCAN_KNOWLEDGE.publicEnvPrefixes).toEqual(['NEXT_PUBLIC_', 'NUXT_PUBLIC_', 'PUBLIC_', 'EXPO_PUBLIC_', 'REACT_APP_', 'GATSBY_', 'VITE_']);
    expect(SCAN_KNOWLEDGE.buildConfigFiles).toEqual(['next', 'nuxt', 'astro', 'svelte', 'remix', 'gatsby-config', 'gatsby-node', 'vite']);
    expect(SCAN_KNOWLEDGE.serverStarts.map((start) => `${start.language} ${start.pattern.source}`)).toEqual([
      'rs \\bHttpServer::new\\b',
      'rs \\baxum::serve\\b',
      'rs #\\[(?:rocket::)?launch\\]',
      'js \\bBun\\.serve\\(',
      'js \\bDeno\\.serve\\(',
    ]);
    expect([...SCAN_KNOWLEDGE.missingStart.keys()]).toEqual([
      'python', 'go', 'rust', 'ruby', 'php', 'java', 'kotlin', 'csharp', 'fsharp', 'vbnet', 'elixir', 'clojure', 'crystal',
      'dart', 'gleam', 'haskell', 'scala', 'swift', 'zig', 'javascript', 'typescript', 'c', 'cpp',
    ]);
  });

  it('each detector’s syntaxes reach the one-pass scan', async () => {
    const dir = await writeTree({
      'config/urls.py': "urlpatterns = [path('healthz/', health)]\nHEALTH = '/healthz'\n",
      'config/routes.rb': 'Rails.application.routes.draw do\n  get "up" => "rails/health#show"\nend\n',
      'bootstrap/app.php': "<?php\nreturn Application::configure()->withRouting(web: __DIR__.'/../routes/web.php', health: '/up');\n",
      'lib/app_web/router.ex': 'defmodule AppWeb.Router do\n  use AppWeb, :router\n  scope "/api" do\n    get "/health", HealthController, :index\n  end\nend\n',
      'src/main/resources/application.properties': 'server.port=${PORT:8080}\nspring.datasource.url=${DATABASE_URL}\n',
      'config/packages/doctrine.yaml': "doctrine:\n  dbal:\n    url: '%env(resolve:DATABASE_URL)%'\n",
      'web/main.js': 'const mode = import.meta.env.MODE;\nconst api = import.meta.env.VITE_API_URL;\nconst k = Bun.env.BUN_KEY;\nconst d = Deno.env.get("DENO_KEY");\nconst r = process.env.REACT_APP_X;\nBun.serve({ fetch });\n',
      'next.config.js': 'module.exports = { env: { S: process.env.BUILD_SECRET } };\n',
      'app/main.py': 'from fastapi import FastAPI\napp = FastAPI()\n',
      'src/main.rs': 'fn main() {\n    HttpServer::new(|| App::new());\n}\n',
    });
    const scan = await scanSources(await FsSnapshot.take(dir), '', new Warnings());
    expect(scan.healthRoutes.map((route) => `${route.file}:${route.line} ${route.path}`)).toEqual([
      'bootstrap/app.php:2 /up',
      'config/routes.rb:2 /up',
      'config/urls.py:2 /healthz',
      'config/urls.py:1 /healthz/',
      'lib/app_web/router.ex:4 /api/health',
    ]);
    expect(scan.envRefs.map((ref) => `${ref.file}:${ref.line} ${ref.name} ${ref.fallback} ${JSON.stringify(ref.default)}${ref.build ? ' build' : ''}`)).toEqual([
      'config/packages/doctrine.yaml:3 DATABASE_URL none ""',
      'next.config.js:1 BUILD_SECRET none "" build',
      'src/main/resources/application.properties:1 PORT default "8080"',
      'src/main/resources/application.properties:2 DATABASE_URL none ""',
      'web/main.js:2 VITE_API_URL none "" build',
      'web/main.js:3 BUN_KEY none ""',
      'web/main.js:4 DENO_KEY none ""',
      'web/main.js:5 REACT_APP_X none "" build',
    ]);
    expect(scan.pyApps.map((app) => `${app.file}:${app.line} ${app.variable} ${app.factory}`)).toEqual(['app/main.py:2 app FastAPI']);
    expect(scan.httpHits.map((hit) => `${hit.file}:${hit.line}`)).toEqual(['src/main.rs:2', 'web/main.js:6']);
  });
});
