/**
 * The built-in static file server for `static` services: GET/HEAD only, correct content types,
 * `index.html` for folders, and no way out of the root (decoded `..`, NUL bytes and symlinks that
 * resolve outside it are all refused). An unknown path is the site's own `404.html` with status 404
 * (a plain 404 without one). Only a single-page app — a client-side router in its dependencies, or
 * an explicit rewrite setting — answers unknown extensionless paths with `index.html` instead, and
 * that never depends on the request's Accept header (curl, crawlers and browsers see the same page).
 */

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.bmp': 'image/bmp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.zip': 'application/zip',
};

export function contentTypeOf(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a request path to a file under `root`, or null when it would leave the root or does not
 * exist. `root` must already be a real path.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.includes('..')) return null;
  let candidate = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  if (!inside(root, candidate)) return null;
  try {
    let info = await stat(candidate);
    if (info.isDirectory()) {
      candidate = path.join(candidate, 'index.html');
      info = await stat(candidate);
    }
    if (!info.isFile()) return null;
    const real = await realpath(candidate);
    return inside(root, real) ? real : null;
  } catch {
    return null;
  }
}

function inside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}

/** Client-side routers: a build that bundles one routes in the browser from index.html. */
const CLIENT_ROUTERS = [
  'react-router',
  'react-router-dom',
  '@tanstack/react-router',
  '@tanstack/vue-router',
  '@tanstack/solid-router',
  '@tanstack/router',
  'vue-router',
  '@angular/router',
  '@solidjs/router',
  'svelte-spa-router',
  'svelte-routing',
  'preact-router',
  'wouter',
  '@reach/router',
  'navigo',
  'page',
];

function readJsonObject(file: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Why a static site is a single-page app, or null when it is not: a client-side router in the
 * service's package.json, or an explicit setting — a `_redirects` rule `/* /index.html 200`
 * (Netlify), `pushstate: enabled` in a `Staticfile` (Cloud Foundry), or a `static.json` route
 * `"/**": "index.html"` (Heroku's static buildpack).
 */
export function singlePageAppEvidence(serviceDir: string, staticRoot: string): string | null {
  const manifest = readJsonObject(path.join(serviceDir, 'package.json'));
  for (const field of ['dependencies', 'devDependencies']) {
    const deps = manifest?.[field];
    if (!deps || typeof deps !== 'object') continue;
    const router = CLIENT_ROUTERS.find((name) => name in deps);
    if (router) return `package.json: ${field}.${router}`;
  }
  for (const dir of [...new Set([staticRoot, serviceDir])]) {
    const redirects = readText(path.join(dir, '_redirects'));
    if (/^\s*\/\*\s+\/index\.html\s+200\b/m.test(redirects)) return `${path.relative(serviceDir, path.join(dir, '_redirects')) || '_redirects'}: /* /index.html 200`;
  }
  if (/^\s*pushstate\s*:\s*enabled\s*$/m.test(readText(path.join(serviceDir, 'Staticfile')))) return 'Staticfile: pushstate: enabled';
  const routes = readJsonObject(path.join(serviceDir, 'static.json'))?.['routes'];
  if (routes && typeof routes === 'object' && (routes as Record<string, unknown>)['/**'] === 'index.html') return 'static.json: routes "/**": "index.html"';
  return null;
}

/** True when the folder has an index.html to serve at `/`. */
export function hasIndexPage(root: string): boolean {
  try {
    return existsSync(path.join(root, 'index.html')) && statSync(path.join(root, 'index.html')).isFile();
  } catch {
    return false;
  }
}

export interface StaticServer {
  port: number;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** Answer unknown extensionless paths with the root index.html (single-page apps). */
  spa?: boolean;
  log?: (line: string) => void;
}

export async function startStaticServer(rootDir: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = await realpath(rootDir);
  const server = http.createServer((req, res) => {
    void handle(root, req, res, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(root: string, req: http.IncomingMessage, res: http.ServerResponse, options: StaticServerOptions): Promise<void> {
  const log = options.log;
  const method = req.method ?? 'GET';
  const urlPath = (req.url ?? '/').split('?')[0] ?? '/';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('405 method not allowed\n');
    return;
  }
  let file = await resolveStaticFile(root, urlPath);
  let status = 200;
  if (!file) {
    const last = urlPath.split('/').pop() ?? '';
    // A missing asset (`/app.js`) stays a 404 even in a single-page app: only routes get the page.
    if (options.spa && !last.includes('.') && !urlPath.split('/').includes('..')) file = await resolveStaticFile(root, '/index.html');
    const notFoundPage = file ? null : await resolveStaticFile(root, '/404.html');
    if (!file && notFoundPage) {
      file = notFoundPage;
      status = 404;
    }
  }
  if (!file) {
    log?.(`${method} ${urlPath} 404`);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 not found\n');
    return;
  }
  const info = await stat(file).catch(() => undefined);
  if (!info) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 not found\n');
    return;
  }
  log?.(`${method} ${urlPath} ${status}`);
  res.writeHead(status, {
    'content-type': contentTypeOf(file),
    'content-length': String(info.size),
    'cache-control': 'no-cache',
    'last-modified': info.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
