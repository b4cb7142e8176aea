/**
 * Hono: a `hono` dependency (package.json, or a deno.json import). Hono is runtime-agnostic, so how
 * it runs decides the commands:
 * - Node with `@hono/node-server`: the start script or entry file; `serve()` listens on 3000 unless
 *   given a port.
 * - Bun (a bun script, `@types/bun`, Bun APIs in the entry, or Bun as the package manager with no
 *   node-server and no Workers config):
 *   `bun run start` or `bun <entry>`; Bun serves the default export on 3000.
 * - Deno: the Deno runtime's commands (`Deno.serve(app.fetch)` on 8000).
 * - Cloudflare Workers (wrangler.toml / wrangler.json): it has no server process to run here; the
 *   analysis says so instead of inventing one.
 */
import { TIER, inDir, type Detection, type FrameworkDetector } from '../types.js';
import { bunRuntimeEvidence, bunServes, bunStart } from './bun.js';
import { readDenoConfig } from './deno.js';
import { hasDependency } from './node.js';

const WRANGLER = ['wrangler.toml', 'wrangler.json', 'wrangler.jsonc'];

export const hono: FrameworkDetector = {
  id: 'hono',
  kind: 'framework',
  runtimes: ['node', 'deno'],
  async detect(ctx) {
    if (ctx.runtime.id === 'deno') {
      const config = await readDenoConfig(ctx);
      const spec = config ? Object.entries(config.imports).find(([name, value]) => name === 'hono' || /^(?:npm:hono|jsr:@hono\/hono)\b/.test(value)) : undefined;
      if (!config || !spec) return null;
      return { id: 'hono', tier: ctx.runtime.tier, fields: { framework: { value: 'hono', evidence: `${config.path}: imports.${spec[0]} "${spec[1]}"` } } };
    }

    const pkg = await ctx.manifests.packageJson(ctx.dir);
    const evidence = pkg ? hasDependency(pkg, 'hono') : undefined;
    if (!pkg || !evidence) return null;
    const framework = { value: 'hono', evidence };

    const nodeServer = hasDependency(pkg, '@hono/node-server');
    if (nodeServer) {
      return {
        id: 'hono',
        tier: TIER.backend,
        fields: { framework, project_type: { value: 'web', evidence: nodeServer } },
        portDefault: { value: 3000, evidence: '@hono/node-server serve() default port 3000' },
      };
    }

    const wrangler = WRANGLER.map((file) => inDir(ctx.dir, file)).find((file) => ctx.fs.has(file));
    // Without @hono/node-server or Workers config, Hono serves itself only on Bun: installing with Bun says that is the runtime.
    const bunManager = ctx.runtime.fields.package_manager?.value === 'bun' && !wrangler ? `${ctx.runtime.fields.package_manager?.evidence}: Hono without @hono/node-server runs on Bun` : undefined;
    const onBun = (await bunRuntimeEvidence(ctx, ctx.runtime, pkg)) ?? bunManager;
    if (onBun) {
      const started = await bunStart(ctx, pkg);
      const detection: Detection = { id: 'hono', tier: started ? TIER.backend : TIER.bare, fields: { framework } };
      if (started) {
        detection.fields.scripts_start = started.start;
        detection.fields.entry_point = started.entry;
        if (/\.[cm]?tsx?$/.test(started.entry.value)) detection.fields.language = { value: 'typescript', evidence: `entry point ${started.entry.value}` };
        const serves = await bunServes(ctx, started.entry.value);
        detection.fields.project_type = { value: 'web', evidence: serves ? `${serves} serves the Hono app on Bun` : `${evidence} on Bun (${onBun})` };
        detection.portDefault = { value: 3000, evidence: 'Bun serves the default export on port 3000' };
      }
      return detection;
    }

    if (wrangler) {
      ctx.warnings.add(
        `${wrangler}: this Hono app is built for Cloudflare Workers and has no server process to run here; add @hono/node-server (Node) or run it with Bun to deploy it as a service`,
      );
      return {
        id: 'hono',
        tier: TIER.runnable,
        fields: {
          framework,
          project_type: { value: 'web', evidence: `${evidence} (Cloudflare Workers app, ${wrangler})` },
          scripts_start: { value: '', evidence: `${wrangler}: a Workers script is not a process` },
          entry_point: { value: '', evidence: `${wrangler}: a Workers script is not a process` },
        },
      };
    }

    ctx.warnings.add(`${pkg.path}: Hono needs a runtime adapter to listen (@hono/node-server on Node, or Bun/Deno); none was found`);
    return { id: 'hono', tier: TIER.backend, fields: { framework, project_type: { value: 'web', evidence } } };
  },
};
