/**
 * Static site: a Cloud Foundry `Staticfile` (served from its `root:` folder, else the service root),
 * an `index.html` at the service root, or, for plain HTML kept in a `public/` folder,
 * `public/index.html` (served from `public`). Loses to every runtime with something to run or build
 * (the registry decides), so it only wins for plain HTML/CSS/JS folders.
 */
import { parseYaml } from '../yaml.js';
import { TIER, inDir, joinRel, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

/** The Staticfile's `root:` (CF staticfile buildpack, railpack's staticfile provider), or '.'. */
async function staticfile(ctx: DetectContext): Promise<Detection | null> {
  const rel = inDir(ctx.dir, 'Staticfile');
  const text = await ctx.manifests.text(rel);
  if (text === null) return null;
  let root = '.';
  try {
    const value = (parseYaml(text) as { root?: unknown } | null)?.root;
    if (typeof value === 'string' && value.trim() !== '') root = value.trim().replace(/^\.\//, '').replace(/\/$/, '') || '.';
  } catch {
    ctx.warnings.add(`${rel} is not valid YAML; the site is served from the project root`);
  }
  if (root.startsWith('/') || root.split('/').includes('..')) {
    ctx.warnings.add(`${rel}: root "${root}" is outside the project; it was ignored`);
    root = '.';
  }
  const evidence = root === '.' ? `${rel} exists (no root: the project root is served)` : `${rel}: root ${root}`;
  const index = inDir(joinRel(ctx.dir, root === '.' ? '' : root), 'index.html');
  if (!ctx.fs.has(index)) ctx.warnings.add(`${rel}: ${index} does not exist; the served folder has no index page`);
  return {
    id: 'static',
    tier: TIER.static,
    servesStatically: true,
    fields: {
      language: { value: 'static', evidence },
      framework: { value: 'static', evidence },
      project_type: { value: 'static', evidence },
      output_directory: { value: root, evidence },
      dependency_resolution: { value: 'locked', evidence: 'static files: no dependencies to resolve' },
    },
  };
}

export const staticSite: RuntimeDetector = {
  id: 'static',
  kind: 'runtime',
  async detect(ctx) {
    const declared = await staticfile(ctx);
    if (declared) return declared;
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
