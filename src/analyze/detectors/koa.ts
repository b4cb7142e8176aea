/** Koa: a `dependencies.koa` entry. Refines the node runtime; Express-style default port 3000. */
import { TIER, type FrameworkDetector } from '../types.js';
import { hasDependency } from './node.js';

export const koa: FrameworkDetector = {
  id: 'koa',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'koa') : undefined;
    if (!evidence) return null;
    return {
      id: 'koa',
      tier: TIER.backend,
      fields: {
        framework: { value: 'koa', evidence },
        project_type: { value: 'web', evidence },
      },
      portDefault: { value: 3000, evidence: 'Express-style Node default port 3000' },
    };
  },
};
