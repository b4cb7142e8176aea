/**
 * Server-sent events (text/event-stream) for the deployment log stream. Frames are
 * `event: <name>\ndata: <json>\n\n`; comment lines keep idle connections alive through proxies.
 */

import type { ServerResponse } from 'node:http';

export const HEARTBEAT_MS = 15_000;

export class SseStream {
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onClose: Array<() => void> = [];

  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    // Tell EventSource clients how long to wait before reconnecting.
    res.write('retry: 3000\n\n');
    this.heartbeat = setInterval(() => this.comment('heartbeat'), HEARTBEAT_MS);
    res.on('close', () => this.close());
    // Writes racing a client disconnect must not surface as an unhandled 'error' event.
    res.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private get writable(): boolean {
    return !this.closed && !this.res.writableEnded && !this.res.destroyed;
  }

  send(event: string, data: unknown, id?: number): void {
    if (!this.writable) return;
    const idLine = id === undefined ? '' : `id: ${id}\n`;
    this.res.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (this.writable) this.res.write(`: ${text}\n\n`);
  }

  /** Registers cleanup (unsubscribe) to run once, whoever closes first: us, the client or close(). */
  whenClosed(fn: () => void): void {
    if (this.closed) fn();
    else this.onClose.push(fn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const fn of this.onClose.splice(0)) fn();
    if (!this.res.writableEnded) this.res.end();
  }
}
