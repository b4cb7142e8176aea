import { get } from 'node:http';

/** The HTTP status of a GET through a local gateway's proxy (127.0.0.1 with the URL's Host); 0 when nothing answers. */
export function proxyStatus(url: string): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port: Number(target.port), path: target.pathname, headers: { host: target.host }, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}
