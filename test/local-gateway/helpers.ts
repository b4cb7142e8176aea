/**
 * Helpers for the local-gateway suite: a gateway on 127.0.0.1:0 with a throwaway data folder, a
 * tiny fetch wrapper that never follows redirects, and ZIP builders (the `zip` binary for ordinary
 * archives, a hand-written writer for the hostile ones `zip` refuses to produce).
 */

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startLocalGateway } from '../../src/local-gateway/index.js';
import type { LocalGateway, LocalGatewayOptions } from '../../src/local-gateway/index.js';

export interface Harness {
  gw: LocalGateway;
  origin: string;
  dataDir: string;
  /** The X-OpenDeploy-Control header when the gateway was started with a control secret, else {}. */
  controlHeaders: Record<string, string>;
  close(): Promise<void>;
}

export async function makeTempDir(prefix = 'od-lgw-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function startHarness(options: Partial<LocalGatewayOptions> = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? (await makeTempDir());
  const gw = await startLocalGateway({ buildDurationMs: 300, simulate: true, ...options, dataDir });
  return {
    gw,
    origin: gw.url.replace(/\/api$/, ''),
    dataDir,
    controlHeaders: gw.controlSecret === null ? {} : { 'x-opendeploy-control': gw.controlSecret },
    async close() {
      await gw.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: string | Uint8Array;
}

/** One request against `<origin><path>`; bodies are JSON unless rawBody is given. */
export async function call(origin: string, method: string, urlPath: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${origin}${urlPath}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A fresh well-formed dashboard token: a simulating local gateway accepts any od_k as its one user. */
export function patToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let body = '';
  for (let i = 0; i < 43; i++) body += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `od_k${body}`;
}

export async function register(origin: string, userAgent: string): Promise<Reply> {
  return call(origin, 'POST', '/api/v1/client-agents/register', { body: { source_hint: 'vitest' }, headers: { 'user-agent': userAgent } });
}

let uaCounter = 0;
/** Registers a new pending agent (unique User-Agent so it is never a replay). */
export async function newAgent(origin: string): Promise<{ token: string; agentId: string; bindSig: string }> {
  uaCounter += 1;
  const reply = await register(origin, `vitest-agent/${process.pid}-${uaCounter}-${Math.random()}`);
  if (reply.status !== 200) throw new Error(`register failed: ${reply.status} ${reply.text}`);
  return { token: reply.json.api_key, agentId: reply.json.agent_id, bindSig: reply.json.bind_sig };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 5000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await sleep(everyMs);
  }
}

/** Builds a real archive with the `zip` binary from a map of relative path → content. */
export async function zipWithCli(files: Record<string, string>): Promise<Buffer> {
  const dir = await makeTempDir('od-lgw-src-');
  try {
    for (const [name, content] of Object.entries(files)) {
      const target = path.join(dir, 'src', name);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    const out = path.join(dir, 'app.zip');
    execFileSync('zip', ['-qr', out, '.'], { cwd: path.join(dir, 'src') });
    const { readFile } = await import('node:fs/promises');
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface RawEntry {
  name: string;
  data?: string | Buffer;
  /** Unix mode stored in the external attributes, e.g. 0o100644 or 0o120777 (symlink). */
  mode?: number;
  /** Overrides the declared uncompressed size (for size-cap tests). */
  declaredSize?: number;
  method?: 0 | 8;
}

/** Minimal ZIP writer (stored or deflated entries) for archives `zip` would never write. */
export function buildZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? '', 'utf8');
    const method = entry.method ?? 0;
    const payload = method === 8 ? zlib.deflateRawSync(data) : data;
    const crc = zlib.crc32(data);
    const size = entry.declaredSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, payload);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(payload.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + payload.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** multipart/form-data upload of a zip (or any bytes) through the real route. */
export async function uploadArchive(
  origin: string,
  token: string,
  fields: Record<string, string>,
  file?: { name: string; data: Buffer; field?: string },
): Promise<Reply> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append(file.field ?? 'project_file', new Blob([file.data]), file.name);
  const res = await fetch(`${origin}/api/v1/upload/upload-only`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
