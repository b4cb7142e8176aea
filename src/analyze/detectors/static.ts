/**
 * Static site: an `index.html` at the service root, or, for plain HTML kept in a `public/` folder,
 * `public/index.html` (served from `public`). Loses to every runtime with something to run or build
 * (the registry decides), so it only wins for plain HTML/CSS/JS folders.
 */
import { TIER, inDir, type RuntimeDetector } from '../types.js';

export const staticSite: RuntimeDetector = {
  id: 'static',
  kind: 'runtime',
  async detect(ctx) {
    const root = inDir(ctx.dir, 'index.html');
    const inPublic = inDir(ctx.dir, 'public/index.html');
    const index = ctx.fs.has(root) ? root : ctx.fs.has(inPublic) ? inPublic : null;
    if (!index) return null;
    const evidence = `${index} with no server or build manifest`;
    return {
      id: 'static',
      tier: TIER.static,
      servesStatically: true,
      fields: {
        language: { value: 'static', evidence },
        framework: { value: 'static', evidence },
        project_type: { value: 'static', evidence },
        output_directory: index === root ? { value: '.', evidence: `${index}: files are served as they are` } : { value: 'public', evidence: `${index}: the public/ folder is served as it is` },
        dependency_resolution: { value: 'locked', evidence: 'static files: no dependencies to resolve' },
      },
    };
  },
};
