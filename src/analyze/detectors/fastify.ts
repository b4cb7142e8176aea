/**
 * Fastify: a `dependencies.fastify` entry that the code imports (see js-usage.ts). Refines the
 * node runtime.
 *
 * Fastify has no fixed default port (`listen()` without a port picks a free one) and binds to
 * localhost unless told otherwise, so this detector gives no default port and warns when no listen
 * call passes a `host` (the app would be unreachable from outside its container).
 */
import { TIER, inDir, type FrameworkDetector } from '../types.js';
import { importedBy } from './js-usage.js';
import { hasDependency } from './node.js';

export const fastify: FrameworkDetector = {
  id: 'fastify',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'fastify') : undefined;
    if (!evidence) return null;
    // A declared framework that no code imports is a leftover dependency, not a server (see js-usage.ts).
    const entry = ctx.runtime.fields.entry_point?.value ?? '';
    if (!(await importedBy(ctx, entry, 'fastify'))) {
      ctx.warnings.add(`${evidence} is declared but ${entry ? `neither ${inDir(ctx.dir, entry)} nor the code it imports` : 'no source file'} imports it; Fastify alone does not make it a web server`);
      return null;
    }

    const listeners = ctx.scan.httpHits.filter((hit) => /\.[cm]?[jt]sx?$/.test(hit.file));
    let bindsAllInterfaces = false;
    for (const hit of listeners) {
      const text = (await ctx.fs.read(hit.file))?.text ?? '';
      if (/\.listen\(\s*\{[^}]{0,300}\bhost\s*:/.test(text) || /\.listen\(\s*[^,)]{1,200},\s*['"](?:0\.0\.0\.0|::)['"]/.test(text)) {
        bindsAllInterfaces = true;
        break;
      }
    }
    if (listeners.length > 0 && !bindsAllInterfaces) {
      ctx.warnings.add(
        "Fastify listens on localhost unless a host is given: pass { host: '0.0.0.0' } to listen() so the platform can reach it",
      );
    }
    return {
      id: 'fastify',
      tier: TIER.backend,
      fields: {
        framework: { value: 'fastify', evidence },
        project_type: { value: 'web', evidence },
      },
    };
  },
};
