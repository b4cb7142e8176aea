/**
 * The layers point one way and no module depends on itself through others:
 *   cli, mcp → ops → deploy → diagnose, analyze, archive, auth, gateway, audit → core
 * (analysis walks the tree with the archive's walker, so analyze → archive is allowed.)
 * The local gateway is a server of its own: it may use the libraries and core, never a client layer.
 * Every import counts — static, dynamic and type-only — because each one is a dependency a reader has
 * to follow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const SRC = path.join(REPO_ROOT, 'src');
const LIBRARIES = ['diagnose', 'analyze', 'archive', 'auth', 'gateway', 'audit'];

/** Which top-level folders each layer may import (its own folder always). */
const ALLOWED: Record<string, string[]> = {
  cli: ['mcp', 'ops', 'deploy', 'local-gateway', ...LIBRARIES, 'core'],
  mcp: ['ops', 'deploy', ...LIBRARIES, 'core'],
  ops: ['deploy', ...LIBRARIES, 'core'],
  deploy: [...LIBRARIES, 'core'],
  'local-gateway': [...LIBRARIES, 'core'],
  diagnose: ['analyze', 'gateway', 'core'],
  // Analysis reads the tree through the archive's walk, so both see the same files.
  analyze: ['archive', 'core'],
  archive: ['core'],
  auth: ['gateway', 'audit', 'core'],
  gateway: ['core'],
  audit: ['core'],
  core: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of a file, resolved to the .ts file they name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of text.matchAll(pattern)) {
    found.push(path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts')));
  }
  return found;
}

function layerOf(file: string): string {
  const relative = path.relative(SRC, file);
  return relative.includes(path.sep) ? relative.split(path.sep)[0]! : '(root)';
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const rel = (file: string): string => path.relative(SRC, file);

/** Strongly connected components with more than one file (Tarjan): each is an import cycle. */
function cycles(): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const lowlink = new Map<string, number>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    lowlink.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        lowlink.set(node, Math.min(lowlink.get(node)!, lowlink.get(next)!));
      } else if (onStack.has(next)) {
        lowlink.set(node, Math.min(lowlink.get(node)!, indices.get(next)!));
      }
    }
    if (lowlink.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(rel(member));
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const file of files) if (!indices.has(file)) visit(file);
  return found;
}

describe('import boundaries', () => {
  it('every file lives in a known layer', () => {
    const unknown = files.map(layerOf).filter((layer) => !(layer in ALLOWED));
    expect([...new Set(unknown)]).toEqual([]);
  });

  it('no layer imports a layer above it (nothing outside src/cli imports src/cli)', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) violations.push(`${rel(file)} → ${rel(target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no two files import each other, directly or through a chain', () => {
    expect(cycles()).toEqual([]);
  });

  it('every relative import names a file that exists', () => {
    const missing: string[] = [];
    for (const [file, targets] of graph) for (const target of targets) if (!graph.has(target)) missing.push(`${rel(file)} → ${rel(target)}`);
    expect(missing).toEqual([]);
  });
});
