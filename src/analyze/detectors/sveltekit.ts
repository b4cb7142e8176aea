/**
 * SvelteKit: an `@sveltejs/kit` dependency; the adapter in svelte.config decides the output.
 * adapter-node builds a server into `build` (`out`), started with `node build` on port 3000;
 * adapter-static writes a static site into `build` (`pages`). adapter-auto picks a platform at
 * build time and builds nothing runnable on an unknown host; other adapters target their platform.
 */
import { TIER, type Conclusion, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasAnyDependency, nodeTools, productionStart, readJsConfig } from './node.js';

/** `src/routes/health/+server.ts` → /health (route groups `(name)` do not add a path segment). */
const HEALTH_ROUTES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^src\/routes\/(?:\([^/]+\)\/)*health\/\+server\.[jt]s$/, '/health'],
  [/^src\/routes\/(?:\([^/]+\)\/)*healthz\/\+server\.[jt]s$/, '/healthz'],
  [/^src\/routes\/(?:\([^/]+\)\/)*api\/health\/\+server\.[jt]s$/, '/api/health'],
  [/^src\/routes\/(?:\([^/]+\)\/)*api\/healthz\/\+server\.[jt]s$/, '/api/healthz'],
];

const ADAPTER_IMPORT = /from\s+['"](@sveltejs\/adapter-[\w-]+|svelte-adapter-[\w-]+)['"]/;

export const sveltekit: FrameworkDetector = {
  id: 'sveltekit',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasAnyDependency(pkg, '@sveltejs/kit') : undefined;
    if (!pkg || !evidence) return null;
    const tools = nodeTools(ctx);
    const config = await readJsConfig(ctx, 'svelte.config');
    const text = config?.text ?? '';
    const imported = ADAPTER_IMPORT.exec(text)?.[1];
    const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).find((name) => /^@sveltejs\/adapter-/.test(name));
    const adapter = imported ?? declared ?? '';
    const adapterEvidence = imported ? `${config?.path}: imports ${imported}` : declared ? (hasAnyDependency(pkg, declared) as string) : '';
    const build = frameworkBuild(ctx, pkg, 'vite build', evidence);
    const base = { framework: { value: 'sveltekit', evidence }, scripts_build: build };

    if (adapter === '@sveltejs/adapter-node') {
      const out = /\bout\s*:\s*['"]\.?\/?([^'"]+?)\/?['"]/.exec(text)?.[1] ?? 'build';
      const start = productionStart(ctx, pkg);
      const scriptsStart: Conclusion<string> =
        start !== undefined && !/\bvite\s+preview\b/.test(start)
          ? { value: tools.start(), evidence: `${pkg.path}: scripts.start "${start}"` }
          : { value: tools.here(`node ${out}`), evidence: `${adapterEvidence}: the server built into ${out}/` };
      const entry = start !== undefined && scriptsStart.value === tools.start() ? entryOfStartScript(start) : `${out}/index.js`;
      const healthCheck = fileRouteHealth(ctx, HEALTH_ROUTES);
      return {
        id: 'sveltekit',
        tier: TIER.runnable,
        ...(healthCheck ? { healthCheck } : {}),
        fields: {
          ...base,
          project_type: { value: 'web', evidence: adapterEvidence },
          output_directory: { value: out, evidence: `${adapterEvidence} (out: ${out})` },
          scripts_start: scriptsStart,
          entry_point: { value: entry, evidence: adapterEvidence },
        },
        portDefault: { value: 3000, evidence: 'SvelteKit adapter-node default port 3000' },
      };
    }

    if (adapter === '@sveltejs/adapter-static') {
      const pages = /\bpages\s*:\s*['"]\.?\/?([^'"]+?)\/?['"]/.exec(text)?.[1] ?? 'build';
      return {
        id: 'sveltekit',
        tier: TIER.frontend,
        servesStatically: true,
        fields: {
          ...base,
          project_type: { value: 'static', evidence: adapterEvidence },
          output_directory: { value: pages, evidence: `${adapterEvidence} (pages: ${pages})` },
          scripts_start: { value: '', evidence: 'adapter-static output is served as files; no process to start' },
          entry_point: { value: '', evidence: 'adapter-static output has no server entry' },
        },
      };
    }

    const which = adapter || 'no adapter';
    ctx.warnings.add(
      adapter === '@sveltejs/adapter-auto'
        ? `${adapterEvidence}: adapter-auto builds only for platforms it recognises, so nothing runnable is built here; install @sveltejs/adapter-node (server) or @sveltejs/adapter-static (static site) and use it in svelte.config`
        : `SvelteKit with ${which} builds nothing that runs here; use @sveltejs/adapter-node (server) or @sveltejs/adapter-static (static site) in svelte.config`,
    );
    return {
      id: 'sveltekit',
      tier: TIER.runnable,
      fields: {
        ...base,
        project_type: { value: 'web', evidence: `${evidence} (server-rendered by default)` },
        scripts_start: { value: '', evidence: `${which} produces no server that runs here` },
        entry_point: { value: '', evidence: `${which} produces no server entry` },
      },
    };
  },
};
