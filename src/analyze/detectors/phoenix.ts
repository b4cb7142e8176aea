/**
 * Phoenix: a `:phoenix` dependency in mix.exs. Build: `mix deps.get --only prod`, then with
 * MIX_ENV=prod `mix compile`, `mix assets.deploy` when the alias exists, and `mix release` when the
 * project releases (`releases:` in mix.exs, or rel/overlays/bin/server from `mix phx.gen.release`).
 * Start: the release's `bin/server` (which sets PHX_SERVER=true), `bin/<app> start` with
 * PHX_SERVER=true, else `MIX_ENV=prod mix phx.server`. Port: `PORT || "4000"` in config/runtime.exs
 * through the port rules, else Phoenix's 4000. Engines from postgrex / myxql (ecto adapters).
 */
import { detectNodePackageManager, nodeRunScript } from '../package-manager.js';
import { TIER, inDir, joinRel, type Conclusions, type Detection, type FrameworkDetector } from '../types.js';
import { declaresReleases } from './elixir.js';
import { isKnownHealthPath, type HealthRouteSyntax } from '../scan-model.js';

/**
 * Phoenix routers nest routes in `scope "/api" do ... end`: the health path is the scope prefix plus
 * the route. Blocks are tracked line by line (`do` opens, `end` closes).
 */
const ROUTER_HEALTH: HealthRouteSyntax = {
  language: 'ex',
  claims: /\bPhoenix\.Router\b|,\s*:router\b/,
  find(text) {
    const routes: Array<{ line: number; path: string }> = [];
    const scopes: string[] = [];
    text.split('\n').forEach((raw, index) => {
      const line = raw.replace(/#.*$/, '').trim();
      const route = /^(?:get|head)\s+"(\/[^"]*)"/.exec(line);
      if (route) {
        const full = `${scopes.join('')}${route[1] as string}`.replace(/\/{2,}/g, '/');
        if (isKnownHealthPath(full) || /\/(?:health|healthz|ready|readyz|livez)\/?$/.test(full)) routes.push({ line: index + 1, path: full });
      }
      if (/\bdo$/.test(line)) scopes.push(/^scope\s+"(\/[^"]*)"/.exec(line)?.[1]?.replace(/\/$/, '') ?? '');
      else if (line === 'end') scopes.pop();
    });
    return routes;
  },
};

export const phoenix: FrameworkDetector = {
  id: 'phoenix',
  kind: 'framework',
  runtimes: ['elixir'],
  healthRoutes: [ROUTER_HEALTH],
  async detect(ctx) {
    const mix = await ctx.manifests.mixExs(ctx.dir);
    const dep = mix?.dependencies.find((d) => d.name === 'phoenix' && !d.dev);
    if (!mix || !dep) return null;
    const evidence = `${dep.source} :phoenix`;
    const fields: Conclusions = { framework: { value: 'phoenix', evidence }, project_type: { value: 'web', evidence } };
    const detection: Detection = { id: 'phoenix', tier: TIER.backend, fields, portDefault: { value: 4000, evidence: 'Phoenix default port 4000' } };

    const serverOverlay = inDir(ctx.dir, 'rel/overlays/bin/server');
    const releases = mix.releases || (await declaresReleases(ctx));
    const release = releases || ctx.fs.has(serverOverlay);
    const assets = mix.aliases.includes('assets.deploy');
    // Phoenix before 1.6 builds assets with npm in assets/ (`npm run deploy`, then `mix phx.digest`).
    const assetsDir = joinRel(ctx.dir, 'assets');
    const assetsPkg = await ctx.manifests.packageJson(assetsDir);
    let npmSteps: string[] = [];
    if (assetsPkg && (Object.keys(assetsPkg.dependencies).length > 0 || Object.keys(assetsPkg.devDependencies).length > 0)) {
      const pm = await detectNodePackageManager({ ...ctx, dir: assetsDir }, assetsPkg);
      const inAssets = (command: string): string => (pm.manager === 'npm' ? command.replace(/^npm /, 'npm --prefix assets ') : `(cd assets && ${command})`);
      npmSteps = [inAssets(pm.install)];
      if (!assets && assetsPkg.scripts.deploy !== undefined) npmSteps.push(inAssets(nodeRunScript(pm.manager, 'deploy')), 'MIX_ENV=prod mix phx.digest');
    }
    const steps = [ctx.runtime.toolchain?.install ?? '', ...npmSteps.slice(0, 1), 'MIX_ENV=prod mix compile', ...npmSteps.slice(1), assets ? 'MIX_ENV=prod mix assets.deploy' : '', release ? 'MIX_ENV=prod mix release' : ''].filter(Boolean);
    const why = [`${mix.path}: Phoenix`, npmSteps.length > 0 ? `${assetsPkg?.path} dependencies` : '', assets ? 'alias assets.deploy' : '', release ? (releases ? 'releases:' : `${serverOverlay} exists`) : ''].filter(Boolean).join('; ');
    fields.scripts_build = { value: steps.join(' && '), evidence: why };

    const app = mix.app;
    if (release && app && ctx.fs.has(serverOverlay)) {
      fields.scripts_start = { value: `_build/prod/rel/${app}/bin/server`, evidence: `${serverOverlay} (mix phx.gen.release) in release ${app}` };
    } else if (release && app) {
      fields.scripts_start = { value: `PHX_SERVER=true _build/prod/rel/${app}/bin/${app} start`, evidence: `${mix.path}: releases; app :${app}` };
    } else {
      fields.scripts_start = { value: 'MIX_ENV=prod mix phx.server', evidence: `${mix.path}: Phoenix without a release` };
    }
    const endpoint = ctx.fs.filesUnder(inDir(ctx.dir, 'lib')).find((file) => /_web\/endpoint\.ex$/.test(file));
    if (endpoint) fields.entry_point = { value: ctx.dir === '' ? endpoint : endpoint.slice(ctx.dir.length + 1), evidence: `${endpoint}: the Phoenix endpoint` };
    return detection;
  },
};
