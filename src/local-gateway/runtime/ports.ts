/**
 * Free local ports for app processes, static servers and database engines. The port is found by
 * binding 127.0.0.1:0 and closing again; the tiny race with another process grabbing it in between
 * surfaces as the app failing to bind (EADDRINUSE, shown in its logs), never as a silent mix-up.
 */

import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not allocate a local port'))));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:<port> (within `timeoutMs`). */
export function portAcceptsConnections(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
