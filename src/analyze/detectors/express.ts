/**
 * Express: a `dependencies.express` entry that the code imports (from the entry, or anywhere when the
 * entry is a build output; see js-usage.ts). Refines the node runtime; Express-style default port 3000.
 */
import { TIER, inDir, type FrameworkDetector } from '../types.js';
import { importedBy } from './js-usage.js';
import { hasDependency } from './node.js';

export const express: FrameworkDetector = {
  id: 'express',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'express') : undefined;
    if (!evidence) return null;
    // A declared framework that no code imports is a leftover dependency, not a server (see js-usage.ts).
    const entry = ctx.runtime.fields.entry_point?.value ?? '';
    if (!(await importedBy(ctx, entry, 'express'))) {
      ctx.warnings.add(`${evidence} is declared but ${entry ? `neither ${inDir(ctx.dir, entry)} nor the code it imports` : 'no source file'} imports it; Express alone does not make it a web server`);
      return null;
    }
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
