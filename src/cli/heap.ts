/**
 * Two V8 settings for the commands that walk and archive a project (analyze, plan, deploy,
 * redeploy): short runs whose peak memory is what users and CI machines see. They are made before
 * the command's handler modules load (`lazyAction`'s `leanV8`), so loading them benefits too.
 *
 * - `--semi-space-growth-factor=1`: V8 doubles the young generation (up to 16 MiB per semi-space,
 *   32-48 MiB of touched memory) once enough objects have survived its minor collections. Walking
 *   20,000 files keeps an object per file, and writing them allocates steadily, so it always grows:
 *   measured on a 20,000-file tree, 15 MiB of peak memory in the walk and 45 MiB more in the
 *   writing, for no gain in speed. Its maximum cannot be lowered once the process runs, but the
 *   growth factor is read each time V8 decides to grow: set to 1, the young generation stays at its
 *   starting 1 MiB semi-spaces.
 * - `--max-opt=1`: functions are compiled no further than V8's baseline tier (Sparkplug), never by
 *   the optimising compiler (TurboFan). TurboFan's work is memory: its compiler code paged in, its
 *   temporary zones on a background thread, the optimised code. Measured on the same tree, 7 MiB
 *   of the peak (and 8 MiB on a 100,000-file tree), while the hot loops of an archive (reading,
 *   hashing, compressing) run in native code either way: the media tree took the same time, the
 *   100,000-file tree ~0.1-0.2 s more. The tier is read each time V8 considers optimising.
 *
 * Both are process-wide and stay for the rest of the process, so they are the CLI's decision, not
 * the archive library's, and made only in a process the CLI owns (`RunIo.ownsProcess`: not when
 * `main` runs embedded, in tests say); a long-lived process (the MCP server, a foreground local
 * gateway) is left alone. They are heuristics V8 consults as it runs, not something compiled code depends on.
 * Applied only on the V8 line they were measured on (Node 20's V8 11): elsewhere a flag may be
 * gone, and V8 would print an "unrecognized flag" error.
 */
import v8 from 'node:v8';

/** The V8 settings applied, in order. */
export const LEAN_V8_FLAGS = ['--semi-space-growth-factor=1', '--max-opt=1'] as const;

let applied = false;

/** Whether this V8 is one the settings were measured on. */
export function leanV8Supported(version: string = process.versions.v8): boolean {
  return /^11\./.test(version);
}

/** Applies LEAN_V8_FLAGS from here on (once per process; a no-op on other V8 lines). */
export function useLeanV8(): void {
  if (applied) return;
  applied = true;
  if (!leanV8Supported()) return;
  for (const flag of LEAN_V8_FLAGS) v8.setFlagsFromString(flag);
}
