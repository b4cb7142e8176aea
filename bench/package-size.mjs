#!/usr/bin/env node
/**
 * Package benchmark: what a user downloads and installs. Run after `npm run build`; never part of
 * the test suite.
 *
 *   node bench/package-size.mjs            # report
 *   node bench/package-size.mjs --check    # also exit 1 when source maps ship without their sources
 *   node bench/package-size.mjs --root /path/to/other/checkout --label "before"
 *
 * 1. `npm pack --ignore-scripts` into a temp folder: the tarball of what is built now (the scripts
 *    are skipped so packing never rebuilds dist/ behind the caller's back).
 * 2. `npm install --omit=dev <tarball>` into an empty temp folder (dependencies come from the
 *    configured registry, as for a user).
 * 3. Reports the tarball size, the files in it, the installed size of node_modules (apparent bytes
 *    and disk usage), the number of packages installed, the biggest of them, and the source maps in
 *    the package whose `sources` are not in the package either (a map that points at files the user
 *    does not have is dead weight, and says where the sources live on the build machine), and
 *    the compiled files whose source no longer exists in src/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}
const check = args.includes('--check');
const root = path.resolve(option('--root', path.resolve(here, '..')));

function run(command, commandArgs, cwd) {
  const result = spawnSync(command, commandArgs, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
  return result.stdout;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Apparent size (sum of file sizes) and disk usage of a folder, from `du`. */
function du(folder) {
  const apparent = Number(run('du', ['-sb', folder]).split(/\s+/)[0]);
  const disk = Number(run('du', ['-sk', folder]).split(/\s+/)[0]) * 1024;
  return { apparent, disk };
}

/** Every file under a folder, relative to it (symbolic links are not followed). */
function walk(folder, rel = '') {
  const files = [];
  for (const entry of readdirSync(path.join(folder, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...walk(folder, child));
    else if (entry.isFile()) files.push(child);
  }
  return files;
}

/**
 * Source maps of the installed package whose sources are missing from it: a source counts as
 * present when the map embeds it (`sourcesContent`) or the file it names exists in the package.
 */
function orphanMaps(packageDir) {
  const maps = walk(packageDir).filter((file) => file.endsWith('.map'));
  const orphans = [];
  let mapBytes = 0;
  for (const file of maps) {
    const abs = path.join(packageDir, file);
    mapBytes += statSync(abs).size;
    let map;
    try {
      map = JSON.parse(readFileSync(abs, 'utf8'));
    } catch {
      orphans.push({ file, missing: ['(unreadable map)'] });
      continue;
    }
    const sources = Array.isArray(map.sources) ? map.sources : [];
    const base = path.resolve(path.dirname(abs), map.sourceRoot ?? '');
    const missing = sources.filter((source, i) => {
      if (typeof map.sourcesContent?.[i] === 'string') return false;
      const resolved = path.resolve(base, source);
      const inside = !path.relative(packageDir, resolved).startsWith('..');
      return !inside || !existsFile(resolved);
    });
    if (missing.length > 0) orphans.push({ file, missing });
  }
  return { maps: maps.length, mapBytes, orphans };
}

function existsFile(file) {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Installed packages, from npm's hidden lockfile (one entry per package folder). */
function installedPackages(project) {
  const lock = JSON.parse(readFileSync(path.join(project, 'node_modules/.package-lock.json'), 'utf8'));
  return Object.keys(lock.packages ?? {}).filter((key) => key.startsWith('node_modules/'));
}

let status = 0;
const work = mkdtempSync(path.join(tmpdir(), 'od-bench-package-'));
try {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const packDir = path.join(work, 'pack');
  const project = path.join(work, 'project');
  mkdirSync(packDir);
  mkdirSync(project);

  const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], root));
  const tarball = path.join(packDir, packed.filename);

  writeFileSync(path.join(project, 'package.json'), '{ "private": true }\n');
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], project);

  const modules = path.join(project, 'node_modules');
  const installed = du(modules);
  const own = du(path.join(modules, manifest.name));
  const packages = installedPackages(project);
  const maps = orphanMaps(path.join(modules, manifest.name));
  // Compiled files whose source is gone: tsc never deletes old output, so a dist/ built over time
  // ships modules nothing imports any more unless the build starts from an empty folder.
  const stale = walk(path.join(modules, manifest.name, 'dist'))
    .filter((file) => file.endsWith('.js'))
    .filter((file) => !existsFile(path.join(root, 'src', file.replace(/\.js$/, '.ts'))));

  // Biggest installed packages (top-level folders, scopes opened), apparent size.
  const sizes = packages
    .filter((key) => !key.slice('node_modules/'.length).includes('/node_modules/'))
    .map((key) => ({ name: key.slice('node_modules/'.length), bytes: du(path.join(project, key)).apparent }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);

  const head = spawnSync('git', ['-C', root, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).stdout.trim();
  console.log(`# ${manifest.name}@${manifest.version} package, ${new Date().toISOString()}`);
  console.log(`node ${process.version}, npm ${run('npm', ['--version'], work).trim()}; build: ${root} (${option('--label', '') || head || 'not a git checkout'})`);
  console.log('');
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| tarball (\`npm pack\`) | **${kib(packed.size)}** (${packed.entryCount} files, ${kib(packed.unpackedSize)} unpacked) |`);
  console.log(`| installed \`node_modules\` (\`npm install --omit=dev <tarball>\`) | **${mib(installed.apparent)}** apparent, ${mib(installed.disk)} on disk |`);
  console.log(`| of which ${manifest.name} itself | ${mib(own.apparent)} apparent, ${mib(own.disk)} on disk |`);
  console.log(`| packages installed | **${packages.length}** (${manifest.name} and ${packages.length - 1} dependencies) |`);
  console.log(
    `| source maps shipped | ${maps.maps} (${kib(maps.mapBytes)}); **${maps.orphans.length} without their sources** in the package |`,
  );
  console.log(`| compiled files without a source in \`src/\` (stale build output) | ${stale.length}${stale.length ? `: ${stale.slice(0, 4).map((f) => `\`dist/${f}\``).join(', ')}${stale.length > 4 ? ', …' : ''}` : ''} |`);
  console.log(`| biggest packages | ${sizes.map((s) => `${s.name} ${mib(s.bytes)}`).join(', ')} |`);
  if (maps.orphans.length > 0) {
    const example = maps.orphans[0];
    console.log('');
    console.log(`Maps without sources, e.g. \`${example.file}\` → ${example.missing.map((m) => `\`${m}\``).join(', ')} (not in the package).`);
    if (check) status = 1;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  // Without a measurement the check cannot pass; a plain report run still exits 0.
  if (check) status = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = status;
