/**
 * SvelteKit: an `@sveltejs/kit` dependency; the adapter in svelte.config decides the output.
 * adapter-node builds a server into `build` (`out`), started with `node build` on port 3000;
 * adapter-static writes a static site into `build` (`pages`). adapter-auto picks a platform at
 * build time from the environment; it builds for Node (installing adapter-node itself) when it sees
 * `GCP_BUILDPACKS`, which is how railpack builds an adapter-auto app: the build runs with
 * `GCP_BUILDPACKS=true` and the server starts with `node build` on 3000, exactly as with
 * adapter-node. Other adapters (vercel, netlify, cloudflare) target their platform only.
 */
import type { PackageJson } from '../manifests.js';
import { chain } from '../package-manager.js';
import { TIER, type Conclusion, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, fileRouteHealth, frameworkBuild, hasAnyDependency, nodeTools, productionStart, readJsConfig } from './node.js';

/** `src/routes/health/+server.ts` -> /health (route groups `(name)` do not add a path segment). */
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
  publicEnvPrefixes: ['PUBLIC_'],
  buildConfigFiles: ['svelte'],
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

    const auto = adapter === '@sveltejs/adapter-auto';
    if (adapter === '@sveltejs/adapter-node' || auto) {
      // adapter-auto takes no options: its Node build always writes build/.
      const out = auto ? 'build' : (/\bout\s*:\s*['"]\.?\/?([^'"]+?)\/?['"]/.exec(text)?.[1] ?? 'build');
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
          ...(auto ? { scripts_build: autoNodeBuild(ctx, pkg, adapterEvidence) } : {}),
          project_type: { value: 'web', evidence: adapterEvidence },
          output_directory: { value: out, evidence: auto ? `${adapterEvidence}: its Node build writes ${out}/` : `${adapterEvidence} (out: ${out})` },
          scripts_start: scriptsStart,
          entry_point: { value: entry, evidence: adapterEvidence },
        },
        portDefault: { value: 3000, evidence: auto ? 'SvelteKit adapter-auto builds with adapter-node here: default port 3000' : 'SvelteKit adapter-node default port 3000' },
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
    ctx.warnings.add(`SvelteKit with ${which} builds nothing that runs here; use @sveltejs/adapter-node (server) or @sveltejs/adapter-static (static site) in svelte.config`);
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

/**
 * The build of an adapter-auto app with `GCP_BUILDPACKS=true`: adapter-auto then builds with
 * adapter-node (installing it when the project does not), as railpack does.
 */
function autoNodeBuild(ctx: DetectContext & { runtime: Detection }, pkg: PackageJson, adapterEvidence: string): Conclusion<string> {
  const tools = nodeTools(ctx);
  const why = `${adapterEvidence}: GCP_BUILDPACKS=true makes adapter-auto build a Node server with adapter-node (railpack's SvelteKit rule)`;
  if (pkg.scripts.build !== undefined) return { value: chain(tools.install, `GCP_BUILDPACKS=true ${tools.build()}`), evidence: `${pkg.path}: scripts.build "${pkg.scripts.build}"; ${why}` };
  return { value: chain(tools.install, tools.afterDependencies(`GCP_BUILDPACKS=true ${tools.exec('vite build')}`)), evidence: `${why}; ${pkg.path} has no scripts.build` };
}
