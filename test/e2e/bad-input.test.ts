/**
 * Hostile or broken input never kills `analyze` (issue 11, "Bad input"):
 * - a 1,000,000-line `.gitignore` and a 200 MB `package.json` are read up to a cap, with warnings,
 *   and the CLI stays within a 96 MB V8 heap (before the caps it died of heap exhaustion at 1.6 GB);
 * - a folder where `.opendeploy/analysis.json` cannot be written still gets its analysis printed;
 * - warnings are bounded in length and number.
 */
import { existsSync } from 'node:fs';
import { open, writeFile, mkdir } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/analyze/index.js';
import { boundWarnings, capWarning, MAX_WARNING_CHARS, MAX_WARNINGS, Warnings } from '../../src/analyze/warnings.js';
import { selectFiles } from '../../src/archive/index.js';
import { BIN, runCli } from '../helpers/cli.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(async () => {
  await cleanupTempDirs();
});

const SERVER = 'require("http").createServer((q, r) => r.end("hi")).listen(process.env.PORT || 3000);\n';

/** Writes a 1,000,000-line .gitignore (22.9 MB) and a 200 MiB package.json in bounded time. */
async function hugeProject(): Promise<string> {
  const dir = await tempDir('od-bad-input-');
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i += 1) lines.push(`path/to/file${i}.log`);
  await writeFile(path.join(dir, '.gitignore'), lines.join('\n'));
  await writeFile(path.join(dir, 'server.js'), SERVER);
  const handle = await open(path.join(dir, 'package.json'), 'w');
  try {
    await handle.write('{"name":"big","scripts":{"start":"node server.js"},"description":"');
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 200; i += 1) await handle.write(chunk);
    await handle.write('"}');
  } finally {
    await handle.close();
  }
  return dir;
}

describe('huge ignore and manifest files', () => {
  it('analyze completes inside a 96 MB heap, with exact warnings, and the archive selection too', { timeout: 120_000 }, async () => {
    const dir = await hugeProject();
    const run = await runCli(['analyze', dir, '--json'], { env: { NODE_OPTIONS: '--max-old-space-size=96' }, timeoutMs: 110_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const analysis = JSON.parse(run.stdout) as { warnings: string[]; archive: { files: number } };
    expect(analysis.warnings).toEqual([
      // Analysis reads the tree through the archive's walk, so it reports the same warnings in the same words.
      '.gitignore: 22888889 bytes, larger than the 262144-byte read cap; only its beginning was used',
      '.gitignore: ignore rules over the 2000-pattern cap; 10420 pattern(s) beyond it were not applied',
      '1 file(s) larger than 256 KiB were only partly scanned: package.json',
      'package.json is 200.0 MiB, larger than the 256 KiB read cap; it was not parsed',
    ]);
    expect(analysis.archive.files).toBe(3);

    // The archive selection reads the same files with its own caps and says what it dropped.
    const selection = await selectFiles(dir);
    expect(selection.files.map((file) => file.rel)).toEqual(['.gitignore', 'package.json', 'server.js']);
    expect(selection.warnings).toEqual([
      '.gitignore: 22888889 bytes, larger than the 262144-byte read cap; only its beginning was used',
      '.gitignore: ignore rules over the 2000-pattern cap; 10420 pattern(s) beyond it were not applied',
      'package.json: 209715268 bytes, larger than the 1048576-byte read cap; a top-level build/ folder is kept',
    ]);

    // Resident memory of the whole process, where GNU time is installed to measure it.
    if (existsSync('/usr/bin/time')) {
      const timed = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, 'analyze', dir, '--json'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true' },
        timeout: 110_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      expect(timed.status).toBe(0);
      const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timed.stderr)?.[1]);
      expect(kb).toBeGreaterThan(0);
      expect(kb).toBeLessThan(250 * 1024);
    }
  });
});

describe('a folder where analysis.json cannot be written', () => {
  it('still prints the analysis, with a warning naming the file, and exits 0', async () => {
    // Tests run as root, where chmod does not stop a write; a regular file named `.opendeploy`
    // makes creating the folder fail for every user (EEXIST), exactly like a read-only folder would.
    const dir = await tempDir('od-readonly-');
    await writeFile(path.join(dir, 'server.js'), SERVER);
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'ro', scripts: { start: 'node server.js' } }));
    await writeFile(path.join(dir, '.opendeploy'), 'not a folder\n');
    const run = await runCli(['analyze', dir, '--json']);
    expect(run.code).toBe(0);
    const analysis = JSON.parse(run.stdout) as { warnings: string[]; services: { name: string }[] };
    expect(analysis.services.map((service) => service.name)).toEqual(['ro']);
    expect(analysis.warnings).toEqual(['.opendeploy/analysis.json could not be written (EEXIST); the analysis is printed only']);

    const human = await runCli(['analyze', dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('warning: .opendeploy/analysis.json could not be written (EEXIST); the analysis is printed only');
  });
});

describe('bounded warnings', () => {
  it('cuts one long warning to exactly MAX_WARNING_CHARS, ending in an ellipsis', () => {
    expect(MAX_WARNING_CHARS).toBe(500);
    expect(capWarning('x'.repeat(500))).toBe('x'.repeat(500));
    expect(capWarning('x'.repeat(501))).toBe(`${'x'.repeat(499)}…`);
  });

  it('keeps MAX_WARNINGS distinct warnings and counts the rest in one line', () => {
    expect(MAX_WARNINGS).toBe(50);
    const fifty = Array.from({ length: 50 }, (_, i) => `w${i}`);
    expect(boundWarnings(fifty)).toEqual(fifty);
    const many = [...fifty, 'w0', 'w50', 'w51', 'w51'];
    expect(boundWarnings(many)).toEqual([...fifty, '2 more warning(s) not shown']);
  });

  it('dedupes on the cut text, so one huge message is kept once', () => {
    const warnings = new Warnings();
    warnings.add(`${'p'.repeat(600)}a`);
    warnings.add(`${'p'.repeat(600)}b`);
    expect(warnings.all()).toEqual([`${'p'.repeat(499)}…`]);
  });

  it('a 10,000-line EXPOSE yields a warning of exactly 500 characters (it was 122 KB)', async () => {
    const dir = await tempDir('od-expose-');
    let dockerfile = 'FROM node:20\nCOPY . .\n';
    for (let i = 0; i < 10_000; i += 1) dockerfile += `EXPOSE ${1000 + i}\n`;
    dockerfile += 'CMD ["node", "server.js"]\n';
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'Dockerfile'), dockerfile);
    await writeFile(path.join(dir, 'server.js'), SERVER);
    const analysis = await analyzeProject(dir);
    expect(analysis.warnings.map((warning) => warning.length)).toEqual([500]);
    expect(analysis.warnings[0]!.startsWith('Dockerfile exposes 1000, 1001, 1002,')).toBe(true);
    expect(analysis.warnings[0]!.endsWith('…')).toBe(true);
  });
});
