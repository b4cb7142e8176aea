/**
 * A top-level `start.sh` with no other manifest: the author's own start script, run as
 * `bash start.sh`. Like railpack's shell provider it comes last: every other runtime, even one with
 * nothing to run, wins over it (the registry keeps the earlier detector on equal tiers), so it only
 * decides folders nothing else recognises. Language `other`: the script may launch anything.
 *
 * Web when the script reads PORT or passes a port (`--port 8000`, `http.server 8000`); the port then
 * comes from the shared rules (the script's `${PORT:-8000}` default, a literal flag). Otherwise a worker.
 */
import { TIER, inDir, type RuntimeDetector } from '../types.js';

const PORT_USE = /\$\{?PORT\b|--port[=\s]+\d|\bhttp\.server\b|\s-p\s+\d{2,5}\b|:\d{2,5}\b/;

export const shell: RuntimeDetector = {
  id: 'shell',
  kind: 'runtime',
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'start.sh');
    const text = await ctx.manifests.text(rel);
    if (text === null) return null;
    const why = `${rel} exists (the project's own start script)`;
    const lines = text.split(/\r?\n/);
    const index = lines.findIndex((line) => !line.trimStart().startsWith('#') && PORT_USE.test(line));
    return {
      id: 'shell',
      tier: TIER.bare,
      fields: {
        language: { value: 'other', evidence: why },
        dependency_resolution: { value: 'unknown', evidence: `${rel}: what the script installs is not declared` },
        entry_point: { value: 'start.sh', evidence: why },
        scripts_start: { value: 'bash start.sh', evidence: why },
        project_type:
          index >= 0
            ? { value: 'web', evidence: `${rel}:${index + 1} serves on a port` }
            : { value: 'worker', evidence: `${rel} names no port and does not read PORT` },
      },
      toolchain: { install: '', runPrefix: '' },
    };
  },
};
