/**
 * A browser script is not a Node program: `app.js` next to an `index.html` that loads it with
 * `<script src="app.js">`, or a file that drives the DOM and never touches Node, runs in the page.
 * Taking it as a Node entry (`node app.js`) plans a worker that crashes on `document`.
 */
import type { FsSnapshot } from './fs-snapshot.js';
import { inDir } from './types.js';

const DOM = /\b(?:document|window)\.\w|\bquerySelector(?:All)?\(|\bgetElementById\(/;
const NODE = /\brequire\(|\bprocess\.|\bmodule\.exports\b|\b__dirname\b|from\s+['"]node:|\bimport\(\s*['"]node:/;

function read(fs: FsSnapshot, rel: string): string {
  return fs.has(rel) ? (fs.readSyncUncached(rel)?.text ?? '') : '';
}

/** True when `file` (relative to `dir`) is loaded by an HTML page there, or is DOM code without Node. */
export function isBrowserScript(fs: FsSnapshot, dir: string, file: string): boolean {
  const rel = file.replace(/^\.\//, '');
  const escaped = rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const loads = new RegExp(`<script\\b[^>]*\\bsrc\\s*=\\s*["'](?:\\./|/)?${escaped}(?:[?#][^"']*)?["']`, 'i');
  const pages = fs.list(dir).filter((name) => /\.html?$/i.test(name));
  if (pages.some((page) => loads.test(read(fs, inDir(dir, page))))) return true;
  const text = read(fs, inDir(dir, rel));
  return DOM.test(text) && !NODE.test(text);
}
