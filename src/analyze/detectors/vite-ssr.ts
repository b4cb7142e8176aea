/**
 * Server-rendering frameworks built on Vite: TanStack Start, Solid Start, Analog and Vike. Their
 * build is a server, not a folder of static files, so the service is a web process on its port.
 * They are outside the framework vocabulary, so the framework is `vite` and the
 * SSR framework is named in the evidence.
 *
 * The start command, first match (railpack's node provider decides the same way):
 * - a production `start` script (not a dev server, not `vite preview`);
 * - Nitro output (`.output/server/index.mjs`): TanStack Start with the Nitro Vite plugin, on
 *   Vinxi (`@tanstack/start`) or before 1.132 (its plugin ran Nitro), Solid Start (Vinxi), Analog
 *   (`dist/analog/server/index.mjs`);
 * - TanStack Start without Nitro builds a fetch handler into `dist/server/server.js`, served by
 *   `srvx --prod -s ../client dist/server/server.js` (the srvx fallback of railpack and of the
 *   TanStack templates).
 * Nitro and srvx listen on PORT, else 3000. Vike runs the project's own server (its start script);
 * a Vike app that only prerenders is static files in `dist/client`.
 */
import type { PackageJson } from '../manifests.js';
import { TIER, type Conclusion, type DetectContext, type Detection, type FrameworkDetector } from '../types.js';
import { entryOfStartScript, frameworkBuild, hasAnyDependency, isDevCommand, nodeTools, readJsConfig } from './node.js';

interface Ssr {
  name: string;
  evidence: string;
  /** The build command when the project has no build script. */
  build: string;
  /** The built server and the command that starts it when there is no start script; null: none known. */
  server: { entry: string; output: string; command: string; why: string } | null;
}

const NITRO = { entry: '.output/server/index.mjs', output: '.output', command: 'node .output/server/index.mjs' };

function firstDependency(pkg: PackageJson, names: readonly string[]): { name: string; evidence: string } | null {
  for (const name of names) {
    const evidence = hasAnyDependency(pkg, name);
    if (evidence) return { name, evidence };
  }
  return null;
}

