/**
 * Where a workspace member's commands run. The analysis writes root-level commands for a member of
 * a workspace that builds from its root (`cd packages/api && node index.js`, `npm run start -w web`,
 * `pnpm --filter web start`, `cargo build -p api`) and says so in its evidence ("run from the
 * workspace root (package.json: workspaces)"). Those commands run from the workspace root, and so
 * does the install: a member folder has no lockfile and misses the root's devDependencies (turbo,
 * typescript). Without that evidence (an older analysis), the workspace root is the nearest folder
 * above the member that declares a workspace, and a command runs there when it is written for it.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface EvidenceLike {
  decision: string;
  value?: string;
  evidence: string;
}

export interface CommandDirs {
  /** The workspace root the member belongs to, or null when it is not a workspace member. */
  root: string | null;
  /** Where the install steps run. */
  install: string;
  /** Where the build command runs. */
  build: string;
  /** Where the start command runs. */
  start: string;
}

const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'Cargo.lock', 'go.work.sum', 'uv.lock'];

const ROOT_EVIDENCE = /run from the workspace root \(([^):]+)/;

function inside(parent: string, target: string): boolean {
  return target === parent || target.startsWith(parent + path.sep);
}

/** The folder of the workspace marker an evidence line names, when it lies inside the build folder. */
function rootFromEvidence(buildDir: string, evidence: EvidenceLike | undefined): string | null {
  const match = evidence ? ROOT_EVIDENCE.exec(evidence.evidence) : null;
  if (!match?.[1]) return null;
  const dir = path.resolve(buildDir, path.dirname(match[1].trim()));
  return inside(buildDir, dir) ? dir : null;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** True when `dir` declares a workspace (npm/yarn/bun `workspaces`, pnpm, Cargo, go.work, uv). */
export function declaresWorkspace(dir: string): boolean {
  const pkg = readText(path.join(dir, 'package.json'));
  if (pkg) {
    try {
      const manifest = JSON.parse(pkg) as Record<string, unknown>;
      if (manifest['workspaces'] !== undefined) return true;
    } catch {
      // unreadable manifest: not a declaration
    }
  }
  if (existsSync(path.join(dir, 'pnpm-workspace.yaml')) || existsSync(path.join(dir, 'go.work'))) return true;
  if (/^\s*\[workspace\]/m.test(readText(path.join(dir, 'Cargo.toml')) ?? '')) return true;
  return /^\s*\[tool\.uv\.workspace\]/m.test(readText(path.join(dir, 'pyproject.toml')) ?? '');
}

/** The nearest folder above `member` (inside `buildDir`) that declares a workspace. */
export function enclosingWorkspace(buildDir: string, member: string): string | null {
  if (member === buildDir || !inside(buildDir, member)) return null;
  let dir = path.dirname(member);
  for (;;) {
    if (declaresWorkspace(dir)) return dir;
    if (dir === buildDir) return null;
    dir = path.dirname(dir);
  }
}

/**
 * True when a command is written for the workspace root: it changes into the member's folder first
 * (`cd packages/api && …`), or it selects the member with a workspace flag.
 */
export function isRootCommand(command: string, root: string, member: string): boolean {
  const cd = /^\s*cd\s+("?)([^"&;|\s]+)\1\s*(?:&&|;)/.exec(command);
  if (cd?.[2] && path.resolve(root, cd[2]) === member) return true;
  return /(?:^|\s)(?:-w|--workspace)[\s=]\S|--filter[\s=]\S|\byarn\s+workspace\s|\bcargo\s+\S+.*\s(?:-p|--package)\s|\buv\s.*--package\s|--directory[\s=]\S/.test(command);
}

/**
 * The folders install, build and start run in for a service whose folder is `member`. Evidence
 * from the analysis decides first; otherwise the shape of the commands does.
 */
export function commandDirs(input: { buildDir: string; member: string; build: string; start: string; evidence?: EvidenceLike[] }): CommandDirs {
  const { buildDir, member } = input;
  const find = (decision: string): EvidenceLike | undefined => input.evidence?.find((e) => e.decision === decision);
  const buildRoot = rootFromEvidence(buildDir, find('scripts_build'));
  const startRoot = rootFromEvidence(buildDir, find('scripts_start'));
  if (buildRoot || startRoot) {
    const root = (buildRoot ?? startRoot) as string;
    return { root, install: root, build: buildRoot ?? member, start: startRoot ?? member };
  }
  const root = enclosingWorkspace(buildDir, member);
  // A folder with a lockfile of its own under a root without one installs on its own.
  const locked = (dir: string): boolean => LOCKFILES.some((file) => existsSync(path.join(dir, file)));
  if (!root || (locked(member) && !locked(root))) return { root: null, install: member, build: member, start: member };
  return {
    root,
    install: root,
    build: input.build && isRootCommand(input.build, root, member) ? root : member,
    start: input.start && isRootCommand(input.start, root, member) ? root : member,
  };
}
