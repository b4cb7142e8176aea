/** Express: a `dependencies.express` entry. Refines the node runtime; Express-style default port 3000. */
import { TIER, type FrameworkDetector } from '../types.js';
import { hasDependency } from './node.js';

export const express: FrameworkDetector = {
  id: 'express',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'express') : undefined;
    if (!evidence) return null;
    return {
      id: 'express',
      tier: TIER.backend,
      fields: {
        framework: { value: 'express', evidence },
        project_type: { value: 'web', evidence },
      },
      portDefault: { value: 3000, evidence: 'Express-style Node default port 3000' },
    };
  },
};
