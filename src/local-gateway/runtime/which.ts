/**
 * Finding executables on PATH, and naming the runtime a missing one belongs to, so a deployment of
 * an app whose toolchain is not installed fails with one clear line instead of `sh: 1: x: not found`.
 */

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Absolute path of `command` on `pathEnv`, or null. Commands containing a slash are not searched. */
export function which(command: string, pathEnv: string | undefined): string | null {
  if (command === '' || command.includes('/')) return null;
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const RUNTIMES: Array<[RegExp, string]> = [
  [/^(node|npm|npx|corepack)$/, 'Node.js'],
  // The runtime provides these when the plan runs them (node-tools.ts); this is for one a script runs on its own.
  [/^(pnpm|pnpx)$/, 'pnpm (`npm i -g pnpm`, or plan it: "packageManager": "pnpm@<version>" in package.json)'],
  [/^(yarn|yarnpkg)$/, 'Yarn (`npm i -g yarn`, or plan it: "packageManager": "yarn@<version>" in package.json)'],
  [/^(bun|bunx)$/, 'Bun (`npm i -g bun`)'],
  [/^deno$/, 'Deno'],
  [/^(python|python3|pip|pip3|gunicorn|uvicorn|hypercorn|daphne|flask|django-admin|poetry|uv|pipenv)$/, 'Python 3'],
  [/^(bundle|bundler|ruby|rails|rake|rackup|puma|unicorn)$/, 'Ruby/Bundler'],
  [/^(php|composer|artisan)$/, 'PHP/Composer'],
  [/^go$/, 'Go'],
  [/^(cargo|rustc)$/, 'Rust (cargo)'],
  [/^(mix|elixir|iex|erl)$/, 'Elixir'],
  [/^dotnet$/, 'the .NET SDK'],
  [/^(mvn|java|javac)$/, 'Java/Maven'],
  [/^gradle$/, 'Java/Gradle'],
];

/** "Ruby/Bundler" for `bundle`; the command itself when unknown. */
export function runtimeFor(command: string): string {
  for (const [pattern, name] of RUNTIMES) if (pattern.test(command)) return name;
  return command;
}

/** The log line (and error message) for a command that is not installed. */
export function missingCommandMessage(command: string): string {
  return `${command}: command not found on this machine — install ${runtimeFor(command)} to preview this app locally`;
}

const BUILTINS = new Set([
  'cd', 'export', 'true', 'false', 'echo', 'test', '[', 'exit', 'set', 'unset', 'source', '.', ':', 'exec', 'env', 'eval',
  'printf', 'sleep', 'mkdir', 'cp', 'mv', 'rm', 'ls', 'cat', 'sh', 'bash', 'if', 'then', 'else', 'fi', 'for', 'do', 'done',
  'while', 'case', 'esac', 'time', 'nohup', 'wait', 'trap', 'ulimit', 'umask', 'command', 'type',
]);

/**
 * The programs a shell command line runs first in each `&&`/`||`/`;`/`|` segment (after `FOO=bar`
 * assignments and `exec`/`env` wrappers). Builtins, paths (`./mvnw`) and substitutions are skipped.
 */
export function commandsOf(line: string): string[] {
  const out: string[] = [];
  for (const segment of line.split(/&&|\|\||;|\||\n/)) {
    const words = segment.trim().split(/\s+/).filter((w) => w !== '');
    let i = 0;
    while (i < words.length) {
      const word = words[i] as string;
      if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || word === 'exec' || word === 'env' || word === 'nohup' || word === 'time' || word === '(' || word === '{') {
        i += 1;
        continue;
      }
      break;
    }
    const first = words[i];
    if (!first || BUILTINS.has(first) || first.includes('/') || /[$`"'(){}<>]/.test(first)) continue;
    if (!out.includes(first)) out.push(first);
  }
  return out;
}

/** The first command of `line` that is not on `pathEnv` (or in `cwd`'s relative bin dirs), or null. */
export function firstMissingCommand(line: string, pathEnv: string | undefined): string | null {
  for (const command of commandsOf(line)) {
    if (!which(command, pathEnv)) return command;
  }
  return null;
}
