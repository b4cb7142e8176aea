/**
 * A policy-free directory walk. It lists folders, hands every entry to a hook that decides what to do
 * with it, and descends only where the hook says so: an excluded folder is never listed, which is
 * what keeps a project with a 20,000-file node_modules as fast as one without (design.md, "the walk
 * never enters ignored folders").
 *
 * It never follows symbolic links (entries come from `readdir`, whose types are those of the links
 * themselves), so it cannot loop; what to do with a link is the hook's business.
 */
import { readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import path from 'node:path';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface WalkEntry {
  /** Path relative to the walk root, forward slashes. */
  rel: string;
  /** Absolute path on disk. */
  abs: string;
  /** Base name. */
  name: string;
  kind: EntryKind;
}

export interface WalkHooks<S> {
  /**
   * Called with the listing of each folder the walk enters (the root has rel `''`) and the state of
   * its parent. Returns the state its entries are judged with, or `null` to leave the folder
   * without visiting its entries (for example a virtualenv recognised by its marker file).
   */
  enterDir(rel: string, abs: string, entries: readonly WalkEntry[], parent: S): Promise<S | null>;
  /**
   * Called for each entry; returning true for a folder descends into it. May answer synchronously:
   * most entries are decided without I/O (or with a few fast synchronous calls), and a promise per
   * entry was a large share of the walk's time and garbage.
   */
  visit(entry: WalkEntry, state: S): boolean | Promise<boolean>;
  /** A folder that could not be listed (permissions, vanished while walking). */
  onError(rel: string, error: NodeJS.ErrnoException): void;
}

function kindOf(dirent: Dirent): EntryKind {
  if (dirent.isSymbolicLink()) return 'symlink';
  if (dirent.isDirectory()) return 'dir';
  if (dirent.isFile()) return 'file';
  return 'other';
}

/** Limits how many folders are listed at once, so a wide tree cannot exhaust file descriptors. */
function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so `active` never overshoots.
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

/**
 * Walks `root` (an absolute, real path). Folders are listed concurrently, a bounded number at a time;
 * the order in which hooks run is therefore not deterministic, and callers sort what they collect.
 */
export async function walk<S>(root: string, rootState: S, hooks: WalkHooks<S>, concurrency = 16): Promise<void> {
  const limit = limiter(concurrency);

  const walkDir = async (rel: string, abs: string, parentState: S): Promise<void> => {
    let dirents: Dirent[];
    try {
      dirents = await limit(() => readdir(abs, { withFileTypes: true }));
    } catch (error) {
      hooks.onError(rel, error as NodeJS.ErrnoException);
      return;
    }
    // `abs` is already normalised (a real path, then names from readdir): plain concatenation gives
    // what path.join would, without re-normalising every entry's path.
    const prefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
    const entries = dirents.map(
      (dirent): WalkEntry => ({
        rel: rel === '' ? dirent.name : `${rel}/${dirent.name}`,
        abs: prefix + dirent.name,
        name: dirent.name,
        kind: kindOf(dirent),
      }),
    );
    const state = await hooks.enterDir(rel, abs, entries, parentState);
    if (state === null) return;
    // Entries of one folder are visited one after another (so at most one file per folder is open
    // at a time); sub-folders are walked concurrently, their listings bounded by `limit`.
    const subfolders: Array<Promise<void>> = [];
    for (const entry of entries) {
      const answer = hooks.visit(entry, state);
      const descend = typeof answer === 'boolean' ? answer : await answer;
      if (descend && entry.kind === 'dir') subfolders.push(walkDir(entry.rel, entry.abs, state));
    }
    await Promise.all(subfolders);
  };

  await walkDir('', root, rootState);
}
