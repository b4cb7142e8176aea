import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (dist/core/ and src/core/ both sit two levels below it). */
function readVersion(): string {
  try {
    const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed = JSON.parse(raw) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();

/** Identifies this client to the gateway: name, version and platform (never user data). */
export function sourceHint(): string {
  return `opendeploy-cli/${VERSION} (${process.platform}-${process.arch}; node ${process.versions.node})`;
}
