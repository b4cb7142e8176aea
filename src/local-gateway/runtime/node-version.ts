/**
 * Whether this machine's Node satisfies the version a project pins (the analysis' language_version,
 * from .nvmrc, .node-version or engines.node), so a mismatch is said once, in our words, before the
 * build — not discovered through npm's raw EBADENGINE warning or a crash.
 */

import semver from 'semver';

/** nvm's LTS code names and their majors. */
const LTS_CODENAMES: Record<string, number> = {
  argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14, gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24,
};

/**
 * true when `machine` (e.g. `20.20.2`) serves the pin, false when it does not, undefined when the
 * pin is not a version this can judge. An exact version (`18.17.0` in .nvmrc) is served by its
 * major line, as builders install the newest of that line; ranges (`>=18`, `18.x`, `^20.11`) are
 * semver ranges; `node`, `lts/*` and the like accept any current Node.
 */
export function nodeSatisfies(pin: string, machine: string): boolean | undefined {
  const value = pin.trim().toLowerCase();
  const have = semver.coerce(machine)?.version;
  if (!have || value === '') return undefined;
  if (['node', 'latest', 'current', 'stable', 'lts', 'lts/*'].includes(value)) return true;
  const lts = /^lts\/([a-z]+)$/.exec(value);
  if (lts) {
    const major = LTS_CODENAMES[lts[1] as string];
    return major === undefined ? undefined : semver.major(have) === major;
  }
  const exact = semver.valid(semver.clean(value) ?? '');
  if (exact) return semver.major(exact) === semver.major(have);
  if (semver.validRange(value) === null) return undefined;
  return semver.satisfies(have, value);
}

/** The one warning line for a pin the machine does not serve, or null. */
export function nodeVersionNotice(pin: string, evidence: string, machine: string): string | null {
  if (nodeSatisfies(pin, machine) !== false) return null;
  const from = evidence ? ` (${evidence})` : '';
  return `This project asks for Node ${pin.trim()}${from}, and this machine has Node ${machine}: building with it anyway; if the build or the app fails, install a matching Node (nvm, fnm or volta) and deploy again`;
}
