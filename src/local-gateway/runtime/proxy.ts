/**
 * The reverse proxy in front of local apps, on the gateway's own port: `Host: <label>.localhost[:port]`
 * picks the service, and the request — or a WebSocket/any `Upgrade` — is piped to the app's local
 * port with bodies streamed both ways. Unknown hosts and services with no healthy process get a 502
 * with a short text body. Written on node:http/net only.
 */

import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface ProxyTarget {
  host: string;
  port: number;
  /** Called when the proxied exchange starts and ends (drain tracking for zero-downtime switches). */
  begin?(): void;
  end?(): void;
}

/** `<label>` of `<label>.localhost` or `<label>.localhost:<port>`, lower-cased; null otherwise. */
export function localhostLabel(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const match = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.localhost\.?(?::\d{1,5})?$/i.exec(hostHeader.trim());
  return match?.[1] ? match[1].toLowerCase() : null;
}

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade',
]);

function forwardHeaders(req: IncomingMessage, keepUpgrade: boolean): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  const connectionTokens = String(req.headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((t) => t.trim());
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) && !(keepUpgrade && (name === 'connection' || name === 'upgrade'))) continue;
    if (!keepUpgrade && connectionTokens.includes(name)) continue;
    headers[name] = value;
  }
  const remote = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  return headers;
}

export function sendBadGateway(res: ServerResponse, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `502 Bad Gateway: ${text}\n`;
  res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(body);
}

/** Pipes one HTTP exchange to `target`. */
export function proxyHttp(req: IncomingMessage, res: ServerResponse, target: ProxyTarget): void {
  target.begin?.();
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    target.end?.();
  };
  const upstream = http.request({
    host: target.host,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: forwardHeaders(req, false),
  });
  upstream.on('response', (upstreamRes) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upstreamRes.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      headers[name] = value;
    }
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
    // Streamed responses (SSE, long polls) go out as they arrive.
    res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    upstreamRes.on('end', finish);
  });
  upstream.on('error', (error) => {
    finish();
    sendBadGateway(res, `the app did not answer (${(error as NodeJS.ErrnoException).code ?? error.message})`);
  });
  res.on('close', () => {
    finish();
    // The client went away: stop the upstream exchange too.
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
  req.on('error', () => upstream.destroy());
}

/** Pipes an `Upgrade` request (WebSocket) to `target` as raw bytes once the app accepts it. */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget): void {
  target.begin?.();
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    target.end?.();
  };
  const upstream = net.connect({ host: target.host, port: target.port });
  const headers = forwardHeaders(req, true);
  upstream.once('connect', () => {
    const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => {
    if (upstream.bytesRead === 0 && socket.writable) {
      const body = '502 Bad Gateway: the app did not answer\n';
      socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else {
      socket.destroy();
    }
    finish();
  });
  socket.on('error', () => upstream.destroy());
  upstream.on('close', () => {
    socket.destroy();
    finish();
  });
  socket.on('close', () => {
    upstream.destroy();
    finish();
  });
}

/** Answers an upgrade that cannot be routed. */
export function rejectUpgrade(socket: Duplex, text: string): void {
  const body = `502 Bad Gateway: ${text}\n`;
  if (socket.writable) {
    socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  } else {
    socket.destroy();
  }
}
