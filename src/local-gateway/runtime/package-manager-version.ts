/**
 * Which pnpm, Yarn or Bun a project needs, decided the way the established builders decide:
 * the `packageManager` field first, then `engines`, then what the lockfile's format implies
 * (pnpm lockfile 5.3 → pnpm 6, 5.4 → 7, 6.x → 8, 9.0 → 9; yarn.lock v1 → classic, `__metadata` →
 * berry; bun.lock → Bun 1). The answer is an npm package and version (or range, or dist-tag) to
 * install, with the evidence for it. `chooseToolVersion` is pure; `projectFactsOf` reads the files.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

export type NodeTool = 'pnpm' | 'yarn' | 'bun';

export const NODE_TOOLS: readonly NodeTool[] = ['pnpm', 'yarn', 'bun'];

/** The commands each tool provides (a shell line that runs `pnpx` needs pnpm). */
export const TOOL_COMMANDS: Record<NodeTool, readonly string[]> = {
  pnpm: ['pnpm', 'pnpx'],
  yarn: ['yarn', 'yarnpkg'],
  bun: ['bun', 'bunx'],
};

export interface ToolRequest {
  tool: NodeTool;
  /** Yarn only: classic (1.x, the `yarn` package) or berry (2+, `@yarnpkg/cli-dist`). */
  flavor?: 'classic' | 'berry';
  /** The npm package that carries the tool. */
  package: 'pnpm' | 'yarn' | '@yarnpkg/cli-dist' | 'bun';
  /** An exact version, a semver range or a major (`8`), as npm accepts after `<package>@`. */
  version: string;
  /** Where the choice came from (`package.json: packageManager "pnpm@9.1.0"`). */
  evidence: string;
}

/** What the project says about its package manager, read from its files. */
export interface ProjectFacts {
  /** package.json `packageManager`, verbatim. */
  packageManager?: string;
  /** package.json `engines`. */
  engines?: Record<string, string>;
  /** Text of pnpm-lock.yaml / yarn.lock (only their heads are read). */
  pnpmLock?: string;
  yarnLock?: string;
  /** bun.lock or bun.lockb, whichever exists. */
  bunLock?: string;
  /** .yarnrc.yml exists (a berry project). */
  yarnrcYml?: boolean;
}

/** `pnpm@9.1.0+sha512.abc` → { name: pnpm, version: 9.1.0 }. */
export function parsePackageManager(value: string): { name: string; version: string } | null {
  const match = /^\s*(@?[^@\s]+)@([^+\s]+)/.exec(value);
  if (!match) return null;
  return { name: match[1] as string, version: match[2] as string };
}

/** The major of the lowest version a range allows (`>=8.6` → 8, `^1.22` → 1), or undefined. */
function minMajor(range: string): number | undefined {
  try {
    const min = semver.minVersion(range);
    return min ? min.major : undefined;
  } catch {
    return undefined;
  }
}

/** pnpm's lockfile format → the pnpm major that writes it. */
export function pnpmForLockfile(lockfileVersion: string): string | undefined {
  const [majorText, minorText] = lockfileVersion.split('.');
  const major = Number(majorText);
  const minor = Number(minorText ?? '0');
  if (!Number.isFinite(major)) return undefined;
  if (major === 5) return minor >= 4 ? '7' : '6';
  if (major === 6) return '8';
  if (major === 7 || major === 9) return '9';
  return undefined;
}

