/**
 * An app that ships its own `Caddyfile` to serve its files (`file_server`): Caddy runs it the way the
 * file says, `caddy run --config Caddyfile --adapter caddyfile` (railpack's staticfile and SPA
 * plans run Caddy the same way). The build is the project's own (package.json `build` with its
 * package manager), the served folder is the `root` directive, and the port is the site address
 * (`:8080`, `:{$PORT:8080}` -> 8080; plain `http://` -> 80).
 *
 * A Caddyfile that only proxies (`reverse_proxy`) fronts another process and is not claimed here;
 * one that runs PHP (`php_server`, `php_fastcgi`, FrankenPHP) belongs to the php detector.
 */
import { chain, detectNodePackageManager, nodeRunScript } from '../package-manager.js';
import type { Conclusion } from '../types.js';
import { TIER, inDir, type Conclusions, type DetectContext, type Detection, type RuntimeDetector } from '../types.js';

/** The listening port of the Caddyfile's first site block, with its line. */
export function caddySitePort(rel: string, text: string): Conclusion<number> | undefined {
  const lines = text.split(/\r?\n/);
  let depth = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const line = (lines[i] as string).replace(/#.*$/, '').trim();
    if (depth === 0 && line.endsWith('{') && line !== '{') {
      const address = line.slice(0, -1).trim().split(/[\s,]+/)[0] ?? '';
      const env = /\{\$PORT(?::(\d{2,5}))?\}/.exec(address);
      const literal = /:(\d{2,5})$/.exec(address.replace(/\{\$[^}]*\}/g, ''));
      const port = env ? env[1] : literal ? literal[1] : /^http:\/\//.test(address) ? '80' : undefined;
      if (port) return { value: Number(port), evidence: `${rel}:${i + 1} site address ${address}` };
    }
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  }
  return undefined;
}

/** The Caddyfile hands requests to PHP (FrankenPHP's php_server / php, or PHP-FPM through php_fastcgi). */
export function runsPhp(text: string): boolean {
  return /^\s*(?:php_server|php_fastcgi|php)\b|^\s*frankenphp\b/m.test(text);
}

/** The Caddyfile is FrankenPHP's (php_server / php directives, the frankenphp global option), not Caddy + PHP-FPM. */
export function runsFrankenphp(text: string): boolean {
  return /^\s*(?:php_server|php)\b|^\s*frankenphp\b/m.test(text);
}

async function nodeBuild(ctx: DetectContext): Promise<{ build: Conclusion<string>; language: Conclusion<string>; manager: Conclusions } | null> {
  const pkg = await ctx.manifests.packageJson(ctx.dir);
  if (!pkg || pkg.scripts.build === undefined) return null;
  const pm = await detectNodePackageManager(ctx, pkg);
  const ts = ctx.fs.has(inDir(ctx.dir, 'tsconfig.json'));
  return {
    build: { value: chain(pm.install, nodeRunScript(pm.manager, 'build')), evidence: `${pkg.path}: scripts.build "${pkg.scripts.build}"` },
    language: { value: ts ? 'typescript' : 'javascript', evidence: ts ? `${inDir(ctx.dir, 'tsconfig.json')} exists` : `${pkg.path} exists` },
    manager: { ...pm.fields, ...(pkg.name ? { name: { value: pkg.name, evidence: `${pkg.path}: name` } } : {}) },
  };
}

export const caddy: RuntimeDetector = {
  id: 'caddy',
  kind: 'runtime',
  async detect(ctx) {
    const rel = inDir(ctx.dir, 'Caddyfile');
    const text = await ctx.manifests.text(rel);
    if (text === null || runsPhp(text)) return null;
    const served = /^\s*file_server\b/m.exec(text);
    if (!served) return null;
    const line = text.slice(0, served.index).split('\n').length;
    const why = `${rel}:${line} file_server`;
    const node = await nodeBuild(ctx);
    const fields: Conclusions = {
      ...node?.manager,
      language: node?.language ?? { value: 'static', evidence: `${rel} serves files and nothing is built` },
      project_type: { value: 'web', evidence: `${why}: Caddy serves the site` },
      scripts_start: { value: 'caddy run --config Caddyfile --adapter caddyfile', evidence: `${rel} is the project's own Caddy configuration` },
      entry_point: { value: 'Caddyfile', evidence: `${rel} exists` },
    };
    if (node) fields.scripts_build = node.build;
    else fields.dependency_resolution = { value: 'locked', evidence: 'static files: no dependencies to resolve' };
    const root = /^\s*root\s+(?:\*\s+)?(\S+)/m.exec(text)?.[1]?.replace(/^\.\//, '').replace(/\/$/, '');
    if (root && !root.includes('{')) fields.output_directory = { value: root, evidence: `${rel}: root ${root}` };
    // Backend tier: the author's Caddyfile beats a bundler's plain static output; a Node server,
    // earlier in the registry, still wins the tie.
    const detection: Detection = { id: 'caddy', tier: TIER.backend, fields, toolchain: { install: '', runPrefix: '' } };
    const port = caddySitePort(rel, text);
    if (port) detection.portHints = [port];
    return detection;
  },
};
