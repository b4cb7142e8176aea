/**
 * The local gateway's own tool cache: package managers (pnpm, Yarn, Bun) installed from the npm
 * registry with the user's `npm` (so their registry, proxy and CA settings apply), one folder per
 * tool and requested version, shared by every data folder on this machine:
 * `<cache>/<tool>/<version>/node_modules/.bin`. The cache is env-paths' cache folder
 * (`~/.cache/opendeploy/tools` on Linux) unless OPENDEPLOY_TOOL_CACHE names another.
 *
 * Installs are safe to race: each one goes into a private temporary folder that is renamed into
 * place only when the tool answers `--version`; whoever renames second uses the first one's copy.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';
import { baseEnv } from './env.js';
import type { ToolRequest } from './package-manager-version.js';
import { TOOL_COMMANDS } from './package-manager-version.js';
import { which } from './which.js';

export const TOOL_CACHE_VARIABLE = 'OPENDEPLOY_TOOL_CACHE';

/** How long one `npm install` of a tool may take. */
const INSTALL_TIMEOUT_MS = 5 * 60_000;

export function toolCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[TOOL_CACHE_VARIABLE]?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(envPaths('opendeploy', { suffix: '' }).cache, 'tools');
}

export interface CachedTool {
  /** Put first on PATH: it holds the tool's commands (`pnpm`, `pnpx`). */
  binDir: string;
  /** The version the tool reports (`8.15.9`). */
  version: string;
  /** True when this call installed it; false when it was already in the cache. */
  installed: boolean;
}

/** A tool that could not be had: `reason` is npm's own one-line explanation. */
export class ToolUnavailable extends Error {
  constructor(
    readonly request: ToolRequest,
    readonly reason: string,
  ) {
    super(`Could not install ${request.tool} ${request.version} (${request.evidence}) from the npm registry: ${reason}`);
  }
}

/** The folder name of a tool in the cache: Yarn berry is a different program from classic. */
function toolFolder(request: ToolRequest): string {
  return request.flavor === 'berry' ? 'yarn-berry' : request.tool;
}

/** A version or range as a folder name: `>=8.6 <9` → `_=8.6__9`. */
function versionFolder(version: string): string {
  return version.replace(/[^A-Za-z0-9._-]/g, '_') || 'latest';
}

export function toolDir(root: string, request: ToolRequest): string {
  return path.join(root, toolFolder(request), versionFolder(request.version));
}

const MARKER = 'opendeploy-tool.json';

interface Marker {
  package: string;
  requested: string;
  version: string;
}

async function readMarker(dir: string): Promise<Marker | null> {
  try {
    const value = JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as Partial<Marker>;
    return typeof value.version === 'string' && typeof value.package === 'string' ? (value as Marker) : null;
  } catch {
    return null;
  }
}

/** npm's settings that say where the registry is and how to reach it (kept from npm_config_*). */
const REGISTRY_SETTINGS = /^npm_config_(registry|@[^:]+:registry|proxy|https_proxy|http_proxy|noproxy|no_proxy|cafile|ca|strict_ssl|userconfig|globalconfig|cache|prefer_offline|offline)$/i;

/** The environment `npm install` runs in: the machine's, with the user's registry settings. */
export function installEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = baseEnv(source);
  for (const [key, value] of Object.entries(source)) if (value !== undefined && REGISTRY_SETTINGS.test(key)) env[key] = value;
  env['npm_config_update_notifier'] = 'false';
  env['npm_config_fund'] = 'false';
  env['npm_config_audit'] = 'false';
  return env;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 8 * 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ...(error ? { error } : {}) });
      },
    );
  });
}

