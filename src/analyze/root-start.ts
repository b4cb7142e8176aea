/**
 * What a JS workspace root's own `start` script says about the service split:
 * - it delegates into one member (`cd apps/api && npm start`, `pnpm --filter api start`,
 *   `npm start -w api`, `yarn workspace api start`, `npm --prefix apps/api start`): that member is
 *   the service;
 * - it runs a task runner over the members (`turbo run start`, `nx run-many`, `lerna run`,
 *   `concurrently`, `npm-run-all`, `pnpm -r`), a development server, or nothing: no opinion, the
 *   members decide;
 * - otherwise the root starts the app itself (`node packages/api/index.js`, `node .`, `next
 *   start`): the root is the one service and the members are its libraries.
 */
import type { PackageJson } from './manifests.js';
import type { DetectContext } from './types.js';

export type RootStart = { kind: 'root'; evidence: string } | { kind: 'member'; dir: string; evidence: string } | null;

/** Development servers and watchers: not how the app runs in production. */
const DEV_START = /\b(?:next|nuxt|vite|astro|remix|react-router)\s+dev\b|\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?dev\b|\bturbo\s+(?:run\s+)?dev\b|\bnodemon\b|--watch\b|\bts-node-dev\b/;
/** `npm run serve` (one level of indirection to another root script). */
const RUN_SCRIPT = /^(?:npm\s+run|pnpm(?:\s+run)?|yarn(?:\s+run)?|bun\s+run)\s+([\w:.-]+)\s*$/;
/** Commands that run every member's script (or several scripts at once): the members decide. */
const TASK_RUNNER =
  /\b(?:turbo|nx|lerna|concurrently|npm-run-all|run-p|run-s|wireit|ultra|lage|moon)\b|\bpnpm\s+(?:-r|--recursive|--parallel)\b|\s(?:--workspaces|-ws)\b|\byarn\s+workspaces\s+foreach\b/;
/** Not a way of running anything (`echo "use npm run dev"`, `exit 1`), or a local container run. */
const NOT_A_START = /^\s*(?:echo|exit|true|false|printf)\b|\bdocker(?:-compose|\s+compose)?\s/;

function clean(dir: string): string {
  return dir.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Member folders a start command delegates into (by folder or package name). */
function delegatedMembers(command: string, members: ReadonlyMap<string, PackageJson | null>): string[] {
  const byName = new Map<string, string>();
  for (const [dir, pkg] of members) if (pkg?.name) byName.set(pkg.name, dir);
  const targets: string[] = [];
  const folder = (raw: string): void => {
    const dir = clean(raw);
    if (members.has(dir)) targets.push(dir);
  };
  const name = (raw: string): void => {
    const value = raw.replace(/^['"]|['"]$/g, '');
    if (byName.has(value)) targets.push(byName.get(value) as string);
    else if (/^\.{0,2}\//.test(value) || members.has(clean(value))) folder(value);
  };
  for (const m of command.matchAll(/\bcd\s+([\w@./-]+)\s*(?:&&|;)/g)) folder(m[1] as string);
  for (const m of command.matchAll(/(?:--prefix|(?:^|\s)-C|--dir)[=\s]+([\w@./-]+)/g)) folder(m[1] as string);
  for (const m of command.matchAll(/--filter[=\s]+(['"]?[\w@./-]+['"]?)/g)) name(m[1] as string);
  for (const m of command.matchAll(/(?:(?:^|\s)-w|--workspace)[=\s]+(['"]?[\w@./-]+['"]?)/g)) name(m[1] as string);
  for (const m of command.matchAll(/\byarn\s+workspace\s+(['"]?[\w@./-]+['"]?)/g)) name(m[1] as string);
  return [...new Set(targets)];
}

export function rootStart(pkg: PackageJson | null, members: ReadonlyMap<string, PackageJson | null>): RootStart {
  let command = pkg?.scripts.start;
  if (!pkg || command === undefined) return null;
  let key = 'start';
  const indirect = RUN_SCRIPT.exec(command.trim())?.[1];
  if (indirect && indirect !== 'start' && pkg.scripts[indirect] !== undefined) {
    key = indirect;
    command = pkg.scripts[indirect] as string;
  }
  const where = `${pkg.path}: scripts.${key} "${command}"`;
  if (DEV_START.test(command)) return null;
  const targets = delegatedMembers(command, members);
  if (targets.length === 1) return { kind: 'member', dir: targets[0] as string, evidence: `${where} starts this member` };
  if (targets.length > 1 || TASK_RUNNER.test(command) || NOT_A_START.test(command)) return null;
  return { kind: 'root', evidence: `${where} starts the app from the workspace root; the members are its libraries` };
}

/** For tests and callers with a context: the root package.json decides. */
export async function rootStartOf(ctx: DetectContext, members: readonly string[]): Promise<RootStart> {
  const map = new Map<string, PackageJson | null>();
  for (const dir of members) map.set(dir, await ctx.manifests.packageJson(dir));
  return rootStart(await ctx.manifests.packageJson(ctx.dir), map);
}
