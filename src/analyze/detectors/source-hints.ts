/**
 * Reads the few facts the ecosystems outside the shared source scan (Clojure, Crystal, Dart, Gleam,
 * Haskell, Scala, Swift, Zig, C/C++, plain Java) need from their code: whether it starts a server
 * and which port it states. The shared scan (scan.ts) covers the languages it knows; these
 * detectors read their own handful of files, capped, with each hit reported as `file:line`.
 */
import path from 'node:path';
import type { Conclusion, DetectContext } from '../types.js';

const MAX_FILES = 200;
/** Build outputs and dependency folders of these ecosystems: never the app's own source. */
const SKIP_DIRS = /(?:^|\/)(?:test|tests|spec|\.build|build|_build|target|zig-out|zig-cache|\.zig-cache|\.stack-work|dist-newstyle|\.dart_tool|deps|vendor|node_modules)\/|^(?:examples?|bench|benchmarks?)\//;

/** Source files with one of `extensions` under the service folder, tests and build output excluded. */
export function sourceFiles(ctx: DetectContext, extensions: readonly string[]): string[] {
  const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
  return ctx.fs
    .filesUnder(ctx.dir)
    .filter((file) => extensions.includes(path.posix.extname(file).toLowerCase()) && !SKIP_DIRS.test(file.slice(prefix.length)))
    .slice(0, MAX_FILES);
}

export interface SourceMatch {
  file: string;
  line: number;
  match: RegExpExecArray;
}

/** The first match of `regex` in `files` (in the order given), with its line. */
export async function findInSources(ctx: DetectContext, files: readonly string[], regex: RegExp): Promise<SourceMatch | null> {
  for (const file of files) {
    const text = (await ctx.fs.read(file))?.text;
    if (!text) continue;
    const flags = regex.flags.replace('g', '');
    const match = new RegExp(regex.source, flags).exec(text);
    if (match) return { file, line: text.slice(0, match.index).split('\n').length, match };
  }
  return null;
}

/**
 * The port the code states: the first pattern (in priority order) whose capture group 1 is a port
 * number, e.g. the default of a `PORT` read (`getenv("PORT") || "3000"`) or a literal in a listen
 * call. Patterns earlier in the list win over later ones in any file.
 */
export async function portFromSources(ctx: DetectContext, files: readonly string[], patterns: readonly RegExp[]): Promise<Conclusion<number> | undefined> {
  for (const pattern of patterns) {
    const hit = await findInSources(ctx, files, pattern);
    const port = hit ? Number(hit.match[1]) : NaN;
    if (hit && Number.isInteger(port) && port > 0 && port < 65536) {
      return { value: port, evidence: `${hit.file}:${hit.line} ${hit.match[0].replace(/\s+/g, ' ').trim().slice(0, 80)}` };
    }
  }
  return undefined;
}

/** The service folder's own name (the default project name of Gradle, Zig and CMake builds). */
export function folderName(ctx: DetectContext): string {
  return path.basename(ctx.dir === '' ? ctx.fs.root : ctx.dir);
}

const HEALTH_PATHS = ['health', 'healthz', 'api/health', 'ready', 'readyz', 'livez'];

/**
 * A health route the code declares: a `"/health"`-style literal, or the language's own route form
 * passed in `forms` (capture group 1 is the path without its leading slash: Gleam `["health"]`,
 * http4s `Root / "health"`, Vapor `get("health")`).
 */
export async function healthFromSources(ctx: DetectContext, files: readonly string[], forms: readonly RegExp[] = []): Promise<Conclusion<string> | undefined> {
  const literal = new RegExp(`["'](/(?:${HEALTH_PATHS.join('|')}))["']`);
  for (const pattern of [literal, ...forms]) {
    const hit = await findInSources(ctx, files, pattern);
    const value = hit?.match[1];
    if (hit && value && HEALTH_PATHS.includes(value.replace(/^\//, ''))) return { value: `/${value.replace(/^\//, '')}`, evidence: `${hit.file}:${hit.line}` };
  }
  return undefined;
}
