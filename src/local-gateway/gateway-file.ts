/**
 * `<dataDir>/gateway.json`: which gateway process serves this data folder right now (pid, URL). A
 * second real gateway on the same folder is refused (both would start the same apps), and CLI
 * commands use the running one instead of starting their own (`findRunningGateway`). Removed on a
 * clean stop; a file left by a crashed gateway is recognised as stale (its pid is gone or does not
 * answer HTTP).
 */

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export const GATEWAY_FILE = 'gateway.json';

export interface GatewayFile {
  pid: number;
  url: string;
  port: number;
  simulate: boolean;
  started_at: string;
}

/** Data folders served by gateways of this process (a pid check cannot tell them apart). */
const openHere = new Set<string>();

export function readGatewayFile(dataDir: string): GatewayFile | null {
  try {
    const value = JSON.parse(readFileSync(path.join(dataDir, GATEWAY_FILE), 'utf8')) as Partial<GatewayFile>;
    if (!Number.isInteger(value.pid) || typeof value.url !== 'string' || !Number.isInteger(value.port)) return null;
    return { pid: value.pid as number, url: value.url, port: value.port as number, simulate: value.simulate === true, started_at: String(value.started_at ?? '') };
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/__local/ping', timeout: 1500 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
  });
}

/** The live gateway serving `dataDir`, or null (none, or a stale file). */
export async function findRunningGateway(dataDir: string): Promise<GatewayFile | null> {
  const dir = path.resolve(dataDir);
  const file = readGatewayFile(dir);
  if (!file) return null;
  if (file.pid === process.pid ? !openHere.has(dir) : !pidAlive(file.pid)) return null;
  return (await answers(file.port)) ? file : null;
}

export function claimGatewayFile(dataDir: string, info: Omit<GatewayFile, 'pid' | 'started_at'>): void {
  const dir = path.resolve(dataDir);
  openHere.add(dir);
  const file = path.join(dir, GATEWAY_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const body: GatewayFile = { pid: process.pid, ...info, started_at: new Date().toISOString() };
  try {
    writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Discovery is a convenience: a gateway that cannot write it still works.
  }
}

export function releaseGatewayFile(dataDir: string, port: number): void {
  const dir = path.resolve(dataDir);
  openHere.delete(dir);
  const current = readGatewayFile(dir);
  if (current && current.pid === process.pid && current.port === port) rmSync(path.join(dir, GATEWAY_FILE), { force: true });
}
