/**
 * Static site: an `index.html` at the service root. Loses to every runtime with something to run or
 * build (the registry decides), so it only wins for plain HTML/CSS/JS folders.
 */
import { TIER, inDir, type RuntimeDetector } from '../types.js';

export const staticSite: RuntimeDetector = {
  id: 'static',
  kind: 'runtime',
  async detect(ctx) {
    const index = inDir(ctx.dir, 'index.html');
    if (!ctx.fs.has(index)) return null;
    const evidence = `${index} with no server or build manifest`;
    return {
      id: 'static',
      tier: TIER.static,
      servesStatically: true,
      fields: {
        language: { value: 'static', evidence },
        framework: { value: 'static', evidence },
        project_type: { value: 'static', evidence },
        output_directory: { value: '.', evidence: `${index}: files are served as they are` },
        dependency_resolution: { value: 'locked', evidence: 'static files: no dependencies to resolve' },
      },
    };
  },
};
