/**
 * The built-in static file server for `static` services: GET/HEAD only, correct content types,
 * `index.html` for folders, and no way out of the root (decoded `..`, NUL bytes and symlinks that
 * resolve outside it are all refused). Paths without an extension fall back to the root
 * `index.html` for HTML requests, so single-page apps with client-side routes work.
 */

import { createReadStream } from 'node:fs';
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

export interface StaticServer {
  port: number;
  close(): Promise<void>;
}

export async function startStaticServer(rootDir: string, log?: (line: string) => void): Promise<StaticServer> {
  const root = await realpath(rootDir);
  const server = http.createServer((req, res) => {
    void handle(root, req, res, log);
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

async function handle(root: string, req: http.IncomingMessage, res: http.ServerResponse, log?: (line: string) => void): Promise<void> {
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
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    const notFoundPage = await resolveStaticFile(root, '/404.html');
    if (!last.includes('.') && wantsHtml && !urlPath.split('/').includes('..')) file = await resolveStaticFile(root, '/index.html');
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
