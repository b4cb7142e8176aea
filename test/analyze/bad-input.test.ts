/**
 * Hostile or broken project folders: every case returns an analysis with warnings and never throws
 * or hangs. Only a root that is not a folder is an error (invalid_input).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OdError } from '../../src/core/errors.js';
import { analyzeProject } from '../../src/analyze/index.js';
import { AnalysisSchema, type Analysis } from '../../src/analyze/schema.js';
import { tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function project(files: Record<string, string | Buffer>, name = 'project'): Promise<string> {
  const { dir, cleanup } = await tempDir(name);
  cleanups.push(cleanup);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

async function analyze(dir: string, options: Parameters<typeof analyzeProject>[1] = {}): Promise<Analysis> {
  const analysis = await analyzeProject(dir, { cwd: dir, ...options });
  expect(AnalysisSchema.safeParse(analysis).success).toBe(true);
  return analysis;
}

const SERVER = "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);\n";

describe('bad input', () => {
  it('malformed package.json: a warning, no crash, refused for lack of a service', async () => {
    const dir = await project({ 'package.json': '{ "name": "broken", "scripts": { "start": "node server.js" }', 'server.js': SERVER });
    const analysis = await analyze(dir);
    expect(analysis.services).toEqual([]);
    expect(analysis.warnings).toContain('package.json is not valid JSON (syntax error at position 60); it was ignored');
    expect(analysis.refusal.refused).toBe(true);
    expect(analysis.refusal.reasons[0]).toMatch(/^no deployable service found/);
  });

  it('package.json with a field of the wrong type: that field is ignored with a warning, the rest is used', async () => {
    const dir = await project({ 'package.json': JSON.stringify({ name: 'typed', scripts: ['node server.js'], main: 'server.js' }), 'server.js': SERVER });
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain('package.json: field "scripts" has an unexpected shape; it was ignored');
    expect(analysis.services[0]?.scripts_start).toBe('node server.js');
    expect(analysis.refusal.refused).toBe(false);
  });

  it('a 5 MB package.json is capped: not parsed, a warning, no crash', async () => {
    const huge = JSON.stringify({ name: 'huge', description: 'x'.repeat(5 * 1024 * 1024), scripts: { start: 'node server.js' } });
    const dir = await project({ 'package.json': huge, 'server.js': SERVER });
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain('package.json is 5.0 MiB, larger than the 256 KiB read cap; it was not parsed');
    expect(analysis.warnings).toContain('1 file(s) larger than 256 KiB were only partly scanned: package.json');
    expect(analysis.services).toEqual([]);
  });

  it('a binary file with a .js extension: skipped with a warning', async () => {
    const binary = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(64, 0), Buffer.from('process.env.SECRET_IN_BINARY')]);
    const dir = await project({
      'package.json': JSON.stringify({ name: 'bin', scripts: { start: 'node server.js' } }),
      'server.js': SERVER,
      'lib/native.js': binary,
    });
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain('lib/native.js looks like a binary file (it contains NUL bytes); it was not analyzed');
    expect(analysis.services[0]?.runtime_vars.map((v) => v.name)).toEqual(['PORT']);
  });

  it('a symlink loop: links are not followed, the walk ends, a warning names them', async () => {
    const dir = await project({ 'package.json': JSON.stringify({ name: 'loop', scripts: { start: 'node server.js' } }), 'server.js': SERVER });
    await mkdir(path.join(dir, 'a/b'), { recursive: true });
    await symlink('..', path.join(dir, 'a/b/up'));
    await symlink('.', path.join(dir, 'self'));
    await symlink(path.join(dir, 'a'), path.join(dir, 'a/b/abs'));
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain('did not follow 3 symbolic link(s): a/b/abs, a/b/up, self');
    expect(analysis.services[0]?.name).toBe('loop');
  });

  // Root reads every folder regardless of its mode bits, so the EACCES path cannot be produced there.
  it.skipIf(process.getuid?.() === 0)('an unreadable folder: skipped with a warning (skipped when running as root: root can read it)', async () => {
    const dir = await project({
      'package.json': JSON.stringify({ name: 'locked', scripts: { start: 'node server.js' } }),
      'server.js': SERVER,
      'private/secret.js': 'process.env.HIDDEN',
    });
    await chmod(path.join(dir, 'private'), 0o000);
    try {
      const analysis = await analyze(dir);
      expect(analysis.warnings).toContain('could not read folder private/ (EACCES); its files were not analyzed');
      expect(analysis.services[0]?.runtime_vars.map((v) => v.name)).toEqual(['PORT']);
    } finally {
      await chmod(path.join(dir, 'private'), 0o755);
    }
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file: skipped with a warning (skipped when running as root: root can read it)', async () => {
    const dir = await project({
      'package.json': JSON.stringify({ name: 'lockedfile', scripts: { start: 'node server.js' } }),
      'server.js': SERVER,
      'private.js': 'process.env.HIDDEN',
    });
    await chmod(path.join(dir, 'private.js'), 0o000);
    try {
      const analysis = await analyze(dir);
      expect(analysis.warnings).toContain('private.js could not be read (EACCES); it was not analyzed');
    } finally {
      await chmod(path.join(dir, 'private.js'), 0o644);
    }
  });

  it('a 12-level deep tree: folders deeper than 8 levels are not entered, with a warning', async () => {
    const deep = Array.from({ length: 12 }, (_, i) => `d${i + 1}`).join('/');
    const dir = await project({
      'package.json': JSON.stringify({ name: 'deep', scripts: { start: 'node server.js' } }),
      'server.js': SERVER,
      'd1/d2/d3/d4/d5/d6/d7/d8/shallow.js': 'process.env.AT_DEPTH_EIGHT',
      [`${deep}/deep.js`]: 'process.env.TOO_DEEP',
    });
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain(
      'did not enter 1 folder(s) deeper than 8 levels: d1/d2/d3/d4/d5/d6/d7/d8/d9; files there were not analyzed',
    );
    expect(analysis.services[0]?.runtime_vars.map((v) => v.name)).toEqual(['AT_DEPTH_EIGHT', 'PORT']);
  });

  it('a file name that is not valid UTF-8: skipped with a warning showing its bytes', async () => {
    const dir = await project({ 'package.json': JSON.stringify({ name: 'bytes', scripts: { start: 'node server.js' } }), 'server.js': SERVER });
    await writeFile(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x62, 0xff, 0x2e]), Buffer.from('js')]), 'process.env.LATIN1');
    await writeFile(path.join(dir, 'caf\u00e9.js'), 'process.env.UTF8_NAME');
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain('skipped 1 file name(s) that are not valid UTF-8: b\\xff.js');
    expect(analysis.services[0]?.runtime_vars.map((v) => v.name)).toEqual(['PORT', 'UTF8_NAME']);
  });

  it('a named pipe posing as a source file: skipped, never opened (opening it would block)', async () => {
    const dir = await project({ 'package.json': JSON.stringify({ name: 'fifo', scripts: { start: 'node server.js' } }), 'server.js': SERVER });
    try {
      execFileSync('mkfifo', [path.join(dir, 'index.js')]);
    } catch {
      return; // no mkfifo on this system
    }
    const analysis = await analyze(dir);
    expect(analysis.warnings).toContain('skipped 1 special file(s) (sockets, pipes, devices): index.js');
  });

  it('more files than the cap: the walk stops with a warning', async () => {
    const files: Record<string, string> = { 'package.json': JSON.stringify({ name: 'many', scripts: { start: 'node server.js' } }), 'server.js': SERVER };
    for (let i = 0; i < 30; i += 1) files[`src/f${String(i).padStart(2, '0')}.js`] = `module.exports = ${i};`;
    const dir = await project(files);
    const analysis = await analyze(dir, { limits: { maxFiles: 10 } });
    expect(analysis.warnings).toContain('stopped listing files after 10; the rest of the project was not analyzed');
    expect(analysis.services[0]?.name).toBe('many');
  });

  it('a time budget that runs out: analysis stops early with warnings instead of hanging', async () => {
    const dir = await project({
      'package.json': JSON.stringify({ name: 'slow', scripts: { start: 'node server.js' } }),
      'server.js': SERVER,
      'a/b/c.js': 'process.env.NESTED',
    });
    let now = 0;
    const analysis = await analyze(dir, { now: () => (now += 400), limits: { timeBudgetMs: 1000 } });
    expect(analysis.warnings).toContain('stopped listing files after the 1000 ms time budget; the rest of the project was not analyzed');
    expect(analysis.warnings).toContain(
      'stopped scanning source when the time budget ran out; env references and refusal markers in the rest were not checked',
    );
  });

  it('pathological source (one 256 KiB line of unterminated patterns) is scanned without blowing up', async () => {
    const js = ['const { A', '.listen({ port', 'process.env.X || ', 'HTTPServer(("', '.run(port'].map((p) => p.repeat(12_000)).join('').slice(0, 256 * 1024);
    const py = ['os.getenv("X", ', 'os.environ.get("Y", ', 'env("Z", ', 'app = a.a.a.a.'].map((p) => p.repeat(15_000)).join('').slice(0, 256 * 1024);
    const dir = await project({
      'package.json': JSON.stringify({ name: 'evil', scripts: { start: 'node server.js' }, dependencies: { fastify: '^5' } }),
      // The server imports fastify: a declared framework counts only when the code uses it.
      'server.js': "const app = require('fastify')();\napp.listen({ port: process.env.PORT || 3000, host: '0.0.0.0' });\n",
      'evil.js': js,
      'evil.py': py,
    });
    const analysis = await analyze(dir);
    expect(analysis.services[0]?.framework).toBe('fastify');
  });

  it('an empty folder: no service, refused, no crash', async () => {
    const dir = await project({});
    const analysis = await analyze(dir);
    expect(analysis).toEqual({
      version: 1,
      root: '.',
      services: [],
      refusal: {
        refused: true,
        reasons: [
          'no deployable service found: no usable package.json, requirements.txt, pyproject.toml, Pipfile, manage.py, go.mod or main.go, Cargo.toml, Gemfile, composer.json or index.php, pom.xml, build.gradle, *.csproj/*.fsproj/*.vbproj, mix.exs, deno.json, project.clj, deps.edn, shard.yml, pubspec.yaml, gleam.toml, stack.yaml, *.cabal, build.sbt, Package.swift, build.zig, CMakeLists.txt, meson.build, Staticfile, Caddyfile, start.sh, Dockerfile or index.html (see warnings for files that could not be read or parsed)',
        ],
      },
      warnings: [],
      archive: { files: 0, bytes: 0, excluded_secrets: [] },
    });
  });

  it('invalid TOML and YAML: warnings, no crash', async () => {
    const dir = await project({
      'pyproject.toml': '[project\nname = "x"',
      'requirements.txt': 'flask==3.1.0\n',
      'app.py': 'from flask import Flask\napp = Flask(__name__)\n',
      'docker-compose.yml': 'services:\n  web: [unclosed\n',
    });
    const analysis = await analyze(dir);
    expect(analysis.warnings.some((w) => w.startsWith('pyproject.toml is not valid TOML ('))).toBe(true);
    expect(analysis.warnings.some((w) => w.startsWith('docker-compose.yml is not valid YAML ('))).toBe(true);
    expect(analysis.services[0]?.framework).toBe('flask');
  });

  it('a root that does not exist, or is a file, is invalid input', async () => {
    const dir = await project({ 'file.txt': 'x' });
    await expect(analyzeProject(path.join(dir, 'missing'))).rejects.toSatisfy(
      (error: unknown) => error instanceof OdError && error.code === 'invalid_input',
    );
    await expect(analyzeProject(path.join(dir, 'file.txt'))).rejects.toSatisfy(
      (error: unknown) => error instanceof OdError && error.code === 'invalid_input' && /is not a folder/.test(error.message),
    );
  });
});