async function identify(ctx: DetectContext, pkg: PackageJson): Promise<Ssr | null> {
  const tanstack = firstDependency(pkg, ['@tanstack/react-start', '@tanstack/solid-start', '@tanstack/vue-start', '@tanstack/start']);
  if (tanstack) {
    const config = await readJsConfig(ctx, 'vite.config');
    const nitroPlugin = config && /from\s+['"](?:nitro\/vite|@tanstack\/nitro-v2-vite-plugin)['"]/.exec(config.text);
    const vinxi = hasAnyDependency(pkg, 'vinxi');
    // Before the 1.132 release candidate, the Vite plugin ran Nitro itself (node-server target).
    const spec = pkg.dependencies[tanstack.name] ?? pkg.devDependencies[tanstack.name] ?? '';
    const version = /(\d+)\.(\d+)/.exec(spec);
    const builtInNitro = tanstack.name !== '@tanstack/start' && version !== null && Number(version[1]) === 1 && Number(version[2]) < 132;
    if (nitroPlugin || vinxi || builtInNitro) {
      const why = nitroPlugin
        ? `${config?.path}: the Nitro Vite plugin builds the server into .output/server`
        : vinxi
          ? `${vinxi}: Vinxi builds the server into .output/server`
          : `${tanstack.evidence} "${spec}": before 1.132 the Start plugin builds a Nitro server into .output/server`;
      return { name: 'TanStack Start', evidence: tanstack.evidence, build: vinxi ? 'vinxi build' : 'vite build', server: { ...NITRO, why } };
    }
    return {
      name: 'TanStack Start',
      evidence: tanstack.evidence,
      build: 'vite build',
      server: {
        entry: 'dist/server/server.js',
        output: 'dist',
        command: 'srvx --prod -s ../client dist/server/server.js',
        why: `${tanstack.evidence}: vite build writes a fetch handler to dist/server/server.js, served by srvx with the client files (railpack's TanStack Start rule)`,
      },
    };
  }
  const solid = hasAnyDependency(pkg, '@solidjs/start');
  if (solid) return { name: 'Solid Start', evidence: solid, build: 'vinxi build', server: { ...NITRO, why: `${solid}: vinxi build writes the Nitro server to .output/server` } };
  const analog = hasAnyDependency(pkg, '@analogjs/platform');
  if (analog) {
    return {
      name: 'Analog',
      evidence: analog,
      build: 'vite build',
      server: { entry: 'dist/analog/server/index.mjs', output: 'dist/analog', command: 'node dist/analog/server/index.mjs', why: `${analog}: vite build writes the Nitro server to dist/analog/server` },
    };
  }
  const vike = hasAnyDependency(pkg, 'vike');
  // Vike on Express, Fastify, Hono or Koa is that server's app (those detectors follow this one).
  const server = ['express', 'fastify', 'hono', 'koa', '@hono/node-server'].some((name) => name in pkg.dependencies);
  if (vike && !server) return { name: 'Vike', evidence: vike, build: 'vite build', server: null };
  return null;
}

/** Vike's `prerender: true` in a `+config` file: the whole site is static HTML in dist/client. */
async function vikePrerenders(ctx: DetectContext): Promise<string | null> {
  const prefix = ctx.dir === '' ? '' : `${ctx.dir}/`;
  for (const file of ctx.fs.filesUnder(ctx.dir)) {
    if (!/(?:^|\/)\+config\.[cm]?[jt]s$/.test(file.slice(prefix.length))) continue;
    const text = (await ctx.fs.read(file))?.text ?? '';
    if (/\bprerender\s*:\s*true\b/.test(text)) return file;
  }
  return null;
}

export const viteSsr: FrameworkDetector = {
  id: 'vite-ssr',
  kind: 'framework',
  runtimes: ['node'],
  async detect(ctx) {
    const pkg = await ctx.manifests.packageJson(ctx.dir);
    if (!pkg) return null;
    const ssr = await identify(ctx, pkg);
    if (!ssr) return null;
    const tools = nodeTools(ctx);
    const framework = { value: 'vite', evidence: `${ssr.name} on Vite (${ssr.evidence}) server-renders: it is a web service, not a static build` };
    const build = frameworkBuild(ctx, pkg, ssr.build, ssr.evidence);

    const script = pkg.scripts.start;
    const production = script !== undefined && !isDevCommand(script) && !/\bvite\s+preview\b/.test(script);
    if (script !== undefined && !production) {
      ctx.warnings.add(`${pkg.path}: scripts.start "${script}" runs a development or preview server; it was not used as the start command`);
    }
    let start: Conclusion<string>;
    let entry: Conclusion<string>;
    let output: Conclusion<string> | undefined;
    if (production) {
      const why = `${pkg.path}: scripts.start "${script}"`;
      start = { value: tools.start(), evidence: why };
      entry = { value: entryOfStartScript(script) || (ssr.server && script.includes(ssr.server.entry) ? ssr.server.entry : ''), evidence: why };
      // The build lands in the framework's output folder whatever the start script runs (a Nitro `.output` when it says so).
      if (script.includes('.output/')) output = { value: '.output', evidence: why };
      else if (ssr.server) output = { value: ssr.server.output, evidence: ssr.server.why };
    } else if (ssr.server) {
      const command = /^node\s/.test(ssr.server.command) ? tools.here(ssr.server.command) : tools.exec(ssr.server.command);
      start = { value: command, evidence: `${ssr.server.why}; no production scripts.start` };
      entry = { value: ssr.server.entry, evidence: ssr.server.why };
      output = { value: ssr.server.output, evidence: ssr.server.why };
    } else {
      const prerender = await vikePrerenders(ctx);
      if (prerender) {
        return {
          id: 'vite-ssr',
          tier: TIER.frontend,
          servesStatically: true,
          fields: {
            framework: { value: 'vite', evidence: `${ssr.name} on Vite (${ssr.evidence}) with prerender: true` },
            project_type: { value: 'static', evidence: `${prerender}: prerender: true writes every page as HTML` },
            output_directory: { value: 'dist/client', evidence: `${ssr.name} writes the browser files to dist/client` },
            scripts_build: build,
            scripts_start: { value: '', evidence: 'a prerendered site is served as files; no process to start' },
            entry_point: { value: '', evidence: 'a prerendered site has no server entry' },
          },
        };
      }
      ctx.warnings.add(`${pkg.path}: ${ssr.name} renders through the project's own server, and no production scripts.start runs one; add a start script (for example \`node server/index.js\`)`);
      return {
        id: 'vite-ssr',
        tier: TIER.runnable,
        fields: {
          framework,
          project_type: { value: 'web', evidence: ssr.evidence },
          scripts_build: build,
          scripts_start: { value: '', evidence: `${ssr.name} has no server of its own to start` },
          entry_point: { value: '', evidence: `${ssr.name} has no server of its own to start` },
        },
      };
    }
    const detection: Detection = {
      id: 'vite-ssr',
      tier: TIER.runnable,
      fields: {
        framework,
        project_type: { value: 'web', evidence: `${ssr.evidence}: ${ssr.name} renders pages on the server` },
        scripts_build: build,
        scripts_start: start,
        entry_point: entry,
        ...(output ? { output_directory: output } : {}),
      },
    };
    // Vike's server is the project's own (Express, Hono, ...): its code says the port.
    if (ssr.server) detection.portDefault = { value: 3000, evidence: `${ssr.name}'s server (Nitro or srvx) listens on PORT, else 3000` };
    return detection;
  },
};