/** The version a tool prints for `--version`, run outside any project; null when it does not run. */
export async function toolVersion(command: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  // Outside any project: a packageManager field must not make the tool defer to another version.
  const result = await run(command, ['--version'], {
    cwd: os.tmpdir(),
    env: { ...env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', COREPACK_ENABLE_STRICT: '0' },
    timeoutMs: 30_000,
  });
  if (result.code !== 0) return null;
  return /\d+\.\d+\.\d+(?:-[\w.]+)?/.exec(result.stdout)?.[0] ?? null;
}

/** npm's explanation of a failed install: its first `npm error` line that says something. */
export function npmFailureReason(stderr: string, fallback: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.replace(/^npm (?:error|ERR!)\s*/, '').trim())
    .filter((line) => line !== '' && !/^code\s+\S+$/.test(line) && !/^errno\s/.test(line) && !/complete log of this run|^A complete log/i.test(line));
  const first = lines.map((line) => line.replace(/^notarget\s+/, '')).find((line) => !/^In most cases you or one of your dependencies/.test(line));
  return first ?? fallback;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary folders of installs whose process died mid-way (`<version>.tmp-<pid>-<random>`). */
async function removeAbandoned(dir: string): Promise<void> {
  const prefix = `${path.basename(dir)}.tmp-`;
  const names = await readdir(path.dirname(dir)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
}

const pending = new Map<string, Promise<CachedTool>>();

export interface EnsureOptions {
  root: string;
  /** The environment npm runs in (see installEnv). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Called once, right before npm runs (not when the cache already has the tool). */
  onInstall?: (dir: string) => void;
}

/** The tool from the cache, installed first when it is not there yet. Throws ToolUnavailable. */
export function ensureTool(request: ToolRequest, options: EnsureOptions): Promise<CachedTool> {
  const dir = toolDir(options.root, request);
  const inFlight = pending.get(dir);
  if (inFlight) return inFlight;
  const work = installTool(request, options).finally(() => pending.delete(dir));
  pending.set(dir, work);
  return work;
}

/** ensureTool without the in-process sharing: what two gateways racing for one tool each run. */
export async function installTool(request: ToolRequest, options: EnsureOptions): Promise<CachedTool> {
  const dir = toolDir(options.root, request);
  const binDir = path.join(dir, 'node_modules', '.bin');
  const command = TOOL_COMMANDS[request.tool][0] as string;
  const cached = await readMarker(dir);
  if (cached && cached.package === request.package && existsSync(path.join(binDir, command))) return { binDir, version: cached.version, installed: false };
  // A copy whose program is gone (a cache cleaned by hand) is installed again.
  if (cached) await rm(dir, { recursive: true, force: true });

  const npm = which('npm', options.env.PATH);
  if (!npm) throw new ToolUnavailable(request, 'npm is not on PATH (it comes with Node.js)');
  await mkdir(path.dirname(dir), { recursive: true });
  await removeAbandoned(dir);
  options.onInstall?.(dir);
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(temp, { recursive: true });
    const args = ['install', '--prefix', temp, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'];
    // Bun's package links its platform binary in a postinstall script; the others need no scripts.
    args.push(request.tool === 'bun' ? '--ignore-scripts=false' : '--ignore-scripts');
    args.push(`${request.package}@${request.version}`);
    const result = await run(npm, args, { cwd: temp, env: options.env, timeoutMs: INSTALL_TIMEOUT_MS, ...(options.signal ? { signal: options.signal } : {}) });
    if (result.code !== 0) {
      const fallback = result.error && result.code === null ? result.error.message : `npm install exited with code ${result.code}`;
      throw new ToolUnavailable(request, npmFailureReason(result.stderr, fallback));
    }
    const version = await toolVersion(path.join(temp, 'node_modules', '.bin', command), options.env);
    if (!version) throw new ToolUnavailable(request, `${request.package}@${request.version} installed, but \`${request.tool} --version\` does not run on this machine`);
    const marker: Marker = { package: request.package, requested: request.version, version };
    await writeFile(path.join(temp, MARKER), `${JSON.stringify(marker)}\n`);
    try {
      await rename(temp, dir);
    } catch (error) {
      // Another install of the same tool won the race: use its copy.
      const winner = await readMarker(dir);
      if (!winner) throw new ToolUnavailable(request, `it could not be moved into ${dir} (${error instanceof Error ? error.message : String(error)})`);
      return { binDir, version: winner.version, installed: false };
    }
    return { binDir, version, installed: true };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
