/**
 * 20 real processes write the same credential file at once while this process keeps reading it:
 * every read must parse, the final file must be one of the written values, and no temp file may
 * remain. The children run the real src/auth/file.ts, transpiled with the project's TypeScript.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readAuthFile, writeAuthFile } from '../../src/auth/index.js';
import { modeOf } from './helpers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRITERS = 20;
const ROUNDS = 15;

let build: string;
let work: string;

function keyFor(writer: number, round: number): string {
  return `od_a${String(writer).padStart(2, '0')}w${String(round).padStart(2, '0')}r${'x'.repeat(36)}`;
}

beforeAll(() => {
  // Under the repo so that `zod` resolves from node_modules; removed afterwards.
  mkdirSync(join(repo, 'node_modules', '.cache'), { recursive: true });
  build = mkdtempSync(join(repo, 'node_modules', '.cache', 'od-auth-concurrency-'));
  for (const file of ['src/core/errors.ts', 'src/core/redact.ts', 'src/auth/paths.ts', 'src/auth/file.ts']) {
    const source = readFileSync(join(repo, file), 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    const target = join(build, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  writeFileSync(join(build, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    join(build, 'writer.js'),
    [
      "import { writeAuthFile } from './src/auth/file.js';",
      'const [path, writer, rounds] = process.argv.slice(2);',
      'for (let round = 0; round < Number(rounds); round += 1) {',
      "  const api_key = `od_a${writer.padStart(2, '0')}w${String(round).padStart(2, '0')}r${'x'.repeat(36)}`;",
      "  await writeAuthFile(path, { version: 1, api_key, gateway: 'https://g.example/api', agent_id: `agent-${writer}`, bind_sig: 'ab'.repeat(32) });",
      '}',
    ].join('\n'),
  );
  work = mkdtempSync(join(tmpdir(), 'od-auth-race-'));
});

afterAll(() => {
  rmSync(build, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function runWriter(path: string, writer: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(build, 'writer.js'), path, String(writer), String(ROUNDS)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(code) : reject(new Error(`writer ${writer} exited ${code}: ${stderr}`))));
  });
}

describe('writeAuthFile under concurrency', () => {
  it('20 concurrent processes never leave a truncated or foreign file, nor temp files', async () => {
    const dir = join(work, 'procs', '.opendeploy');
    const path = join(dir, 'auth.json');
    const written = new Set<string>();
    for (let w = 0; w < WRITERS; w += 1) for (let r = 0; r < ROUNDS; r += 1) written.add(keyFor(w, r));

    let done = false;
    let reads = 0;
    const reader = (async () => {
      while (!done) {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // not created yet
          throw err;
        }
        const parsed = JSON.parse(text) as { api_key: string };
        expect(written.has(parsed.api_key)).toBe(true);
        reads += 1;
      }
    })();

    try {
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => runWriter(path, w)));
    } finally {
      done = true;
      await reader;
    }

    expect(reads).toBeGreaterThan(0);
    const final = await readAuthFile(path);
    expect(final.status).toBe('ok');
    if (final.status === 'ok') expect(written.has(final.data.api_key)).toBe(true);
    expect(readdirSync(dir)).toEqual(['auth.json']);
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(dir)).toBe(0o700);
  });

  it('20 concurrent in-process writers end with one complete value and no temp files', async () => {
    const dir = join(work, 'promises');
    const path = join(dir, 'auth.json');
    const keys = Array.from({ length: WRITERS }, (_, w) => keyFor(w, 99));
    await Promise.all(keys.map((api_key) => writeAuthFile(path, { version: 1, api_key })));
    const final = JSON.parse(readFileSync(path, 'utf8')) as { version: number; api_key: string };
    expect(final.version).toBe(1);
    expect(keys).toContain(final.api_key);
    expect(readdirSync(dir)).toEqual(['auth.json']);
    expect(modeOf(path)).toBe(0o600);
  });

  it('concurrent no-overwrite creators: exactly one wins, the rest get conflict', async () => {
    const dir = join(work, 'exclusive');
    const path = join(dir, 'auth.json');
    const keys = Array.from({ length: WRITERS }, (_, w) => keyFor(w, 50));
    const results = await Promise.allSettled(keys.map((api_key) => writeAuthFile(path, { version: 1, api_key }, { overwrite: false })));
    const winners = results.filter((r) => r.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('conflict');
    }
    const winnerKey = keys[results.findIndex((r) => r.status === 'fulfilled')];
    expect((JSON.parse(readFileSync(path, 'utf8')) as { api_key: string }).api_key).toBe(winnerKey);
    expect(readdirSync(dir)).toEqual(['auth.json']);
  });
});