/** `lockfileVersion: '6.0'` (or 5.4 unquoted) from the head of pnpm-lock.yaml. */
export function pnpmLockfileVersion(text: string): string | undefined {
  return /^lockfileVersion:\s*['"]?(\d+(?:\.\d+)?)/m.exec(text.slice(0, 4096))?.[1];
}

/** berry's `__metadata.version` → the Yarn major that writes it (8 → 4, 6 → 3, 4 → 2). */
export function yarnForMetadata(metadataVersion: number | undefined): string {
  if (metadataVersion === undefined || metadataVersion >= 8) return '4';
  if (metadataVersion >= 5) return '3';
  return '2';
}

/** The format of a yarn.lock: classic (v1 header) or berry (`__metadata`), with berry's version. */
export function yarnLockFormat(text: string): { flavor: 'classic' | 'berry'; metadataVersion?: number } | undefined {
  const head = text.slice(0, 4096);
  if (/^__metadata:/m.test(head)) {
    const version = /^__metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+version:\s*(\d+)/m.exec(head)?.[1];
    return version !== undefined ? { flavor: 'berry', metadataVersion: Number(version) } : { flavor: 'berry' };
  }
  if (/^# yarn lockfile v1/m.test(head) || head.trim() !== '') return { flavor: 'classic' };
  return undefined;
}

function yarnRequest(flavor: 'classic' | 'berry', version: string, evidence: string): ToolRequest {
  return { tool: 'yarn', flavor, package: flavor === 'berry' ? '@yarnpkg/cli-dist' : 'yarn', version, evidence };
}

/** The version of `tool` this project needs. Pure: the same facts always give the same answer. */
export function chooseToolVersion(tool: NodeTool, facts: ProjectFacts): ToolRequest {
  const declared = facts.packageManager !== undefined ? parsePackageManager(facts.packageManager) : null;
  if (declared && declared.name === tool) {
    // Even a malformed version is the project's word: npm says whether it exists.
    const evidence = `package.json: packageManager "${facts.packageManager?.trim()}"`;
    if (tool !== 'yarn') return { tool, package: tool, version: declared.version, evidence };
    const major = semver.valid(declared.version) !== null ? semver.major(declared.version) : Number(/^\d+/.exec(declared.version)?.[0] ?? '1');
    return yarnRequest(major >= 2 ? 'berry' : 'classic', declared.version, evidence);
  }

  const yarnLock = facts.yarnLock !== undefined ? yarnLockFormat(facts.yarnLock) : undefined;
  const range = facts.engines?.[tool]?.trim();
  if (range && semver.validRange(range) !== null) {
    const evidence = `package.json: engines.${tool} "${range}"`;
    if (tool !== 'yarn') return { tool, package: tool, version: range, evidence };
    const major = minMajor(range) ?? 1;
    if (major >= 2) return yarnRequest('berry', range, evidence);
    // A classic range over a berry lockfile: the lockfile's format decides, classic cannot read it.
    if (yarnLock?.flavor !== 'berry' && !facts.yarnrcYml) return yarnRequest('classic', range, evidence);
  }

  if (tool === 'pnpm') {
    const lockfileVersion = facts.pnpmLock !== undefined ? pnpmLockfileVersion(facts.pnpmLock) : undefined;
    const major = lockfileVersion !== undefined ? pnpmForLockfile(lockfileVersion) : undefined;
    if (lockfileVersion !== undefined && major !== undefined) {
      return { tool, package: 'pnpm', version: major, evidence: `pnpm-lock.yaml: lockfileVersion ${lockfileVersion}` };
    }
    return { tool, package: 'pnpm', version: 'latest', evidence: lockfileVersion !== undefined ? `pnpm-lock.yaml: lockfileVersion ${lockfileVersion} is unknown; the latest pnpm` : 'no packageManager, engines.pnpm or pnpm-lock.yaml: the latest pnpm' };
  }
  if (tool === 'yarn') {
    if (yarnLock?.flavor === 'berry') {
      const evidence = yarnLock.metadataVersion !== undefined ? `yarn.lock: __metadata version ${yarnLock.metadataVersion}` : 'yarn.lock: __metadata';
      return yarnRequest('berry', yarnForMetadata(yarnLock.metadataVersion), evidence);
    }
    if (yarnLock?.flavor === 'classic') return yarnRequest('classic', '1', 'yarn.lock: yarn lockfile v1');
    if (facts.yarnrcYml) return yarnRequest('berry', '4', '.yarnrc.yml exists: Yarn berry');
    return yarnRequest('classic', '1', 'no packageManager, engines.yarn or yarn.lock: Yarn classic');
  }
  return { tool, package: 'bun', version: '1', evidence: facts.bunLock ? `${facts.bunLock}: the latest Bun 1.x` : 'no packageManager or engines.bun: the latest Bun 1.x' };
}

function readText(file: string, limit = 8192): string | undefined {
  try {
    return readFileSync(file, 'utf8').slice(0, limit);
  } catch {
    return undefined;
  }
}

/**
 * The facts of the nearest folder from `dir` up to `root` (both inside the build folder) that
 * declares a package manager: a `packageManager` field or a lockfile. A workspace member installs
 * with its root's manager; without any declaration, `dir` itself.
 */
export function projectFactsOf(dir: string, root: string = dir): ProjectFacts {
  let current = path.resolve(dir);
  const top = path.resolve(root);
  for (;;) {
    const facts = factsIn(current);
    if (facts.packageManager !== undefined || facts.pnpmLock !== undefined || facts.yarnLock !== undefined || facts.bunLock !== undefined) return facts;
    if (current === top || !current.startsWith(top + path.sep)) break;
    current = path.dirname(current);
  }
  return factsIn(path.resolve(dir));
}

function factsIn(dir: string): ProjectFacts {
  const facts: ProjectFacts = {};
  try {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    if (typeof manifest['packageManager'] === 'string') facts.packageManager = manifest['packageManager'];
    const engines = manifest['engines'];
    if (engines && typeof engines === 'object' && !Array.isArray(engines)) {
      const strings = Object.entries(engines).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
      if (strings.length > 0) facts.engines = Object.fromEntries(strings);
    }
  } catch {
    // no readable package.json: the lockfiles still speak
  }
  const pnpmLock = readText(path.join(dir, 'pnpm-lock.yaml'));
  if (pnpmLock !== undefined) facts.pnpmLock = pnpmLock;
  const yarnLock = readText(path.join(dir, 'yarn.lock'));
  if (yarnLock !== undefined) facts.yarnLock = yarnLock;
  const bunLock = ['bun.lock', 'bun.lockb'].find((file) => existsSync(path.join(dir, file)));
  if (bunLock) facts.bunLock = bunLock;
  if (existsSync(path.join(dir, '.yarnrc.yml'))) facts.yarnrcYml = true;
  return facts;
}

/**
 * Whether an installed version serves a request: equal to an exact version, within a range, or of
 * the major a lockfile implies. `latest` takes any version (the machine's own tool is trusted).
 */
export function versionSatisfies(installed: string, request: Pick<ToolRequest, 'version' | 'flavor'>): boolean {
  const version = semver.valid(semver.coerce(installed, { includePrerelease: true })?.version ?? installed);
  if (!version) return false;
  if (request.flavor === 'berry' && semver.major(version) < 2) return false;
  if (request.flavor === 'classic' && semver.major(version) >= 2) return false;
  if (request.version === 'latest') return true;
  if (semver.valid(request.version)) return semver.eq(version, request.version);
  try {
    return semver.satisfies(version, request.version, { includePrerelease: true });
  } catch {
    return false;
  }
}
