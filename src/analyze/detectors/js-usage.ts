/**
 * Whether the service's code uses a package, not just declares it: a web framework in
 * `dependencies` makes a web service only when the entry, or code the entry imports, imports it
 * (a script that prints and exits is not an Express app because `express` is in package.json).
 *
 * The entry's relative imports are followed (with TypeScript's `./x.js` -> `x.ts` mapping). When
 * the entry is not in the sources (a build output such as `dist/index.js`), is unknown, or imports
 * through path aliases this walk cannot resolve (`@/server`, `~/lib`, `#app`), every source file
 * of the service is searched instead. Text is matched, never executed.
 */
import path from 'node:path';
import { isTestPath, sourceLanguageOf } from '../scan-model.js';
import { inDir, type DetectContext } from '../types.js';

const MAX_FILES = 2000;
const RESOLVE = ['', '.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '/index.ts', '/index.tsx', '/index.js', '/index.mjs'];
/** Module specifiers of import/export-from/require/dynamic import. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"\n]+)['"]/gm;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function isJs(file: string): boolean {
  return sourceLanguageOf(file) === 'js' && !/\.(?:vue|svelte|astro)$/.test(file);
}

/** Where a package is imported in one file, as a 1-based line, or 0. */
function importLine(text: string, name: string): number {
  const match = new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\brequire\\s*\\(\\s*|^\\s*import\\s+)['"]${escape(name)}(?:/[^'"]*)?['"]`, 'm').exec(text);
  return match ? text.slice(0, match.index).split('\n').length : 0;
}

/**
 * The source files reached from `entry` (relative to the service) through relative imports, or null
 * when that cannot be known: the entry is not a source file, or an import goes through an alias.
 */
export async function reachableFrom(ctx: DetectContext, entry: string): Promise<Set<string> | null> {
  const start = entry ? inDir(ctx.dir, entry.replace(/^\.\//, '')) : '';
  if (!start || !ctx.fs.has(start) || !isJs(start)) return null;
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0 && seen.size <= MAX_FILES) {
    const file = queue.shift() as string;
    const text = (await ctx.fs.read(file))?.text ?? '';
    SPECIFIER.lastIndex = 0;
    for (let m = SPECIFIER.exec(text); m; m = SPECIFIER.exec(text)) {
      const spec = m[1] as string;
      if (/^[@~]\//.test(spec) || spec.startsWith('#') || spec.startsWith('/')) return null;
      if (!spec.startsWith('.')) continue;
      const base = path.posix.join(path.posix.dirname(file), spec);
      const stem = base.replace(/\.[cm]?jsx?$/, '');
      const next = [...RESOLVE.map((ext) => `${base}${ext}`), ...RESOLVE.slice(1).map((ext) => `${stem}${ext}`)].find((candidate) => ctx.fs.has(candidate) && isJs(candidate));
      if (next && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

/** `file:line` of the first import of `name` reached from `entry` (relative to the service), or ''. */
export async function importedBy(ctx: DetectContext, entry: string, name: string): Promise<string> {
  const reached = await reachableFrom(ctx, entry);
  const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
  const files = reached ? [...reached] : ctx.fs.filesUnder(ctx.dir).filter((file) => isJs(file) && !isTestPath(file.slice(prefix.length))).slice(0, MAX_FILES);
  for (const file of files) {
    const text = (await ctx.fs.read(file))?.text ?? '';
    const line = importLine(text, name);
    if (line > 0) return `${file}:${line}`;
  }
  return '';
}
