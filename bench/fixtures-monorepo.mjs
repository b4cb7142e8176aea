#!/usr/bin/env node
/**
 * Generates a pnpm + turbo monorepo of (by default) 100,000 files for analysis and archive
 * benchmarks: two apps (`apps/web`, a Next.js app, and `apps/api`, an Express server) and a shared
 * package (`packages/shared`), 10,000 source files between them, and the rest under `node_modules/`
 * (pnpm's `.pnpm` store at the root plus the per-package symlinks pnpm creates) and `.git/`.
 *
 *   node bench/fixtures-monorepo.mjs <empty-or-new-folder> [--files 100000] [--sources 10000]
 *
 * or, from another script:
 *
 *   import { generateMonorepo } from './fixtures-monorepo.mjs';
 *   const counts = generateMonorepo(folder);   // { total, sources, nodeModules, git }
 *
 * The tree is deterministic: the same options always give the same files with the same contents.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files per generated folder: deep enough to look like a real tree, wide enough to be quick. */
const PER_DIR = 100;

function write(root, rel, text) {
  const abs = path.join(root, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The hand-written part of the repository: manifests, configs and entry points (counted as sources). */
function skeleton(root) {
  const files = {
    'package.json': json({
      name: 'bench-monorepo',
      private: true,
      packageManager: 'pnpm@9.12.0',
      scripts: { build: 'turbo run build', dev: 'turbo run dev', lint: 'turbo run lint' },
      devDependencies: { turbo: '^2.3.0', typescript: '^5.6.3' },
    }),
    'pnpm-workspace.yaml': "packages:\n  - 'apps/*'\n  - 'packages/*'\n",
    'pnpm-lock.yaml': "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    devDependencies:\n      turbo:\n        specifier: ^2.3.0\n        version: 2.3.0\n",
    'turbo.json': json({
      $schema: 'https://turbo.build/schema.json',
      tasks: { build: { dependsOn: ['^build'], outputs: ['.next/**', 'dist/**'] }, dev: { cache: false, persistent: true }, lint: {} },
    }),
    '.gitignore': 'node_modules\n.next\ndist\n.turbo\n.env*.local\n',
    '.npmrc': 'auto-install-peers=true\n',
    'apps/web/package.json': json({
      name: 'web',
      private: true,
      scripts: { dev: 'next dev', build: 'next build', start: 'next start' },
      dependencies: { next: '15.0.3', react: '19.0.0', 'react-dom': '19.0.0', '@bench/shared': 'workspace:*' },
    }),
    'apps/web/next.config.js': "/** @type {import('next').NextConfig} */\nmodule.exports = { reactStrictMode: true };\n",
    'apps/web/app/layout.jsx': 'export default function RootLayout({ children }) {\n  return <html lang="en"><body>{children}</body></html>;\n}\n',
    'apps/web/app/page.jsx': "import { greet } from '@bench/shared';\n\nexport default function Page() {\n  return <main>{greet(process.env.NEXT_PUBLIC_SITE_NAME)}</main>;\n}\n",
    'apps/web/app/api/health/route.js': "export function GET() {\n  return Response.json({ ok: true });\n}\n",
    'apps/api/package.json': json({
      name: 'api',
      private: true,
      scripts: { dev: 'node --watch src/index.js', start: 'node src/index.js' },
      dependencies: { express: '^4.21.2', pg: '^8.13.1', '@bench/shared': 'workspace:*' },
    }),
    'apps/api/src/index.js':
      "const express = require('express');\nconst { Pool } = require('pg');\n\nconst app = express();\nconst pool = new Pool({ connectionString: process.env.DATABASE_URL });\n\napp.get('/health', (_req, res) => res.send('ok'));\napp.get('/now', async (_req, res) => res.json((await pool.query('select now()')).rows[0]));\n\napp.listen(process.env.PORT || 4000);\n",
    'packages/shared/package.json': json({ name: '@bench/shared', version: '0.0.0', private: true, main: 'src/index.js' }),
    'packages/shared/src/index.js': "exports.greet = (name) => `Hello, ${name ?? 'world'}`;\n",
  };
  for (const [rel, text] of Object.entries(files)) write(root, rel, text);
  return Object.keys(files).length;
}

/** Generated sources, spread over the three packages the way a real monorepo's are. */
function sources(root, count) {
  const places = [
    ['apps/web/components', (i) => `export function Widget${i}({ label }) {\n  return <div data-flag={process.env.NEXT_PUBLIC_FLAG_${i % 20}}>{label}</div>;\n}\n`, 'jsx'],
    ['apps/api/src/routes', (i) => `const flag = process.env.API_FLAG_${i % 30} || 'off';\n\nexports.handler${i} = (req, res) => res.json({ flag, id: ${i} });\n`, 'js'],
    ['packages/shared/src/lib', (i) => `export function helper${i}(value) {\n  return value * ${(i % 7) + 1};\n}\n`, 'js'],
  ];
  for (let i = 0; i < count; i += 1) {
    const [base, body, ext] = places[i % places.length];
    const n = Math.floor(i / places.length);
    write(root, `${base}/group-${Math.floor(n / PER_DIR)}/file-${i}.${ext}`, body(i));
  }
}

/**
 * pnpm's layout: every package lives once in `node_modules/.pnpm/<name>@<version>/node_modules/<name>`,
 * and each workspace package's `node_modules/<dep>` is a symbolic link into that store.
 */
function nodeModules(root, count) {
  const names = ['next', 'react', 'react-dom', 'express', 'pg', 'turbo', 'typescript'];
  const packages = Math.max(1, Math.ceil(count / PER_DIR));
  let written = 0;
  for (let p = 0; p < packages && written < count; p += 1) {
    const name = p < names.length ? names[p] : `dep-${p}`;
    const store = `node_modules/.pnpm/${name}@1.0.${p}/node_modules/${name}`;
    write(root, `${store}/package.json`, json({ name, version: `1.0.${p}`, main: 'index.js' }));
    written += 1;
    for (let f = 1; f < PER_DIR && written < count; f += 1, written += 1) {
      write(root, `${store}/lib/file-${f}.js`, `module.exports = ${f}; // process.env.IGNORED_${f % 10}\n`);
    }
  }
  const links = {
    'apps/web/node_modules': ['next', 'react', 'react-dom'],
    'apps/api/node_modules': ['express', 'pg'],
    node_modules: ['turbo', 'typescript'],
  };
  for (const [dir, deps] of Object.entries(links)) {
    mkdirSync(path.join(root, dir), { recursive: true });
    for (const dep of deps) {
      const p = names.indexOf(dep);
      const target = path.relative(path.join(root, dir), path.join(root, `node_modules/.pnpm/${dep}@1.0.${p}/node_modules/${dep}`));
      symlinkSync(target, path.join(root, dir, dep));
    }
  }
  // A workspace dependency: a link to the package's own folder.
  symlinkSync(path.join('..', '..', '..', 'packages', 'shared'), path.join(root, 'apps/web/node_modules/@bench-shared'));
  return written;
}

/** A `.git` folder shaped like a real one: loose objects in two-hex-digit folders. */
function git(root, count) {
  write(root, '.git/HEAD', 'ref: refs/heads/main\n');
  write(root, '.git/config', '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
  for (let i = 2; i < count; i += 1) {
    const hex = (i * 2654435761 >>> 0).toString(16).padStart(8, '0');
    write(root, `.git/objects/${hex.slice(0, 2)}/${hex.slice(2)}${String(i).padStart(32, '0')}`, `blob ${i}\n`);
  }
  return Math.max(count, 2);
}

/**
 * Writes the monorepo into `root` (created when missing). `files` is the total file count, `sources`
 * how many of them are the project's own files (the rest is split 85 % node_modules, 15 % .git).
 */
export function generateMonorepo(root, { files = 100_000, sources: sourceCount = 10_000 } = {}) {
  mkdirSync(root, { recursive: true });
  const fixed = skeleton(root);
  sources(root, sourceCount - fixed);
  const rest = files - sourceCount;
  const gitCount = git(root, Math.round(rest * 0.15));
  const nodeModulesCount = nodeModules(root, rest - gitCount);
  return { total: sourceCount + gitCount + nodeModulesCount, sources: sourceCount, nodeModules: nodeModulesCount, git: gitCount };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const target = args.find((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!target) {
    console.error('usage: node bench/fixtures-monorepo.mjs <folder> [--files 100000] [--sources 10000]');
    process.exit(2);
  }
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const t0 = performance.now();
  const counts = generateMonorepo(path.resolve(target), { files: option('--files', 100_000), sources: option('--sources', 10_000) });
  console.log(
    `${counts.total} files in ${Math.round(performance.now() - t0)} ms: ${counts.sources} sources, ${counts.nodeModules} under node_modules/, ${counts.git} under .git/`,
  );
}
