/**
 * Keeps V8's young generation at its starting size while a tree is walked and archived.
 *
 * V8 doubles the young generation (up to 16 MiB per semi-space, 32-48 MiB of touched memory)
 * once enough objects have survived its minor collections. Walking 20,000 files keeps an object
 * per file, and writing them allocates steadily, so it always grows: measured on a 20,000-file
 * tree, 15 MiB of peak memory in the walk and 45 MiB more in the writing, for no gain in speed
 * (the walk's data is promoted to the old generation either way). Its maximum size cannot be
 * lowered once the process runs, but the growth factor is read each time V8 decides to grow:
 * set to 1, the young generation stays at its starting 1 MiB semi-spaces.
 *
 * The setting is process-wide and stays for the rest of the process, so it is the CLI's decision,
 * not the archive library's: the commands that walk or archive a project (analyze, plan, deploy,
 * redeploy) apply it as they start; a long-lived process (the MCP server, a foreground local
 * gateway) is left alone. It is a sizing heuristic V8 consults when it decides to grow, not
 * something compiled code depends on. Applied only on the V8 line it was measured on (Node 20's
 * V8 11): elsewhere the flag may be gone, and V8 would print an "unrecognized flag" error.
 */
import v8 from 'node:v8';

/** The V8 setting applied: the young generation never grows past its starting size. */
export const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

let applied = false;

/** Whether this V8 is one the setting was measured on. */
export function youngGenerationCapSupported(version: string = process.versions.v8): boolean {
  return /^11\./.test(version);
}

/** Stops V8 growing the young generation from here on (once per process; a no-op elsewhere). */
export function keepYoungGenerationSmall(): void {
  if (applied) return;
  applied = true;
  if (youngGenerationCapSupported()) v8.setFlagsFromString(YOUNG_GENERATION_FLAG);
}
